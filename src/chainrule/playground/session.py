"""One page's session: its settings, data, training and timeline, and the answer to each message.

A handler returns the messages to send back: dicts (JSON text frames) and bytes (binary
frames). Nothing here knows the socket; ``server.py`` runs the play loop and the transport.
"""

from __future__ import annotations

import copy
import secrets
from types import SimpleNamespace

from .. import _version
from ..errors import ConfigError
from . import frames, playdata
from .messages import point, target
from .settings import REBUILD_KEYS, check_settings, options
from .timeline import Timeline, interval
from .training import Training
from .views import Views, gradient_norms, weights


class Session:
    def __init__(self, settings=None):
        self.id = secrets.token_urlsafe(12)
        self.backward = False
        self.data_round = 0
        self.settings = check_settings(settings or {})
        self.uploaded = None  # (task, points, targets) of an uploaded CSV
        self.warned = None  # the last warnings sent
        self._rebuild(new_data=True)

    # -- building --------------------------------------------------------------------------------
    def _data(self):
        if self.settings["dataset"] == "upload" and self.uploaded is not None:
            task, points, targets = self.uploaded
            return playdata.split(task, points, targets, self.settings)
        return playdata.generated(self.settings, self.data_round)

    def _rebuild(self, new_data=True):
        data = self._data() if new_data else self.training.data
        self.training = Training(self.settings, data)
        self.views = Views(self.settings["features"])
        self.timeline = Timeline()
        self._snapshot()
        self._reseed()

    def _reseed(self):
        """Seeds side by side start again (from step 0) for the network as it is now."""
        from .seeds import Seeds

        self.seeds = Seeds(self.settings, self.training) if self.settings["seeds"] > 1 else None

    def _snapshot(self):
        t = self.training
        self.timeline.take(t.step_count, t.snapshot(), self.settings)
        self.timeline.record(t.step_count, *map(frames.finite, t.losses()))

    def frozen(self):
        """What the exports read, copied now: they run in a worker thread while training goes on."""
        t = self.training
        config = t.config()
        training = SimpleNamespace(model=copy.deepcopy(t.model), data=t.data, step_count=t.step_count,
                                   epoch=t.epoch, config=lambda: config)
        return SimpleNamespace(settings=copy.deepcopy(self.settings), training=training)

    # -- messages --------------------------------------------------------------------------------
    def hello(self):
        return {"type": "hello", "session": self.id, "version": _version.__version__, "options": options()}

    def network_message(self, reset=True):
        t = self.training
        sizes = [t.data.d_in, *[layer["units"] for layer in self.settings["layers"]], t.data.d_out()]
        return {"type": "network", "reset": reset, "sizes": sizes, "features": list(self.settings["features"]),
                "layers": copy.deepcopy(self.settings["layers"]), "step": t.step_count,
                "settings": copy.deepcopy(self.settings)}

    def data_frame(self):
        t = self.training
        return frames.pack("data", [("train", t.data.as_rows("train")), ("test", t.data.as_rows("test"))],
                           step=t.step_count, epoch=t.epoch, train_loss=None, test_loss=None)

    def frame(self):
        t = self.training
        train_loss, test_loss = map(frames.finite, t.losses())
        arrays = [("surface", self.views.surface(t)), ("neurons", self.views.neurons(t)), *weights(t),
                  ("grad_norms", gradient_norms(t))]
        if self.backward:
            from .backward import backward_arrays

            arrays += backward_arrays(t)
        if self.seeds is not None:
            arrays += [("surfaces", self.seeds.surfaces(self.views.surface_inputs, self.views.size)),
                       ("seed_losses", self.seeds.losses())]
        return frames.pack("frame", arrays, step=t.step_count, epoch=t.epoch, train_loss=train_loss,
                           test_loss=test_loss)

    def train(self, n):
        """n steps, with the timeline's snapshots taken where due and the loss curve recorded."""
        t, left = self.training, int(n)
        while left > 0:
            every = interval(t.step_count)
            chunk = min(left, every - t.step_count % every)
            t.steps(chunk)
            left -= chunk
            if t.step_count % every == 0:
                self._snapshot()
        if self.seeds is not None:
            self.seeds.catch_up(t.step_count)

    def warnings(self):
        """[a warnings message] when the recorder's findings changed since the last one sent, else []."""
        from .health import warnings_message

        message = warnings_message(self.training)
        if message == self.warned:
            return []
        self.warned = message
        return [message]

    def record_losses(self):
        t = self.training
        self.timeline.record(t.step_count, *map(frames.finite, t.losses()))

    def handle(self, message):
        """The answers to one checked message (``messages.parse``); play/pause are the server's."""
        kind = message["type"]
        if kind == "settings":
            return self.apply_settings(message["settings"])
        if kind == "step":  # (n = 0: the server trained them already, in slices)
            self.train(message.get("n", 1))
            self.record_losses()
            return [self.frame(), self.timeline.message(), *self.warnings()]
        if kind == "reset":
            self._rebuild(new_data=False)
            return [self.network_message(), self.frame(), self.timeline.message()]
        if kind == "regenerate":
            self.data_round += 1
            self._rebuild(new_data=True)
            return [self.network_message(), self.data_frame(), self.frame(), self.timeline.message()]
        if kind == "view":
            self.backward = message["backward"]
            return [self.frame()]
        if kind == "set_weight":
            return self.set_weight(message)
        if kind == "add_point":
            return self.add_point(message)
        if kind == "backprop":
            from .backprop import backprop_message

            return [backprop_message(self.training, point(message), message.get("target"))]
        if kind == "upload":
            from .upload import read_upload

            uploaded = read_upload(message["csv"], message.get("problem", self.settings["problem"]))
            task = uploaded[0]
            loss = self.settings["loss"] if task == self.settings["problem"] else \
                ("cross_entropy" if task == "classification" else "mse")
            new = check_settings({"dataset": "upload", "problem": task, "loss": loss}, base=self.settings)
            self.uploaded, self.settings = uploaded, new
            self._rebuild(new_data=True)
            return [self.network_message(), self.data_frame(), self.frame(), self.timeline.message()]
        if kind == "rewind":
            return self.rewind(message["snapshot"])
        raise ConfigError(f"message type {kind!r} is not handled here")

    def apply_settings(self, raw):
        new = check_settings(raw, base=self.settings)
        if new["dataset"] == "upload" and self.uploaded is None:
            raise ConfigError("dataset upload needs an uploaded CSV first (send an upload message)")
        changed = [k for k in REBUILD_KEYS if new[k] != self.settings[k]]
        old = self.settings
        self.settings = new
        if not changed:
            self.training.apply_live(new)
            self._reseed()
            return [self.network_message(reset=False), self.frame()]
        if changed == ["layers"] and _same_shapes(old["layers"], new["layers"]):  # activations: same weights
            self.record_losses()  # the old branch's curve ends here
            state, timeline = self.training.snapshot(), self.timeline
            self._rebuild(new_data=False)
            self.training.restore(state)
            self.timeline = timeline  # a new branch from here: both loss curves stay to compare
            self.timeline.branch_from({"branch": timeline.branch["id"], "step": self.training.step_count})
            self._snapshot()
            self._reseed()
            return [self.network_message(reset=False), self.frame(), self.timeline.message()]
        data_keys = ("problem", "dataset", "noise", "train_percent", "points", "seed", "features")
        self._rebuild(new_data=any(k in changed for k in data_keys))
        return [self.network_message(), self.data_frame(), self.frame(), self.timeline.message()]

    def set_weight(self, m):
        t = self.training
        layer = m["layer"]
        if layer >= len(t.network.dense):
            raise ConfigError(f"layer must be a dense layer index in [0, {len(t.network.dense) - 1}], found {layer}")
        array = t.model.params[t.network.dense[layer] + m["param"]]
        index = (m["row"], m["col"]) if m["param"] == "weight" else (m["row"],)
        if any(i >= n for i, n in zip(index, array.shape)):
            raise ConfigError(f"{m['param']} of layer {layer} has shape {list(array.shape)}, found index {list(index)}")
        array[index] = float(m["value"])  # in place: the optimizer holds this very array
        t.edited()
        return [self.frame()]

    def add_point(self, m):
        t = self.training
        value = target(m)
        if t.data.task == "classification":
            if not (isinstance(value, int) and 0 <= value < max(t.data.n_classes, 2)):
                raise ConfigError(f"target must be a class index in [0, {t.data.n_classes - 1}], found {value!r}")
        if len(t.data.points) >= 10_000:
            raise ConfigError("the data already hold the 10000 points allowed")
        state = t.snapshot()
        self.training = Training(self.settings, t.data.with_point(point(m), value))
        self.training.restore(state)
        self._reseed()
        return [self.data_frame(), self.frame()]

    def rewind(self, snapshot_id):
        snap = self.timeline.find(snapshot_id)
        if snap is None:
            ids = [s["id"] for s in self.timeline.snapshots]
            raise ConfigError(f"no snapshot {snapshot_id}; snapshots: {ids[:50]}")
        self.record_losses()  # the branch left keeps its curve up to here
        if snap["settings"]["layers"] != self.settings["layers"]:
            self.settings = copy.deepcopy(snap["settings"])
            self.training = Training(self.settings, self.training.data)
        else:
            self.training.apply_live(snap["settings"])
            self.settings = copy.deepcopy(snap["settings"])
        self.training.restore(snap["state"])
        self._reseed()
        self.timeline.branch_from(snap)
        self.record_losses()
        return [self.network_message(reset=False), self.frame(), self.timeline.message()]


def _same_shapes(old, new):
    return [layer["units"] for layer in old] == [layer["units"] for layer in new]
