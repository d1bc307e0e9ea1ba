"""Training: the loop (``Trainer``, ``fit``), metrics, callbacks and the progress bar."""

from . import metrics
from .callbacks import Callback, EarlyStopping, LambdaCallback, MetricLogger
from .trainer import NonFiniteError, Trainer, fit

__all__ = ["Callback", "EarlyStopping", "LambdaCallback", "MetricLogger", "NonFiniteError", "Trainer", "fit",
           "metrics"]
