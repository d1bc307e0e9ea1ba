"""Input validation for arrays handed to chainrule: shapes, dtypes, NaN/inf, label ranges.

Every check raises :class:`~chainrule.errors.DataError` with a one-line message saying what
was expected and what was found. Row and column numbers in these messages are 0-based array
indices (the CSV loader, which talks to spreadsheet users, counts rows from 1 instead).
"""

from __future__ import annotations

import numpy as np

from chainrule.errors import ConfigError, DataError

TASKS = ("classification", "regression")


def _as_numeric_array(values, name: str) -> np.ndarray:
    try:
        array = np.asarray(values)
    except (TypeError, ValueError) as exc:  # ragged nested lists
        raise DataError(f"{name} must be a rectangular numeric array; got {type(values).__name__} "
                        f"that NumPy cannot convert ({exc})") from None
    if array.dtype.kind not in "biufc":  # (timedelta64 is a NumPy integer type: refused here too)
        raise DataError(f"{name} must hold numbers; got an array of dtype {array.dtype}")
    if np.issubdtype(array.dtype, np.complexfloating):
        raise DataError(f"{name} must hold real numbers; got an array of dtype {array.dtype}")
    return array


def _first_nonfinite(array: np.ndarray) -> tuple[int, ...] | None:
    bad = ~np.isfinite(array)
    if not bad.any():
        return None
    return tuple(int(i) for i in np.argwhere(bad)[0])


def _describe(value) -> str:
    return "NaN" if np.isnan(value) else str(value)  # str(inf) is 'inf', str(-inf) is '-inf'


def check_X(X, name: str = "X") -> np.ndarray:
    """Validate a feature matrix and return it as a floating-point array.

    X: (n_samples, n_features), finite, non-empty. Floating dtypes are kept (float32 stays
    float32); integer and boolean arrays are converted to float64.
    """
    X = _as_numeric_array(X, name)
    if X.ndim != 2:
        hint = f"; for a single feature use {name}.reshape(-1, 1)" if X.ndim == 1 else ""
        raise DataError(f"{name} must be 2-D (n_samples, n_features); got {X.ndim}-D array of shape "
                        f"{X.shape}{hint}")
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise DataError(f"{name} is empty: expected at least 1 sample and 1 feature; got shape {X.shape}")
    if not np.issubdtype(X.dtype, np.floating):
        X = X.astype(np.float64)
    where = _first_nonfinite(X)
    if where is not None:
        row, col = where
        raise DataError(f"{name} contains {_describe(X[row, col])} at row {row}, column {col}; "
                        f"expected finite values")
    return X


def check_labels(y, n_classes: int | None = None) -> np.ndarray:
    """Validate class labels and return them as int64 (n,) in [0, n_classes).

    A (n, 1) column is flattened; floats are accepted when they are whole numbers.
    """
    if n_classes is not None and (isinstance(n_classes, bool) or not isinstance(n_classes, int | np.integer)
                                  or n_classes < 1):
        raise ConfigError(f"n_classes must be an integer >= 1; got {n_classes!r}")
    y = _as_numeric_array(y, "y")
    if y.size == 0:
        raise DataError(f"y is empty: expected at least 1 class label; got shape {y.shape}")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise DataError(f"class labels y must be 1-D (n_samples,) integers in [0, n_classes); got shape "
                        f"{y.shape}")
    if np.issubdtype(y.dtype, np.floating):
        where = _first_nonfinite(y)
        if where is not None:
            raise DataError(f"y contains {_describe(y[where])} at row {where[0]}; expected integer class labels")
        fractional = np.flatnonzero(y != np.round(y))
        if fractional.size:
            row = int(fractional[0])
            raise DataError(f"class labels must be integers; got y[{row}] = {y[row]} "
                            f"(continuous targets need a regression loss such as loss='mse')")
    y = y.astype(np.int64)
    low = int(y.min())
    if low < 0:
        row = int(np.argmin(y))
        raise DataError(f"class labels must be in [0, n_classes); got y[{row}] = {low}")
    if n_classes is not None:
        high = int(y.max())
        if high >= n_classes:
            row = int(np.argmax(y))
            hint = ("; a network with one output scores one class: use loss='binary_cross_entropy' for 0/1 "
                    "labels, or give it one output per class" if n_classes == 1 else "")
            raise DataError(f"class labels must be in [0, {n_classes}) for {n_classes} classes; "
                            f"got y[{row}] = {high}{hint}")
    return y


