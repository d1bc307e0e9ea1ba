"""The run configuration, declared once: one table of fields per TOML section.

Each ``Field`` holds its name, type, default, allowed values, the rule its value must satisfy
and its documentation. Validation (``complete``), the "did you mean" hints for unknown keys,
the defaults (``defaults``) and the documentation (``describe``, shown by ``chainrule train
--help``) are all read from ``SECTIONS``; nothing else lists the keys. ``complete`` also runs
``checks.py`` (the names only the registries know) and reports every mistake in one ConfigError.
A ``[data] path`` without a ``name`` means CSV data.
"""

from __future__ import annotations

import copy
import re
import sys
from dataclasses import dataclass, field

from ..errors import ConfigError, did_you_mean

MAX_WIDTH = 1 << 20  # widths beyond this are typos (a 2^20 × 2^20 layer would need 8 TB)
MAX_FLOAT_INT = int(sys.float_info.max)  # larger integers have no float
UNSET = object()  # a field with no default: absent from a completed config unless given


@dataclass(frozen=True)
class Field:
    """One key. ``rule(value) -> bool`` checks a value of the right type; ``says`` completes
    "<key> must ..." when it fails. ``choices``: the allowed values (a rule of its own)."""

    name: str
    type: type | tuple
    default: object
    doc: str
    choices: tuple = ()
    rule: object = None
    says: str = ""


@dataclass(frozen=True)
class Section:
    """A TOML table (``name``), or the top level (``name`` = ''). ``open``: other keys are
    options passed on to the optimizer or schedule, which validate them."""

    name: str
    fields: tuple
    doc: str = ""
    open: bool = False
    extra_doc: str = ""
    keys: dict = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "keys", {f.name: f for f in self.fields})


def _positive(v):
    return v > 0


def _non_negative(v):
    return v >= 0


def _folder_name(v):
    return v == "" or (v not in (".", "..") and not any(c in v for c in "/\\\0"))


def _widths(v):
    return all(isinstance(h, int) and not isinstance(h, bool) and 0 < h <= MAX_WIDTH for h in v)


