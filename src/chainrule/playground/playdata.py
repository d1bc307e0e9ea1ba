"""A session's data: the 2-D points and their targets, split into train and test, and the input
features the network sees.

The split is ``chainrule.data.train_val_split`` with the run's seed (what ``chainrule train`` does
with ``val_fraction`` = the test share), so the exported config splits the same data the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..data import train_val_split
from ..errors import DataError
from . import datasets


@dataclass
class PlayData:
    """points (n, 2) and targets: int64 classes (n,) or float64 values (n, 1), as generated or
    uploaded (``all``); the split parts; ``features`` the page's feature names."""

    task: str
    points: np.ndarray
    targets: np.ndarray
    train_points: np.ndarray
    train_targets: np.ndarray
    test_points: np.ndarray
    test_targets: np.ndarray
    features: list
    n_classes: int | None

    @property
    def d_in(self):
        return len(self.features)

    def d_out(self):
        return self.n_classes if self.task == "classification" else 1

    def train_inputs(self):
        return datasets.features(self.train_points, self.features)

    def test_inputs(self):
        return datasets.features(self.test_points, self.features)

    def as_rows(self, part):
        """(n, 3): x1, x2, target (the `data` message's arrays)."""
        P, y = (self.train_points, self.train_targets) if part == "train" else (self.test_points, self.test_targets)
        return np.column_stack([P, np.reshape(y, (len(P), -1))[:, :1]]) if len(P) else np.zeros((0, 3))

    def with_point(self, point, target):
        """The same data with one more training point (the page's click)."""
        t = np.array([target], np.int64) if self.task == "classification" else np.array([[float(target)]])
        p = np.asarray([point], np.float64)
        n_classes = max(self.n_classes, int(target) + 1) if self.task == "classification" else None
        return PlayData(self.task, np.vstack([self.points, p]), np.concatenate([self.targets, t]),
                        np.vstack([self.train_points, p]), np.concatenate([self.train_targets, t]),
                        self.test_points, self.test_targets, self.features, n_classes)


def split(task, points, targets, settings):
    """PlayData of ``points``/``targets`` split by the settings' train_percent and seed."""
    if len(points) < 2:
        raise DataError(f"the data need at least 2 points to split into train and test, found {len(points)}")
    test_fraction = round(1 - settings["train_percent"] / 100, 6)
    P_tr, P_te, y_tr, y_te = train_val_split(points, targets, val_fraction=test_fraction, seed=int(settings["seed"]))
    n_classes = int(np.max(targets)) + 1 if task == "classification" else None
    if task == "classification" and n_classes < 2:
        raise DataError(f"classification needs at least 2 classes, found labels {sorted(set(targets.tolist()))}")
    return PlayData(task, points, targets, P_tr, y_tr, P_te, y_te, list(settings["features"]), n_classes)


def generated(settings, data_round=0):
    """The settings' dataset; ``data_round`` counts the page's "regenerate" presses."""
    seed = int(settings["seed"]) * 1000 + int(data_round)
    X, y = datasets.generate(settings["dataset"], settings["points"], settings["noise"], seed)
    return split(settings["problem"], X, y, settings)
