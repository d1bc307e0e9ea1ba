"""The training state: everything a resume needs besides the network's arrays and the optimizer.

``TrainState`` holds where training is (epoch, step, the next batch of the epoch and the running
loss of the partial epoch), what it has produced (the history), how the divergence guard has
changed it (learning-rate scale, rollbacks) and its randomness (the dropout generator; the data
order is a function of the batcher's configuration, the seed and the epoch, see ``Batcher``).
The Trainer holds one; its ``state_dict()`` is this plus the parameters, buffers, optimizer
and callback state, and that is what a checkpoint file holds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..constraints import is_count
from ..errors import CheckpointError

# The most bytes one number can take in a state.json (``json.dumps(indent=1)``): a float's repr is
# at most 24 characters ('-2.2250738585072014e-308'), then ',\n' and one space of indent per level
# (states nest fewer than 20 levels). A state's size bound counts its numbers at this price.
JSON_NUMBER_BYTES = 48
# The TrainState's fixed fields (position, batcher configuration, generator state, divergence) and
# the optimizer's scalars take a few KiB; this is their bound, with room to spare.
FIXED_STATE_BYTES = 1 << 20


@dataclass
class TrainState:
    epoch: int = 0  # epochs completed
    step: int = 0  # optimizer steps taken
    batch_index: int = 0  # the next batch of the current epoch
    loss_sum: float = 0.0  # Σ loss·|batch| so far this epoch
    samples: int = 0  # Σ |batch| so far this epoch
    data: dict | None = None  # the batcher's configuration (n, batch_size, seed, shuffle, drop_last)
    history: dict = field(default_factory=dict)  # {metric: [value per epoch]}
    lr_scale: float = 1.0  # the learning rate × this (lowered by each rollback)
    rollbacks: int = 0
    dropout_rng: np.random.Generator = field(default_factory=np.random.default_rng)
    last_finite_loss: float | None = None
    stop_reason: str | None = None
    stop_training: bool = False  # a request of this fit (not saved: a resumed run trains on)

    def to_dict(self):
        """The state as JSON-ready values (the history and generator state are copies)."""
        return {
            "epoch": self.epoch, "step": self.step,
            "position": {"batch_index": self.batch_index, "loss_sum": self.loss_sum, "samples": self.samples,
                         "data": None if self.data is None else dict(self.data)},
            "history": {k: list(v) for k, v in self.history.items()},
            "divergence": {"lr_scale": self.lr_scale, "rollbacks": self.rollbacks},
            "dropout_rng": self.dropout_rng.bit_generator.state,
            "last_finite_loss": self.last_finite_loss,
            "stop_reason": self.stop_reason if self.stop_training else None,
        }

    def load_dict(self, s):
        """Set this state from ``to_dict()``'s form (validated by ``check_state_dict`` first).

        The dropout generator keeps its identity (its state is set in place)."""
        check_train_state("training state", s)
        pos, div = s["position"], s["divergence"]
        self.dropout_rng.bit_generator.state = s["dropout_rng"]
        self.epoch, self.step = int(s["epoch"]), int(s["step"])
        self.batch_index, self.samples, self.loss_sum = int(pos["batch_index"]), int(pos["samples"]), \
            float(pos["loss_sum"])
        self.data = None if pos["data"] is None else dict(pos["data"])
        self.history = {k: list(v) for k, v in s["history"].items()}
        self.lr_scale, self.rollbacks = float(div["lr_scale"]), int(div["rollbacks"])
        self.last_finite_loss = s["last_finite_loss"]
        self.stop_reason = s.get("stop_reason")

    @staticmethod
    def bytes_bound(steps, n_metrics):
        """The most bytes this state (and the optimizer's scalars) can take in a state.json after
        ``steps`` optimizer steps with ``n_metrics`` history metrics: its fixed fields, plus one
        history row per epoch (an epoch has at least one step, so at most ``steps + 1`` rows)."""
        return FIXED_STATE_BYTES + (steps + 1) * n_metrics * JSON_NUMBER_BYTES

    def start_epoch(self):
        """The current epoch is complete: count it and clear its position and running sums."""
        self.epoch += 1
        self.batch_index, self.loss_sum, self.samples = 0, 0.0, 0



def _is_number(x):
    return isinstance(x, int | float) and not isinstance(x, bool)


def _is_finite(x):
    try:
        return _is_number(x) and math.isfinite(x)
    except OverflowError:  # an integer beyond float range
        return False


def _needer(where):
    def need(ok, what):
        if not ok:
            raise CheckpointError(f"{where} is not a valid checkpoint state: {what}")
    return need


def check_state_dict(where, s):
    """Raise CheckpointError unless ``s`` has the structure of a Trainer's ``state_dict()``'s
    JSON part: the ``TrainState`` fields, the optimizer's scalars and the callbacks' states."""
    need = _needer(where)
    check_train_state(where, s)
    need(isinstance(s.get("optimizer"), dict), "optimizer must be an object")
    need(isinstance(s.get("callbacks"), list) and all(
        c is None or (isinstance(c, dict) and isinstance(c.get("type"), str) and isinstance(c.get("state"), dict))
        for c in s["callbacks"]), "callbacks must be a list of null or {type, state} objects")


def check_train_state(where, s):
    """Raise CheckpointError unless ``s`` has the structure ``TrainState.to_dict`` writes."""
    need = _needer(where)
    need(isinstance(s, dict), "expected an object")
    need(is_count(s.get("epoch")) and is_count(s.get("step")), "epoch and step must be non-negative integers")
    pos = s.get("position")
    need(isinstance(pos, dict) and is_count(pos.get("batch_index")) and is_count(pos.get("samples"))
         and _is_finite(pos.get("loss_sum")),
         "position must hold batch_index, samples (non-negative integers) and a finite loss_sum")
    data = pos.get("data")
    need(data is None or (isinstance(data, dict) and all(is_count(data.get(k)) for k in ("n", "batch_size", "seed"))
                          and all(isinstance(data.get(k), bool) for k in ("shuffle", "drop_last"))),
         "position.data must describe the batcher (n, batch_size, seed, shuffle, drop_last)")
    hist = s.get("history")
    need(isinstance(hist, dict) and all(isinstance(v, list) and all(x is None or _is_number(x) for x in v)
                                        for v in hist.values()), "history must map names to lists of numbers")
    need(s.get("last_finite_loss") is None or _is_number(s["last_finite_loss"]), "last_finite_loss must be a number")
    need(s.get("stop_reason") is None or isinstance(s["stop_reason"], str), "stop_reason must be a string")
    need(isinstance(s.get("dropout_rng"), dict), "dropout_rng must be a generator state")
    try:
        np.random.default_rng().bit_generator.state = s["dropout_rng"]
    except (TypeError, ValueError, KeyError, OverflowError):
        need(False, "dropout_rng is not a valid PCG64 generator state")
    div = s.get("divergence")
    need(isinstance(div, dict) and _is_finite(div.get("lr_scale")) and 0 < div["lr_scale"] <= 1
         and is_count(div.get("rollbacks")),
         "divergence must hold lr_scale in (0, 1] and a rollback count")
