"""NumPy names for chainrule's differentiable operations: ``import chainrule.numpy as cnp``.

Write model code with ``cnp`` and it works on plain arrays (at NumPy speed) and inside
``grad``/``jvp``/``hessian`` alike (``functions.py``). Importing it also gives traced values
their array methods and operators and NumPy's dispatch protocols (``tracer_methods.py``), so
plain ``np.`` spellings of these functions work on them too; a NumPy function chainrule does not
support raises a TypeError naming it, rather than silently dropping the derivative.
"""

from . import linalg  # noqa: F401  (cnp.linalg.norm)
from . import tracer_methods as _tracer_methods  # noqa: F401  (gives tracers their array methods)
from .functions import *  # noqa: F403  (the public names of functions.py)
