"""The run folder: where it goes, what identifies a run (versions, config and data hashes), the
manifest, and the checks before starting or resuming a run in a folder.

    runs/<name>/
      .lock              held (fcntl.flock) by the process training the run, holding its pid;
                         removed when it ends (``lock.py``)
      config.json        the complete configuration (defaults filled in)
      manifest.json      versions, seed, the config and its hash, data hash, status (written when the
                         run starts, "running"; completed with timings, final metrics and the SHA-256
                         of config.json and preprocessing.json when it finishes; "interrupted" or
                         "failed" with the error when it ends otherwise)
      checkpoints/       ckpt-<step>/ folders, if checkpointing is on (``train --resume``)
      metrics.csv        one row per epoch (a resume rewrites it from the checkpoint's history)
      model/             model.safetensors + model.json (loads into torch.nn.Sequential) + checksums.json
      preprocessing.json standardization and class names, used by ``load_run`` and `chainrule predict`
      gradcheck.txt      per-layer gradient check of the trained model
      loss.png, decision_boundary.png (2-D) or fit.png (1-D), gradient_norms.png, dynamics.png
"""

from __future__ import annotations

import hashlib
import json
import platform
import sys
from datetime import datetime
from pathlib import Path

import numpy as np

from .._version import __version__
from ..errors import CheckpointError, ConfigError
from ..saving.model_io import read_json_file
from ..train.checkpoint import list_checkpoints
from .schema import complete

# The run's own files its predictions depend on: their SHA-256 go into the finished manifest
# ("sha256"), and load_run verifies them (the model folder has its own checksums.json).
RUN_FILES = ("config.json", "preprocessing.json")


