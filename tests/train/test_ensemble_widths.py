"""A seed ensemble is its separate trainings bit for bit at every width, float64 and float32.

The batched dense primitive once multiplied by a contiguous copy of Wᵀ, which NumPy's batched
matmul sends to another BLAS kernel than the single network's x @ W.T: at 16 inputs and 2
outputs the last bits differed. On the transposed view each model's product is the single
network's call (primitives/nn.py)."""

import numpy as np
import pytest

from chainrule import nn
from chainrule.data import make_moons
from chainrule.train import Trainer
from chainrule.train.ensemble import Ensemble


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("hidden", [[4], [16], [16, 16], [33, 7], [64, 64]])
def test_ensemble_equals_separate_trainings_bitwise(hidden, dtype):
    X, y = make_moons(n=80, noise=0.2, seed=0)
    sizes = [2, *hidden, 2]
    ens = Ensemble(lambda: nn.MLP(sizes), [0, 1, 2], optimizer="adam", learning_rate=0.01, batch_size=16,
                   dtype=dtype, verbose=0)
    ens.fit(X, y, epochs=3)
    for k, seed in enumerate((0, 1, 2)):
        t = Trainer(nn.MLP(sizes), optimizer="adam", learning_rate=0.01, batch_size=16, seed=seed, dtype=dtype,
                    verbose=0)
        t.fit(X, y, epochs=3)
        for name, value in t.model.params.items():
            assert value.dtype == ens.params[name].dtype == dtype
            assert value.tobytes() == ens.params[name][k].tobytes(), (k, name)
