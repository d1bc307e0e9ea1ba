"""The names the command line's training pipeline had before it moved to ``chainrule.runs``."""

from ..runs.build import MAX_PARAMETERS, build_model, build_optimizer, load_data, loss_name
from ..runs.folder import config_hash, data_hash, run_dir_for, versions
from ..runs.pipeline import gradient_check_model, write_plots
from ..runs.pipeline import train as train_from_config

__all__ = ["MAX_PARAMETERS", "build_model", "build_optimizer", "config_hash", "data_hash", "gradient_check_model",
           "load_data", "loss_name", "run_dir_for", "train_from_config", "versions", "write_plots"]
