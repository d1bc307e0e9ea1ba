"""Preparing arrays for training: standardization, a train/validation split, one-hot targets."""

from __future__ import annotations

import numpy as np

from chainrule.errors import ConfigError, DataError

from .validation import _first_nonfinite, check_labels, check_X


class Standardizer:
    """Per-column standardization x' = (x − mean) / scale, scale being the standard deviation.

    Columns whose variance is zero up to rounding get scale 1, so they map to 0 instead of
    dividing by ~0. ``mean_`` and ``scale_`` are float64 (d,); ``state_dict()`` holds them as
    arrays (ready for safetensors).
    """

    def __init__(self):
        self.mean_: np.ndarray | None = None
        self.scale_: np.ndarray | None = None

    def fit(self, X) -> Standardizer:
        """Learn mean and scale from X: (n, d).

        A column whose sum or variance overflows float64 (values near 1e154 and beyond) is
        rescaled by its largest |x| first, so its mean and scale are still its own, not a
        silent scale of 1."""
        X = check_X(X).astype(np.float64, copy=False)
        with np.errstate(over="ignore", invalid="ignore"):
            mean, var = X.mean(axis=0), X.var(axis=0)
            std = np.sqrt(var)
            constant = _constant(X.shape[0], mean, var)
        huge = ~(np.isfinite(mean) & np.isfinite(var))
        if huge.any():
            largest = np.max(np.abs(X[:, huge]), axis=0)
            scaled = X[:, huge] / largest  # in [-1, 1]: no overflow
            m, v = scaled.mean(axis=0), scaled.var(axis=0)
            mean[huge], std[huge] = m * largest, np.sqrt(v) * largest
            constant[huge] = _constant(X.shape[0], m, v)
        self.mean_ = mean
        self.scale_ = np.where(constant, 1.0, std)
        return self

    def _checked(self, X, name: str) -> np.ndarray:
        if self.mean_ is None:
            raise DataError(f"Standardizer is not fitted; call fit(X) before {name}")
        X = check_X(X)
        if X.shape[1] != self.mean_.shape[0]:
            raise DataError(f"X has {X.shape[1]} features but the Standardizer was fitted on {self.mean_.shape[0]}")
        return X

    def transform(self, X) -> np.ndarray:
        """X: (n, d) -> (n, d) standardized, in X's floating dtype.

        A value so far from the fitted data that its standardized value overflows is a
        DataError naming its row and column (never an inf handed on)."""
        X = self._checked(X, "transform")
        with np.errstate(over="ignore", invalid="ignore"):
            Z = (X - self.mean_) / self.scale_
            bad = ~np.isfinite(Z)
            if bad.any():  # x − mean overflowed: the same value as x/scale − mean/scale
                columns = np.flatnonzero(bad.any(axis=0))
                Z[:, columns] = X[:, columns] / self.scale_[columns] - self.mean_[columns] / self.scale_[columns]
        Z = Z.astype(X.dtype, copy=False)
        where = _first_nonfinite(Z)
        if where is not None:
            row, col = where
            raise DataError(f"X[{row}, {col}] = {X[row, col]:.6g} is too far from the data the Standardizer was "
                            f"fitted on (mean {self.mean_[col]:.3g}, scale {self.scale_[col]:.3g}): standardized, "
                            f"it overflows {Z.dtype}")
        return Z

    def fit_transform(self, X) -> np.ndarray:
        return self.fit(X).transform(X)

    def inverse_transform(self, X) -> np.ndarray:
        """Undo ``transform``: (n, d) -> (n, d) in the original units."""
        X = self._checked(X, "inverse_transform")
        return (X * self.scale_ + self.mean_).astype(X.dtype, copy=False)

    def state_dict(self) -> dict[str, np.ndarray]:
        if self.mean_ is None:
            raise DataError("Standardizer is not fitted; there is no state to save")
        return {"mean": self.mean_.copy(), "scale": self.scale_.copy()}

    def load_state_dict(self, state: dict) -> None:
        try:
            mean = np.asarray(state["mean"], dtype=np.float64)
            scale = np.asarray(state["scale"], dtype=np.float64)
        except KeyError as exc:
            raise DataError(f"Standardizer state is missing {exc.args[0]!r}; expected 'mean' and 'scale'") from None
        if mean.ndim != 1 or mean.shape != scale.shape:
            raise DataError(f"Standardizer state must hold 1-D 'mean' and 'scale' of equal length; got shapes "
                            f"{mean.shape} and {scale.shape}")
        if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(scale)) and np.all(scale > 0)):
            raise DataError("Standardizer state must hold finite 'mean' and finite positive 'scale'")
        self.mean_, self.scale_ = mean.copy(), scale.copy()