def _check_targets(y: np.ndarray) -> np.ndarray:
    if y.ndim == 1:
        y = y.reshape(-1, 1)
    if y.ndim != 2:
        raise DataError(f"regression targets y must be (n_samples,) or (n_samples, n_outputs); got shape {y.shape}")
    if not np.issubdtype(y.dtype, np.floating):
        y = y.astype(np.float64)
    where = _first_nonfinite(y)
    if where is not None:
        row, col = where
        raise DataError(f"y contains {_describe(y[row, col])} at row {row}, column {col}; expected finite values")
    return y


def check_Xy(X, y, task: str, n_classes: int | None = None, n_features: int | None = None):
    """Validate features and targets together; returns ``(X, y)`` in canonical form.

    X: (n, d) floating. For ``task='classification'`` y becomes int64 labels (n,) in
    [0, n_classes) (a (n, 1) column is flattened; integral floats are accepted). For
    ``task='regression'`` y becomes floating (n, k), a 1-D y being read as (n, 1).
    ``n_features`` is the input width the model expects.
    """
    if task not in TASKS:
        raise ConfigError(f"task must be one of {', '.join(TASKS)}; got {task!r}")
    X = check_X(X)
    if n_features is not None and X.shape[1] != n_features:
        raise DataError(f"X has {X.shape[1]} features per sample but the model expects {n_features}")
    y = _as_numeric_array(y, "y")
    if y.ndim == 0 or y.shape[0] != X.shape[0]:
        found = "a scalar" if y.ndim == 0 else f"{y.shape[0]} samples (shape {y.shape})"
        raise DataError(f"X and y must have the same number of samples: X has {X.shape[0]}, y has {found}")
    if task == "classification":
        return X, check_labels(y, n_classes)
    return X, _check_targets(y)


# The network multiplies and squares what it is given (x·W, (ŷ − y)² summed over a batch): a
# value beyond sqrt(largest float) / 1000 overflows there, and the overflow would be blamed on a
# gradient. float64: 1.3e151; float32: 1.8e16.
def safe_magnitude(dtype) -> float:
    """The largest |value| of inputs or targets that training in ``dtype`` handles safely."""
    return float(np.sqrt(np.finfo(dtype).max)) / 1e3


def check_trainable(X, y, dtype, task: str, standardizer=None, columns=None, label=None, rows=None,
                    source: str | None = None) -> None:
    """The data a network in ``dtype`` will be trained on fits that dtype and its arithmetic.

    X: (n, d) as loaded, fed through ``standardizer`` (fitted) when given; y: regression
    targets (n, k) (class labels are not checked). A value that becomes inf when cast to
    float32, or is too large for the network's arithmetic, is a DataError naming its column
    (``columns``, ``label``) and row (``rows``: the file rows of the samples, else 0-based
    indices) and saying what to do; the data, not a gradient, is named as the cause.
    """
    dtype = np.dtype(dtype)
    raw = np.asarray(X)
    if standardizer is not None:  # a run's model standardizes in its first layer: raw inputs are cast first
        _check_magnitude(raw, raw, dtype, columns, rows, source, "input",
                         "rescale it, or train in float64 (dtype = \"float64\")", limit=float(np.finfo(dtype).max))
        _check_resolution(raw, standardizer, dtype, columns, source)
    Z = standardizer.transform(X) if standardizer is not None else raw
    _check_magnitude(Z, raw, dtype, columns, rows, source, "input",
                     "standardize it ([data] standardize = true) or rescale it")
    if task == "regression" and y is not None:
        y = np.asarray(y, dtype=np.float64)
        _check_magnitude(y.reshape(len(y), -1), y.reshape(len(y), -1), dtype,
                         None if label is None else [label] * y.reshape(len(y), -1).shape[1], rows, source,
                         "target", "rescale the targets (divide them by a power of ten)")


