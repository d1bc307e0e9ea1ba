"""The search space: one dimension per config key, each a list, a range, a log-range or choices.

A dimension is written in SWEEP.toml's ``[space]`` table under its dotted config key
(``"optimizer.learning_rate" = { low = 1e-4, high = 1e-1, log = true }``) or as nested tables
(``[space.optimizer] learning_rate = [0.01, 0.1]``):

- a list ``[a, b, c]`` or ``{ choices = [a, b, c] }``: those values (lists such as hidden widths allowed);
- ``{ low, high }``: a uniform range (integers when both ends are integers), ``step`` for a grid;
- ``{ low, high, log = true }``: uniform in log space (a grid needs ``num``: points spaced evenly in log).

Values reach Optuna as JSON strings for choices (its categorical values must be scalars), so a
choice of ``[16, 16]`` is as easy as a choice of ``"relu"``.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass

from ..errors import ConfigError

_RANGE_KEYS = {"low", "high", "log", "step", "num"}
# A key becomes a SQLite column name (quoted): words joined by dots, nothing else.
KEY_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?")
MAX_GRID = 100_000  # configurations; a grid beyond this is a typo in a step


@dataclass(frozen=True)
class Dimension:
    """One hyperparameter: ``key`` (dotted config key) and either ``choices`` or a range."""

    key: str
    choices: tuple = ()
    low: float | int | None = None
    high: float | int | None = None
    log: bool = False
    step: float | int | None = None
    num: int | None = None

    @property
    def is_int(self):
        return not self.choices and isinstance(self.low, int) and isinstance(self.high, int)

    def grid(self):
        """The values a grid visits; a continuous range without ``step``/``num`` has none."""
        if self.choices:
            return list(self.choices)
        if self.num is not None:
            if self.log:
                a, b = math.log(self.low), math.log(self.high)
                values = [math.exp(a + (b - a) * i / max(self.num - 1, 1)) for i in range(self.num)]
            else:
                values = [self.low + (self.high - self.low) * i / max(self.num - 1, 1) for i in range(self.num)]
            # (12 digits: exp(log(0.1)) = 0.10000000000000006 would be a surprise in best.toml)
            return [round(v) for v in values] if self.is_int else [float(f"{v:.12g}") for v in values]
        if self.step is not None:
            n = int(math.floor((self.high - self.low) / self.step + 1e-9)) + 1
            return [self.low + i * self.step for i in range(n)]
        if self.is_int and not self.log:
            return list(range(self.low, self.high + 1))
        raise ConfigError(f"space.{self.key}: a grid needs values, or a range with step or num; found the "
                          f"continuous range [{self.low}, {self.high}] (use strategy = \"random\" or \"tpe\")")

    def suggest(self, trial):
        """This dimension's value for an Optuna trial (ask-and-tell)."""
        if self.choices:
            return json.loads(trial.suggest_categorical(self.key, [json.dumps(c) for c in self.choices]))
        if self.is_int:
            return trial.suggest_int(self.key, self.low, self.high, log=self.log, step=self.step or 1)
        return trial.suggest_float(self.key, float(self.low), float(self.high), log=self.log,
                                   step=None if self.step is None else float(self.step))


def parse_space(table):
    """{dotted key: Dimension} from the [space] table; a mistake is one ConfigError naming the key."""
    if not isinstance(table, dict) or not table:
        raise ConfigError("the sweep's [space] is empty: give at least one key to search, e.g. "
                          "\"optimizer.learning_rate\" = [0.01, 0.1]")
    dims = {}
    for key, value in _flatten(table):
        if not KEY_PATTERN.fullmatch(key):
            raise ConfigError(f"space: {key!r} is not a config key (section.key, such as optimizer.learning_rate)")
        dims[key] = _dimension(key, value)
    return dims


def _flatten(table, prefix=""):
    for key, value in table.items():
        full = f"{prefix}{key}"
        if isinstance(value, dict) and not (set(value) & (_RANGE_KEYS | {"choices"})):
            yield from _flatten(value, full + ".")
        else:
            yield full, value


def _dimension(key, value):
    if isinstance(value, list):
        value = {"choices": value}
    if not isinstance(value, dict):
        raise ConfigError(f"space.{key}: expected a list of values or a table {{ low, high }} / {{ choices }}, "
                          f"found {json.dumps(value)}")
    if "choices" in value:
        extra = set(value) - {"choices"}
        if extra:
            raise ConfigError(f"space.{key}: choices with {', '.join(sorted(extra))}; give either choices or a range")
        choices = value["choices"]
        if not isinstance(choices, list) or not choices:
            raise ConfigError(f"space.{key}: the choices are empty; give at least one value")
        if len({json.dumps(c, sort_keys=True) for c in choices}) != len(choices):
            raise ConfigError(f"space.{key}: the choices {json.dumps(choices)} repeat a value")
        return Dimension(key, choices=tuple(choices))
    unknown = set(value) - _RANGE_KEYS
    if unknown:
        from ..errors import did_you_mean

        name = sorted(unknown)[0]
        raise ConfigError(f"space.{key}: unknown key {name!r}{did_you_mean(name, _RANGE_KEYS | {'choices'})}; "
                          f"valid: low, high, log, step, num, choices")
    low, high = value.get("low"), value.get("high")
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (low, high)):
        raise ConfigError(f"space.{key}: a range needs numbers low and high, found low = {low!r}, high = {high!r}")
    if not (math.isfinite(low) and math.isfinite(high)) or low > high:
        raise ConfigError(f"space.{key}: low = {low} > high = {high}: the range is empty")
    log = value.get("log", False)
    if not isinstance(log, bool):
        raise ConfigError(f"space.{key}: log must be true or false, found {log!r}")
    if log and low <= 0:
        raise ConfigError(f"space.{key}: a log range needs low > 0, found low = {low}")
    step, num = value.get("step"), value.get("num")
    if step is not None and (isinstance(step, bool) or not isinstance(step, int | float) or step <= 0):
        raise ConfigError(f"space.{key}: step must be a positive number, found {step!r}")
    if step is not None and log:
        raise ConfigError(f"space.{key}: step and log = true contradict each other; use num for a log grid")
    if num is not None and (isinstance(num, bool) or not isinstance(num, int) or num < 1):
        raise ConfigError(f"space.{key}: num must be a positive integer, found {num!r}")
    if isinstance(low, int) and isinstance(high, int) and step is not None and not isinstance(step, int):
        low, high = float(low), float(high)
    return Dimension(key, low=low, high=high, log=log, step=step, num=num)


def grid_size(dims):
    size = 1
    for d in dims.values():
        size *= len(d.grid())
        if size > MAX_GRID:
            raise ConfigError(f"the grid has more than {MAX_GRID} configurations; narrow it or use strategy = "
                              f"\"random\" with trials = N")
    return size
