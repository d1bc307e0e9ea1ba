"""Golden numbers: one or two steps of every optimizer and option, worked out by hand from the update rule.

Unless a case says otherwise: w = [1, −2], g = [0.5, 0.1] at every step, learning rate 0.1.
"""

import math

import numpy as np
import pytest

import chainrule.optim as optim

W = [1.0, -2.0]
G = [0.5, 0.1]
s1, s19 = math.sqrt(0.1), math.sqrt(0.19)

# (id, optimizer name, kwargs, gradients of successive steps, w after them, starting w)
CASES = [
    # w − η g
    ("sgd", "sgd", {}, [G], [0.95, -2.01], W),
    # g + λw = [0.6, −0.1]
    ("sgd-weight-decay", "sgd", {"weight_decay": 0.1}, [G], [0.94, -1.99], W),
    # g + l1·sign(w) = [0.6, 0.0, 0.2]: sign(0) = 0, so a zero weight feels no L1 pull
    ("sgd-l1", "sgd", {"l1": 0.1}, [[0.5, 0.1, 0.2]], [0.94, -2.0, -0.02], [1.0, -2.0, 0.0]),
    # g + 0.1w + 0.1 sign(w) = [0.7, −0.2]
    ("sgd-l2-and-l1", "sgd", {"weight_decay": 0.1, "l1": 0.1}, [G], [0.93, -1.98], W),
    # b₁ = g, w₁ = [0.95, −2.01]; b₂ = 0.9 g + g = [0.95, 0.19], w₂ = w₁ − 0.1 b₂
    ("momentum", "sgd", {"momentum": 0.9}, [G, G], [0.855, -2.029], W),
    ("momentum-by-name", "momentum", {}, [G, G], [0.855, -2.029], W),
    # b₂ = 0.9 g + (1 − 0.5) g = [0.7, 0.14]
    ("momentum-dampening", "sgd", {"momentum": 0.9, "dampening": 0.5}, [G, G], [0.88, -2.024], W),
    # step 1: b = g, w −= 0.1 (g + 0.9 g) = 0.1·[0.95, 0.19]; step 2: b = 1.9 g, w −= 0.1 (g + 1.71 g)
    ("nesterov", "nesterov", {}, [G, G], [0.7695, -2.0461], W),
    # s = 2g², w −= 0.1 g / (√2 |g|) after the first step's 0.1·sign(g)
    ("adagrad", "adagrad", {"eps": 0.0}, [G, G], [0.9 - 0.1 / math.sqrt(2), -2.1 - 0.1 / math.sqrt(2)], W),
    # √s + ε = [0.5 + 0.5, 0.1 + 0.5]
    ("adagrad-eps", "adagrad", {"eps": 0.5}, [G], [0.95, -2.0 - 0.01 / 0.6], W),
    # s = g² + 0.75 = [1.0, 0.76]
    ("adagrad-initial", "adagrad", {"eps": 0.0, "initial_accumulator_value": 0.75}, [G],
     [0.95, -2.0 - 0.01 / math.sqrt(0.76)], W),
    # v = 0.1 g², so g/√v = 1/√0.1 and w −= 0.1/√0.1 = √0.1
    ("rmsprop", "rmsprop", {"alpha": 0.9, "eps": 0.0}, [G], [1 - s1, -2 - s1], W),
    # α = 0: v = g², √v + ε = [1.0, 0.6]
    ("rmsprop-eps", "rmsprop", {"alpha": 0.0, "eps": 0.5}, [G], [0.95, -2.0 - 0.01 / 0.6], W),
    # ḡ = 0.1 g, v − ḡ² = 0.09 g², so w −= 0.1 g / (0.3 |g|) = 1/3
    ("rmsprop-centered", "rmsprop", {"alpha": 0.9, "eps": 0.0, "centered": True}, [G], [2 / 3, -7 / 3], W),
    # step 1: b = 1/√0.1; step 2: v = 0.19 g², b = 0.5/√0.1 + 1/√0.19
    ("rmsprop-momentum", "rmsprop", {"alpha": 0.9, "eps": 0.0, "momentum": 0.5}, [G, G],
     [1 - s1 - 0.1 * (0.5 / s1 + 1 / s19), -2 - s1 - 0.1 * (0.5 / s1 + 1 / s19)], W),
    # first step: m̂ = g, v̂ = g², so w −= η sign(g)
    ("adam", "adam", {"eps": 0.0}, [G], [0.9, -2.1], W),
    # √v̂ + ε = [1.0, 0.6]
    ("adam-eps", "adam", {"eps": 0.5}, [G], [0.95, -2.0 - 0.01 / 0.6], W),
    # β = (0.5, 0.75), g₂ = [0.25, 0.3]: m₂ = 0.5·[0.25, 0.05] + 0.5 g₂ = [0.25, 0.175], 1 − β₁² = 0.75;
    # v₂ = 0.75·[0.0625, 0.0025] + 0.25 g₂² = [0.0625, 0.024375], 1 − β₂² = 0.4375
    ("adam-bias-correction", "adam", {"eps": 0.0, "betas": (0.5, 0.75)}, [G, [0.25, 0.3]],
     list(np.array([0.9, -2.1]) - 0.1 * (np.array([0.25, 0.175]) / 0.75)
          / np.sqrt(np.array([0.0625, 0.024375]) / 0.4375)), W),
    # g₂ = 0: m₂ = [0.125, 0.025], v₂ = 0.75 v₁ < v₁ = [0.0625, 0.0025], so AMSGrad divides by √(v₁/0.4375)
    ("amsgrad", "adam", {"eps": 0.0, "betas": (0.5, 0.75), "amsgrad": True}, [G, [0.0, 0.0]],
     list(np.array([0.9, -2.1]) - 0.1 * (np.array([0.125, 0.025]) / 0.75)
          / np.sqrt(np.array([0.0625, 0.0025]) / 0.4375)), W),
    ("adam-not-amsgrad", "adam", {"eps": 0.0, "betas": (0.5, 0.75)}, [G, [0.0, 0.0]],
     list(np.array([0.9, -2.1]) - 0.1 * (np.array([0.125, 0.025]) / 0.75)
          / np.sqrt(np.array([0.046875, 0.001875]) / 0.4375)), W),
    # coupled: g + 0.5 w = [1.0, −0.9], so w −= 0.1·sign = [0.1, −0.1]
    ("adam-weight-decay", "adam", {"eps": 0.0, "weight_decay": 0.5}, [G], [0.9, -1.9], W),
    # decoupled: w·(1 − 0.1·0.5) = [0.95, −1.9], then −0.1·sign(g)
    ("adamw", "adamw", {"eps": 0.0, "weight_decay": 0.5}, [G], [0.85, -2.0], W),
    ("adamw-no-decay", "adamw", {"eps": 0.0, "weight_decay": 0.0}, [G], [0.9, -2.1], W),
    # g + 0.2 sign(w) = [0.7, −0.1]
    ("adam-l1", "adam", {"eps": 0.0, "l1": 0.2}, [G], [0.9, -1.9], W),
    # the global norm of [3, 4] is 5: g → [0.6, 0.8]
    ("clip-norm", "sgd", {"clip_norm": 1.0}, [[3.0, 4.0]], [0.94, -2.08], W),
    # norm first ([0.6, 0.8]), then each element to ±0.7
    ("clip-norm-then-value", "sgd", {"clip_norm": 1.0, "clip_value": 0.7}, [[3.0, 4.0]], [0.94, -2.07], W),
    ("clip-value", "sgd", {"clip_value": 0.5}, [[3.0, -0.2]], [0.95, -1.98], W),
    # clipping sees the raw gradient: [3, 4] → [0.6, 0.8], then + 0.1 w = [0.7, 0.6]
    ("clip-before-penalty", "sgd", {"clip_norm": 1.0, "weight_decay": 0.1}, [[3.0, 4.0]], [0.93, -2.06], W),
    # a norm below clip_norm is left alone
    ("clip-norm-inactive", "sgd", {"clip_norm": 10.0}, [[3.0, 4.0]], [0.7, -2.4], W),
]


