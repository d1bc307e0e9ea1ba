"""Synthetic datasets: small, seeded problems whose answer you can see in a plot.

Every generator draws from ``np.random.default_rng(seed)`` and returns ``(X, y)`` with X float64
of shape (n, d). Classification labels are int64 of shape (n,); regression targets are float64
of shape (n, 1). Rows come in random order (except ``xor``), so slicing off the first rows does
not select one class.
"""

from __future__ import annotations

import math

import numpy as np

from chainrule.errors import ConfigError

from ..errors import did_you_mean

# A generated X holds at most this many numbers (1 GB of float64): a count typed with extra
# zeros is an error, not an attempt to allocate hundreds of gigabytes.
MAX_VALUES = 1 << 27


def _check_count(value, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ConfigError(f"{name} must be an integer >= {minimum}; got {value!r}")
    if value > MAX_VALUES:
        raise ConfigError(f"{name} must be at most {MAX_VALUES}; got {value!r}")
    return int(value)


def _check_size(n: int, d: int, what: str) -> None:
    if n * d > MAX_VALUES:
        raise ConfigError(f"{what} would make a dataset of {n} samples × {d} features, more than the "
                          f"{MAX_VALUES} values allowed")


def _finite(value) -> bool:
    """A real number (not a bool) that is finite as a float: 10**400 is not."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


def _check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ConfigError(f"seed must be an integer >= 0; got {seed!r}")
    return int(seed)


def _check_nonnegative(value, name: str) -> float:
    if not (_finite(value) and value >= 0):
        raise ConfigError(f"{name} must be a finite number >= 0; got {value!r}")
    return float(value)


def _short(value, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _shuffled(rng: np.random.Generator, X: np.ndarray, y: np.ndarray):
    order = rng.permutation(len(X))
    return X[order], y[order]


def xor() -> tuple[np.ndarray, np.ndarray]:
    """The four XOR points: X (4, 2) in {0, 1}², y (4,) = x0 XOR x1."""
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([0, 1, 1, 0], dtype=np.int64)
    return X, y


def make_moons(n: int = 200, noise: float = 0.1, seed: int = 0):
    """Two interleaving half circles (as sklearn's ``make_moons``): X (n, 2), y (n,) in {0, 1}.

    Class 0 is the upper arc (cos t, sin t), class 1 the lower arc (1 − cos t, ½ − sin t),
    t ∈ [0, π]; ``noise`` is the standard deviation of Gaussian noise added to each coordinate.
    """
    n = _check_count(n, "n", minimum=2)
    _check_size(n, 2, f"n={n}")
    noise = _check_nonnegative(noise, "noise")
    rng = np.random.default_rng(_check_seed(seed))
    n_upper = n // 2
    n_lower = n - n_upper
    t_upper = np.linspace(0.0, np.pi, n_upper)
    t_lower = np.linspace(0.0, np.pi, n_lower)
    X = np.concatenate([
        np.column_stack([np.cos(t_upper), np.sin(t_upper)]),
        np.column_stack([1.0 - np.cos(t_lower), 0.5 - np.sin(t_lower)]),
    ])
    y = np.concatenate([np.zeros(n_upper, np.int64), np.ones(n_lower, np.int64)])
    X = X + noise * rng.standard_normal(X.shape)
    return _shuffled(rng, X, y)


def make_circles(n: int = 200, noise: float = 0.05, factor: float = 0.5, seed: int = 0):
    """Two concentric circles: X (n, 2), y (n,); class 0 on radius 1, class 1 on radius ``factor``.

    ``noise`` is the standard deviation of Gaussian noise added to each coordinate.
    """
    n = _check_count(n, "n", minimum=2)
    _check_size(n, 2, f"n={n}")
    noise = _check_nonnegative(noise, "noise")
    if isinstance(factor, bool) or not (isinstance(factor, int | float | np.number) and 0 < factor < 1):
        raise ConfigError(f"factor (inner radius / outer radius) must be in (0, 1); got {factor!r}")
    rng = np.random.default_rng(_check_seed(seed))
    n_outer = n // 2
    n_inner = n - n_outer
    # endpoint=False: 0 and 2π are the same point, which would appear twice.
    t_outer = np.linspace(0.0, 2 * np.pi, n_outer, endpoint=False)
    t_inner = np.linspace(0.0, 2 * np.pi, n_inner, endpoint=False)
    X = np.concatenate([
        np.column_stack([np.cos(t_outer), np.sin(t_outer)]),
        factor * np.column_stack([np.cos(t_inner), np.sin(t_inner)]),
    ])
    y = np.concatenate([np.zeros(n_outer, np.int64), np.ones(n_inner, np.int64)])
    X = X + noise * rng.standard_normal(X.shape)
    return _shuffled(rng, X, y)


def make_blobs(n: int = 200, centers=3, std: float = 1.0, dim: int = 2, seed: int = 0):
    """Isotropic Gaussian clusters: X (n, dim), y (n,) in [0, k).

    ``centers`` is a count k (centers drawn uniformly from the box [-10, 10]^dim, as sklearn
    does) or an array (k, dim) of centers. Class sizes differ by at most one.
    """
    n = _check_count(n, "n")
    std = _check_nonnegative(std, "std")
    rng = np.random.default_rng(_check_seed(seed))
    if isinstance(centers, int | np.integer) and not isinstance(centers, bool):
        k = _check_count(centers, "centers")
        dim = _check_count(dim, "dim")
        _check_size(max(n, k), dim, f"n={n}, centers={k}, dim={dim}")
        means = rng.uniform(-10.0, 10.0, size=(k, dim))
    else:
        try:
            means = np.asarray(centers, dtype=np.float64)
        except (TypeError, ValueError):
            raise ConfigError(f"centers must be a count or an array (k, dim) of numbers; got {_short(centers)}") \
                from None
        if means.ndim != 2 or means.size == 0 or not np.all(np.isfinite(means)):
            raise ConfigError(f"centers must be a count or a non-empty array (k, dim) of finite numbers; got "
                              f"{_short(centers)}")
        k, dim = means.shape
        _check_size(max(n, k), dim, f"n={n}, centers of shape {means.shape}")
    sizes = np.full(k, n // k)
    sizes[: n % k] += 1
    y = np.repeat(np.arange(k, dtype=np.int64), sizes)
    X = means[y] + std * rng.standard_normal((n, dim))
    return _shuffled(rng, X, y)


def make_spiral(n_per_class: int = 100, n_classes: int = 3, noise: float = 0.2,
                turns: float = 2 / np.pi, seed: int = 0):
    """Interleaved spiral arms, the CS231n classification toy: X (n_per_class·K, 2), y in [0, K).

    Arm k has radius r evenly spaced in [0, 1] and angle
    θ = 2πk/K + 2π·turns·r + noise·ε, ε ~ N(0, 1); the point is (r cos θ, r sin θ).
    The default ``turns = 2/π`` makes each arm sweep 4 radians, as in the CS231n notes. The
    noise is on the angle (in radians), so every point keeps |x| = r ≤ 1.
    """
    n_per_class = _check_count(n_per_class, "n_per_class")
    n_classes = _check_count(n_classes, "n_classes")
    _check_size(n_per_class * n_classes, 2, f"n_per_class={n_per_class}, n_classes={n_classes}")
    noise = _check_nonnegative(noise, "noise")
    if not _finite(turns):
        raise ConfigError(f"turns must be a finite number; got {turns!r}")
    rng = np.random.default_rng(_check_seed(seed))
    r = np.tile(np.linspace(0.0, 1.0, n_per_class), n_classes)
    y = np.repeat(np.arange(n_classes, dtype=np.int64), n_per_class)
    theta = 2 * np.pi * y / n_classes + 2 * np.pi * turns * r + noise * rng.standard_normal(r.shape)
    X = np.column_stack([r * np.cos(theta), r * np.sin(theta)])
    return _shuffled(rng, X, y)


def _unit(x: np.ndarray, low: float, high: float) -> np.ndarray:
    """Map [low, high] onto [-1, 1], so each target's shape does not depend on x_range."""
    return 2 * (x - low) / (high - low) - 1


REGRESSION_TARGETS = {
    "sin": lambda x, low, high: np.sin(x),
    "abs": lambda x, low, high: np.abs(x),
    # Heaviside step with H(0) = 1.
    "step": lambda x, low, high: (x >= 0).astype(np.float64),
    # Three teeth across the range, each rising linearly from -1 to 1.
    "sawtooth": lambda x, low, high: 2 * np.mod(1.5 * (_unit(x, low, high) + 1), 1.0) - 1,
    # A Gaussian bump centred in the range with standard deviation 1/10 of its width.
    "gaussian_bump": lambda x, low, high: np.exp(-0.5 * (_unit(x, low, high) / 0.2) ** 2),
    # Chebyshev T3(u) = 4u³ − 3u on the range rescaled to u ∈ [-1, 1]: two turns, values in [-1, 1].
    "polynomial": lambda x, low, high: 4 * _unit(x, low, high) ** 3 - 3 * _unit(x, low, high),
}


def make_regression_1d(target: str = "sin", n: int = 200, noise: float = 0.0, seed: int = 0,
                       x_range: tuple[float, float] = (-np.pi, np.pi)):
    """A 1-D function to fit: X (n, 1) sorted ascending, uniform in ``x_range``; y (n, 1) float64.

    ``target`` is one of ``REGRESSION_TARGETS``: 'sin', 'abs', 'step' (0 for x < 0, 1 for
    x ≥ 0), 'sawtooth' (three teeth across the range), 'gaussian_bump' and 'polynomial' (a cubic
    with two turns). ``noise`` is the standard deviation of Gaussian noise added to y.
    """
    if not isinstance(target, str) or target not in REGRESSION_TARGETS:
        hint = did_you_mean(target, REGRESSION_TARGETS)
        raise ConfigError(f"unknown regression target {target!r}{hint}; valid targets: "
                          f"{', '.join(REGRESSION_TARGETS)}")
    n = _check_count(n, "n")
    noise = _check_nonnegative(noise, "noise")
    try:
        low, high = (float(v) for v in x_range)
    except (TypeError, ValueError, OverflowError):
        raise ConfigError(f"x_range must be a pair (low, high) of numbers; got {_short(x_range)}") from None
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise ConfigError(f"x_range must satisfy low < high with finite ends; got {_short(x_range)}")
    if not np.isfinite(high - low):  # the width is what the uniform draw and the targets divide by
        raise ConfigError(f"x_range = {_short(x_range)} is wider than the largest float (high - low overflows); "
                          "choose a narrower range")
    rng = np.random.default_rng(_check_seed(seed))
    x = np.sort(rng.uniform(low, high, size=n))
    y = REGRESSION_TARGETS[target](x, low, high) + noise * rng.standard_normal(n)
    return x.reshape(-1, 1), y.reshape(-1, 1)
