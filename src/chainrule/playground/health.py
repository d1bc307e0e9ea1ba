"""The recorder's warnings in words, next to the layer, with the remedy.

A probe of the network (``diagnostics.signals.probe``) on a fixed batch of training points
measures every dense layer; the diagnostics' own rules then name what is wrong: vanishing or
exploding gradients (``advice.gradient_flags``, remedies from ``advice.remedies``), a ReLU layer
whose every unit is dead, or a sigmoid/tanh layer whose every unit is saturated (the recorder's
thresholds, advice from ``advice.dead_advice``).
"""

from __future__ import annotations

import numpy as np

from ..diagnostics.advice import dead_advice, gradient_flags, remedies
from ..diagnostics.layers import dense_layers
from ..diagnostics.recorder import ALL_SATURATED, PROBE_SIZE
from ..diagnostics.signals import probe

KINDS = ("vanishing", "exploding", "dead", "saturated")


def layer_warnings(training):
    """[{"layer", "kind", "text", "remedy"}] for the network as it is now (layer: dense index)."""
    t = training
    if len(t.X_train) == 0:
        return []
    X, y = t.X_train[:PROBE_SIZE], t.y_train[:PROBE_SIZE]
    with np.errstate(all="ignore"):
        p = probe(t.model, X, y, t.trainer.loss_fn, training=False)
    infos = dense_layers(t.model)
    names = [i.name for i in infos]
    out = []
    for kind, layers, text in gradient_flags(names, p.column("grad_norm")):
        remedy = "; ".join(remedies(kind, infos, p.column("gain")))
        out += [{"layer": names.index(n), "kind": kind, "text": f"{kind} gradients: {text}", "remedy": remedy}
                for n in layers if n in names]
    by_name = {i.name: i for i in infos}
    for k, s in enumerate(p.layers):
        if s.dead_fraction == 1.0:
            out.append({"layer": k, "kind": "dead", "remedy": dead_advice(t.step_count, [s], by_name),
                        "text": f"every ReLU unit of layer {k} outputs 0 on every probe point: no gradient flows "
                                "back through it"})
        elif (s.saturated_fraction or 0.0) >= ALL_SATURATED:
            out.append({"layer": k, "kind": "saturated", "remedy": dead_advice(t.step_count, [s], by_name),
                        "text": f"every unit of layer {k} is saturated (σ′ near 0 on every probe point): "
                                "little gradient flows back through it"})
    return out


def warnings_message(training):
    return {"type": "warnings", "layers": layer_warnings(training)}
