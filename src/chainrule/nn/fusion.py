"""The fusion plan of a list of layers: which layers run together as one step, and which
activation each Dense layer feeds.

A Dense layer followed directly by an activation whose derivative is a function of its output
(identity, relu, leaky_relu, tanh, sigmoid) runs with it as one fused ``dense`` primitive: one
recorded node per layer. The plan is worked out here once and read by three users: the
container's forward pass (the steps), initialization (He or Xavier from the activation a Dense
layer feeds, looking past BatchNorm and Dropout) and the diagnostics (where z_l and h_l appear).
"""

from __future__ import annotations

from dataclasses import dataclass

from .layers import Activation, BatchNorm, Dense, Dropout


@dataclass(frozen=True)
class Step:
    """Layers ``start..stop`` (inclusive) run as one step, named ``str(stop)`` (the index of its last layer).

    For a step that starts with a Dense layer: ``activation`` is the activation the layer feeds
    ('identity' if none; looking past BatchNorm and Dropout), ``alpha`` its slope parameter,
    ``act_index`` where it sits (None if none) and ``fused`` whether it runs inside this step.
    Other steps have ``activation`` None.
    """

    start: int
    stop: int
    activation: str | None = None
    alpha: float = 0.01
    act_index: int | None = None

    @property
    def name(self):
        return str(self.stop)

    @property
    def fused(self):
        return self.stop > self.start


def fusable(layer):
    """Whether a Dense layer followed by ``layer`` can run as one fused ``dense`` primitive."""
    return isinstance(layer, Activation) and layer.fusable


def fusion_plan(layers):
    """The steps (``Step``) that run ``layers`` in order."""
    plan, i, n = [], 0, len(layers)
    while i < n:
        layer = layers[i]
        if not isinstance(layer, Dense):
            plan.append(Step(i, i))
            i += 1
            continue
        j = i + 1
        while j < n and isinstance(layers[j], BatchNorm | Dropout):
            j += 1
        act = layers[j] if j < n and isinstance(layers[j], Activation) else None
        name = "identity" if act is None or act.name == "linear" else act.name
        alpha = 0.01 if act is None or act.alpha is None else float(act.alpha)
        stop = i + 1 if j == i + 1 and fusable(act) else i
        plan.append(Step(i, stop, name, alpha, j if act is not None else None))
        i = stop + 1
    return plan
