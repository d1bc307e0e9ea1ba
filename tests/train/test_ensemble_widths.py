"""A known gap in the ensemble's bit-for-bit claim, kept visible: with a layer of 16 inputs and 2
outputs the batched dense primitive (primitives/nn.py: NumPy's batched matmul on a contiguous copy
of Wᵀ) rounds the last bit differently from the single network's x @ W.T on the transposed view
(measured: the same matmul on the view, batched, gives the single network's bits for every size
tried). Strict xfail: it starts failing, loudly, the day the primitive is made bitwise."""

import numpy as np
import pytest

from chainrule import nn
from chainrule.data import make_moons
from chainrule.train import Trainer
from chainrule.train.ensemble import Ensemble


def both():
    X, y = make_moons(n=80, noise=0.2, seed=0)
    ens = Ensemble(lambda: nn.MLP([2, 16, 2]), [0, 1], learning_rate=0.1, batch_size=16, verbose=0)
    ens.fit(X, y, epochs=3)
    trainers = []
    for seed in (0, 1):
        t = Trainer(nn.MLP([2, 16, 2]), optimizer="sgd", learning_rate=0.1, batch_size=16, seed=seed, verbose=0)
        t.fit(X, y, epochs=3)
        trainers.append(t)
    return ens, trainers


@pytest.mark.xfail(strict=True, reason="batched dense on a contiguous Wᵀ copy: last-bit differences at d_in=16")
def test_ensemble_with_a_16_wide_hidden_layer_equals_separate_trainings_bitwise():
    ens, trainers = both()
    for k, t in enumerate(trainers):
        for name, value in t.model.params.items():
            assert value.tobytes() == ens.params[name][k].tobytes(), (k, name)


def test_the_gap_is_rounding_only():
    """15 SGD steps from the same start: products that differ in the last bit (~1e-16 relative)
    leave the parameters within 1e-12 relative of each other; a real difference (another data
    order, another gradient) moves them by 1e-3 or more."""
    ens, trainers = both()
    for k, t in enumerate(trainers):
        for name, value in t.model.params.items():
            assert np.allclose(ens.params[name][k], value, rtol=1e-12, atol=1e-14), (k, name)
