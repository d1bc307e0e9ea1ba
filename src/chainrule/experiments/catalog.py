"""Imports every experiment module in this package so that each registers itself.

Report order follows ORDER; modules not listed come after, alphabetically.
"""

from __future__ import annotations

import importlib
import pkgutil

ORDER = ["xor", "parameters", "vanishing", "init", "learning_rate", "universal_approximation",
         "depth_separation", "piecewise_linear", "backprop_cost", "modes", "depth_rescue",
         "batchnorm_gradient", "checkpointing"]
_FRAMEWORK = {"base", "catalog", "report", "runner", "sources"}


def _modules():
    found = {m.name for m in pkgutil.iter_modules(importlib.import_module(__package__).__path__)}
    found -= _FRAMEWORK
    return [m for m in ORDER if m in found] + sorted(found - set(ORDER))


for _name in _modules():
    importlib.import_module(f"{__package__}.{_name}")
