"""The checks of a configuration that need the library's registries: the dataset, activation,
initializer, loss, optimizer and schedule names and their options.

``schema.complete`` runs them after the per-key checks, so a misspelt name is reported with
every other mistake of the config, before anything is built or written. Each check returns
a list of (section.key, message) pairs; an empty list means the section is fine.
"""

from __future__ import annotations

import inspect
import re

import numpy as np

from .. import data, nn, optim
from ..errors import ChainruleError, did_you_mean
from ..optim import registry

CSV_ONLY = ("path", "label", "features")


MAX_NAME = 100  # longer strings are not names: refused without a search for the closest one


def _too_long(cfg):
    """Name values too long to be names, as errors; a lookup would quote them in full."""
    m, activations = cfg["model"], cfg["model"]["activation"]
    pairs = [("data.name", cfg["data"]["name"]), ("model.init", m["init"]),
             *(("model.activation", a) for a in (activations if isinstance(activations, list) else [activations])),
             ("model.output_activation", m["output_activation"]), ("loss.name", cfg["loss"]["name"]),
             ("optimizer.name", cfg["optimizer"]["name"]), ("schedule.name", cfg["schedule"].get("name"))]
    return [(key, f"must be a name, found a string of {len(v)} characters: {v[:40]!r}...")
            for key, v in pairs if isinstance(v, str) and len(v) > MAX_NAME]


def check_names(cfg, given_data, skip=()):
    """Every (section.key, message) the registries find in a completed ``cfg``, leaving out the
    sections in ``skip`` (those with a wrong type already reported). ``given_data``: the [data]
    keys the user wrote (a default dataset name is not a choice)."""
    checks = {"data": lambda: check_data(cfg["data"], given_data), "model": lambda: check_model(cfg["model"]),
              "loss": lambda: check_loss(cfg["loss"]),
              "optimizer": lambda: check_optimizer(cfg["optimizer"], cfg["schedule"])}
    long_names = _too_long(cfg)
    skip = set(skip) | ({"optimizer"} if "schedule" in skip else set()) | {k.split(".")[0] for k, _ in long_names}
    errors = [*long_names, *(error for section, check in checks.items() if section not in skip for error in check())]
    if not errors and not skip & {"data", "model", "optimizer", "training", "limits", "dtype"}:
        errors = check_limits(cfg)  # the memory estimate needs every other part right
    return errors


def check_limits(cfg):
    """The run's estimated memory against [limits] memory_gb (``budget.py``)."""
    from .budget import check_config

    try:
        check_config(cfg)
    except ChainruleError as e:
        return [("limits.memory_gb", str(e))]
    return []


def check_data(d, given):
    name = d["name"]
    if name == "csv":
        out = [(f"data.{k}", "is needed for CSV data") for k in ("path", "label") if not d[k]]
        if d["options"]:
            out.append(("data.options", f"are options of a built-in dataset's generator; CSV data takes none, "
                                        f"found {', '.join(d['options'])}"))
        return out
    try:
        key, spec = data.registry._spec(name)
    except ChainruleError as e:
        return [("data.name", str(e))]
    wrong = [k for k in CSV_ONLY if d[k] is not None]
    if wrong:
        which = f"data.name = {name!r} is a built-in dataset" if "name" in given else \
            f"without a path the data is the default dataset {name!r}"
        how = ("remove name (a path means CSV data) or remove " + ", ".join(wrong)) if d["path"] is not None \
            else f'add path = "your.csv" for CSV data, or remove {", ".join(wrong)}'
        return [(f"data.{wrong[0]}", f"{' and '.join(wrong)} {'is' if len(wrong) == 1 else 'are'} for CSV data, "
                 f"but {which} with its own features and labels: {how}")]
    parameters = inspect.signature(spec.loader).parameters
    return [(f"data.options.{k}", f"dataset {key!r} has no parameter {k!r}{did_you_mean(k, parameters)}; "
             f"valid parameters: {', '.join(parameters) or 'none'}") for k in d["options"] if k not in parameters]


def check_model(m):
    out = []
    if m["init"] != "auto":
        try:
            nn.init.get(m["init"])
        except ChainruleError as e:
            out.append(("model.init", str(e)))
    activations = m["activation"] if isinstance(m["activation"], list) else [m["activation"]]
    if isinstance(m["activation"], list) and (len(activations) != len(m["hidden"]) or not all(
            isinstance(a, str) for a in activations)):
        out.append(("model.activation", f"must be one name, or a list of {len(m['hidden'])} names (one per hidden "
                                        f"layer of hidden = {m['hidden']}), found {m['activation']!r}"))
    else:
        out += _names("model.activation", activations, nn.activations.check_activation)
    out += _names("model.output_activation", [m["output_activation"]], nn.activations.check_activation)
    return out


