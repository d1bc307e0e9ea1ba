"""What a sweep found: configurations ranked by the metric (mean ± sd over their seeds), the best
one as ``best.toml`` (``chainrule train best.toml`` reproduces it), the table ``sweep show``
prints, and the CSV / Parquet export for pandas or polars users."""

from __future__ import annotations

import csv
import io
import json
import math
import statistics

from ..errors import ConfigError, OptionalDependencyError
from ..runs.schema import TABLES, TOP, _toml
from ..saving.atomic import atomic_write_bytes


def ranked(rows, direction):
    """One entry per configuration: params, mean and sd of the final metric over its ok seeds,
    seeds ok / in all, statuses; best first (configurations with no ok seed last)."""
    by_config = {}
    for r in rows:
        by_config.setdefault(r["config_hash"], []).append(r)
    out = []
    for config_hash, group in by_config.items():
        values = [r["final"] for r in group if r["status"] == "ok" and r["final"] is not None]
        statuses = sorted({r["status"] for r in group})
        out.append({"config_hash": config_hash, "params": group[0]["params"], "seeds": len(group), "ok": len(values),
                    "mean": statistics.fmean(values) if values else None,
                    "sd": statistics.stdev(values) if len(values) > 1 else (0.0 if values else None),
                    "status": "/".join(statuses), "error": next((r["error"] for r in group if r["error"]), None)})
    sign = 1 if direction == "minimize" else -1
    out.sort(key=lambda c: (c["mean"] is None, sign * c["mean"] if c["mean"] is not None else 0))
    return out


def best_config(spec, ranking):
    """The base config with the best configuration's parameters, or None if nothing finished."""
    if not ranking or ranking[0]["mean"] is None:
        return None
    return spec.config_for(ranking[0]["params"])


def to_toml(cfg):
    """A completed config as TOML that ``chainrule train`` reads back to the same config."""
    lines = [f"{f.name} = {_toml(cfg[f.name])}" for f in TOP.fields if f.name in cfg]
    for name in TABLES:
        section = cfg.get(name) or {}
        if section:
            lines += ["", f"[{name}]"] + [f"{k} = {_toml(v)}" for k, v in section.items() if v is not None]
    return "\n".join(lines) + "\n"


def write_best(folder, spec, ranking):
    cfg = best_config(spec, ranking)
    if cfg is None:
        return None
    cfg = {**cfg, "seed": spec.seeds[0], "output": {**cfg["output"], "name": ""}}
    path = folder / "best.toml"
    head = (f"# the best configuration of the sweep in {folder} ({spec.metric} {_pm(ranking[0])} over "
            f"{ranking[0]['ok']} seeds); `chainrule train {path}` reproduces seed {spec.seeds[0]}\n")
    atomic_write_bytes(path, (head + to_toml(cfg)).encode())
    return path


def _pm(c):
    return "n/a" if c["mean"] is None else f"{c['mean']:.4g} ± {c['sd']:.2g}"


def table(ranking, keys, metric, limit=None):
    """The ranking as aligned text: rank, metric mean ± sd, seeds ok, status, each hyperparameter."""
    header = ["#", metric, "ok/seeds", "status", *keys]
    body = [[str(i + 1), _pm(c), f"{c['ok']}/{c['seeds']}", c["status"], *(_show(c["params"].get(k)) for k in keys)]
            for i, c in enumerate(ranking[:limit])]
    widths = [max(len(r[j]) for r in [header, *body]) for j in range(len(header))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in [header, *body])


def _show(v):
    if isinstance(v, float):
        return f"{v:.4g}"
    return v if isinstance(v, str) else json.dumps(v, separators=(",", ":"))


def export(rows, keys, path, fmt):
    """The trials table as CSV (standard library) or Parquet (needs pyarrow), written atomically: the
    whole file is made in memory, then written to a temporary file beside ``path`` and renamed over it,
    so a failed export leaves no partial file and an earlier export as it was."""
    columns = ["key", "config_hash", "seed", *keys, "status", "error", "final", "best", "epochs", "wall_time"]
    records = [{c: _plain(r.get(c)) for c in columns} for r in rows]
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(records)
        data = buffer.getvalue().encode()
    elif fmt == "parquet":
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError:
            raise OptionalDependencyError("--export parquet needs pyarrow: pip install pyarrow "
                                          "(or use --export csv)") from None
        sink = pa.BufferOutputStream()
        pq.write_table(pa.Table.from_pylist(records), sink)
        data = sink.getvalue().to_pybytes()
    else:
        raise ConfigError(f"--export: expected csv or parquet, found {fmt!r}")
    atomic_write_bytes(path, data)
    return path


def _plain(v):
    if isinstance(v, list | dict):
        return str(v)
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v
