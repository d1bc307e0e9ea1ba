"""Experiments that reproduce the lecture notes' claims: ``chainrule experiment NAME|all [--quick]``.

Each experiment writes PNG figures, ``results.json`` (every claim with its expected figure,
measured figure, tolerance and verdict) and a report in Markdown and self-contained HTML.
"""

from .base import REGISTRY, Context, experiment
from .runner import names, run

__all__ = ["REGISTRY", "Context", "experiment", "names", "run"]