def _constant(n, mean, var):
    """Columns whose computed variance is rounding error, bounded as in sklearn's
    _is_constant_feature: var <= n·eps·var + (n·eps·mean)²."""
    eps = np.finfo(np.float64).eps
    return var <= n * eps * var + (n * eps * mean) ** 2


def _is_class_labels(y: np.ndarray) -> bool:
    return y.ndim == 1 and y.dtype.kind in "biuUS"


def _stratified_val_indices(y: np.ndarray, n_val: int, rng: np.random.Generator) -> np.ndarray:
    _, label_index = np.unique(y, return_inverse=True)
    counts = np.bincount(label_index)
    n = len(y)
    # Largest-remainder allocation in exact integer arithmetic: class k gets floor(n_val·c_k/n)
    # validation samples, and the leftover samples go to the largest fractional parts (ties at random).
    take = n_val * counts // n
    leftover = n_val - int(take.sum())
    order = np.lexsort((rng.random(len(counts)), -(n_val * counts % n)))
    take[order[:leftover]] += 1
    members = [rng.permutation(np.flatnonzero(label_index == k))[:take[k]] for k in range(len(counts))]
    return np.concatenate(members)


def train_val_split(X, y, val_fraction: float = 0.2, seed: int = 0, stratify: bool = True):
    """Split into ``X_train, X_val, y_train, y_val`` (scikit-learn's order), both parts shuffled.

    The validation part has round(val_fraction · n) samples (at least 1, at most n − 1).
    ``stratify``: when y holds class labels (1-D integers or strings) each class keeps its
    proportion up to one sample; float targets are split at random regardless.
    """
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim == 0 or y.ndim == 0 or len(X) != len(y):
        found = [("a scalar" if a.ndim == 0 else str(len(a))) for a in (X, y)]
        raise DataError(f"X and y must have the same number of samples: X has {found[0]}, y has {found[1]}")
    if not (isinstance(val_fraction, int | float | np.floating) and 0 < val_fraction < 1):
        raise ConfigError(f"val_fraction must be a number in (0, 1); got {val_fraction!r}")
    n = len(X)
    if n < 2:
        raise DataError(f"cannot split {n} sample(s) into training and validation parts; need at least 2")
    n_val = min(max(round(val_fraction * n), 1), n - 1)
    rng = np.random.default_rng(seed)
    if stratify and _is_class_labels(y):
        val = _stratified_val_indices(y, n_val, rng)
    else:
        val = rng.permutation(n)[:n_val]
    in_val = np.zeros(n, dtype=bool)
    in_val[val] = True
    train = rng.permutation(np.flatnonzero(~in_val))
    val = rng.permutation(np.flatnonzero(in_val))
    return X[train], X[val], y[train], y[val]


def one_hot(y, n_classes: int, dtype=np.float64) -> np.ndarray:
    """Class labels y: (n,) integers in [0, n_classes) -> (n, n_classes) rows of the identity."""
    if n_classes is None:
        raise ConfigError("one_hot needs n_classes (the model's output width); got None")
    y = check_labels(y, n_classes)
    encoded = np.zeros((len(y), n_classes), dtype=dtype)
    encoded[np.arange(len(y)), y] = 1
    return encoded
