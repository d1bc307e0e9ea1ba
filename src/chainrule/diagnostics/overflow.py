"""NumPy's floating-point warnings held back while training's own divergence check speaks.

A diverging run overflows inside NumPy (``RuntimeWarning: overflow encountered in dot``) a step
before the Trainer notices the non-finite loss and says, in one line, where and what to try. The
raw lines come first and say nothing a learner can act on. ``held_back()`` counts them instead
(``np.errstate`` with a call-back); if training then stops with a ``NonFiniteError`` the message
says that NumPy overflowed, and if training ends otherwise the count is reported as one warning.
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager

import numpy as np

from ..errors import NonFiniteError


@contextmanager
def held_back():
    """Count NumPy's overflow / invalid / divide-by-zero reports in the block instead of printing them."""
    seen = {}

    def count(kind, flag):
        seen[kind] = seen.get(kind, 0) + 1

    with np.errstate(over="call", invalid="call", divide="call", call=count):
        try:
            yield seen
        except NonFiniteError as e:
            if seen and e.args and isinstance(e.args[0], str):
                e.args = (f"{e.args[0]} (NumPy reported {_kinds(seen)} on the way there)", *e.args[1:])
            raise
    if seen:
        warnings.warn(f"NumPy reported {_kinds(seen)} during training (its warnings held back)", RuntimeWarning,
                      stacklevel=3)


def _kinds(seen):
    words = {"overflow": "overflow", "invalid value": "invalid values (inf − inf, 0 · inf)",
             "divide by zero": "division by zero"}
    return ", ".join(f"{words.get(k, k)} ({n}×)" for k, n in seen.items())
