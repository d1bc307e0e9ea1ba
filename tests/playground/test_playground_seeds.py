"""Seeds side by side: model 0 is the session's own network (bit for bit after whole epochs), the others are
other seeds' runs, in one seed ensemble for plain networks and in a loop otherwise."""

from __future__ import annotations

import numpy as np
import pytest

from chainrule.playground.session import Session


@pytest.mark.parametrize("settings, ensemble", [
    ({"seeds": 3}, True),
    ({"seeds": 2, "optimizer": {"name": "adam", "learning_rate": 0.01}, "dataset": "spiral3"}, True),
    ({"seeds": 2, "problem": "regression", "dataset": "plane", "loss": "mae"}, True),
    ({"seeds": 2, "batchnorm": True}, False),
])
def test_seed_zero_is_the_sessions_own_run(settings, ensemble):
    s = Session(settings)
    s.train(2 * s.training.batcher.n_batches)  # the ensemble trains whole epochs
    seeds = s.seeds
    assert (seeds.ensemble is not None) == ensemble and seeds.step == s.training.step_count
    own = s.training.model.params
    first = seeds.ensemble.model_params(0) if ensemble else seeds.loop[0].model.params
    for k in own:  # the same seed, data order and arithmetic (the Ensemble is exact, model by model)
        assert np.array_equal(first[k], own[k]), k
    losses = seeds.losses()
    assert losses.shape == (seeds.K, 2)
    assert losses[0] == pytest.approx(s.training.losses(), rel=1e-12)
    assert len(set(np.round(losses[:, 0], 12))) == seeds.K  # other seeds, other runs


def test_seeds_restart_after_a_live_change_and_catch_up():
    s = Session({"seeds": 2})
    s.train(100)
    s.apply_settings({"optimizer": {"name": "sgd", "learning_rate": 0.1}})
    assert s.seeds.step == 0
    s.train(50)
    per_epoch = s.training.batcher.n_batches
    assert s.seeds.step == (s.training.step_count // per_epoch) * per_epoch  # whole epochs, up to the session
