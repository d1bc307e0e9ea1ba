"""Shared fixtures: one 2-worker LocalCluster for the folder (start-ups are the slow part), closed
when the folder's tests end (its threads allocate: a memory test after them would count it)."""

import pytest

pytest.importorskip("distributed")
pytest.importorskip("optuna")


@pytest.fixture(scope="package")
def client():
    from chainrule.sweep.cluster import client_for

    with client_for(workers=2) as c:
        yield c


def tiny(epochs=5, val_fraction=0.0, **model):
    """A base config that trains in milliseconds (moons, fixed data seed)."""
    return {"data": {"name": "moons", "val_fraction": val_fraction, "options": {"seed": 0, "n": 80}},
            "model": {"hidden": [4], **model}, "training": {"epochs": epochs, "batch_size": 16},
            "output": {"record": False}}
