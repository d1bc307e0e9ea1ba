"""Load a user's own data from a CSV file: numeric feature columns plus a label column, by name.

Only the standard library's ``csv`` module and NumPy. A header row is required. Errors are
:class:`~chainrule.errors.DataError` naming the file, the row and the column; rows are counted
as a spreadsheet shows them, from 1, the header being row 1.
"""

from __future__ import annotations

import csv
import difflib
import io
import math
import numbers
import operator
import os
from array import array

import numpy as np

from chainrule.constraints import Interval, ListOf, Options, validate
from chainrule.errors import DataError

from .files import open_regular, shown

TASKS = ("auto", "classification", "regression")

# With task='auto', integer labels with at most this many distinct values are read as classes;
# with more they are read as regression targets (counts, prices in whole units, ...).
MAX_AUTO_CLASSES = 20

# A label column of more distinct non-numeric labels than this is not a set of classes.
MAX_CLASSES = 1 << 16

# The default caps of load_csv (raise them with its max_bytes= and max_line= arguments, or the
# config's [limits] csv_mb and csv_line_mb): a file of at most 1 GiB whose lines are at most
# 16 Mi characters (a row of a million numbers). A FIFO, a device or a folder is refused.
MAX_BYTES = 1 << 30
MAX_LINE = 1 << 24


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


def _lines(handle, path, max_line: int):
    """The file's lines, each at most ``max_line`` characters (a file that is one endless line
    is refused when the line passes the cap, not when memory runs out)."""
    number = 0
    while True:
        line = handle.readline(max_line + 1)
        if not line:
            return
        number += 1
        if len(line) > max_line and not line.endswith("\n"):
            raise DataError(f"{path}: line {number} is longer than {max_line} characters (raise [limits] "
                            "csv_line_mb in the config, or load_csv's max_line=); a CSV row of numbers is far shorter: "
                            "is this a CSV file?")
        yield line


def _records(path, max_bytes: int, max_line: int):
    """(row number, cells) for every CSV record of the file, header included, read as a stream."""
    handle = open_regular(path, "", DataError, max_bytes=max_bytes, expected="a CSV file",
                          limit_hint=" (raise [limits] csv_mb in the config, or load_csv's max_bytes=)")
    reader = None
    try:
        # utf-8-sig drops the byte-order mark that spreadsheet programs write.
        with io.TextIOWrapper(handle, encoding="utf-8-sig", newline="") as text:
            reader = csv.reader(_lines(text, path, max_line))
            yield from enumerate(reader, start=1)
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8 CSV") from None
    except csv.Error as exc:
        raise DataError(f"{path}: malformed CSV at line {reader.line_num if reader else 1}: {exc}") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read the file ({exc.strerror or exc})") from None


def _check_header(path, number: int, header: list[str]) -> dict[str, int]:
    """The header's column index by name; an error for a number-only row, an empty or repeated
    name. Linear in the number of columns."""
    if all(_parse_number(cell) is not None for cell in header):
        raise DataError(f"{path}: no header row: row {number} is all numbers ({_names(header[:4], 80)}"
                        f"{', ...' if len(header) > 4 else ''}); add a first row of column names")
    index = {}
    for column, name in enumerate(header, start=1):
        if not name:
            raise DataError(f"{path}: header row {number} has an empty name in column {column}")
        first = index.setdefault(name, column - 1)
        if first != column - 1:
            raise DataError(f"{path}: header row {number} names column {_q(name)} twice "
                            f"(columns {first + 1} and {column})")
    return index


MAX_SUGGEST = 2000  # a "did you mean" over more columns would cost more than it helps


def _column_index(path, header: list[str], index: dict[str, int], name, role: str) -> int:
    if not isinstance(name, str) or name not in index:
        hint = _suggest(name, header) if isinstance(name, str) and len(header) <= MAX_SUGGEST else ""
        raise DataError(f"{path}: {role} column {_q(name)} not found{hint}; columns are: {_names(header)}")
    return index[name]


def _cell_value(path, number: int, name: str, text: str) -> float:
    text = text.strip()
    if text == "":
        raise DataError(f"{path}: row {number}, column {_q(name)}: empty cell; expected a number")
    value = _parse_number(text)
    if value is None:
        raise DataError(f"{path}: row {number}, column {_q(name)}: non-numeric value {_q(text)}")
    if not math.isfinite(value):
        raise DataError(f"{path}: row {number}, column {_q(name)}: {_q(text)} is not a finite number")
    return value


