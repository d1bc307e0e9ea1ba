"""A commented starter config (``chainrule init``), written from the one schema so it cannot drift.

Every section and every key appears with its default and its one-line meaning; the keys a first
run usually changes (``MAIN``) are set, the others are commented out at their defaults. The file
trains as written (on a built-in dataset); with ``dataset="csv"`` it names a CSV file and its
label column to fill in.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import ConfigError
from .schema import SECTIONS, UNSET, _toml

# The keys a first run sets; every other key is written commented out at its default.
MAIN = frozenset({"seed", "data.name", "data.val_fraction", "model.hidden", "model.activation", "loss.name",
                  "optimizer.name", "optimizer.learning_rate", "training.epochs", "training.batch_size",
                  "output.dir", "output.plots"})
CSV_TEMPLATE = {"data.name": '"csv"', "data.path": '"data.csv"', "data.label": '"label"'}
# Keys without a default: a value to show, commented out.
EXAMPLES = {"data.path": '"data.csv"', "data.label": '"label"', "data.features": '["x0", "x1"]',
            "model.layers": "[2, 64, 64, 3]", "schedule.name": '"cosine"'}
COMMENT_AT = 40  # the column where the comments start


def starter_config(dataset=None):
    """The starter config as TOML text. ``dataset``: a built-in dataset name or "csv" (None: the
    schema's default dataset)."""
    given = _given(dataset)
    lines = ["# chainrule run configuration: chainrule train THIS_FILE (chainrule inspect THIS_FILE checks it).",
             "# Every key is optional; a commented-out key shows its default. Reference: docs/config.md."]
    for section in SECTIONS:
        if section.name:
            lines += ["", _commented(f"[{section.name}]", section.doc)]
        for f in section.fields:
            key = f"{section.name}.{f.name}" if section.name else f.name
            doc = f.doc + (f" (one of {', '.join(map(repr, f.choices))})" if f.choices else "")
            if key in given:
                lines.append(_commented(f"{f.name} = {given[key]}", doc))
            elif f.default in (None, UNSET):
                lines.append(_commented(f"# {f.name} = {EXAMPLES.get(key, '...')}", doc))
            else:
                assignment = f"{f.name} = {_toml(f.default)}"
                lines.append(_commented(assignment if key in MAIN else "# " + assignment, doc))
        if section.extra_doc:
            lines.append(f"# other keys: {section.extra_doc}")
    return "\n".join(lines) + "\n"


def _given(dataset):
    """The values the dataset choice sets, as TOML text by dotted key."""
    if dataset is None:
        return {}
    if dataset == "csv":
        return dict(CSV_TEMPLATE)
    from ..data import dataset_names

    names = dataset_names()
    if dataset not in names:
        from ..errors import did_you_mean

        raise ConfigError(f"init --dataset: unknown dataset {dataset!r}{did_you_mean(dataset, [*names, 'csv'])}; "
                          f"valid: {', '.join(names)}, csv")
    return {"data.name": _toml(dataset)}


def _commented(text, doc):
    return f"{text:<{COMMENT_AT - 1}} # {doc}" if doc else text


def write_starter_config(path, dataset=None, force=False):
    """Write ``starter_config(dataset)`` to ``path`` atomically; an existing file is refused unless
    ``force`` (and never replaced half-written). Returns the path."""
    from ..saving.atomic import atomic_write_bytes

    path = Path(path)
    text = starter_config(dataset).encode()
    if path.is_dir():
        raise ConfigError(f"init: {path} is a folder; give a file name, e.g. {path / 'config.toml'}")
    if not path.parent.is_dir():
        raise ConfigError(f"init: the folder {path.parent} does not exist (create it first, or write elsewhere)")
    if force:
        atomic_write_bytes(path, text)
        return path
    if path.exists():
        raise ConfigError(f"init: {path} exists; use --force to overwrite it")
    # Without --force: the complete file appears under its name only if no file has it (os.link
    # refuses an existing name, so a file made meanwhile is not replaced either).
    tmp = path.with_name(f".{path.name}.{os.getpid()}.init.tmp")
    atomic_write_bytes(tmp, text)
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise ConfigError(f"init: {path} exists; use --force to overwrite it") from None
    except OSError:  # a file system without hard links: the check above is the guard
        os.replace(tmp, path)
        return path
    finally:
        if tmp.exists():
            tmp.unlink()
    return path
