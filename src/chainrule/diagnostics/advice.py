"""Reading the numbers: when do gradients vanish or explode, and what should the user try.

Seed 000: ‖δ_1‖ ≈ ‖δ_L‖ ∏ ‖W_{l+1}ᵀ‖·|σ'(a_l)|. The product shrinks exponentially when the
factors are below 1 (sigmoid: σ' ≤ 1/4; weights too small for the activation) and grows when
they are above 1 (weights too large). Seed 001's four remedies: ReLU, residual connections,
batch normalization, an initialization matched to the activation (Xavier for sigmoid/tanh, He
for ReLU).
"""

from __future__ import annotations

import math
import warnings

from .layers import SATURATING

VANISHING = 1e-3  # first-layer ‖∂L/∂W‖ below this fraction of the last layer's: vanishing
EXPLODING = 1e3  # ... above this multiple of it (or non-finite): exploding
MAX_NORM = 1e4  # any layer's ‖∂L/∂W‖ above this: exploding (for losses of order 1: mean CE, MSE on scaled y)
RELU_LIKE = ("relu", "leaky_relu", "elu", "gelu", "gelu_tanh")


class GradientWarning(UserWarning):
    """Gradients vanish or explode across the layers of a network."""


def _g(x):
    return f"{x:.2g}" if math.isfinite(x) else str(x)


def gradient_flags(names, grad_norms, vanishing=VANISHING, exploding=EXPLODING, max_norm=MAX_NORM):
    """[(kind, layers, text)] for kind in ('vanishing', 'exploding'); empty if healthy.

    names, grad_norms: the layers in forward order and their ‖∂L/∂W_l‖. The ratio test compares
    the first layer with the last (the output layer, whose gradient the loss sets directly).
    Weights too large for the activation grow h_l and δ_l together, so every layer's gradient
    grows and the ratio may not show it: hence also the absolute bound ``max_norm`` (None: off).
    """
    if len(names) < 2:
        return []
    last = grad_norms[-1]
    bad = [n for n, g in zip(names, grad_norms) if not math.isfinite(g)]
    if bad:
        return [("exploding", bad, f"non-finite gradient in {', '.join(bad)}")]
    if last == 0:
        return []
    rel = [g / last for g in grad_norms]
    if vanishing <= rel[0] <= exploding and (max_norm is None or max(grad_norms) <= max_norm):
        return []  # healthy: the common case, checked at every record, so no text is built
    listing = ", ".join(f"{n} {_g(r)}" for n, r in zip(names, rel))
    if rel[0] < vanishing:
        low = [n for n, r in zip(names[:-1], rel) if r < vanishing]
        return [("vanishing", low, f"the first layer's gradient ‖∂L/∂W‖ is {_g(rel[0])} × the last layer's "
                 f"(threshold {vanishing:g}); layers below it: {', '.join(low)}. ‖∂L/∂W_l‖ / ‖∂L/∂W_last‖: "
                 f"{listing}")]
    if rel[0] > exploding:
        high = [n for n, r in zip(names[:-1], rel) if r > exploding]
        return [("exploding", high, f"the first layer's gradient ‖∂L/∂W‖ is {_g(rel[0])} × the last layer's "
                 f"(threshold {exploding:g}); layers above it: {', '.join(high)}. ‖∂L/∂W_l‖ / ‖∂L/∂W_last‖: "
                 f"{listing}")]
    if max_norm is not None and max(grad_norms) > max_norm:
        high = [n for n, g in zip(names, grad_norms) if g > max_norm]
        return [("exploding", high, f"‖∂L/∂W‖ above {max_norm:g} in {', '.join(high)}: "
                 + ", ".join(f"{n} {_g(g)}" for n, g in zip(names, grad_norms)))]
    return []


HE_GAIN = 2.0  # fan_in·Var(W) under He: makes up for ReLU zeroing half its inputs
CLOSE = (0.75, 4 / 3)  # a gain within this factor of a scheme's counts as that scheme's scale


def xavier_gain(info):
    """fan_in·Var(W) under Xavier, 2·fan_in / (fan_in + fan_out): 1 for a square layer, 0.12 for 2 → 32."""
    return 2 * info.d_in / (info.d_in + info.d_out)


def matched(info):
    """(scheme, its gain) of the initialization matched to the layer's activation: He for the ReLU
    family, Xavier for the others."""
    return ("He", HE_GAIN) if info.activation in RELU_LIKE else ("Xavier", xavier_gain(info))


def _times(r):
    return f"{r:.2g}" if r < 10 else f"{r:.0f}"


