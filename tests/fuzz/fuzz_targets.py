"""Fuzz targets for chainrule's loaders, shared by the in-suite hypothesis test
(tests/reliability/test_fuzz_loaders.py), the standalone runner (run_fuzz.py) and the
atheris harness (atheris_fuzz.py).

Each target takes bytes, puts them where a loader will read them (in a working folder that
otherwise holds valid files), calls the loader and classifies the outcome:

- "accepted": the loader returned normally (the mutation left a valid file);
- "clean": a ChainruleError with a one-line message — the only acceptable failure;
- anything else raises ``Unclean`` carrying the original exception.

``mutations(seed_bytes, rng)`` turns a valid file into a truncated, bit-flipped, spliced or
structurally altered one; ``crafted_*`` build hand-made hostile files (headers with wrong
offsets, negative or huge shapes, unknown dtypes, non-UTF-8 bytes, deeply nested JSON).
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import struct
import warnings
from pathlib import Path

import numpy as np

from chainrule import nn, runs
from chainrule.data import load_csv
from chainrule.errors import ChainruleError
from chainrule.runs import load_config
from chainrule.saving import load_model, load_weights, save_model
from chainrule.saving.checksums import write_checksums
from chainrule.saving.weights import read_header
from chainrule.train import EarlyStopping, Trainer
from chainrule.train.checkpoint import (
    CHECKSUMS,
    STATE,
    TENSORS,
    Checkpoint,
    latest_checkpoint,
    read_checkpoint,
    restore,
)

MAX_MESSAGE = 600  # a "one-line" message is also a short one


class Unclean(Exception):
    """A loader failed in a way other than a one-line ChainruleError."""

    def __init__(self, target, error):
        super().__init__(f"{target}: {type(error).__name__}: {str(error)[:300]!r}")
        self.target, self.error = target, error


CONFIG = """seed = 2
dtype = "float64"
[data]
name = "moons"
val_fraction = 0.25
options = { n = 60, noise = 0.1 }
[model]
hidden = [8, 4]
activation = ["relu", "tanh"]
dropout = 0.1
[optimizer]
name = "adam"
learning_rate = 0.01
betas = [0.9, 0.99]
[schedule]
name = "plateau"
patience = 3
[training]
epochs = 5
batch_size = 8
checkpoint_every_steps = 4
on_divergence = "rollback"
[output]
plots = false
"""

CSV = "a,b,label\n0.5,1,cat\n-1.25,2e3,dog\n3,-0.0,cat\n1e-5,7,bird\n"


def _trainer(directory=None):
    model = nn.MLP([3, 5, 2], activation="relu", batchnorm=True, dropout=0.1)
    callbacks = [EarlyStopping("loss", patience=50)]
    if directory is not None:
        callbacks.append(Checkpoint(directory, every_steps=3))
    return Trainer(model, optimizer="adam", learning_rate={"name": "plateau", "learning_rate": 0.01, "patience": 2},
                   batch_size=4, seed=1, verbose=0, callbacks=callbacks)


class Workspace:
    """Valid seed files in ``root`` and one target function per loader."""

    def __init__(self, root):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        model = nn.MLP([3, 4, 2], activation="tanh", batchnorm=True)
        model.init(seed=0)
        save_model(model, self.root / "model")
        rng = np.random.default_rng(0)
        X, y = rng.standard_normal((10, 3)), rng.integers(0, 2, 10)
        trainer = _trainer(self.root / "ckpts")
        trainer.fit(X, y, epochs=2)  # checkpoints mid-epoch (steps 3, 6) and at the end (step 6)
        self.ckpt = sorted((self.root / "ckpts").iterdir())[-1]
        (self.root / "c.toml").write_text(CONFIG)
        (self.root / "d.csv").write_text(CSV)
        self.seeds = {
            "weights": (self.root / "model" / "model.safetensors").read_bytes(),
            "model_json": (self.root / "model" / "model.json").read_bytes(),
            "ckpt_state": (self.ckpt / STATE).read_bytes(),
            "ckpt_state_resummed": (self.ckpt / STATE).read_bytes(),
            "ckpt_tensors_resummed": (self.ckpt / TENSORS).read_bytes(),
            "ckpt_checksums": (self.ckpt / CHECKSUMS).read_bytes(),
            "config": CONFIG.encode(),
            "csv": CSV.encode(),
            "model_checksums": (self.root / "model" / "checksums.json").read_bytes(),
        }
        # a finished run folder (tiny: a second of training) for load_run's files
        runs.train({"data": {"name": "moons", "options": {"n": 40}}, "model": {"hidden": [4]},
                    "training": {"epochs": 1}, "output": {"plots": False, "record": False}},
                   run_dir=self.root / "run", verbose=0)
        self.run_X = np.array([[0.5, -0.25], [1.0, 0.0]])
        self.seeds["run_preprocessing"] = (self.root / "run" / "preprocessing.json").read_bytes()
        self.seeds["run_manifest"] = (self.root / "run" / "manifest.json").read_bytes()
        self.seeds["weights_resealed"] = self.seeds["weights"]
        self.seeds["model_json_resealed"] = self.seeds["model_json"]
        self.pristine = {k: v for k, v in self.seeds.items()}
        self.targets = {
            "weights": self._weights,
            "model_json": self._model_json,
            "ckpt_state": self._ckpt_state,
            "ckpt_state_resummed": self._ckpt_state_resummed,
            "ckpt_tensors_resummed": self._ckpt_tensors_resummed,
            "ckpt_checksums": self._ckpt_checksums,
            "config": self._config,
            "csv": self._csv,
            "model_checksums": self._model_checksums,
            "weights_resealed": self._weights_resealed,
            "model_json_resealed": self._model_json_resealed,
            "run_preprocessing": self._run_preprocessing,
            "run_manifest": self._run_manifest,
        }

    # -- running one input -----------------------------------------------------------------------
    def run(self, target, data):
        """'accepted' or 'clean'; raises Unclean otherwise. The workspace is restored afterwards."""
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self.targets[target](data)
            return "accepted"
        except ChainruleError as e:
            message = str(e)
            if "\n" in message or not message.strip() or len(message) > MAX_MESSAGE:
                raise Unclean(target, e) from e
            return "clean"
        except Exception as e:  # noqa: BLE001 - classifying every failure is the point
            raise Unclean(target, e) from e
        finally:
            self._reset(target)

    def _reset(self, target):
        if target.startswith(("weights", "model_")):
            for name, key in (("model.safetensors", "weights"), ("model.json", "model_json"),
                              ("checksums.json", "model_checksums")):
                (self.root / "model" / name).write_bytes(self.pristine[key])
        elif target.startswith("run_"):
            for name, key in (("preprocessing.json", "run_preprocessing"), ("manifest.json", "run_manifest")):
                (self.root / "run" / name).write_bytes(self.pristine[key])
        elif target.startswith("ckpt"):
            for name, key in ((STATE, "ckpt_state"), (TENSORS, "ckpt_tensors_resummed"),
                              (CHECKSUMS, "ckpt_checksums")):
                (self.ckpt / name).write_bytes(self.pristine[key])
            for extra in self.ckpt.parent.iterdir():  # nothing else may appear
                if extra.name.startswith("."):
                    shutil.rmtree(extra, ignore_errors=True)

    # -- the targets -------------------------------------------------------------------------------
    def _weights(self, data):
        path = self.root / "model" / "model.safetensors"
        path.write_bytes(data)
        read_header(path)
        load_weights(path)
        load_model(self.root / "model")

    def _model_json(self, data):
        (self.root / "model" / "model.json").write_bytes(data)
        load_model(self.root / "model")

    def _model_checksums(self, data):  # a damaged checksums file: refused (or, if it still fits, accepted)
        (self.root / "model" / "checksums.json").write_bytes(data)
        load_model(self.root / "model")

    def _reseal(self):
        write_checksums(self.root / "model", ["model.json", "model.safetensors"])

    def _weights_resealed(self, data):  # hand-crafted: checksums recomputed, so validation must catch it
        (self.root / "model" / "model.safetensors").write_bytes(data)
        self._reseal()
        load_model(self.root / "model")

    def _model_json_resealed(self, data):
        (self.root / "model" / "model.json").write_bytes(data)
        self._reseal()
        load_model(self.root / "model")

    def _run_preprocessing(self, data):  # hand-crafted: the manifest's checksum recomputed, so the
        # content checks must answer (classes, features, task, statistics against the model)
        path = self.root / "run" / "preprocessing.json"
        path.write_bytes(data)
        manifest = json.loads(self.pristine["run_manifest"])
        manifest["sha256"]["preprocessing.json"] = hashlib.sha256(data).hexdigest()
        (self.root / "run" / "manifest.json").write_text(json.dumps(manifest))
        loaded = runs.load_run(self.root / "run")
        loaded.predict(self.run_X)
        loaded.predict_proba(self.run_X)

    def _run_manifest(self, data):
        (self.root / "run" / "manifest.json").write_bytes(data)
        runs.load_run(self.root / "run").predict(self.run_X)

    def _restore(self, newest_only=False):
        """latest_checkpoint falls back to an older checkpoint when the newest is bad; with
        ``newest_only`` the newest one is read and restored directly, so its validation is what answers."""
        trainer = _trainer(self.root / "unused")
        if newest_only:
            arrays, state = read_checkpoint(self.ckpt, trainer)
        else:
            _, arrays, state = latest_checkpoint(self.ckpt.parent, trainer)
        restore(trainer, arrays, state)

    def _resum(self):
        sums = {"format": "chainrule-checkpoint", "sha256": {
            n: hashlib.sha256((self.ckpt / n).read_bytes()).hexdigest() for n in (STATE, TENSORS)}}
        (self.ckpt / CHECKSUMS).write_text(json.dumps(sums))

    def _ckpt_state(self, data):  # corrupted: the checksum must catch it (an older checkpoint is used)
        (self.ckpt / STATE).write_bytes(data)
        self._restore()

    def _ckpt_state_resummed(self, data):  # hand-crafted: checksums recomputed, so validation must catch it
        (self.ckpt / STATE).write_bytes(data)
        self._resum()
        self._restore(newest_only=True)

    def _ckpt_tensors_resummed(self, data):
        (self.ckpt / TENSORS).write_bytes(data)
        self._resum()
        self._restore(newest_only=True)

    def _ckpt_checksums(self, data):
        (self.ckpt / CHECKSUMS).write_bytes(data)
        self._restore()

    def _config(self, data):
        path = self.root / "c.toml"
        path.write_bytes(data)
        load_config(path)

    def _csv(self, data):
        path = self.root / "d.csv"
        path.write_bytes(data)
        load_csv(path, label="label")
        load_csv(path, label=None, features=["a"])


# -- mutations ------------------------------------------------------------------------------------

NASTY_TEXT = [b"", b"-1", b"0", b"1e308", b"-1e308", b"NaN", b"Infinity", b"-0", b"99999999999999999999999",
              b"18446744073709551615", b"9" * 5000, b"\xff\xfe", b"\x00", b"[[[[[[[[", b"{", b"}", b'"', b",",
              b"\n", b"\r\n", b"\\u0000", b"true", b"null", b"[]", b"{}", b"F64", b"BF16", b"U8", b"I64"]
NASTY_JSON = [None, True, False, 0, -1, 1, 2**31, 2**63, 2**64 + 1, -(2**63), 10**400, 1e308, -1e308, 0.5,
              float("nan"), float("inf"), "", "x", "F64", "F16", "BF16", "\u00e9\ud7ff", [], {}, [0], [-1],
              [2**40, 2**40], [1, 2, 3], {"a": 1}, [[[]]], "float32", "float64", "a" * 10_000]


def deep_json(depth, kind="list"):
    return ("[" * depth + "]" * depth) if kind == "list" else ('{"a":' * depth + "1" + "}" * depth)


def mutate_bytes(data, rng):
    """One random byte-level mutation of ``data``."""
    data = bytearray(data)
    op = rng.randrange(7)
    n = len(data)
    if op == 0 or n == 0:  # truncate
        return bytes(data[: rng.randrange(n + 1)]) if n else bytes(rng.randrange(256) for _ in range(rng.randrange(9)))
    if op == 1:  # flip bits
        for _ in range(rng.randint(1, 8)):
            i = rng.randrange(n)
            data[i] ^= 1 << rng.randrange(8)
        return bytes(data)
    if op == 2:  # overwrite a byte range with random bytes
        i = rng.randrange(n)
        k = rng.randint(1, 16)
        data[i : i + k] = bytes(rng.randrange(256) for _ in range(k))
        return bytes(data)
    if op == 3:  # insert a nasty token
        i = rng.randrange(n + 1)
        data[i:i] = rng.choice(NASTY_TEXT)
        return bytes(data)
    if op == 4:  # delete a range
        i = rng.randrange(n)
        del data[i : i + rng.randint(1, 64)]
        return bytes(data)
    if op == 5:  # duplicate a chunk
        i = rng.randrange(n)
        chunk = data[i : i + rng.randint(1, 256)]
        j = rng.randrange(n + 1)
        data[j:j] = chunk
        return bytes(data)
    # replace a number-looking run with a nasty token
    digits = [i for i, b in enumerate(data) if chr(b).isdigit()]
    if not digits:
        return bytes(data)
    i = rng.choice(digits)
    j = i
    while j < n and chr(data[j]).isdigit():
        j += 1
    data[i:j] = rng.choice(NASTY_TEXT)
    return bytes(data)


def _paths(obj, prefix=()):
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj[:8]):
            yield from _paths(v, (*prefix, i))


def mutate_json(data, rng):
    """Parse ``data`` as JSON, replace / delete / add one value somewhere inside, dump it back."""
    try:
        obj = json.loads(data)
    except ValueError:
        return mutate_bytes(data, rng)
    paths = list(_paths(obj))
    path = rng.choice(paths)
    value = rng.choice(NASTY_JSON)
    if not path:
        obj = value
    else:
        parent = obj
        for key in path[:-1]:
            parent = parent[key]
        key = path[-1]
        action = rng.randrange(4)
        if action == 0 and isinstance(parent, dict):
            del parent[key]
        elif action == 1 and isinstance(parent, dict):
            parent[rng.choice(["extra", "format", "dtype", str(key) + "x"])] = value
        else:
            parent[key] = value
    return json.dumps(obj).encode()


def _split_safetensors(data):
    n = struct.unpack("<Q", data[:8])[0]
    return json.loads(data[8 : 8 + n]), data[8 + n :]


def _join_safetensors(header, body, length=None):
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw) if length is None else length) + raw + body


def mutate_safetensors(data, rng):
    """Structural mutations of a safetensors file: its header's fields, its length prefix, its body."""
    try:
        header, body = _split_safetensors(data)
    except (ValueError, struct.error):
        return mutate_bytes(data, rng)
    names = [k for k in header if k != "__metadata__"]
    op = rng.randrange(8)
    if op == 0 and names:  # a field of one tensor's entry
        entry = header[rng.choice(names)]
        field = rng.choice(["dtype", "shape", "data_offsets"])
        entry[field] = rng.choice(NASTY_JSON + [[0, 0], [0, 10**12], [-8, 0], [16, 8], [2, 3, -1], [10**6, 10**6],
                                                [2**62, 4], [1] * 70, "I8", "BOOL", "U64", "F8_E4M3"])
    elif op == 1:  # a length prefix that lies
        return _join_safetensors(header, body, rng.choice([0, 1, 7, 2**63, 2**64 - 1, 100_000_001,
                                                           len(json.dumps(header)) + rng.randint(-9, 9)]))
    elif op == 2:  # a deeply nested header
        return struct.pack("<Q", 2 * 5000) + deep_json(5000).encode() + body
    elif op == 3:  # a non-UTF-8 header
        raw = json.dumps(header).encode()
        raw = raw[:5] + b"\xc3\x28\xff" + raw[8:]
        return struct.pack("<Q", len(raw)) + raw + body
    elif op == 4:  # a huge declared tensor with matching offsets but no data
        header[rng.choice(names) if names else "x"] = {"dtype": "F64", "shape": [10**6, 10**6],
                                                        "data_offsets": [0, 8 * 10**12]}
    elif op == 5:  # body truncated or padded
        body = body[: rng.randrange(len(body) + 1)] if rng.random() < 0.5 else body + b"\0" * rng.randint(1, 64)
    elif op == 6:  # metadata that is not str -> str
        header["__metadata__"] = rng.choice(NASTY_JSON)
    else:  # an extra or a missing tensor
        if names and rng.random() < 0.5:
            del header[rng.choice(names)]
        else:
            end = max((e["data_offsets"][1] for k, e in header.items() if k != "__metadata__"), default=0)
            header["extra"] = {"dtype": "F32", "shape": [2], "data_offsets": [end, end + 8]}
            body = body + b"\0" * 8
    return _join_safetensors(header, body)


