"""A trainability check at initialization: one probe on one batch, before any training.

``inspect_model(model, X, y)`` measures, per Dense layer, how the signal propagates forward
(mean and spread of h_l) and backward (‖δ_l‖, ‖∂L/∂W_l‖), counts dead ReLUs and saturated
sigmoid/tanh units, and reads the weights' scale fan_in·E[W²] (the "gain": 2 for He, 1 for
Xavier on a square layer, fan_in/12 for seed 003's U[−0.5, 0.5]). It then names what will
make training hard: an initialization that does not fit the activation (He with sigmoid,
Xavier or a naive small init under ReLU in a deep net), a forward signal or a gradient that
shrinks or grows across depth, dead or saturated units. ``chainrule.runs.inspect_config`` does
the same for a training configuration (``chainrule inspect CONFIG``).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..nn import losses as losses_lib
from ..nn.init import Parametrized, default_for
from .advice import EXPLODING, RELU_LIKE, VANISHING, gradient_flags, remedies, scale_words, xavier_gain
from .layers import SATURATING, dense_layers
from .signals import SATURATION, probe

DEEP = 4  # hidden layers from which a per-layer loss of signal compounds into a problem


@dataclass
class Finding:
    """level: 'problem' (training will likely suffer) or 'note'; topic: what it is about."""

    level: str
    topic: str
    message: str

    def __str__(self):
        return f"{self.level.upper():8s}[{self.topic}] {self.message}"


@dataclass
class InspectReport:
    """What ``inspect_model`` found: per-layer signals (``LayerSignals``), findings, figures."""

    layers: list
    infos: list
    findings: list
    loss: float
    batch: int
    h: dict = field(default_factory=dict, repr=False)

    @property
    def problems(self):
        return [f for f in self.findings if f.level == "problem"]

    @property
    def ok(self):
        return not self.problems

    @property
    def gradient_ratio(self):
        """‖∂L/∂W_first‖ / ‖∂L/∂W_last‖ at initialization."""
        g = [s.grad_norm for s in self.layers]
        return g[0] / g[-1] if len(g) > 1 and g[-1] > 0 else float("nan")

    def summary(self):
        head = (f"Trainability at initialization: {len(self.layers)} Dense layers, one batch of {self.batch}, "
                f"loss {self.loss:.4g}")
        cols = ["layer", "shape", "activation", "init", "gain", "mean(h)", "std(h)", "‖δ‖", "‖∂L/∂W‖", "dead",
                "saturated"]
        rows = []
        for s, i in zip(self.layers, self.infos):
            rows.append([s.name, f"{i.d_out}×{i.d_in}", s.activation, init_name(i.init, i.activation),
                         f"{s.gain:.3g} ({scale_words(s.gain, i)})",
                         f"{s.act_mean:.3g}", f"{s.act_std:.3g}", f"{s.delta_norm:.3g}", f"{s.grad_norm:.3g}",
                         "-" if s.dead_fraction is None else f"{s.dead_fraction:.0%}",
                         "-" if s.saturated_fraction is None else f"{s.saturated_fraction:.0%}"])
        widths = [max(len(c), *(len(r[k]) for r in rows)) for k, c in enumerate(cols)]
        lines = [head, "", "  ".join(c.ljust(w) for c, w in zip(cols, widths))]
        lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths)) for r in rows]
        lines += ["", f"first/last layer gradient ratio: {self.gradient_ratio:.3g}",
                  "gain = fan_in·E[W²] (He: 2, Xavier on a square layer: 1); dead = ReLU units at 0 for the whole "
                  f"batch; saturated = σ' < {SATURATION:g}·max σ'"]
        if self.findings:
            lines += ["", "Findings:"] + [f"  {f}" for f in self.findings]
        verdict = ("no problems found: the signal reaches every layer in both directions" if self.ok else
                   f"{len(self.problems)} problem(s): fix them before training")
        lines += ["", f"Verdict: {verdict}"]
        return "\n".join(lines)

    __str__ = summary

    def as_dict(self):
        return {"loss": self.loss, "batch": self.batch, "ok": self.ok, "gradient_ratio": self.gradient_ratio,
                "layers": [s.as_dict() for s in self.layers],
                "findings": [{"level": f.level, "topic": f.topic, "message": f.message} for f in self.findings]}

    def figures(self, out_dir):
        """Write signal_propagation.png and activation_stats.png into ``out_dir``; return the paths
        ([] and one note on stderr when matplotlib is not installed: the report stands without them)."""
        from ..plots import missing
        from . import plots

        if missing():
            print(f"note: {missing()}", file=sys.stderr)
            return []
        out_dir = Path(out_dir)
        paths = [out_dir / "signal_propagation.png", out_dir / "activation_stats.png"]
        plots.signal_propagation(self.layers, paths[0])
        plots.activation_stats(self.layers, paths[1], h=self.h)
        return paths


def _loss_for(loss, y, d_out):
    if loss != "auto":
        return loss
    if np.issubdtype(np.asarray(y).dtype, np.integer):
        return "binary_cross_entropy" if d_out == 1 else "cross_entropy"
    return "mse"


def _targets(loss, y, dtype, d_out):
    """y as ``loss`` declares its targets (``losses.needs``): int64 labels, or floats, with a
    column axis for 'values' and 'signs' targets of a one-output network."""
    y = np.asarray(y)
    kind = losses_lib.needs(loss).targets
    if kind == "labels" and np.issubdtype(y.dtype, np.integer):
        return y.astype(np.int64)
    y = y.astype(dtype)
    return y.reshape(-1, 1) if y.ndim == 1 and d_out == 1 and kind in ("values", "signs") else y


def inspect_model(model, X, y, loss="auto", batch_size=256, seed=0, vanishing=VANISHING, exploding=EXPLODING):
    """Check a network's trainability at initialization on one batch of (X, y); return an ``InspectReport``.

    loss: a name from ``chainrule.nn.losses``, a function ``(output, y) -> scalar``, or 'auto'
    (cross-entropy for integer labels, MSE otherwise). The model is initialized from ``seed``
    if it has no parameters. At most ``batch_size`` rows are used, drawn at random.
    """
    if model.params is None:
        model.init(seed=seed)
    X = np.asarray(X)
    rows = np.random.default_rng(seed).permutation(len(X))[: int(batch_size)]
    X, y = np.asarray(X[rows], model.dtype), np.asarray(y)[rows]
    name = _loss_for(loss, y, model.d_out)
    loss_fn = losses_lib.get(name)
    y = _targets(name, y, model.dtype, model.d_out)
    p = probe(model, X, y, loss_fn, training=True, seed=seed)
    infos = dense_layers(model)
    findings = _pairings(infos, p.layers) + _propagation(infos, p.layers, vanishing, exploding) + _units(p.layers)
    return InspectReport(p.layers, infos, findings, p.loss, len(X), p.h)


def _names(layers):
    return ", ".join(s.name for s in layers)


def init_name(spec, activation):
    """An initializer as a reader names it: its config spelling ('he_normal', 'uniform(-0.5, 0.5)'),
    a function's own name, or the default the activation gets; never a ``<function …>`` repr."""
    if spec is None:
        return f"auto: {default_for(activation)}"
    if isinstance(spec, str):
        return spec
    if isinstance(spec, dict):
        args = ", ".join(f"{k}={v}" for k, v in spec.items() if k != "name")
        return f"{spec.get('name', '?')}({args})"
    if isinstance(spec, Parametrized):
        return repr(spec)  # its config spelling
    name = getattr(spec, "__name__", None) or type(spec).__name__
    return f"{name} (a function)" if name != "<lambda>" else "a lambda"


