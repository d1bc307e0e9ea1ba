"""SWEEP.toml, read and checked before anything runs: a base config, a search space, seeds,
the metric and its direction, a strategy and a pruner.

    base = "moons.toml"            # a config file (relative to this file), or an inline [base] table
    seeds = 3                      # seeds 0, 1, 2; or a list [0, 7, 42]
    metric = "val_loss"            # any column of the run's history: loss, val_loss, val_accuracy, ...
    direction = "minimize"         # default: minimize for a loss, maximize otherwise
    strategy = "grid"              # grid | random | tpe (Optuna's samplers, seeded by `seed`)
    trials = 20                    # configurations for random / tpe
    pruner = "none"                # none | median | hyperband (on the per-epoch metric)
    weights = "best"               # trained models kept: best (the best configuration's seeds) | all | none
    [space]
    "optimizer.learning_rate" = { low = 1e-3, high = 1e-1, log = true }
    "model.hidden" = [[8], [32, 32]]

Every mistake is one ConfigError: an unknown key names the closest valid one (the run schema
knows every key), and every value a grid or a choice can take is checked by the schema too.
"""

from __future__ import annotations

import copy
import hashlib
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from ..data.files import open_regular, shown
from ..errors import ConfigError, did_you_mean
from ..runs.config import MAX_CONFIG_BYTES
from ..runs.schema import TABLES, TOP, complete
from .space import grid_size, parse_space

STRATEGIES = ("grid", "random", "tpe")
PRUNERS = ("none", "median", "hyperband")
WEIGHTS = ("best", "all", "none")
SPEC_KEYS = ("base", "seeds", "metric", "direction", "strategy", "trials", "seed", "pruner", "weights", "space")
MAX_SEEDS = 10_000


@dataclass
class Spec:
    """A checked sweep. ``base``: the completed base config; ``space``: {key: Dimension}."""

    base: dict
    space: dict
    seeds: list
    metric: str
    direction: str
    strategy: str
    trials: int | None
    sampler_seed: int
    pruner: str
    weights: str = "best"  # which trained models the sweep folder keeps (models/): best, all or none
    # what sweep.json keeps (the base inline), to resume without the file
    raw: dict = field(repr=False, default_factory=dict)

    @property
    def n_configs(self):
        return grid_size(self.space) if self.strategy == "grid" else self.trials

    def config_for(self, params):
        """The base config with ``params`` ({dotted key: value}) set; a new dict."""
        cfg = copy.deepcopy(self.base)
        for key, value in params.items():
            section, _, name = key.rpartition(".")
            (cfg[section] if section else cfg)[name] = copy.deepcopy(value)
        return cfg


def config_key(params):
    """The configuration's hash: the same parameters give the same key in every sweep of a folder."""
    return hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:16]


def load_spec(path):
    """Read SWEEP.toml; a base given as a path is read relative to it."""
    path = Path(path)
    with open_regular(path, "sweep file", ConfigError, max_bytes=MAX_CONFIG_BYTES) as handle:
        data = handle.read(MAX_CONFIG_BYTES + 1)
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError(f"sweep file {shown(path)} is more than {MAX_CONFIG_BYTES} bytes")
    try:
        raw = tomllib.loads(data.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, RecursionError, ValueError) as e:
        first = (str(e).splitlines() or [type(e).__name__])[0][:200]
        raise ConfigError(f"{shown(path)} is not valid TOML: {first}") from None
    return parse_spec(raw, root=path.parent, source=shown(path))


