"""Shared fixtures: one 2-worker LocalCluster for the folder (start-ups are the slow part)."""

import pytest

pytest.importorskip("distributed")
pytest.importorskip("optuna")


@pytest.fixture(scope="session")
def client():
    from chainrule.sweep.cluster import client_for

    with client_for(workers=2) as c:
        yield c


def tiny(epochs=5, val_fraction=0.0, **model):
    """A base config that trains in milliseconds (moons, fixed data seed)."""
    return {"data": {"name": "moons", "val_fraction": val_fraction, "options": {"seed": 0, "n": 80}},
            "model": {"hidden": [4], **model}, "training": {"epochs": epochs, "batch_size": 16},
            "output": {"record": False}}
