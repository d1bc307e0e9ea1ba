"""Load a user's own data from a CSV file: numeric feature columns plus a label column, by name.

Only the standard library's ``csv`` module and NumPy. A header row is required. Errors are
:class:`~chainrule.errors.DataError` naming the file, the row and the column; rows are counted
as a spreadsheet shows them, from 1, the header being row 1.
"""

from __future__ import annotations

import csv
import difflib
import math
import os

import numpy as np

from chainrule.constraints import ListOf, Options, validate
from chainrule.errors import DataError

TASKS = ("auto", "classification", "regression")

# With task='auto', integer labels with at most this many distinct values are read as classes;
# with more they are read as regression targets (counts, prices in whole units, ...).
MAX_AUTO_CLASSES = 20


def _q(text, limit: int = 40) -> str:
    """``text`` quoted for a message, cut short if a malformed file made it long."""
    text = str(text)
    return repr(text if len(text) <= limit else text[:limit - 3] + "...")


def _names(header, limit: int = 200) -> str:
    """Column names for a message: control characters escaped (a quoted CSV name may hold a
    newline), the list cut short at ``limit`` characters."""
    joined = ", ".join("".join(c if c.isprintable() else repr(c)[1:-1] for c in name) for name in header)
    return joined if len(joined) <= limit else joined[:limit - 3] + "..."


def _suggest(name: str, names) -> str:
    close = difflib.get_close_matches(name, names, n=1)
    return f" (did you mean {_q(close[0])}?)" if close else ""


def _parse_number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _read_rows(path) -> list[tuple[int, list[str]]]:
    """(row number, cells) for every non-blank record, header included."""
    if not os.path.exists(path):
        raise DataError(f"{path}: file not found")
    if os.path.isdir(path):
        raise DataError(f"{path}: is a directory, expected a CSV file")
    rows, number = [], 0
    try:
        # utf-8-sig drops the byte-order mark that spreadsheet programs write.
        with open(path, newline="", encoding="utf-8-sig") as handle:
            for number, cells in enumerate(csv.reader(handle), start=1):
                cells = [cell.strip() for cell in cells]
                if any(cells):
                    rows.append((number, cells))
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8 CSV") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read the file ({exc.strerror or exc})") from None
    except csv.Error as exc:
        raise DataError(f"{path}: malformed CSV at row {number + 1}: {exc}") from None
    if not rows:
        raise DataError(f"{path}: file is empty; expected a header row and at least one data row")
    return rows


def _check_header(path, number: int, header: list[str]) -> None:
    if all(_parse_number(cell) is not None for cell in header):
        raise DataError(f"{path}: no header row: row {number} is all numbers ({_names(header[:4], 80)}"
                        f"{', ...' if len(header) > 4 else ''}); add a first row of column names")
    for column, name in enumerate(header, start=1):
        if not name:
            raise DataError(f"{path}: header row {number} has an empty name in column {column}")
        if header.index(name) != column - 1:
            raise DataError(f"{path}: header row {number} names column {_q(name)} twice "
                            f"(columns {header.index(name) + 1} and {column})")


def _column_index(path, header: list[str], name: str, role: str) -> int:
    if name not in header:
        raise DataError(f"{path}: {role} column {_q(name)} not found{_suggest(name, header)}; "
                        f"columns are: {_names(header)}")
    return header.index(name)


def _cell_value(path, number: int, name: str, text: str) -> float:
    if text == "":
        raise DataError(f"{path}: row {number}, column {_q(name)}: empty cell; expected a number")
    value = _parse_number(text)
    if value is None:
        raise DataError(f"{path}: row {number}, column {_q(name)}: non-numeric value {_q(text)}")
    if not math.isfinite(value):
        raise DataError(f"{path}: row {number}, column {_q(name)}: {_q(text)} is not a finite number")
    return value


