"""The playground's 2-D datasets, on the TensorFlow Playground's scale (points within about ±6).

Each generator takes (n, noise, seed) with noise a fraction in [0, 0.5] and returns X (n, 2)
float64 and y: int64 classes (n,) or float64 values (n, 1). chainrule's own generators are
reused where they fit (circles, spirals, blobs, scaled up); XOR over a square and the two
regression surfaces are the playground's own.
"""

from __future__ import annotations

import numpy as np

from ..data import datasets as base


def circle(n, noise, seed):
    """A ring of class 0 (radius 4) around a ring of class 1 (radius 2); noise: σ = 2.5·noise."""
    X, y = base.make_circles(n, noise=0.0, factor=0.5, seed=seed)
    rng = np.random.default_rng([seed, 1])
    return 4.0 * X + 2.5 * noise * rng.standard_normal(X.shape), y


def xor(n, noise, seed):
    """Uniform on [−5, 5]² kept 0.3 off the axes; class 1 where x1·x2 > 0 (before the noise)."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-5.0, 5.0, size=(n, 2))
    X += np.where(X > 0, 0.3, -0.3)
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)
    return X + 5.0 * noise * rng.uniform(-1, 1, size=X.shape), y


def gaussian(n, noise, seed):
    """Two Gaussian clouds at (2, 2) (class 1) and (−2, −2) (class 0); σ from 0.7 to 2 with the noise."""
    X, y = base.make_blobs(n, centers=[[-2.0, -2.0], [2.0, 2.0]], std=0.7 + 2.6 * noise, seed=seed)
    return X, y


def spiral(n, noise, seed, arms=2):
    """``arms`` interleaved spiral arms of radius 5 (chainrule's make_spiral, scaled)."""
    per_arm = -(-n // arms)
    X, y = base.make_spiral(per_arm, n_classes=arms, noise=0.05 + 2 * noise, seed=seed)
    return 5.0 * X[:n], y[:n]


def spiral3(n, noise, seed):
    return spiral(n, noise, seed, arms=3)


def blobs(n, noise, seed):
    """Three Gaussian clusters (chainrule's make_blobs, centers in [−4, 4]²)."""
    X, y = base.make_blobs(n, centers=3, std=1.0 + 5 * noise, seed=seed)
    return 0.4 * X, y


def plane(n, noise, seed):
    """y = (x1 + x2) / 12 + noise on [−6, 6]²: a linear regression."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-6.0, 6.0, size=(n, 2))
    y = (X[:, 0] + X[:, 1]) / 12.0 + noise * rng.standard_normal(n)
    return X, y.reshape(-1, 1)


_BUMPS = np.array([[-4, 2.5, 1], [0, 2.5, -1], [4, 2.5, 1], [-4, -2.5, -1], [0, -2.5, 1], [4, -2.5, -1]], float)


def multigauss(n, noise, seed):
    """A sum of six Gaussian bumps of alternating sign (σ = 2) on [−6, 6]²: a nonlinear regression."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-6.0, 6.0, size=(n, 2))
    d2 = ((X[:, None, :] - _BUMPS[None, :, :2]) ** 2).sum(-1)
    y = (_BUMPS[:, 2] * np.exp(-d2 / (2 * 2.0 ** 2))).sum(1) + noise * rng.standard_normal(n)
    return X, y.reshape(-1, 1)


GENERATORS = {"circle": circle, "xor": xor, "gaussian": gaussian, "spiral": spiral, "spiral3": spiral3,
              "blobs": blobs, "plane": plane, "multigauss": multigauss}
BY_TASK = {"classification": ("circle", "xor", "gaussian", "spiral", "spiral3", "blobs"),
           "regression": ("plane", "multigauss")}


def generate(name, n, noise_percent, seed):
    """(X, y) of the named dataset with ``n`` points and noise given in percent (0–50)."""
    return GENERATORS[name](int(n), float(noise_percent) / 100.0, int(seed))


def features(X, names):
    """The input features the page toggles, computed from the points X (n, 2): (n, len(names))."""
    x1, x2 = X[:, 0], X[:, 1]
    table = {"x1": lambda: x1, "x2": lambda: x2, "x1sq": lambda: x1 * x1, "x2sq": lambda: x2 * x2,
             "x1x2": lambda: x1 * x2, "sinx1": lambda: np.sin(x1), "sinx2": lambda: np.sin(x2)}
    return np.column_stack([table[name]() for name in names])