class _Labels:
    """The label column, collected as the rows stream past in O(rows) memory: each label's
    number (NaN if not one) and, while there are at most ``MAX_CLASSES`` distinct texts, a code
    per distinct text."""

    def __init__(self):
        self.values = array("d")
        self.codes = array("q")
        self.texts: dict[str, int] | None = {}  # label text (also unstripped) -> code
        self.first: list[int] = []  # code -> the first row that has it
        self.non_numeric = None  # (row, text) of the first label that is not a number

    def add(self, path, number: int, name: str, text: str) -> None:
        if self.texts is not None:
            code = self.texts.get(text)
            if code is not None:  # a label seen before: most rows of a classification file
                self.values.append(self.values[self.first[code]])
                self.codes.append(code)
                return
        self._add_new(path, number, name, text)

    def _add_new(self, path, number: int, name: str, raw: str) -> None:
        text = raw.strip()
        if text == "":
            raise DataError(f"{path}: row {number}, column {_q(name)}: empty label cell")
        value = _parse_number(text)
        if value is None:
            value = math.nan
            if self.non_numeric is None:
                self.non_numeric = (number, text)
        self.values.append(value)
        if self.texts is not None:
            code = self.texts.get(text)
            if code is None:
                code = self.texts[text] = len(self.first)
                self.first.append(len(self.values) - 1)
            if raw != text:
                self.texts[raw] = code  # the unstripped spelling maps to the same class
            self.codes.append(code)
            if len(self.first) > MAX_CLASSES:
                self.texts = None  # too many to be classes: only numbers (regression) remain possible
                self.codes = array("q")

    def text(self, i: int) -> str:
        """The label of data row ``i`` as written (or as its number, when the texts were dropped)."""
        if self.texts is not None:
            code = self.codes[i]
            return next(t.strip() for t, c in self.texts.items() if c == code)
        return repr(self.values[i])


def _labels(path, label: str, rows: np.ndarray, labels: _Labels, task: str):
    """(y, task, classes) from the label column."""
    values = np.frombuffer(labels.values, dtype=np.float64) if len(labels.values) else np.empty(0)
    numeric = labels.non_numeric is None
    if task == "regression" or (task == "auto" and numeric and not _looks_like_classes(values)):
        if not numeric:
            number, text = labels.non_numeric
            raise DataError(f"{path}: row {number}, column {_q(label)}: non-numeric value {_q(text)}")
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            i = int(bad[0])
            raise DataError(f"{path}: row {rows[i]}, column {_q(label)}: {_q(labels.text(i))} is not a finite number")
        return values.reshape(-1, 1).copy(), "regression", None
    if numeric:
        bad = np.flatnonzero(~np.isfinite(values) | (values != np.round(values)) | (np.abs(values) >= 2.0 ** 63))
        if bad.size:
            i = int(bad[0])
            raise DataError(f"{path}: row {rows[i]}, column {_q(label)}: class label {_q(labels.text(i))} is not an "
                            f"integer (use task='regression' for continuous targets)")
        keys = values.astype(np.int64)
        classes, y = np.unique(keys, return_inverse=True)
        if len(classes) > MAX_CLASSES:
            raise DataError(f"{path}: column {_q(label)} holds {len(classes)} distinct class labels, more than "
                            f"{MAX_CLASSES}; for continuous targets use task='regression'")
        return y.reshape(-1).astype(np.int64), "classification", [int(c) for c in classes]
    if labels.texts is None:
        raise DataError(f"{path}: column {_q(label)} holds more than {MAX_CLASSES} distinct labels that are not all "
                        "numbers; a classifier of that many classes is not what a CSV label column means")
    names = {code: text for text, code in labels.texts.items() if text == text.strip()}
    order = sorted(names.values())
    rank = np.empty(len(order), dtype=np.int64)
    for i, text in enumerate(order):
        rank[labels.texts[text]] = i
    codes = np.frombuffer(labels.codes, dtype=np.int64)
    return rank[codes], "classification", order


def _looks_like_classes(values: np.ndarray) -> bool:
    # beyond 2**53 every float is a whole number: such values are measurements, not class labels
    if not (np.all(np.abs(values) < 2.0 ** 53) and np.all(values == np.round(values))):
        return False
    return len(np.unique(values)) <= MAX_AUTO_CLASSES