# The most of a standard deviation the cast to the model's dtype may blur a feature by: beyond
# it, values a network could tell apart in float64 become equal (a 1% blur is 10⁵ times
# float32's own resolution on standardized data, so only features far from zero relative to
# their spread reach it: timestamps, coordinates, offsets of 1e6 with a spread of 1e-1).
MAX_BLUR = 1e-2


def _check_resolution(raw, standardizer, dtype, columns, source):
    """A run's model standardizes after its inputs are cast to ``dtype``: the cast must keep the
    features' spread. ``raw`` (n, d) float64; its rounding error, less any constant shift (which
    standardizing removes), against each feature's scale."""
    if np.dtype(dtype).itemsize >= raw.dtype.itemsize or raw.size == 0:
        return
    with np.errstate(over="ignore", invalid="ignore"):
        error = raw.astype(dtype).astype(raw.dtype) - raw
        blur = (error.max(axis=0) - error.min(axis=0)) / standardizer.scale_
    worst = int(np.argmax(blur))
    if blur[worst] > MAX_BLUR:
        column = repr(str(columns[worst])) if columns is not None and worst < len(columns) else str(worst)
        where = f"{source}: " if source else ""
        raise DataError(f"{where}input column {column}: its values (around {standardizer.mean_[worst]:.6g}, spread "
                        f"{standardizer.scale_[worst]:.3g}) lose {100 * blur[worst]:.3g}% of a standard deviation "
                        f"when cast to {np.dtype(dtype)} before the model standardizes them; train in float64 "
                        "(dtype = \"float64\") or subtract an offset from the column")


def _check_magnitude(Z, raw, dtype, columns, rows, source, what, fix, limit=None):
    limit = safe_magnitude(dtype) if limit is None else limit
    big = np.abs(Z) > limit
    if not big.any():
        return
    i, j = (int(k) for k in np.argwhere(big)[0])
    row = f"row {int(rows[i])}" if rows is not None else f"row {i}"
    column = repr(str(columns[j])) if columns is not None and j < len(columns) else str(j)
    value = raw[i, j]
    shown = f"{value:.6g}" + ("" if Z is raw or Z[i, j] == value else f" (standardized: {Z[i, j]:.6g})")
    where = f"{source}: " if source else ""
    if abs(Z[i, j]) > np.finfo(dtype).max:
        problem = f"does not fit in {dtype} (largest {np.finfo(dtype).max:.3g}): it would become inf"
    else:
        problem = (f"is too large to train on in {dtype}: the network multiplies and squares values, and beyond "
                   f"{limit:.2g} they overflow")
    raise DataError(f"{where}{row}, {what} column {column}: {shown} {problem}; {fix}")


def check_finite_output(out, X, source: str | None = None, rows=None, columns=None) -> None:
    """The network's output (n, k) for inputs X (n, d) is finite; else a DataError naming the
    first input row whose output is not, and its largest input: such inputs are outside what the
    network's arithmetic can take (a prediction of NaN is never handed on as a result)."""
    out = np.asarray(out)
    bad = ~np.isfinite(out).reshape(len(out), -1).all(axis=1)
    if not bad.any():
        return
    i = int(np.flatnonzero(bad)[0])
    row = f"row {int(rows[i])}" if rows is not None else f"row {i}"
    X = np.asarray(X)
    j = int(np.argmax(np.abs(X[i])))
    column = repr(str(columns[j])) if columns is not None and j < len(columns) else f"column {j}"
    where = f"{source}: " if source else ""
    raise DataError(f"{where}{row}: the network's output for this input is not finite ({int(bad.sum())} row(s) "
                    f"like it; its largest value is {column} = {X[i, j]:.6g}); the inputs are too large for the "
                    "network's arithmetic — check the data")
