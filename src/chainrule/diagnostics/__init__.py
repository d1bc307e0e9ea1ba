"""Instruments that explain what happens inside a network while it trains.

- ``TrainingRecorder``: a Trainer callback logging per-layer gradient norms, error signals
  ‖δ_l‖, weight norms, update ratios, activation statistics, dead and saturated units, and
  (optionally) sharpness and loss slices; it warns when gradients vanish or explode.
- ``inspect_model``: a trainability check at initialization (``chainrule.runs.inspect_config``
  runs it on a training configuration).
- ``probe``: one measurement of every layer on one batch.
- ``top_hessian_eigenvalue``, ``loss_slice_1d``, ``loss_surface_2d``: the loss's curvature
  and shape around the current weights.
- ``plots``: heatmaps over training, activation statistics, signal propagation.
"""

from .advice import GradientWarning, gradient_flags
from .inspect import Finding, InspectReport, inspect_model
from .landscape import filter_normalized_direction, loss_slice_1d, loss_surface_2d
from .layers import DenseInfo, dense_layers, weight_gain
from .recorder import GradientNormRecorder, TrainingRecorder
from .sharpness import top_hessian_eigenvalue
from .signals import LayerSignals, Probe, probe

__all__ = [
    "DenseInfo", "Finding", "GradientNormRecorder", "GradientWarning", "InspectReport", "LayerSignals", "Probe",
    "TrainingRecorder", "dense_layers", "filter_normalized_direction", "gradient_flags",
    "inspect_model", "loss_slice_1d", "loss_surface_2d", "probe", "top_hessian_eigenvalue", "weight_gain",
]