def load_csv(path, label: str | None, features: list[str] | None = None, task: str = "auto", *,
             max_bytes: int = MAX_BYTES, max_line: int = MAX_LINE):
    """Read ``(X, y, meta)`` from a CSV file with a header row.

    X: (n, len(features)) float64 from the named feature columns (default: every column but the
    label). ``label=None`` reads features only and returns y = None (for prediction).
    y: for classification, int64 (n,) class indices; for regression, float64 (n, 1).
    ``task='auto'`` reads non-numeric labels, and integer labels with at most
    ``MAX_AUTO_CLASSES`` distinct values, as classes; anything else as regression targets.
    Class indices follow the sorted distinct labels (numeric order for numbers).

    The file must be a regular file of at most ``max_bytes`` bytes (default ``MAX_BYTES``, 1 GiB)
    whose lines are at most ``max_line`` characters (default ``MAX_LINE``, 16 Mi); raise either
    to read a bigger file. It is read as a stream: memory stays about twice X as float64 plus
    16 bytes per row, whatever the file holds.

    meta: ``{'path', 'label', 'features', 'task', 'classes', 'class_index', 'rows'}``;
    ``classes[i]`` is the label written in the file for class i and ``class_index`` the reverse
    mapping (both None for regression); ``rows[i]`` is the file row of sample i (header = 1), for
    messages about the data later. Blank lines are skipped; cells are stripped of surrounding spaces.
    """
    validate("load_csv", {"path": [str, os.PathLike], "label": [None, str], "features": [None, str, ListOf(str)],
                          "task": [Options(str, TASKS)], "max_bytes": [Interval(numbers.Integral, 1, None)],
                          "max_line": [Interval(numbers.Integral, 1, None)]},
             {"path": path, "label": label, "features": features, "task": task, "max_bytes": max_bytes,
              "max_line": max_line})
    path = os.fspath(path)
    shown_path = shown(path)
    records = _records(path, max_bytes, max_line)
    header_number, header = next(((n, cells) for n, cells in
                                  ((n, [c.strip() for c in cells]) for n, cells in records) if any(cells)),
                                 (None, None))
    if header is None:
        raise DataError(f"{shown_path}: file is empty; expected a header row and at least one data row")
    index = _check_header(shown_path, header_number, header)
    if isinstance(features, str):
        features = [features]
    label_column = None if label is None else _column_index(shown_path, header, index, label, "label")
    if features is None:
        feature_columns = [i for i in range(len(header)) if i != label_column]
    else:
        feature_columns = [_column_index(shown_path, header, index, name, "feature") for name in features]
        if label_column is not None and label_column in set(feature_columns):
            raise DataError(f"{shown_path}: column {_q(label)} is both the label and a feature")
    if not feature_columns:
        raise DataError(f"{shown_path}: no feature columns; the only column is the label {_q(label)}")

    width, d = len(header), len(feature_columns)
    # A first pass checks the shape only (the C csv reader, no numbers): a ragged row at the end
    # of a big file is reported in a second, not after every number before it was parsed.
    for number, cells in records:
        if len(cells) != width and any(c.strip() for c in cells):
            raise DataError(f"{shown_path}: row {number} has {len(cells)} fields but the header has {width}")
    records = _records(path, max_bytes, max_line)
    for number, _ in records:
        if number == header_number:
            break
    pick = (lambda cells: (cells[feature_columns[0]],)) if d == 1 else operator.itemgetter(*feature_columns)
    values, rows, labels = array("d"), array("q"), _Labels()
    for number, cells in records:
        if len(cells) != width:
            if not any(c.strip() for c in cells):
                continue  # a blank line
            raise DataError(f"{shown_path}: row {number} has {len(cells)} fields but the header has {width}")
        try:
            row = list(map(float, pick(cells)))  # float() accepts surrounding spaces
            if not math.isfinite(sum(row)):  # NaN or inf somewhere (or an overflowing sum: checked below)
                raise ValueError
        except ValueError:
            if not any(c.strip() for c in cells):
                continue  # a row of empty cells
            row = [_cell_value(shown_path, number, header[column], cells[column]) for column in feature_columns]
        values.extend(row)
        rows.append(number)
        if label_column is not None:
            labels.add(shown_path, number, label, cells[label_column])
    if not rows:
        raise DataError(f"{shown_path}: has a header but no data rows")

    X = np.frombuffer(values, dtype=np.float64).reshape(len(rows), d)  # a view: no second copy of the data
    row_numbers = np.frombuffer(rows, dtype=np.int64)
    y, chosen_task, classes = None, None, None
    if label_column is not None:
        y, chosen_task, classes = _labels(shown_path, label, row_numbers, labels, task)
    meta = {
        "path": path,
        "label": label,
        "features": [header[column] for column in feature_columns],
        "task": chosen_task,
        "classes": classes,
        "class_index": None if classes is None else {key: i for i, key in enumerate(classes)},
        "rows": row_numbers,
    }
    return X, y, meta
