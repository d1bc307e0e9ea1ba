"""Gradient clipping: by global norm (Pascanu et al. 2013) and by value.

The optimizers apply these to the raw gradient through their ``clip_norm`` / ``clip_value``
options, in place in preallocated buffers; the functions here are the same rules for use on their
own, returning new dicts. Order when both are set: first rescale by the global norm, then clip
each element (Keras's order); the result satisfies both bounds.

A NaN or infinite norm leaves the gradient unscaled, so the non-finite value reaches the trainer's
NaN check instead of being turned into zeros.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import numpy as np

from . import _checks


def global_norm(grads: Mapping[str, np.ndarray] | Iterable[np.ndarray]) -> float:
    """‖g‖ = sqrt(Σ_i Σ_j g_ij²) over every array (a dict's values, or any iterable of arrays)."""
    arrays = grads.values() if isinstance(grads, Mapping) else grads
    total = 0.0
    for g in arrays:
        total += float(np.vdot(g, g))  # vdot flattens; summed as a Python float across arrays
    return math.sqrt(total)


def norm_scale(norm: float, clip_norm: float) -> float:
    """The factor min(1, clip_norm / norm); 1 when the norm is within bounds or not finite."""
    return clip_norm / norm if clip_norm < norm < math.inf else 1.0


def clip_by_global_norm(grads: Mapping[str, np.ndarray], clip_norm: float) -> tuple[dict, float]:
    """Rescale every gradient by min(1, clip_norm / ‖g‖). Returns (clipped grads, ‖g‖ before clipping)."""
    clip_norm = _checks.real("clip_by_global_norm", "clip_norm", clip_norm, low=0.0, low_open=True)
    norm = global_norm(grads)
    scale = norm_scale(norm, clip_norm)
    return {k: np.asarray(g) * scale for k, g in grads.items()}, norm


def clip_by_value(grads: Mapping[str, np.ndarray], clip_value: float) -> dict:
    """Clip every element to [−clip_value, clip_value]."""
    clip_value = _checks.real("clip_by_value", "clip_value", clip_value, low=0.0, low_open=True)
    return {k: np.clip(g, -clip_value, clip_value) for k, g in grads.items()}
