"""The training-dynamics recorder: per-layer numbers every k steps, and a warning when they go wrong.

``TrainingRecorder`` is a Trainer callback. Every ``every`` optimizer steps it records, per
Dense layer l (named by its weight, '0.weight'):

- from the step itself (free): ‖∂L/∂W_l‖, ‖W_l‖ and the update ratio ‖ΔW_l‖ / ‖W_l‖ of that
  step (ΔW_l read off the weights after the optimizer moved them);
- from a fixed probe batch (one extra forward and backward pass, if ``probe=(X, y)``): ‖δ_l‖
  (δ_l = ∂L/∂z_l), the mean and standard deviation of h_l, the fraction of dead ReLUs and of
  saturated sigmoid/tanh units (``chainrule.diagnostics.signals``);
- at their own intervals, on the probe batch: the sharpness (top Hessian eigenvalue, by power
  iteration on Hessian-vector products) and 1-D (optionally 2-D) loss slices.

When the first layer's gradient falls below ``vanishing`` × the last layer's, or rises above
``exploding`` × it, it warns (``GradientWarning``, once per kind) naming the layers and what to
try. With a probe it also warns, once, when every unit of a layer is dead (a ReLU layer whose
output is 0 on every probe sample) or saturated (sigmoid/tanh with σ' < 0.1·max σ' on at least
99% of the probe's entries while the loss is within 10% of the first record's — a converged
sigmoid network may saturate on purpose): nothing flows back through such a layer, so it and
every layer below it stop learning. ``GradientNormRecorder`` is the gradient norms alone, as
the CLI's run folder uses them.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from ..train.callbacks import Callback
from ..train.state import JSON_NUMBER_BYTES
from .advice import (
    EXPLODING,
    MAX_NORM,
    VANISHING,
    GradientWarning,
    dead_advice,
    gradient_flags,
    remedies,
    warn_gradients,
)
from .layers import dense_layers, weight_gain
from .signals import SATURATION, probe

PROBE_METRICS = ("delta_norm", "act_mean", "act_std", "dead_fraction", "saturated_fraction")
# A layer counts as saturated through when at least this fraction of its (sample, unit) entries is
# saturated: 99%, not 100%, as a diverged sigmoid layer can keep a few entries near z = 0.
ALL_SATURATED = 0.99


# The run's default schedule (``TrainingRecorder.for_run``): ~RECORDS records of the step's own
# numbers, a probe on every PROBE_EVERY-th of them, on PROBE_SIZE rows. A probe is a forward and
# backward pass with a fixed cost of ~0.5 ms whatever its size (bench/recorder_cost.py), a record
# of the step's numbers ~0.05 ms; at these numbers the recorder costs ≤ 10% of training time on
# the demo and on digits (BENCHMARKS.md, "The training recorder's cost").
RECORDS = 100
PROBE_EVERY = 8
PROBE_SIZE = 64


def _norm(a):
    a = np.asarray(a, np.float64).ravel()
    return math.sqrt(float(np.dot(a, a)))


class TrainingRecorder(Callback):
    """Record per-layer training dynamics every ``every`` steps (see the module docstring).

    probe: (X, y) — a fixed batch for the probe statistics, sharpness and slices (at most
        ``probe_size`` rows are used); None records only the step statistics.
    probe_every: probe on every ``probe_every``-th record only (the probe is the costly part:
        one more forward and backward pass); ``probe_steps`` lists the steps it ran at.
    vanishing, exploding: thresholds on ‖∂L/∂W_first‖ / ‖∂L/∂W_last‖; max_norm: on any
        layer's ‖∂L/∂W‖ (``diagnostics.advice``). A condition counts once it has held for
        ``patience`` records in a row (deep healthy networks dip below for a record or two while
        they train); warn: issue ``GradientWarning``s (each kind once).
    sharpness_every, slices_every: steps between sharpness estimates / loss slices (0: never;
        they need ``probe``). slice_radius, slice_points, slice_2d: the slices' extent.

    Results: ``steps``, ``losses``, ``ratios`` (first/last gradient ratio per record),
    ``series[metric][layer]`` (one value per record, or per probe for the probe's metrics —
    ``steps_of(metric)`` gives the matching steps; None where not applicable),
    ``sharpness`` ({'steps', 'values'}), ``slices`` (list of dicts), ``events``.
    """

    def __init__(self, every=1, probe=None, probe_size=256, probe_every=1, vanishing=VANISHING, exploding=EXPLODING,
                 max_norm=MAX_NORM, patience=3, warn=True,
                 sharpness_every=0, sharpness_iters=20, slices_every=0, slice_radius=1.0, slice_points=21,
                 slice_2d=False, updates=True, saturation=SATURATION, seed=0):
        self.every = max(1, int(every))
        self.probe_data = probe
        self.probe_size = int(probe_size)
        self.probe_every = max(1, int(probe_every))
        self.vanishing, self.exploding, self.warn = float(vanishing), float(exploding), bool(warn)
        self.max_norm, self.patience = max_norm, max(1, int(patience))
        self._streak = {}
        self._dead_streak, self._first_probe_loss = 0, None  # probes in a row with a dead layer; the first loss
        self.sharpness_every, self.sharpness_iters = int(sharpness_every), int(sharpness_iters)
        self.slices_every, self.slice_radius, self.slice_points = int(slices_every), slice_radius, slice_points
        self.slice_2d, self.updates, self.saturation, self.seed = slice_2d, updates, saturation, seed
        self.steps, self.losses, self.ratios, self.probe_steps = [], [], [], []
        self.series = {}
        self.sharpness = {"steps": [], "values": []}
        self.slices = []
        self.events = []
        self.warned = set()
        self.layers = None
        self._infos = None
        self._pending = None  # (record index, model, {layer: W before the step}) until the update is seen
        self._prepared = None
        self._ready = False

    # -- the callback --------------------------------------------------------------------------
    def on_gradients(self, trainer, loss, grads):
        # (called at every step: the steps between records must cost next to nothing)
        if self._pending is not None:
            self._resolve()
        if trainer.step % self.every:
            return
        model = trainer.model
        if not self._ready:
            self._setup(model, grads)
        row = len(self.steps)
        self.steps.append(int(trainer.step))
        self.losses.append(float(loss))
        g = [_norm(grads[n]) for n in self.layers]
        self._append("grad_norm", g)
        self._append("weight_norm", [_norm(model.params[n]) for n in self.layers])
        if self.updates:
            self._append("update_ratio", [None] * len(self.layers))
            self._pending = (row, model, {n: np.array(model.params[n], copy=True) for n in self.layers})
        probing = self.probe_data is not None and self._infos is not None and row % self.probe_every == 0
        if probing:
            self._check_dead(trainer.step, self._probe(trainer))
        self.ratios.append(g[0] / g[-1] if len(g) > 1 and g[-1] > 0 else None)
        self._check(trainer.step, g, model)
        if self.probe_data is not None and self._infos is not None:
            if self.sharpness_every and trainer.step % self.sharpness_every == 0:
                self._sharpness(trainer)
            if self.slices_every and trainer.step % self.slices_every == 0:
                self._slice(trainer)

    @classmethod
    def for_run(cls, total_steps, probe=None, records=RECORDS, probe_every=PROBE_EVERY, probe_size=PROBE_SIZE,
                **options):
        """The recorder a run attaches: ~``records`` records over ``total_steps`` optimizer steps,
        a probe on every ``probe_every``-th of them on the first ``probe_size`` rows of ``probe``."""
        every = max(1, int(total_steps) // max(1, int(records)))
        return cls(every=every, probe=probe, probe_size=probe_size, probe_every=probe_every, **options)

    def on_epoch_end(self, trainer, epoch, logs):
        self._resolve()

    def on_fit_end(self, trainer):
        self._resolve()

    # -- pieces ----------------------------------------------------------------------------------
    def _setup(self, model, grads):
        self._ready = True
        try:
            self._infos = dense_layers(model)
            self.layers = [i.name for i in self._infos]
        except TypeError:  # not a Sequential: every 2-D gradient is a layer
            self.layers = [k for k, v in grads.items() if k.endswith("weight") and np.ndim(v) == 2]

    def _append(self, metric, values):
        table = self.series.setdefault(metric, {})
        for n, v in zip(self.layers, values):
            table.setdefault(n, []).append(v)

    def _resolve(self):
        """Fill in the update ratio of the pending record: the weights have moved since."""
        if self._pending is None:
            return
        row, model, before = self._pending
        self._pending = None
        table = self.series["update_ratio"]
        for n, W0 in before.items():
            w = _norm(W0)
            table[n][row] = _norm(np.asarray(model.params[n], np.float64) - W0) / w if w > 0 else None

    def _probe_batch(self, trainer):
        if self._prepared is None:
            X, y = self.probe_data
            X, y = X[: self.probe_size], y[: self.probe_size]
            prepare = getattr(trainer, "prepare", None)
            self._prepared = prepare(X, y) if prepare is not None else (np.asarray(X, trainer.dtype), y)
        return self._prepared

    def _probe(self, trainer):
        X, y = self._probe_batch(trainer)
        p = probe(trainer.model, X, y, trainer.loss_fn, saturation=self.saturation, seed=self.seed)
        self.probe_steps.append(int(trainer.step))
        for metric in PROBE_METRICS:
            self._append(metric, p.column(metric))
        if self._first_probe_loss is None:
            self._first_probe_loss = p.loss
        return p

    def _check_dead(self, step, p):
        """Warn once when every unit of a layer is dead or saturated for ``patience`` probes in a row."""
        # (saturation counts while the loss has fallen by less than 10% since the first record: the
        # output layer alone still trims a little off a saturated network's loss)
        stuck = self._first_probe_loss is None or not p.loss < 0.9 * self._first_probe_loss
        dead = [s.name for s in p.layers if s.dead_fraction == 1.0]
        saturated = [s.name for s in p.layers if stuck and (s.saturated_fraction or 0.0) >= ALL_SATURATED]
        if not (dead or saturated):
            self._dead_streak = 0
            return
        self._dead_streak += 1
        # (``patience`` counts records; sparse probes span several records each, and two of them
        # in a row already cover more than a transient)
        needed = self.patience if self.probe_every == 1 else max(2, -(-self.patience // self.probe_every))
        if "dead" in self.warned or self._dead_streak < needed:
            return
        self.warned.add("dead")
        parts = ([f"every ReLU unit of {', '.join(dead)} outputs 0 on every probe sample (dead)"] if dead else []) + \
            ([f"every unit of {', '.join(saturated)} is saturated (σ' < {self.saturation:g} × its maximum)"]
             if saturated else [])
        text = (f"dead network at step {step}: {'; '.join(parts)}, so nothing flows back through "
                f"{'them' if len(dead) + len(saturated) > 1 else 'it'} and the layers below stop learning "
                f"(probe loss {p.loss:.3g}). " + dead_advice(step, [s for s in p.layers if s.name in dead + saturated],
                                                            {i.name: i for i in self._infos}))
        self.events.append({"step": int(step), "kind": "dead", "layers": dead + saturated, "message": text})
        if self.warn:
            warnings.warn(text, GradientWarning, stacklevel=4)

    def _check(self, step, g, model):
        flags = gradient_flags(self.layers, g, self.vanishing, self.exploding, self.max_norm)
        # kind -> [records in a row, step of the first]
        self._streak = {k: [self._streak.get(k, [0, int(step)])[0] + 1, self._streak.get(k, [0, int(step)])[1]]
                        for k, _, _ in flags}
        for kind, layers, text in flags:
            count, since = self._streak[kind]
            event = {"step": int(step), "kind": kind, "layers": layers, "message": text}
            if kind in self.warned or count < self.patience:
                continue
            self.warned.add(kind)
            if self._infos is not None:
                tips = remedies(kind, self._infos, [weight_gain(model.params[n]) for n in self.layers])
            else:
                tips = ["initialization matched to the activation", "ReLU", "residual connections", "normalization"]
            where = f" at step {step}" if since == step else f" from step {since} to {step}"
            event["message"] = (warn_gradients(kind, text, tips, where=where, stacklevel=4)
                                if self.warn else text)
            self.events.append(event)

    def _probe_loss(self, trainer):
        X, y = self._probe_batch(trainer)
        model, loss_fn, seed = trainer.model, trainer.loss_fn, self.seed

        def loss(params):
            out = model.apply(params, X, training=True, rng=np.random.default_rng(seed))  # (buffers: read only)
            return loss_fn(out, y)

        return loss

    def _sharpness(self, trainer):
        from .sharpness import top_hessian_eigenvalue

        lam, _, _ = top_hessian_eigenvalue(self._probe_loss(trainer), trainer.model.params,
                                           iters=self.sharpness_iters, seed=self.seed)
        self.sharpness["steps"].append(int(trainer.step))
        self.sharpness["values"].append(float(lam))

    def _slice(self, trainer):
        from .landscape import loss_slice_1d, loss_surface_2d

        loss, params = self._probe_loss(trainer), trainer.model.params
        s = loss_slice_1d(loss, params, radius=self.slice_radius, points=self.slice_points, seed=self.seed)
        entry = {"step": int(trainer.step), "alphas": s["alphas"].tolist(), "losses": s["losses"].tolist()}
        if self.slice_2d:
            s2 = loss_surface_2d(loss, params, radius=self.slice_radius, points=self.slice_points, seed=self.seed)
            entry["surface"] = s2["losses"].tolist()
        self.slices.append(entry)

    # -- results ---------------------------------------------------------------------------------
    @property
    def norms(self):
        """{layer: [‖∂L/∂W_l‖ per record]} (the gradient-norm series)."""
        return self.series.get("grad_norm", {})

    def steps_of(self, metric):
        """The steps at which ``metric`` was recorded (the probe's metrics: ``probe_steps``)."""
        return self.probe_steps if metric in PROBE_METRICS else self.steps

    def matrix(self, metric="grad_norm"):
        """(layers, records) float array of ``metric`` (NaN where not recorded) and the layer names."""
        table = self.series.get(metric, {})
        names = list(self.layers or table)
        M = np.array([[np.nan if v is None else v for v in table.get(n, [])] for n in names], dtype=float)
        return M.reshape(len(names), -1), names

    def latest(self, metric):
        """{layer: value} of ``metric`` at the newest record."""
        return {n: v[-1] for n, v in self.series.get(metric, {}).items() if v}

    def state_dict(self):
        self._resolve()
        return {"every": self.every, "steps": list(self.steps), "probe_steps": list(self.probe_steps),
                "norms": {k: list(v) for k, v in self.norms.items()},
                "losses": list(self.losses), "ratios": list(self.ratios), "layers": list(self.layers or []),
                "series": {m: {k: list(v) for k, v in t.items()} for m, t in self.series.items()},
                "sharpness": {k: list(v) for k, v in self.sharpness.items()},
                "slices": [dict(s) for s in self.slices], "events": [dict(e) for e in self.events],
                "warned": sorted(self.warned), "streak": {k: list(v) for k, v in self._streak.items()}}

    def state_bytes_bound(self, steps, trainer):
        """The most bytes ``state_dict()`` can take in a state.json after ``steps`` optimizer steps
        with this recorder's options on ``trainer``'s model: per record (at most steps // every + 1)
        the step, loss, ratio and 4 numbers per layer (grad_norm is also saved as 'norms'), per
        probe 1 + 5 per layer, per sharpness estimate 2, per loss slice 1 + 2·points (+ points² in
        2-D); the events (one per kind, a message each) and streaks in a fixed part."""
        model = getattr(trainer, "model", None)
        params = getattr(model, "params", {}) or {}
        n_layers = max(1, sum(1 for v in params.values() if np.ndim(v) == 2))
        records = steps // self.every + 1
        probes = -(-records // self.probe_every) if self.probe_data is not None else 0
        sharpness = steps // self.sharpness_every + 1 if self.sharpness_every else 0
        slices = steps // self.slices_every + 1 if self.slices_every else 0
        points = int(self.slice_points)
        per_slice = 1 + 2 * points + (points * points + 2 * points if self.slice_2d else 0)  # (+ a row's brackets)
        numbers = records * (3 + 4 * n_layers) + probes * (1 + 5 * n_layers) + sharpness * 2 + slices * per_slice
        fixed = (64 << 10) + n_layers * (16 << 10)  # options, layer names, events and streaks
        return fixed + numbers * JSON_NUMBER_BYTES + slices * 256  # (+ each slice's keys)

    def load_state_dict(self, state):
        """Restore from ``state_dict()`` (also accepts the older {'steps', 'norms'} form)."""
        self.steps = list(state["steps"])
        series = state.get("series") or {"grad_norm": state.get("norms", {})}
        self.series = {m: {k: list(v) for k, v in t.items()} for m, t in series.items()}
        # (before probe_steps existed, a probe ran at every record)
        probed = any(m in self.series for m in PROBE_METRICS)
        self.probe_steps = list(state.get("probe_steps", self.steps if probed else []))
        self.layers = list(state.get("layers") or self.series.get("grad_norm", {})) or None
        self.losses = list(state.get("losses", []))
        self.ratios = list(state.get("ratios", []))
        self.sharpness = {k: list(v) for k, v in state.get("sharpness", {"steps": [], "values": []}).items()}
        self.slices = [dict(s) for s in state.get("slices", [])]
        self.events = [dict(e) for e in state.get("events", [])]
        self.warned = set(state.get("warned", []))
        self._streak = {k: list(v) for k, v in state.get("streak", {}).items()}
        self._pending = None
        self._ready = False  # the layers are found again at the next record (a rollback may restore none)


class GradientNormRecorder(TrainingRecorder):
    """‖∂L/∂W‖ (Frobenius) of each weight matrix every ``every`` steps, and nothing else.

    After training: ``steps`` (list of step numbers) and ``norms`` ({'0.weight': [...], ...}).
    """

    def __init__(self, every=1):
        super().__init__(every=every, warn=False, updates=False)

    def _check(self, step, g, model):
        pass
