"""``chainrule.numpy.linalg``: ``cnp.linalg.norm``, NumPy's name for the differentiable norms."""

from ..primitives.linalg import norm  # noqa: F401