@pytest.mark.parametrize(("name", "kwargs", "grads", "expected", "w0"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_golden_steps(name, kwargs, grads, expected, w0):
    params = {"w": np.array(w0)}
    opt = optim.get(name, params, **{"learning_rate": 0.1, **kwargs})
    for g in grads:
        opt.step({"w": np.array(g, dtype=np.float64)})
    # The expected values are decimal numbers of order 1 and the code rounds a handful of float64
    # operations, so they differ by a few ulp (~1e-16); a wrong rule is off by more than 1e-3.
    np.testing.assert_allclose(params["w"], expected, rtol=0, atol=1e-14)
    assert opt.step_count == len(grads)


def test_global_norm_spans_all_parameters():
    # ‖([3], [4])‖ = 5 > 2.5: both are halved, though each alone is within the bound.
    params = {"a": np.zeros(1), "b": np.zeros(1)}
    optim.SGD(params, learning_rate=1.0, clip_norm=2.5).step({"a": np.array([3.0]), "b": np.array([4.0])})
    np.testing.assert_allclose([params["a"][0], params["b"][0]], [-1.5, -2.0], rtol=0, atol=1e-15)


def test_schedule_sets_the_rate_of_each_step():
    # lr = 0.1, 0.05, 0.025 for steps 0, 1, 2 with g = 1: w = 1 − 0.175
    params = {"w": np.array([1.0])}
    opt = optim.SGD(params, learning_rate=optim.StepDecay(0.1, step_size=1, gamma=0.5))
    assert opt.learning_rate_now == 0.1
    for _ in range(3):
        opt.step({"w": np.array([1.0])})
    np.testing.assert_allclose(params["w"], [0.825], rtol=0, atol=1e-15)
    assert opt.learning_rate_now == 0.0125


def test_lbfgs_one_dimension_fixed_steps():
    # f = x², x₀ = 2: g₀ = 4, t = min(1, 1/‖g‖₁) = 0.25, x₁ = 1. Then s = −1, y = g₁ − g₀ = −2, and the
    # two-loop gives H g₁ = (s/y) g₁ = 0.5 · 2 = 1 (the secant is exact on a quadratic): x₂ = 0.
    params = {"x": np.array([2.0])}
    opt = optim.LBFGS(params, learning_rate=1.0, line_search=None)
    opt.step({"x": 2 * params["x"]})
    np.testing.assert_allclose(params["x"], [1.0], rtol=0, atol=1e-15)
    opt.step({"x": 2 * params["x"]})
    np.testing.assert_allclose(params["x"], [0.0], rtol=0, atol=1e-15)


def test_lbfgs_two_dimensions_matches_the_bfgs_matrix():
    # f = ½ xᵀ A x, A = diag(1, 4), x₀ = [1, 1]: g₀ = [1, 4], ‖g₀‖₁ = 5, t = 0.2, x₁ = [0.8, 0.2].
    # With one pair (s, y) the two-loop recursion equals the BFGS inverse update of H₀ = γI,
    # H = (I − ρ s yᵀ) H₀ (I − ρ y sᵀ) + ρ s sᵀ, ρ = 1/yᵀs, γ = sᵀy / yᵀy (Nocedal & Wright eq. 7.19):
    # written out here as matrices, independently of the recursion in the code.
    A = np.diag([1.0, 4.0])
    params = {"x": np.array([1.0, 1.0])}
    opt = optim.LBFGS(params, learning_rate=1.0, line_search=None)
    opt.step({"x": A @ params["x"]})
    np.testing.assert_allclose(params["x"], [0.8, 0.2], rtol=0, atol=1e-15)
    s, y = np.array([-0.2, -0.8]), np.array([-0.2, -3.2])  # y = A s
    rho, gamma = 1 / 2.6, 2.6 / 10.28
    H = (np.eye(2) - rho * np.outer(s, y)) @ (gamma * np.eye(2)) @ (np.eye(2) - rho * np.outer(y, s)) \
        + rho * np.outer(s, s)
    g1 = np.array([0.8, 0.8])
    opt.step({"x": A @ params["x"]})
    np.testing.assert_allclose(params["x"], np.array([0.8, 0.2]) - H @ g1, rtol=0, atol=1e-14)