def check_loss(loss):
    return [] if loss["name"] == "auto" else _names("loss.name", [loss["name"]], nn.losses.get)


def check_optimizer(o, s):
    """The optimizer and schedule, built over a one-number stand-in for the parameters, so
    every option and value the real run would refuse is refused here."""
    o, s = dict(o), dict(s)
    name, s_name = o.pop("name"), s.pop("name", None)
    try:
        cls, _ = registry.OPTIMIZERS[registry._lookup("optimizer", name, registry.OPTIMIZERS)]
        out = _unknown_options("optimizer", name, cls, o, ("self", "params"))
    except ChainruleError as e:
        out = [("optimizer.name", str(e))]
    if s_name is None and s:
        out.append(("schedule.name", "is needed: constant, step, exponential, cosine, warmup or plateau"))
    elif s_name is not None:
        try:
            s_cls = registry.SCHEDULES[registry._lookup("schedule", s_name, registry.SCHEDULES)]
            out += _unknown_options("schedule", s_name, s_cls, s, ("self",))
        except ChainruleError as e:
            out.append(("schedule.name", str(e)))
    if out:
        return out
    options = dict(o)
    lr = o.pop("learning_rate", None)
    try:
        if s_name is not None:  # a horizon the run derives is not known here (the data's size): any will do
            s = with_horizon({"name": s_name, **s}, total_steps=HORIZON_STANDIN)
            s.pop("name")
            lr = optim.get_schedule(s_name, learning_rate=lr if lr is not None else 0.01, **s)
    except (ChainruleError, TypeError, ValueError) as e:
        return [(_key_in("schedule", [*s, *inspect.signature(s_cls).parameters], str(e)), str(e))]
    try:
        optim.get(name, {"w": np.zeros(1)}, **o, **({} if lr is None else {"learning_rate": lr}))
    except (ChainruleError, TypeError, ValueError) as e:
        return [(_key_in("optimizer", [*options, *inspect.signature(cls).parameters], str(e)), str(e))]
    return []


def layers_mismatch(layers, d_in, d_out):
    """The one-line error for a [model] layers list whose input or output width is not the data's."""
    wrong = [f"{which} width {given} but the data needs {need} ({what})"
             for which, given, need, what in (("input", layers[0], d_in, "its features"),
                                              ("output", layers[-1], d_out, "classes or target columns"))
             if given != need]
    return (f"model.layers = {layers} has {' and '.join(wrong)}: write layers = {[d_in, *layers[1:-1], d_out]} "
            f"(or hidden = {list(layers[1:-1])}, and the data sets both ends)")


HORIZON_STANDIN = 1000  # steps, for checking a schedule whose horizon the run derives


def with_horizon(schedule, total_steps):
    """The [schedule] table with the horizons it leaves out derived from the run's ``total_steps``
    (epochs × steps per epoch), so that its learning rate reaches its floor at the last step.

    cosine: ``total_steps`` = total − 1 (the schedule is called with the steps already taken, so
    the last step is step total − 1, and there lr = min_lr). warmup with ``then = { name =
    "cosine" }``: the cosine's horizon is what the warmup leaves of it. A horizon given is kept."""
    schedule = dict(schedule)
    name = _registered_schedule(schedule.get("name"))
    last = max(1, int(total_steps) - 1)
    if name == "cosine" and "total_steps" not in schedule:
        schedule["total_steps"] = last
    elif name == "linear_warmup" and isinstance(schedule.get("then"), dict):
        warmup = schedule.get("warmup_steps")
        if isinstance(warmup, int) and not isinstance(warmup, bool):
            schedule["then"] = with_horizon(schedule["then"], max(2, total_steps - warmup))
    return schedule


def _registered_schedule(name):
    try:
        return registry._lookup("schedule", name, registry.SCHEDULES)
    except ChainruleError:
        return None  # reported by check_optimizer


def _key_in(section, options, message):
    """section.key for the first option ``message`` names, else [section]."""
    named = [k for k in options if re.search(rf"\b{re.escape(k)}\b", message)]
    return f"{section}.{named[0]}" if named else f"[{section}]"


def _unknown_options(section, name, cls, options, skip):
    out = []
    for key in options:
        try:
            registry._check_arguments(name, cls, {key: options[key]}, skip)
        except ChainruleError as e:
            out.append((f"{section}.{key}", str(e)))
    return out


def _names(key, names, check):
    out = []
    for n in names:
        try:
            check(n)
        except ChainruleError as e:
            out.append((key, str(e)))
    return out
