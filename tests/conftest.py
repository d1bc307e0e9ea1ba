"""Shared test settings: a fixed hypothesis profile so the suite's run time is predictable."""

import os

import matplotlib

matplotlib.use("Agg")

try:
    from hypothesis import settings

    settings.register_profile("chainrule", max_examples=40, deadline=None, derandomize=True)
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "chainrule"))
except ImportError:  # pragma: no cover
    pass
