"""Runs: the application layer between the library and its front ends (the CLI, the
experiments, and any estimator, sweep worker or server that trains from a configuration).

- ``schema``: the configuration, declared once (``complete``, ``defaults``, ``describe``);
  ``load_config`` reads it from a TOML file.
- ``build(cfg)``: the configuration as data, model, loss, optimizer, schedule, callbacks and a
  Trainer, in memory; ``run.fit()`` trains it.
- ``train(cfg, run_dir)``: the same, writing a run folder (config, manifest, metrics, model,
  preprocessing, gradient check, figures); ``resume=True`` continues an interrupted one.
- ``load_run(run_dir)``: a finished run back, with ``predict`` / ``predict_proba``.
- ``inspect_config(cfg, out_dir)``: the configured model's trainability at initialization.

Nothing here imports the CLI.
"""

from .build import Run, build, build_model, build_optimizer, load_data, loss_name
from .config import load_config
from .inspect import inspect_config
from .loaded import LoadedRun, load_run
from .pipeline import train
from .schema import SECTIONS, complete, defaults, describe

__all__ = ["SECTIONS", "LoadedRun", "Run", "build", "build_model", "build_optimizer", "complete", "defaults",
           "describe", "inspect_config", "load_config", "load_data", "load_run", "loss_name", "train"]