def parse_spec(raw, root=".", source="sweep"):
    """A Spec from a dict (SWEEP.toml's tables)."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: a sweep must be a table of keys, found {type(raw).__name__}")
    for key in raw:
        if key not in SPEC_KEYS:
            raise ConfigError(f"{source}: unknown key {key!r}{did_you_mean(key, SPEC_KEYS)}; "
                              f"valid: {', '.join(SPEC_KEYS)}")
    base_raw = _base(raw.get("base", {}), Path(root), source)
    base = complete(base_raw, source=f"{source} [base]")
    space = parse_space(raw.get("space"))
    for key in space:
        _check_key(key, source)
    seeds = _seeds(raw.get("seeds", 1), source)
    strategy = _choice(raw, "strategy", STRATEGIES, "grid" if "trials" not in raw else "tpe", source)
    trials = raw.get("trials")
    if strategy == "grid":
        if trials is not None:
            raise ConfigError(f"{source}: trials = {trials} with strategy = \"grid\": a grid runs every "
                              f"configuration; drop trials or use strategy = \"random\" / \"tpe\"")
        grid_size(space)
    elif isinstance(trials, bool) or not isinstance(trials, int) or trials < 1:
        raise ConfigError(f"{source}: strategy = \"{strategy}\" needs trials = N (a positive integer of "
                          f"configurations), found {trials!r}")
    sampler_seed = raw.get("seed", 0)
    if isinstance(sampler_seed, bool) or not isinstance(sampler_seed, int) or sampler_seed < 0:
        raise ConfigError(f"{source}: seed must be a non-negative integer, found {sampler_seed!r}")
    metric = raw.get("metric", "val_loss" if base["data"]["val_fraction"] > 0 else "loss")
    if not isinstance(metric, str) or not metric:
        raise ConfigError(f"{source}: metric must be a history column such as \"val_loss\", found {metric!r}")
    if metric.startswith("val_") and base["data"]["val_fraction"] == 0 and "data.val_fraction" not in space:
        raise ConfigError(f"{source}: metric = \"{metric}\" needs validation data, but [base] data.val_fraction = 0; "
                          f"use metric = \"{metric[4:]}\" or set val_fraction")
    _check_metric(metric, base, space, source)
    direction = _choice(raw, "direction", ("minimize", "maximize"),
                        "minimize" if metric.endswith("loss") else "maximize", source)
    pruner = _choice(raw, "pruner", PRUNERS, "none", source)
    weights = _choice(raw, "weights", WEIGHTS, "best", source)
    spec = Spec(base, space, seeds, metric, direction, strategy, trials, sampler_seed, pruner, weights)
    _check_values(spec, source)
    spec.raw = {**{k: v for k, v in raw.items() if k != "base"}, "base": base_raw}
    return spec


def _check_metric(metric, base, space, source):
    """The metric must be a column the runs' history will have: loss, lr, the loss's default metric
    (accuracy for a classifier, r2 otherwise), and val_* of each. Checked when the task is known
    before loading data (a built-in dataset, a loss not swept)."""
    from ..data import dataset_task
    from ..nn import losses
    from ..runs.build import loss_name
    from ..train.evaluation import default_metrics

    if base["data"]["name"] == "csv" or {"data.name", "loss.name"} & set(space):
        return
    names = ["loss", *default_metrics(losses.get(loss_name(base, dataset_task(base["data"]["name"]))))]
    known = [*names, "lr", *(f"val_{n}" for n in names)]
    if metric not in known:
        raise ConfigError(f"{source}: metric = {metric!r} is not a column of these runs' history"
                          f"{did_you_mean(metric, known)}; valid: {', '.join(known)}")


def _base(base, root, source):
    if isinstance(base, str):
        from ..runs.config import load_config

        path = Path(base) if Path(base).is_absolute() else root / base
        load_config(path)  # every mistake in the file, named by the file
        return tomllib.loads(path.read_text("utf-8"))
    if not isinstance(base, dict):
        raise ConfigError(f"{source}: base must be a config file path or a [base] table, found "
                          f"{type(base).__name__}")
    return base


def valid_keys():
    """Every dotted config key a sweep may vary (open sections: any option of theirs)."""
    keys = [f.name for f in TOP.fields if f.name != "seed"]
    for s in TABLES.values():
        keys += [f"{s.name}.{f.name}" for f in s.fields]
    return keys


def _check_key(key, source):
    if key == "seed":
        raise ConfigError(f"{source}: space.seed: the seed is its own dimension; write seeds = N or a list")
    section, _, name = key.rpartition(".")
    known = (not section and name in TOP.keys) or (section in TABLES and (name in TABLES[section].keys
                                                                          or TABLES[section].open))
    if not known or section == "output":
        raise ConfigError(f"{source}: space: unknown config key {key!r}{did_you_mean(key, valid_keys())}")


def _seeds(value, source):
    if isinstance(value, int) and not isinstance(value, bool):
        if not 1 <= value <= MAX_SEEDS:
            raise ConfigError(f"{source}: seeds = {value}: expected 1 to {MAX_SEEDS} seeds")
        return list(range(value))
    if isinstance(value, list) and value and all(isinstance(s, int) and not isinstance(s, bool) and s >= 0
                                                 for s in value):
        if len(set(value)) != len(value):
            raise ConfigError(f"{source}: seeds = {value} repeats a seed")
        return list(value)
    raise ConfigError(f"{source}: seeds must be a count N or a non-empty list of non-negative integers, "
                      f"found {value!r}")


def _choice(raw, key, allowed, default, source):
    value = raw.get(key, default)
    if value not in allowed:
        raise ConfigError(f"{source}: {key} = {value!r}{did_you_mean(value, allowed)}; valid: {', '.join(allowed)}")
    return value


def _check_values(spec, source):
    """Each value a dimension can take, set alone in the base config, passes the run schema
    (a range is checked at both ends)."""
    for key, dim in spec.space.items():
        values = list(dim.choices) if dim.choices else [dim.low, dim.high]
        for value in values:
            try:
                complete(spec.config_for({key: value}), source=f"{source} space.{key} = {json.dumps(value)}")
            except ConfigError as e:
                raise ConfigError(str(e).split("; ")[0] if len(str(e)) > 300 else str(e)) from None