def _labels(path, label: str, numbers: list[int], cells: list[str], task: str):
    """(y, task, classes) from the label column's cells."""
    for number, text in zip(numbers, cells, strict=True):
        if text == "":
            raise DataError(f"{path}: row {number}, column {_q(label)}: empty label cell")
    values = [_parse_number(text) for text in cells]
    numeric = all(v is not None for v in values)
    if task == "regression" or (task == "auto" and numeric and not _looks_like_classes(values)):
        targets = [_cell_value(path, number, label, text) for number, text in zip(numbers, cells, strict=True)]
        return np.array(targets).reshape(-1, 1), "regression", None
    if numeric:
        for number, text, value in zip(numbers, cells, values, strict=True):
            if not math.isfinite(value) or value != round(value):
                raise DataError(f"{path}: row {number}, column {_q(label)}: class label {_q(text)} is not an "
                                f"integer (use task='regression' for continuous targets)")
        keys = [int(v) for v in values]
    else:
        keys = cells
    classes = sorted(set(keys))
    index = {key: i for i, key in enumerate(classes)}
    return np.array([index[key] for key in keys], dtype=np.int64), "classification", classes


def _looks_like_classes(values: list[float]) -> bool:
    if not all(math.isfinite(v) and v == round(v) for v in values):
        return False
    return len(set(values)) <= MAX_AUTO_CLASSES


def load_csv(path, label: str | None, features: list[str] | None = None, task: str = "auto"):
    """Read ``(X, y, meta)`` from a CSV file with a header row.

    X: (n, len(features)) float64 from the named feature columns (default: every column but the
    label). ``label=None`` reads features only and returns y = None (for prediction).
    y: for classification, int64 (n,) class indices; for regression, float64 (n, 1).
    ``task='auto'`` reads non-numeric labels, and integer labels with at most
    ``MAX_AUTO_CLASSES`` distinct values, as classes; anything else as regression targets.
    Class indices follow the sorted distinct labels (numeric order for numbers).

    meta: ``{'path', 'label', 'features', 'task', 'classes', 'class_index'}``; ``classes[i]`` is
    the label written in the file for class i and ``class_index`` the reverse mapping (both None
    for regression). Blank lines are skipped; cells are stripped of surrounding spaces.
    """
    validate("load_csv", {"path": [str, os.PathLike], "label": [None, str], "features": [None, str, ListOf(str)],
                          "task": [Options(str, TASKS)]}, {"path": path, "label": label, "features": features,
                                                          "task": task})
    path = os.fspath(path)
    rows = _read_rows(path)
    header_number, header = rows[0]
    _check_header(path, header_number, header)
    if isinstance(features, str):
        features = [features]
    label_column = None if label is None else _column_index(path, header, label, "label")
    if features is None:
        feature_columns = [i for i in range(len(header)) if i != label_column]
    else:
        feature_columns = [_column_index(path, header, name, "feature") for name in features]
        if label_column is not None and label_column in feature_columns:
            raise DataError(f"{path}: column {_q(label)} is both the label and a feature")
    if not feature_columns:
        raise DataError(f"{path}: no feature columns; the only column is the label {_q(label)}")
    if len(rows) == 1:
        raise DataError(f"{path}: has a header but no data rows")

    X = np.empty((len(rows) - 1, len(feature_columns)))
    numbers, label_cells = [], []
    for i, (number, cells) in enumerate(rows[1:]):
        if len(cells) != len(header):
            raise DataError(f"{path}: row {number} has {len(cells)} fields but the header has {len(header)}")
        for j, column in enumerate(feature_columns):
            X[i, j] = _cell_value(path, number, header[column], cells[column])
        numbers.append(number)
        if label_column is not None:
            label_cells.append(cells[label_column])

    y, chosen_task, classes = None, None, None
    if label_column is not None:
        y, chosen_task, classes = _labels(path, label, numbers, label_cells, task)
    meta = {
        "path": path,
        "label": label,
        "features": [header[column] for column in feature_columns],
        "task": chosen_task,
        "classes": classes,
        "class_index": None if classes is None else {key: i for i, key in enumerate(classes)},
    }
    return X, y, meta
