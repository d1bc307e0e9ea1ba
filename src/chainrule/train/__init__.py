"""Training: the loop (``Trainer``, ``fit``), metrics, callbacks, checkpoints and the progress bar."""

from . import metrics
from .callbacks import Callback, EarlyStopping, LambdaCallback, MetricLogger
from .checkpoint import Checkpoint, latest_checkpoint, restore, save_checkpoint
from .trainer import DivergenceWarning, NonFiniteError, Trainer, fit

__all__ = ["Callback", "Checkpoint", "DivergenceWarning", "EarlyStopping", "LambdaCallback", "MetricLogger",
           "NonFiniteError", "Trainer", "fit", "latest_checkpoint", "metrics", "restore", "save_checkpoint"]
