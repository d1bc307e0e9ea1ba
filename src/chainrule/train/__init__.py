"""Training: the loop (``Trainer``, ``fit``), its state, callbacks, checkpoints, evaluation and metrics."""

from . import metrics
from .callbacks import Callback, CallbackList, EarlyStopping, History, LambdaCallback, MetricLogger
from .checkpoint import Checkpoint, latest_checkpoint, restore, save_checkpoint
from .divergence import DivergenceGuard, DivergenceWarning
from .evaluation import evaluate
from .state import TrainState
from .trainer import NonFiniteError, Trainer, fit

__all__ = ["Callback", "CallbackList", "Checkpoint", "DivergenceGuard", "DivergenceWarning", "EarlyStopping",
           "History", "LambdaCallback", "MetricLogger", "NonFiniteError", "TrainState", "Trainer", "evaluate", "fit",
           "latest_checkpoint", "metrics", "restore", "save_checkpoint"]