def scale_words(gain, info):
    """The weights' scale in words, from the measured gain fan_in·Var(W) and the layer's shape:
    'He scale', 'Xavier scale', '16× He', '8× below Xavier', 'between Xavier and He'."""
    xavier = ("Xavier", xavier_gain(info))
    schemes = [("He", HE_GAIN), xavier] if info.activation in RELU_LIKE else [xavier, ("He", HE_GAIN)]
    for name, ref in schemes:
        if CLOSE[0] <= gain / ref <= CLOSE[1]:
            return f"{name} scale"
    if gain > HE_GAIN:
        return f"{_times(gain / HE_GAIN)}× He"
    name, ref = matched(info)
    if gain < min(ref, xavier[1]) or (name == "Xavier" and gain < ref):
        return f"{_times(ref / gain) if gain > 0 else '∞'}× below {name}"
    return "between Xavier and He"


def remedies(kind, infos, gains):
    """What to try, as a list of sentences, for ``kind`` in the network described by infos/gains.

    infos: ``DenseInfo`` per layer; gains: the measured fan_in·E[W²] per layer (same order).
    An initialization is suggested only for layers whose measured gain is off by more than a
    factor 2 from the one matched to their activation (so a Xavier network is not told to use
    Xavier), and the tip says by how much.
    """
    hidden = [(i, g) for i, g in zip(infos[:-1], gains[:-1])]
    acts = sorted({i.activation for i, _ in hidden})
    tips = []
    if kind == "vanishing":
        saturating = [a for a in acts if a in SATURATING]
        if saturating:
            tips.append(f"activation: ReLU instead of {'/'.join(saturating)} in the hidden layers "
                        "(sigmoid's σ' ≤ 1/4 shrinks δ at every layer; ReLU passes it with factor 1)")
        small = [(i, g) for i, g in hidden if g < 0.5 * matched(i)[1]]
        for scheme in ("He", "Xavier"):
            layers = [(i, g) for i, g in small if matched(i)[0] == scheme]
            if layers:
                tips.append(f"init: {scheme} (init='{scheme.lower()}_normal') for "
                            + ", ".join(f"{i.name} ({scale_words(g, i)}: fan_in·Var(W) = {g:.2g})" for i, g in layers)
                            + ", whose small weights shrink the signal at every layer")
        tips.append("residual connections (nn.Residual): the identity path carries δ past each block unchanged")
        tips.append("normalization (MLP(..., batchnorm=True)): keeps pre-activations where σ' is large")
    else:
        big = [(i, g) for i, g in hidden if g > 2 * matched(i)[1]]
        if big:
            tips.append("init: smaller weights in "
                        + ", ".join(f"{i.name} ({scale_words(g, i)}: fan_in·Var(W) = {g:.2g}; "
                                    f"{matched(i)[0]} gives {matched(i)[1]:.2g})" for i, g in big)
                        + ", whose fan_in·Var(W) multiplies the signal at every layer")
        tips.append("a smaller learning rate, or gradient clipping (optimizer option clip_norm)")
        tips.append("normalization (MLP(..., batchnorm=True)) to keep every layer's scale fixed")
    return tips


def dead_advice(step, stuck, infos):
    """Likely cause and what to try for dead/saturated layers, from their measured weight scale.

    stuck: the ``LayerSignals`` of those layers; infos: {name: DenseInfo}."""
    big = [s for s in stuck if s.gain > 2 * matched(infos[s.name])[1]]
    scales = ", ".join(f"{s.name} {scale_words(s.gain, infos[s.name])} (fan_in·Var(W) = {s.gain:.2g})"
                       for s in (big or stuck))
    if big:
        return (f"Their weights are now far too large: {scales}. Likely cause: "
                + ("the initialization. " if step == 0 else "a learning rate too high (steps too large pushed the "
                   "weights there). ") + "Try: "
                + ("an initialization matched to the activation (He for ReLU, Xavier for sigmoid/tanh)."
                   if step == 0 else "a learning rate 10× smaller, or gradient clipping (clip_norm)."))
    relu = any(s.activation == "relu" for s in stuck)
    return (f"Their weights are not too large ({scales}), so the pre-activations were pushed out by the biases "
            "or the inputs. Try: " + ("a learning rate 10× smaller, leaky_relu (its units never die), or "
                                      if relu else "a learning rate 10× smaller, ")
            + "standardized inputs or normalization (batchnorm = true).")


def warn_gradients(kind, text, tips, where="", stacklevel=3):
    """Issue a ``GradientWarning`` for ``kind`` with the finding and what to try."""
    message = f"{kind} gradients{where}: {text}. Try: " + "; ".join(tips) + "."
    warnings.warn(message, GradientWarning, stacklevel=stacklevel)
    return message
