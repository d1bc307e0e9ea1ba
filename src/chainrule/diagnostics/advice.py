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


def remedies(kind, infos, gains):
    """What to try, as a list of sentences, for ``kind`` in the network described by infos/gains.

    infos: ``DenseInfo`` per layer; gains: fan_in·E[W²] per layer (same order).
    """
    hidden = [(i, g) for i, g in zip(infos[:-1], gains[:-1])]
    acts = sorted({i.activation for i, _ in hidden})
    tips = []
    if kind == "vanishing":
        saturating = [a for a in acts if a in SATURATING]
        if saturating:
            tips.append(f"activation: ReLU instead of {'/'.join(saturating)} in the hidden layers "
                        "(sigmoid's σ' ≤ 1/4 shrinks δ at every layer; ReLU passes it with factor 1)")
        small_relu = [i.name for i, g in hidden if i.activation in RELU_LIKE and g < 1.5]
        if small_relu:
            tips.append(f"init: He (init='he_normal', fan_in·Var(W) = 2) for the ReLU layers {', '.join(small_relu)}, "
                        "whose smaller weights halve the signal's second moment at every layer or worse")
        tiny = [i.name for i, g in hidden if i.activation not in RELU_LIKE and g < 0.5]
        if tiny:
            tips.append(f"init: Xavier for the layers {', '.join(tiny)} (fan_in·Var(W) < 0.5 there)")
        tips.append("residual connections (nn.Residual): the identity path carries δ past each block unchanged")
        tips.append("normalization (MLP(..., batchnorm=True)): keeps pre-activations where σ' is large")
    else:
        big = [i.name for i, g in hidden if g > (2.5 if i.activation in RELU_LIKE else 1.5)]
        if big:
            tips.append(f"init: smaller weights (He for ReLU, Xavier for sigmoid/tanh) in {', '.join(big)}, whose "
                        "fan_in·Var(W) multiplies the signal at every layer")
        tips.append("a smaller learning rate, or gradient clipping (optimizer option clip_norm)")
        tips.append("normalization (MLP(..., batchnorm=True)) to keep every layer's scale fixed")
    return tips


def warn_gradients(kind, text, tips, where="", stacklevel=3):
    """Issue a ``GradientWarning`` for ``kind`` with the finding and what to try."""
    message = f"{kind} gradients{where}: {text}. Try: " + "; ".join(tips) + "."
    warnings.warn(message, GradientWarning, stacklevel=stacklevel)
    return message