def crafted(target, seed_bytes, rng):
    """A hand-crafted or mutated input for ``target``."""
    if target in ("weights", "weights_resealed", "ckpt_tensors_resummed"):
        return mutate_safetensors(seed_bytes, rng) if rng.random() < 0.6 else mutate_bytes(seed_bytes, rng)
    if target in ("model_json", "model_json_resealed", "model_checksums", "run_preprocessing", "run_manifest",
                  "ckpt_state", "ckpt_state_resummed", "ckpt_checksums"):
        r = rng.random()
        if r < 0.08:
            return deep_json(rng.choice([100, 1000, 100_000]), rng.choice(["list", "dict"])).encode()
        if r < 0.12:
            return seed_bytes[:10] + b"\xff\xfe\xfd" + seed_bytes[10:]
        return mutate_json(seed_bytes, rng) if r < 0.7 else mutate_bytes(seed_bytes, rng)
    if target == "config":
        r = rng.random()
        if r < 0.08:
            return b"a = " + deep_json(rng.choice([100, 1000, 50_000])).encode()
        if r < 0.12:
            return b"[data]\nname = \"\xff\xfe\"\n"
        return mutate_bytes(seed_bytes, rng)
    return mutate_bytes(seed_bytes, rng)  # csv


def fuzz(workspace, n, seed=0, log=None):
    """Run ``n`` random inputs round-robin over the targets; return (counts, unclean examples)."""
    rng = random.Random(seed)
    names = list(workspace.targets)
    counts = {t: {"tried": 0, "accepted": 0, "clean": 0, "unclean": 0} for t in names}
    unclean = []
    for i in range(n):
        target = names[i % len(names)]
        data = crafted(target, workspace.seeds[target], rng)
        if rng.random() < 0.3:  # stack a second mutation
            data = mutate_bytes(data, rng)
        counts[target]["tried"] += 1
        try:
            counts[target][workspace.run(target, data)] += 1
        except Unclean as e:
            counts[target]["unclean"] += 1
            unclean.append((target, data, e))
            if log is not None:
                log(f"UNCLEAN {e}")
    return counts, unclean
