"""The sweep's results: an SQLite file (results.sqlite) in the sweep folder, written by the driver only.

    trials(key UNIQUE = config hash + ":" + seed, config_hash, seed, status, error, final, best,
           epochs, wall_time, config JSON, one column per hyperparameter: "optimizer.learning_rate", ...)
    curves(key, epoch, name, value)        the per-epoch history of every (configuration, seed)

One transaction per finished configuration (its seeds' rows and curves together), so an
interrupted sweep leaves whole configurations or none; ``done_keys`` is what ``--resume`` skips,
and a key already stored is never written twice. Hyperparameter column names are config keys
checked against ``space.KEY_PATTERN`` and quoted; every value is a bound parameter.
"""

from __future__ import annotations

import json
import math
import sqlite3
from pathlib import Path

from ..errors import ConfigError
from .space import KEY_PATTERN

FILE = "results.sqlite"
COLUMNS = ("key", "config_hash", "seed", "status", "error", "final", "best", "epochs", "wall_time", "config")


def quoted(name):
    """A hyperparameter key as an SQLite identifier (checked, then quoted)."""
    if not KEY_PATTERN.fullmatch(name):
        raise ConfigError(f"{name!r} is not a config key usable as a column (section.key)")
    return '"' + name.replace('"', '""') + '"'


class Store:
    """The results database of one sweep folder; ``keys``: the hyperparameter columns."""

    def __init__(self, folder, keys):
        self.path = Path(folder) / FILE
        self.keys = list(keys)
        self.db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        # WAL with synchronous=NORMAL: a commit is atomic and survives the process being killed; only
        # a power cut may lose the newest commits (never corrupt the file), which a resume reruns.
        # FULL would fsync every configuration (~8 ms each here, as much as a small trial).
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        hp = "".join(f", {quoted(k)}" for k in self.keys)
        self.db.execute("CREATE TABLE IF NOT EXISTS trials (key TEXT PRIMARY KEY, config_hash TEXT NOT NULL, "
                        "seed INTEGER NOT NULL, status TEXT NOT NULL, error TEXT, final REAL, best REAL, "
                        f"epochs INTEGER, wall_time REAL, config TEXT NOT NULL{hp})")
        self.db.execute("CREATE TABLE IF NOT EXISTS curves (key TEXT NOT NULL, epoch INTEGER NOT NULL, "
                        "name TEXT NOT NULL, value REAL, PRIMARY KEY (key, epoch, name))")

    def close(self):
        self.db.close()

    def done_keys(self):
        return {row[0] for row in self.db.execute("SELECT key FROM trials")}

    def add(self, config_hash, params, trial):
        """Store one finished configuration (``trial``: what ``run_trial`` returned) in one
        transaction; rows whose key is already stored are skipped. Returns the rows written."""
        written = []
        cols = ", ".join(COLUMNS + tuple(quoted(k) for k in self.keys))
        marks = ", ".join("?" * (len(COLUMNS) + len(self.keys)))
        config = json.dumps(params, sort_keys=True)
        per_seed = trial["wall_time"] / max(len(trial["results"]), 1)
        self.db.execute("BEGIN IMMEDIATE")
        try:
            for r in trial["results"]:
                key = f"{config_hash}:{r['seed']}"
                if self.db.execute("SELECT 1 FROM trials WHERE key = ?", (key,)).fetchone():
                    continue
                row = (key, config_hash, r["seed"], r["status"], r["error"], _num(r["final"]), _num(r["best"]),
                       r["epochs"], per_seed, config, *(_cell(params.get(k)) for k in self.keys))
                self.db.execute(f"INSERT INTO trials ({cols}) VALUES ({marks})", row)
                self.db.executemany("INSERT INTO curves (key, epoch, name, value) VALUES (?, ?, ?, ?)",
                                    [(key, i + 1, name, _num(v)) for name, values in r["curves"].items()
                                     for i, v in enumerate(values)])
                written.append({"key": key, **r})
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return written

    def rows(self):
        """Every stored (configuration, seed) as a dict: the columns, with ``params`` decoded."""
        cur = self.db.execute("SELECT * FROM trials ORDER BY rowid")
        names = [d[0] for d in cur.description]
        out = []
        for values in cur.fetchall():
            row = dict(zip(names, values))
            row["params"] = json.loads(row.pop("config"))
            for k in self.keys:
                row[k] = row["params"].get(k)
            out.append(row)
        return out

    def curve(self, key, name):
        return [v for (v,) in self.db.execute("SELECT value FROM curves WHERE key = ? AND name = ? ORDER BY epoch",
                                              (key, name))]

    def curves(self, name):
        """{key: [``name`` per epoch]} of every stored trial."""
        out = {}
        for key, value in self.db.execute("SELECT key, value FROM curves WHERE name = ? ORDER BY key, epoch",
                                          (name,)):
            out.setdefault(key, []).append(float("nan") if value is None else value)
        return out

    def mean_curves(self, metric):
        """{config_hash: [the metric per epoch, mean over the configuration's ok seeds]}."""
        sums = {}
        for config_hash, epoch, value in self.db.execute(
                "SELECT t.config_hash, c.epoch, c.value FROM curves c JOIN trials t ON t.key = c.key "
                "WHERE c.name = ? AND t.status = 'ok' AND c.value IS NOT NULL", (metric,)):
            sums.setdefault(config_hash, {}).setdefault(epoch, []).append(value)
        return {h: [sum(v) / len(v) for _, v in sorted(by_epoch.items())] for h, by_epoch in sums.items()}


def _num(v):
    return None if v is None or not math.isfinite(v) else float(v)


def _cell(v):
    return v if isinstance(v, int | float | str) or v is None else json.dumps(v)