def _pairings(infos, layers):
    hidden = layers[:-1]
    deep = len(hidden) >= DEEP
    ref = {s.name: xavier_gain(i) for s, i in zip(layers, infos)}
    info = {i.name: i for i in infos}
    out = []
    # He gives gain 2; Xavier gives ref ≤ 2, so above 1.5·max(ref, 1) the weights are He-sized or larger.
    he_sat = [s for s in hidden if s.activation in SATURATING and s.gain > 1.5 * max(ref[s.name], 1.0)]
    if he_sat:
        g = float(np.median([s.gain for s in he_sat]))
        x = float(np.median([ref[s.name] for s in he_sat]))
        words = scale_words(g, next(i for i in infos if i.name == he_sat[0].name))
        why = ("He's factor 2 makes up for ReLU zeroing half its inputs; sigmoid/tanh zero nothing, so "
               f"pre-activations come out √{g / x:.2g} ≈ {np.sqrt(g / x):.2g}× larger than under Xavier"
               if words == "He scale" else
               f"pre-activations come out √(fan_in·Var(W) / Xavier's {x:.2g}) ≈ {np.sqrt(g / x):.2g}× larger than "
               "under Xavier")
        out.append(Finding("problem", "init/activation", (
            f"weights at {words} (fan_in·Var(W) ≈ {g:.2g}; He: 2, Xavier: {x:.2g}) with "
            f"{'/'.join(sorted({s.activation for s in he_sat}))} in {_names(he_sat)}: {why} and drift toward "
            "saturation; use Xavier (init='xavier_normal')")))
    tiny = [s for s in hidden if s.gain < 0.1 * min(ref[s.name], 1.0)]
    if tiny and len(hidden) >= 2:
        out.append(Finding("problem" if deep else "note", "init/activation", (
            f"naive small weights (fan_in·Var(W) ≈ {np.median([s.gain for s in tiny]):.2g}) in {_names(tiny)}: "
            "each layer multiplies the signal's second moment by about that (half of it under ReLU), so it fades "
            "with depth; use Xavier for sigmoid/tanh, He for ReLU")))
    weak_relu = [s for s in hidden if s.activation in RELU_LIKE and s not in tiny and s.gain < 1.5]
    if weak_relu:
        g = float(np.median([s.gain for s in weak_relu]))
        words = scale_words(g, info[weak_relu[0].name])
        out.append(Finding("problem" if (g / 2) ** len(weak_relu) < 1e-2 else "note", "init/activation", (
            f"ReLU layers {_names(weak_relu)} with fan_in·Var(W) ≈ {g:.2g} ({words}): "
            f"E[h²] is multiplied by about {g / 2:.2g} per layer, {(g / 2) ** len(weak_relu):.2g} over these layers; "
            "He init (gain 2) keeps it constant")))
    big = [s for s in hidden if s.gain > (3.0 if s.activation in RELU_LIKE else 1e9)]
    if big:
        g = float(np.median([s.gain for s in big]))
        out.append(Finding("problem" if (g / 2) ** len(big) > 1e2 else "note", "init/activation", (
            f"large weights in {_names(big)} (fan_in·Var(W) ≈ {g:.2g}): under ReLU E[h²] grows by about "
            f"{g / 2:.2g} per layer, {(g / 2) ** len(big):.2g} over these layers, so activations and gradients "
            "explode with depth; He init (gain 2) keeps it constant")))
    return out