SECTIONS = (
    Section("", (
        Field("seed", int, 0, "seeds the data split, the initialization and the batch order",
              rule=_non_negative, says="be a non-negative integer"),
        Field("dtype", str, "float64", "the parameters' precision", choices=("float32", "float64")),
    )),
    Section("data", (
        Field("name", str, "spiral", 'a built-in dataset (chainrule.data.dataset_names()) or "csv"'),
        Field("path", str, None, "a CSV file (a path means name = \"csv\")"),
        Field("label", str, None, "csv only: the label column"),
        Field("features", list, None, "csv only: the feature columns (default: all but the label)",
              rule=lambda v: v is None or all(isinstance(f, str) for f in v), says="be a list of column names"),
        Field("val_fraction", float, 0.2, "held out for validation (stratified for classification)",
              rule=lambda v: 0 <= v < 1, says="be in [0, 1)"),
        Field("standardize", bool, True, "zero mean, unit variance, fitted on the training part"),
        Field("options", dict, {}, "passed to the dataset's generator, e.g. { n_per_class = 100, noise = 0.2 }"),
    ), doc="the data"),
    Section("model", (
        Field("hidden", list, [64, 64], "hidden widths; input and output widths come from the data",
              rule=_widths, says=f"be a list of positive integers (at most {MAX_WIDTH})"),
        Field("layers", list, None, "instead of hidden: every width as nn.MLP([2, 64, 64, 3]) takes it, input and "
              "output included; they must be the data's (features; classes or target columns)",
              rule=lambda v: v is None or (len(v) >= 2 and _widths(v)),
              says=f"be a list of at least two positive integers (at most {MAX_WIDTH}): input, hidden..., output"),
        Field("activation", (str, list), "relu", "one name, or one per hidden layer"),
        Field("output_activation", str, "identity", "the loss takes logits"),
        Field("init", (str, dict), "auto", '"auto" (He for the ReLU family, Xavier otherwise), a name such as '
              '"xavier_uniform", or with parameters "normal(std)", "uniform(a, b)", "constant(value)", '
              '{ name = "normal", std = 0.1 }'),
        Field("batchnorm", bool, False, "batch normalization after each hidden Dense layer"),
        Field("dropout", float, 0.0, "dropout rate after each hidden layer", rule=lambda v: 0 <= v < 1,
              says="be in [0, 1)"),
    ), doc="a multilayer perceptron"),
    Section("loss", (
        Field("name", str, "auto", '"auto": cross_entropy for classification, mse for regression'),
    )),
    Section("optimizer", (
        Field("name", str, "adam", "a chainrule.optim name: sgd, momentum, adam, ..."),
        Field("learning_rate", float, 0.01, "the base learning rate"),
    ), open=True, extra_doc="any other option of the optimizer: momentum, betas, weight_decay, clip_norm, ..."),
    Section("schedule", (
        Field("name", str, UNSET, "constant, step, exponential, cosine, warmup, plateau"),
    ), doc="optional", open=True, extra_doc="options of the schedule; a cosine's total_steps left out is the run's "
                                            "epochs × steps per epoch (lr = min_lr at the last step)"),
    Section("training", (
        Field("epochs", int, 100, "passes over the training data", rule=_positive,
              says="be a positive integer"),
        Field("batch_size", int, 32, "samples per step", rule=_positive, says="be a positive integer"),
        Field("early_stopping", int, 0, "patience in epochs on val_loss; 0 = off", rule=_non_negative,
              says="be >= 0"),
        Field("checkpoint_every", int, 0, "epochs between checkpoints; 0 = off", rule=_non_negative, says="be >= 0"),
        Field("checkpoint_every_steps", int, 0, "optimizer steps between checkpoints; 0 = off",
              rule=_non_negative, says="be >= 0"),
        Field("checkpoint_keep", int, 3, "newest checkpoints kept (0: all)", rule=_non_negative,
              says="be >= 0 (0 keeps all)"),
        Field("on_divergence", str, "stop", "on NaN/inf: stop, or roll back to the last good state with a lower "
              "learning rate", choices=("stop", "rollback")),
        Field("rollback_factor", float, 0.5, "learning rate × this at each rollback", rule=lambda v: 0 < v < 1,
              says="be in (0, 1)"),
        Field("max_rollbacks", int, 3, "rollbacks before giving up", rule=_non_negative, says="be >= 0"),
        Field("check_gradients", bool, False, "check every step's gradients for NaN/inf (a few µs per step)"),
        Field("gradient_checkpointing", bool, False, "recompute activations in the backward pass to save memory"),
        Field("gradient_check", bool, True, "per-layer gradient check of the trained model"),
    )),
    Section("limits", (
        Field("memory_gb", float, 4.0, "the most memory the run's arrays may need, estimated from the config before "
              "anything is allocated (data, parameters, gradients, optimizer state, activations); a bigger run is "
              "refused with its estimate: raise this to allow it", rule=lambda v: 0 < v < 1 << 20,
              says="be a number of GiB in (0, 1048576)"),
        Field("csv_mb", int, 1024, "the largest CSV file read, in MiB (a FIFO, device or folder is never read)",
              rule=lambda v: 0 < v < 1 << 30, says="be a positive number of MiB"),
        Field("csv_line_mb", int, 16, "the longest line of a CSV file, in MiB", rule=lambda v: 0 < v < 1 << 20,
              says="be a positive number of MiB"),
    ), doc="resource limits: raise them for a bigger run"),
    Section("output", (
        Field("dir", str, "runs", "where run folders go"),
        Field("name", str, "", "run folder name (one name, inside dir); default: <dataset>-<timestamp>",
              rule=_folder_name, says="be one folder name (no '/', '\\', '..' or NUL), inside output.dir"),
        Field("plots", bool, True, "write PNG figures"),
        Field("record", bool, True, "record per-layer training dynamics (gradient norms, error signals, dead units; "
              "≤ 10% of training time): the dynamics figures and the vanishing/exploding/dead-network warnings "
              "need it"),
    )),
)

TOP = SECTIONS[0]
TABLES = {s.name: s for s in SECTIONS[1:]}
# Every top-level key, in the order a config file lists them.
TOP_KEYS = (*TOP.keys, *TABLES)


def defaults():
    """The complete default configuration, a fresh dict each call."""
    cfg = {f.name: copy.deepcopy(f.default) for f in TOP.fields}
    for s in TABLES.values():
        cfg[s.name] = {f.name: copy.deepcopy(f.default) for f in s.fields if f.default is not UNSET}
    return cfg


def complete(raw, source="config"):
    """Defaults overlaid with ``raw``, after checking every key, type, value and name; a new dict.

    Every mistake is reported at once: one ConfigError whose message lists them all (each as
    "<source>: <section.key> ..."), with the list itself in its ``errors`` attribute.
    """
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: a configuration must be a table of keys, found {type(raw).__name__}")
    cfg, errors = defaults(), []
    for key, value in raw.items():
        if key in TOP.keys:
            cfg[key] = _typed(TOP.keys[key], key, value, errors)
        elif key not in TABLES:
            errors.append((key, f"unknown key {_short(key)}{did_you_mean(key, TOP_KEYS)}; "
                                f"valid: {', '.join(TOP_KEYS)}"))
        elif not isinstance(value, dict):
            errors.append((f"[{key}]", f"must be a table, found {type(value).__name__}"))
        else:
            section = TABLES[key]
            for sub, v in value.items():
                f = section.keys.get(sub)
                if f is None and not section.open:
                    errors.append((f"{key}.{sub}", f"unknown key {_short(sub)} in [{key}]"
                                                   f"{did_you_mean(sub, section.keys)}; "
                                                   f"valid keys: {', '.join(section.keys)}"))
                else:
                    cfg[key][sub] = v if f is None else _typed(f, f"{key}.{sub}", v, errors)
    given_data = raw.get("data") if isinstance(raw.get("data"), dict) else {}
    if given_data.get("path") is not None and "name" not in given_data:
        cfg["data"]["name"] = "csv"  # a path means CSV data
    _hidden_from_layers(raw.get("model"), cfg["model"], errors)
    wrong = {key for key, _ in errors}
    for section in SECTIONS:
        values = cfg if not section.name else cfg[section.name]
        for f in section.fields:
            key = f"{section.name}.{f.name}" if section.name else f.name
            if f.name in values and key not in wrong:
                _check(f, key, values[f.name], errors)
    from .checks import check_names  # the registries' checks, for the sections without a wrong type or value

    errors += check_names(cfg, given_data, skip={key.strip("[]").split(".")[0] for key, _ in errors})
    if errors:
        lines = [f"{source}: {_says(_short_key(key), message)}" for key, message in errors]
        error = ConfigError(_one_message(source, lines))
        error.errors = lines
        raise error
    return cfg


