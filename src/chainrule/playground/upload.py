"""A CSV the page uploads, read from memory (never written anywhere).

Three columns: x1, x2 and the label (classification: integers, mapped to classes 0..K−1 in
numeric order) or x, y and the value (regression). A first row that is not all numbers is a
header. At most ``LIMITS['max_points']`` rows and ``MAX_CLASSES`` classes; every cell a finite
number. The size (≤ 1 MB) is checked with the message.
"""

from __future__ import annotations

import csv
import io
import math

import numpy as np

from ..errors import DataError
from .settings import LIMITS

MAX_CLASSES = 10
COORDINATE = 1e6


def _number(text, row, column):
    text = text.strip()
    try:
        value = float(text)
    except ValueError:
        raise DataError(f"upload: row {row}, column {column}: expected a number, found {text[:30]!r}") from None
    if not math.isfinite(value) or abs(value) > COORDINATE:
        raise DataError(f"upload: row {row}, column {column}: expected a finite number within ±{COORDINATE:g}, "
                        f"found {text[:30]!r}")
    return value


def read_upload(text, problem):
    """(problem, points (n, 2), targets) from the CSV text."""
    rows = []
    try:
        reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
        for number, cells in enumerate(reader, start=1):
            if not cells or all(not c.strip() for c in cells):
                continue
            if len(cells) != 3:
                raise DataError(f"upload: row {number} has {len(cells)} columns; expected 3 (x1, x2, label or "
                                "x, y, value)")
            if not rows and number == 1 and any(_is_text(c) for c in cells):
                continue  # the header
            rows.append([_number(c, number, k + 1) for k, c in enumerate(cells)])
            if len(rows) > LIMITS["max_points"]:
                raise DataError(f"upload: more than {LIMITS['max_points']} rows of data")
    except csv.Error as e:
        raise DataError(f"upload: malformed CSV: {e}") from None
    if len(rows) < 2:
        raise DataError(f"upload: expected at least 2 rows of data, found {len(rows)}")
    table = np.array(rows, np.float64)
    points, labels = table[:, :2], table[:, 2]
    if problem == "regression":
        return problem, points, labels.reshape(-1, 1)
    if not np.all(labels == np.round(labels)):
        raise DataError("upload: classification labels must be integers (for real values choose regression)")
    classes, targets = np.unique(labels, return_inverse=True)
    if not 2 <= len(classes) <= MAX_CLASSES:
        raise DataError(f"upload: classification needs 2 to {MAX_CLASSES} distinct labels, found {len(classes)}")
    return problem, points, targets.astype(np.int64)


def _is_text(cell):
    try:
        float(cell)
        return False
    except ValueError:
        return True
