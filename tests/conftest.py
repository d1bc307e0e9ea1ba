"""Shared test settings: a fixed hypothesis profile so the suite's run time is predictable."""

import json
import os

import matplotlib
import pytest

matplotlib.use("Agg")

try:
    from hypothesis import settings

    settings.register_profile("chainrule", max_examples=40, deadline=None, derandomize=True)
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "chainrule"))
except ImportError:  # pragma: no cover
    pass


@pytest.fixture
def forget_checksums():
    """forget(run): make a run folder as one finished before its manifest recorded checksums, so
    its files load unverified (with one warning) and the checks of their contents are what
    stands between an edit and a wrong result."""
    def forget(run):
        manifest = json.loads((run / "manifest.json").read_text())
        manifest.pop("sha256", None)
        (run / "manifest.json").write_text(json.dumps(manifest))
    return forget