def data_hash(X, y):
    h = hashlib.sha256()
    for a in (np.ascontiguousarray(X), np.ascontiguousarray(y)):
        h.update(str(a.dtype).encode() + str(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()


def config_hash(cfg):
    return hashlib.sha256(json.dumps(cfg, sort_keys=True).encode()).hexdigest()


def versions():
    out = {"chainrule": __version__, "python": sys.version.split()[0], "numpy": np.__version__,
           "platform": platform.platform()}
    for name in ("safetensors", "matplotlib", "tqdm", "sklearn"):
        try:
            out[name] = __import__(name).__version__
        except ImportError:
            pass
    return out


def run_dir_for(cfg, override=None):
    """``override``, or a new folder <output.dir>/<output.name or dataset-timestamp>[-k]."""
    if override:
        return Path(override)
    out = cfg["output"]
    name = out["name"] or f"{Path(str(cfg['data']['name'])).stem}-{datetime.now().strftime('%Y%m%d-%H%M%S')}"
    path = Path(out["dir"]) / name
    k = 1
    while path.exists():
        k += 1
        path = Path(out["dir"]) / f"{name}-{k}"
    return path


def check_new(run_dir):
    """A new run may not start in a folder that already holds one."""
    if (run_dir / "manifest.json").exists() or (run_dir / "model").exists():
        raise ConfigError(f"{run_dir} already holds a run: choose another --out (or 'chainrule train --resume "
                          f"{run_dir}' to continue an unfinished one)")
    if list_checkpoints(run_dir / "checkpoints"):
        raise ConfigError(f"{run_dir} already holds a run with checkpoints: continue it with "
                          f"'chainrule train --resume {run_dir}', or choose another --out")


# Keys that do not change what is trained: an edit to them does not stop a resume, and the resumed
# run takes them from the edited config.json (a memory limit raised on another machine, say).
# output.record is not one: the recorder's state is part of every checkpoint.
NOT_TRAINING = ("output.", "limits.")
IN_CHECKPOINT = ("output.record",)


def check_same_config(run_dir, cfg, epochs=None):
    """Before resuming: ``cfg`` (the run's config.json now) trains what the run started with, as
    the manifest records it; keys under ``output`` (but output.record) and ``limits`` may differ,
    and with ``epochs`` (an explicit ``--epochs``) training.epochs. A changed config is refused with the keys that
    differ. A manifest written by an earlier chainrule records only the hash of config.json as
    the file held it: that hash is checked against the file, then the file against ``cfg``."""
    path = Path(run_dir) / "manifest.json"
    if not path.is_file():
        return
    manifest = read_json_file(path, "run manifest")
    if not isinstance(manifest, dict):
        raise ConfigError(f"{path} is not a run manifest (a JSON object)")
    started, recorded = manifest.get("config"), manifest.get("config_hash")
    if not isinstance(started, dict):
        if recorded is None:
            return
        held = read_json_file(Path(run_dir) / "config.json", "run config")
        if recorded != config_hash(held):
            raise ConfigError(f"cannot resume {run_dir}: its config.json changed since the run started (config "
                              f"hash {str(recorded)[:12]}…, now {config_hash(held)[:12]}…; its manifest, from an "
                              "earlier chainrule, records only the hash, so the keys cannot be named)")
        started = json.loads(json.dumps(complete(held)))
    now = json.loads(json.dumps(cfg))  # (tuples as lists, as the manifest holds them)
    before, after = _flat(started), _flat(now)
    changed = [k for k in sorted(set(before) | set(after))
               if before.get(k, _ABSENT) != after.get(k, _ABSENT)
               and (k in IN_CHECKPOINT or not k.startswith(NOT_TRAINING))
               and not (epochs is not None and k == "training.epochs")]
    if changed:
        hint = ""
        if changed == ["training.epochs"]:
            n = _show(after.get("training.epochs", _ABSENT))
            hint = f"; to train it to {n} epochs, run 'chainrule train --resume {run_dir} --epochs {n}'"
        diff = ", ".join(f"{k}: {_show(before.get(k, _ABSENT))} -> {_show(after.get(k, _ABSENT))}"
                         for k in changed[:8]) + (f" (and {len(changed) - 8} more)" if len(changed) > 8 else "")
        raise ConfigError(f"cannot resume {run_dir}: its config.json changed since the run started ({diff}); "
                          f"a resumed run must continue the same training{hint}")


_ABSENT = object()


def _flat(d, prefix=""):
    out = {}
    for k, v in d.items():
        if isinstance(v, dict) and v:
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def _show(value):
    if value is _ABSENT:
        return "(absent)"
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."


def check_resumable(run_dir, identity):
    """Before resuming: something is left to do, and the data is what the run started with.
    Returns the run's start time, if recorded."""
    if finished(run_dir) and not list_checkpoints(run_dir / "checkpoints"):
        # (with checkpoints, resuming a finished run is harmless: it restores the last one
        # and rewrites the same results)
        raise ConfigError(f"{run_dir} is a finished run without checkpoints: nothing to resume "
                          "(train a new run with another --out)")
    return _check_same_data(run_dir, identity)


def _check_same_data(run_dir, identity):
    """A CSV edited since the run started would silently change the data order and the result."""
    path = run_dir / "manifest.json"
    if not path.is_file():
        return None  # a run killed before its manifest was written has no checkpoint either
    manifest = read_json_file(path, "run manifest")
    if not isinstance(manifest, dict):
        raise ConfigError(f"{path} is not a run manifest (a JSON object)")
    recorded = manifest.get("data_hash")
    if recorded is not None and recorded != identity["data_hash"]:
        raise CheckpointError(f"cannot resume {run_dir}: its data changed since the run started (data hash "
                              f"{str(recorded)[:12]}…, now {identity['data_hash'][:12]}…)")
    return manifest.get("started") if isinstance(manifest.get("started"), str) else None


def finished(run_dir):
    try:
        return json.loads((Path(run_dir) / "manifest.json").read_text()).get("status") == "finished"
    except (OSError, ValueError, AttributeError):
        return False


def remove_partial_files(run_dir):
    """Temporary files of atomic writes cut short by a crash (``.<name>.<random>.tmp``)."""
    for folder in (run_dir, run_dir / "model"):
        if folder.is_dir():
            for p in folder.glob(".*.tmp"):
                if p.is_file():
                    p.unlink(missing_ok=True)
