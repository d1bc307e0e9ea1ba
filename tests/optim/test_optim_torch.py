"""Twenty steps of each optimizer against torch.optim in float64, on a least-squares problem.

Both sides start from the same weights and compute their own gradients at their own iterates
(numpy by hand, torch by autograd), so a wrong rule drifts apart at once.
"""

import numpy as np
import pytest

import chainrule.optim as optim

torch = pytest.importorskip("torch")

rng = np.random.default_rng(0)
X = rng.standard_normal((8, 2))
Y = rng.standard_normal((8, 3))
W0 = rng.standard_normal((3, 2))
B0 = rng.standard_normal(3)


def numpy_grads(params):
    """f = ½ ‖X Wᵀ + b − Y‖²: ∂f/∂W = Rᵀ X, ∂f/∂b = Σ R, with R = X Wᵀ + b − Y."""
    r = X @ params["0.weight"].T + params["0.bias"] - Y
    return {"0.weight": r.T @ X, "0.bias": r.sum(axis=0)}


# (chainrule name, chainrule kwargs, torch class, torch kwargs)
CASES = [
    ("sgd", {"learning_rate": 0.01}, "SGD", {"lr": 0.01}),
    ("sgd", {"learning_rate": 0.01, "weight_decay": 0.1}, "SGD", {"lr": 0.01, "weight_decay": 0.1}),
    ("momentum", {"learning_rate": 0.01}, "SGD", {"lr": 0.01, "momentum": 0.9}),
    ("sgd", {"learning_rate": 0.01, "momentum": 0.8, "dampening": 0.3},
     "SGD", {"lr": 0.01, "momentum": 0.8, "dampening": 0.3}),
    ("nesterov", {"learning_rate": 0.01}, "SGD", {"lr": 0.01, "momentum": 0.9, "nesterov": True}),
    ("nesterov", {"learning_rate": 0.01, "weight_decay": 0.05},
     "SGD", {"lr": 0.01, "momentum": 0.9, "nesterov": True, "weight_decay": 0.05}),
    ("adagrad", {"learning_rate": 0.1}, "Adagrad", {"lr": 0.1}),
    ("adagrad", {"learning_rate": 0.1, "initial_accumulator_value": 0.5, "weight_decay": 0.1},
     "Adagrad", {"lr": 0.1, "initial_accumulator_value": 0.5, "weight_decay": 0.1}),
    ("rmsprop", {"learning_rate": 0.01}, "RMSprop", {"lr": 0.01}),
    ("rmsprop", {"learning_rate": 0.01, "centered": True}, "RMSprop", {"lr": 0.01, "centered": True}),
    ("rmsprop", {"learning_rate": 0.01, "momentum": 0.5, "alpha": 0.9},
     "RMSprop", {"lr": 0.01, "momentum": 0.5, "alpha": 0.9}),
    ("rmsprop", {"learning_rate": 0.01, "momentum": 0.5, "centered": True, "weight_decay": 0.1},
     "RMSprop", {"lr": 0.01, "momentum": 0.5, "centered": True, "weight_decay": 0.1}),
    ("adam", {"learning_rate": 0.05}, "Adam", {"lr": 0.05}),
    ("adam", {"learning_rate": 0.05, "betas": (0.8, 0.9), "amsgrad": True},
     "Adam", {"lr": 0.05, "betas": (0.8, 0.9), "amsgrad": True}),
    ("adam", {"learning_rate": 0.05, "weight_decay": 0.1}, "Adam", {"lr": 0.05, "weight_decay": 0.1}),
    ("adamw", {"learning_rate": 0.05, "weight_decay": 0.1}, "AdamW", {"lr": 0.05, "weight_decay": 0.1}),
    ("adamw", {"learning_rate": 0.05, "betas": (0.8, 0.9), "weight_decay": 0.1, "amsgrad": True},
     "AdamW", {"lr": 0.05, "betas": (0.8, 0.9), "weight_decay": 0.1, "amsgrad": True}),
]


@pytest.mark.parametrize(("name", "kwargs", "torch_name", "torch_kwargs"), CASES,
                         ids=[f"{c[0]}-{'-'.join(c[1])}" for c in CASES])
def test_twenty_steps_agree_with_torch(name, kwargs, torch_name, torch_kwargs):
    params = {"0.weight": W0.copy(), "0.bias": B0.copy()}
    opt = optim.get(name, params, **kwargs)
    tw = torch.tensor(W0, requires_grad=True)
    tb = torch.tensor(B0, requires_grad=True)
    topt = getattr(torch.optim, torch_name)([tw, tb], foreach=False, **torch_kwargs)
    tX, tY = torch.tensor(X), torch.tensor(Y)
    start = params["0.weight"].copy()
    for _ in range(20):
        opt.step(numpy_grads(params))
        topt.zero_grad()
        (0.5 * ((tX @ tw.T + tb - tY) ** 2).sum()).backward()
        topt.step()
    # Same float64 rule, different order of rounding (and autograd's own gradient): after 20 steps of
    # values of order 1 the two agree to ~1e-15; 1e-12 leaves room, while any wrong coefficient
    # (a missing bias correction, ε in the wrong place) moves the weights by more than 1e-4.
    np.testing.assert_allclose(params["0.weight"], tw.detach().numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(params["0.bias"], tb.detach().numpy(), rtol=0, atol=1e-12)
    assert np.abs(params["0.weight"] - start).max() > 1e-3  # the optimizer did move