def _hidden_from_layers(given, model, errors):
    """[model] layers = [d_in, *hidden, d_out] sets hidden; a hidden that says otherwise is an error
    (one that agrees is fine: a run's saved config has both)."""
    layers = model.get("layers")
    if not isinstance(layers, list) or len(layers) < 2 or not _widths(layers):
        return  # a wrong value is reported by its own check
    if isinstance(given, dict) and "hidden" in given and given["hidden"] != layers[1:-1]:
        errors.append(("model.hidden", f"is {_short(given['hidden'])} but model.layers = {_short(layers)} has hidden "
                                       f"widths {layers[1:-1]}; give one of them"))
    else:
        model["hidden"] = list(layers[1:-1])


MAX_MESSAGE = 600  # one line a reader takes in at once


def _one_message(source, lines):
    """Every error on one line: in full if there is one; else each without its list of valid
    choices, as many in full as fit in MAX_MESSAGE and the rest by their key."""
    if len(lines) == 1:
        return _clip(lines[0], MAX_MESSAGE)
    head = f"{len(lines)} errors in {source}: "
    parts, budget = [], MAX_MESSAGE - len(head) - 80
    for k, line in enumerate(lines):
        part = _clip(_without_choices(line), 200)
        if len(part) + 2 > budget + (80 if k == len(lines) - 1 else 0):  # the last may use the reserve
            rest = ", ".join(_key_of(source, m) for m in lines[k:])
            parts.append(_clip(f"and {len(lines) - k} more: {rest}", max(budget, 60)))
            break
        parts.append(part)
        budget -= len(part) + 2
    return head + "; ".join(parts)


def _without_choices(line):
    """The line without its "; valid ..." list, keeping a "did you mean" that followed it."""
    head, _, rest = line.partition("; valid")
    hint = re.search(r"did you mean [^;]*\?", rest)
    return head + (f" ({hint.group(0)})" if hint else "")


def _key_of(source, line):
    return line[len(source) + 2:].split(" ", 1)[0].rstrip(":")


def _short_key(key, limit=60):
    return key if len(key) <= limit else key[:limit - 3] + "..."


def _clip(text, limit):
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _typed(f, key, value, errors):
    if value is None and f.default is None:
        return value
    if f.type is float and isinstance(value, int) and not isinstance(value, bool):
        if abs(value) > MAX_FLOAT_INT:  # float() would raise OverflowError
            errors.append((key, f"must be a float, found an integer of {value.bit_length()} bits, beyond the "
                                "largest float (about 1.8e308)"))
            return f.default
        return float(value)
    if f.type is int and isinstance(value, bool) or not isinstance(value, f.type):
        names = f.type.__name__ if isinstance(f.type, type) else " or ".join(t.__name__ for t in f.type)
        errors.append((key, f"must be {names}, found {_short(value)} ({type(value).__name__})"))
        return f.default
    return value


def _check(f, key, value, errors):
    if value is None and f.default is None:
        return
    if f.choices and value not in f.choices:
        errors.append((key, f"must be {_either(f.choices)}, found {_short(value)}"))
    elif f.rule is not None and not f.rule(value):
        errors.append((key, f"must {f.says}, found {_short(value)}"))


def _says(key, message):
    if key in message:
        return message
    return f"{key} {message}" if message.split(" ", 1)[0] in ("must", "is", "are") else f"{key}: {message}"


def _either(choices):
    names = [repr(c) for c in choices]
    return " or ".join(names) if len(names) == 2 else "one of " + ", ".join(names)


def _short(value, limit=100):
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def describe():
    """The schema as a commented TOML file: every key with its default and what it means."""
    lines = []
    for section in SECTIONS:
        if section.name:
            head = f"[{section.name}]"
            lines += ["", f"{head:<34} # {section.doc}" if section.doc else head]
        for f in section.fields:
            value = "..." if f.default in (None, UNSET) else _toml(f.default)
            doc = f.doc + (f" (one of {', '.join(map(repr, f.choices))})" if f.choices else "")
            assignment = f"{f.name} = {value}"
            lines.append(f"{assignment:<34} # {doc}")
        if section.extra_doc:
            lines.append(f"# {section.extra_doc}")
    return "\n".join(lines).strip("\n")


def _toml(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }" if value else "{}"
    return repr(value)