def _propagation(infos, layers, vanishing, exploding):
    out = []
    hidden = layers[:-1]
    if len(hidden) >= 2:
        first, last = hidden[0].act_second_moment, hidden[-1].act_second_moment
        ratio = last / first if first > 0 else float("inf")
        if ratio < 1e-2 or ratio > 1e2:
            way = "fades" if ratio < 1 else "grows"
            out.append(Finding("problem", "forward signal", (
                f"the activations' second moment E[h²] {way} across depth: {first:.3g} in {hidden[0].name}, "
                f"{last:.3g} in {hidden[-1].name} (ratio {ratio:.2g})")))
    names = [s.name for s in layers]
    flags = gradient_flags(names, [s.grad_norm for s in layers], vanishing, exploding)
    kinds = {kind for kind, _, _ in flags}
    for kind, _, text in flags:
        tips = remedies(kind, infos, [s.gain for s in layers])
        out.append(Finding("problem", f"{kind} gradient", f"{text}. Try: " + "; ".join(tips)))
    # ‖∂L/∂W_l‖ = ‖δ_l h_{l−1}ᵀ‖ also carries the forward signal, which can hide a growing δ
    # (large weights grow h and δ alike); the error signal itself does not.
    d0, d1 = layers[0].delta_norm, layers[-1].delta_norm
    if d1 > 0 and len(layers) > 1:
        r = d0 / d1
        kind = "vanishing" if r < vanishing else "exploding" if r > exploding else None
        if kind and kind not in kinds:
            tips = remedies(kind, infos, [s.gain for s in layers])
            out.append(Finding("problem", f"{kind} gradient", (
                f"the error signal ‖δ‖ of the first layer is {r:.2g} × the last layer's; Try: " + "; ".join(tips))))
    return out


def _units(layers):
    out = []
    hidden = layers[:-1]
    dead = [s for s in hidden if s.dead_fraction]
    if dead:
        # A few dead units are normal at init (low-dimensional inputs leave some ReLUs off for
        # every sample); a problem is a layer mostly dead, or a quarter of all units.
        mean = float(np.mean([s.dead_fraction for s in hidden if s.dead_fraction is not None]))
        worst = max(s.dead_fraction for s in dead)
        level = "problem" if worst > 0.5 or mean > 0.25 else "note"
        out.append(Finding(level, "dead units", (
            "ReLUs that output 0 for every sample of the batch (their weights get no gradient): "
            + ", ".join(f"{s.name} {s.dead_fraction:.0%}" for s in dead)
            + "; check the bias init and the input scaling, or use leaky ReLU")))
    sat = [s for s in hidden if s.saturated_fraction is not None and s.saturated_fraction > 0.2]
    if sat:
        out.append(Finding("problem", "saturation", (
            "saturated sigmoid/tanh units (σ' < "
            f"{SATURATION:g}·max σ', passing almost no gradient): "
            + ", ".join(f"{s.name} {s.saturated_fraction:.0%}" for s in sat)
            + "; smaller weights (Xavier), standardized inputs or batch normalization")))
    return out
