"""Experiment ``backprop_cost``: backprop costs O(n), finite differences O(n²) (seeds 000, 001, 003).

A [d, d, d, 1] tanh network on a fixed batch of B inputs has n ≈ 2d² parameters, and one
forward pass costs O(B·n). Backpropagation gets all n partial derivatives from one forward and
one backward pass; central differences need two forward passes per parameter, 2n in all.

Timing on a shared machine: times are CPU seconds of this process (time.process_time), which do
not count the moments other processes hold the cores; BLAS is held to one thread (threadpoolctl,
when installed) so that CPU time is the work of one thread; every time is a median over
interleaved repeats;
the batch is large enough that arithmetic, not Python overhead, dominates a forward pass. The
finite-difference time for the largest sizes is extrapolated — n × the median time of a sample of
single-parameter differences, each a real perturbation and two real forward passes — and checked
against a complete run at the small sizes.
"""

from __future__ import annotations

import contextlib
import time

import numpy as np

from .. import nn
from ..engine.transforms import value_and_grad
from .base import experiment


def single_thread():
    """A context in which BLAS uses one thread (a no-op without threadpoolctl)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        return contextlib.nullcontext()
    return threadpool_limits(1)


def time_once(fn, number=1):
    """CPU seconds of this process per call of ``fn`` (time.process_time): unlike wall time it does
    not count the moments other processes hold the cores, which on a shared machine is most of the
    noise."""
    t0 = time.process_time()
    for _ in range(number):
        fn()
    return (time.process_time() - t0) / number


def timings(fns, repeats=7, budget=0.02):
    """Seconds per call of each function in ``fns`` (a dict): {name: array of ``repeats`` samples}.
    Repeats are interleaved so that a slow spell of the machine hits all functions alike; each runs
    ``number`` times per repeat, chosen so that one repeat takes about ``budget`` seconds."""
    numbers = {k: max(1, int(budget / max(time_once(f), 1e-7))) for k, f in fns.items()}
    samples = {k: [] for k in fns}
    for _ in range(repeats):
        for k, f in fns.items():
            samples[k].append(time_once(f, numbers[k]))
    return {k: np.array(v) for k, v in samples.items()}


def loglog_slope(x, y):
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def problem(d, batch, seed=0):
    """The [d, d, d, 1] tanh network, its parameters and the mse loss on a random batch."""
    model = nn.MLP([d, d, d, 1], activation="tanh")
    params = model.init(seed=seed)
    rng = np.random.default_rng(seed)
    X, y = rng.standard_normal((batch, d)), rng.standard_normal((batch, 1))

    def loss(p):
        return nn.losses.mse(model.apply(p, X), y)

    return model, params, loss


def fd_gradient(loss, params, eps=1e-6, keys=None):
    """Central differences, one parameter at a time: 2 loss evaluations per parameter. ``keys``:
    optional list of (name, index) to do only those; returns {(name, index): derivative}."""
    out = {}
    todo = keys if keys is not None else [(k, i) for k, w in params.items() for i in np.ndindex(w.shape)]
    for k, i in todo:
        w = params[k]
        old = w[i]
        w[i] = old + eps
        up = float(loss(params))
        w[i] = old - eps
        down = float(loss(params))
        w[i] = old
        out[k, i] = (up - down) / (2 * eps)
    return out


def measure(dims, batch, repeats, sample, seed=0):
    """For each width d: n, and median seconds of a forward pass, a backprop gradient and a
    finite-difference gradient (n × the time of ``sample`` single-parameter differences / sample);
    ``paired``: the median over repeats of (backprop / forward) within the same repeat."""
    rng = np.random.default_rng(seed)
    rows = []
    for d in dims:
        model, params, loss = problem(d, batch, seed)
        n = model.n_params()
        vg = value_and_grad(loss)
        coords = [(k, tuple(int(rng.integers(s)) for s in params[k].shape))
                  for k in rng.choice(list(params), sample)]
        times = timings({"forward": lambda loss=loss, p=params: loss(p),
                              "backprop": lambda vg=vg, p=params: vg(p),
                              "fd": lambda loss=loss, p=params, c=coords: fd_gradient(loss, p, keys=c)}, repeats)
        med = {k: float(np.median(v)) for k, v in times.items()}
        rows.append({"d": d, "n": n, "forward": med["forward"], "backprop": med["backprop"],
                     "fd": med["fd"] / sample * n,
                     "paired": float(np.median(times["backprop"] / times["forward"]))})
    return rows


@experiment("backprop_cost", "Backprop O(n) vs finite differences O(n²); backward/forward ratio",
            seeds=["000", "001", "003"])
def run(ctx):
    """Gradient time by backprop and by central differences as n grows; log-log slopes; the
    backward/forward time ratio."""
    from ..plots import _plt, _save
    from .sources import cite

    quick = ctx.quick
    batch = 512
    dims = [64, 128, 256, 384] if quick else [64, 96, 128, 192, 256, 384, 512]
    repeats = 5 if quick else 9
    sample = 8 if quick else 24
    with single_thread():
        rows = [r for d in ctx.stages(dims, "width") for r in measure([d], batch, repeats, sample, ctx.seed)]
        # a complete finite-difference gradient at a small size, to check the extrapolation
        d0 = 24
        small = measure([d0], batch, repeats, sample, ctx.seed)[0]
        model, params, loss = problem(d0, batch, ctx.seed)
        calls = [0]

        def counted(p):
            calls[0] += 1
            return loss(p)

        t0 = time.process_time()
        fd = fd_gradient(counted, params)
        t_complete, n0 = time.process_time() - t0, model.n_params()
        g = value_and_grad(loss)(params)[1]
        exact = np.array([g[k][i] for k, i in fd])
        approx = np.array(list(fd.values()))
        agreement = float(np.linalg.norm(exact - approx) / (np.linalg.norm(exact) + np.linalg.norm(approx)))

    n = np.array([r["n"] for r in rows], float)
    t_bp = np.array([r["backprop"] for r in rows])
    t_fd = np.array([r["fd"] for r in rows])
    t_fw = np.array([r["forward"] for r in rows])
    slope_bp, slope_fd = loglog_slope(n, t_bp), loglog_slope(n, t_fd)
    ctx.check_below(f"backprop time vs n (n = {int(n[0])}…{int(n[-1])}, batch {batch}): log-log slope "
                    f"(CPU-time medians of {repeats} interleaved repeats, 1 BLAS thread)", "000", 1.4, slope_bp,
                    expected="≈ 1 (O(n))")
    ctx.check_above("finite-difference gradient time vs n: log-log slope (n × median time of sampled "
                    "single-parameter differences)", "000", 1.6, slope_fd, expected="≈ 2 (O(n²))")
    ctx.check_between("the ratio FD time / backprop time grows like n (log-log slope; both measured side by "
                      "side)", "000", 0.7, 1.4, loglog_slope(n, t_fd / t_bp), expected="≈ 1")
    ctx.check_equal(f"central differences evaluate the loss 2n times (n = {n0})", "001", 2 * n0, calls[0])
    ctx.check_between(f"extrapolated FD time / a complete FD gradient's time (n = {n0}; measured one after "
                      "the other on a shared machine, so a factor 3 either way)", "000", 1 / 3, 3.0,
                      small["fd"] / t_complete, expected="≈ 1")
    ctx.check_below(f"the complete FD gradient agrees with backprop (n = {n0}; ‖g−ĝ‖/(‖g‖+‖ĝ‖), ε = 1e-6)",
                    "001", 1e-7, agreement)
    big = rows[-1]
    ratio = big["paired"]
    ctx.check_between(f"forward + backward time / forward time (n = {big['n']}; median of ratios within each "
                      "repeat): seed 001 says 'roughly 2-3× one forward pass'; band [1, 5] for a shared machine",
                      "001", 1.0, 5.0, ratio,
                      expected="2–3")
    ctx.check_between("backward pass alone / forward pass ((grad − forward) / forward, same size): seed 003 "
                      "says '3x–4x'; band [1, 5]", "003", 1.0, 5.0, ratio - 1.0, expected="3–4")
    ctx.table(f"gradient time (batch {batch}; FD extrapolated from {sample} sampled parameters)",
              ["d", "n", "forward (s)", "backprop (s)", "finite differences (s)", "FD / backprop",
               "backprop / forward"],
              [[r["d"], r["n"], r["forward"], r["backprop"], r["fd"], r["fd"] / r["backprop"],
                r["backprop"] / r["forward"]] for r in rows])
    ctx.note(f"A complete finite-difference gradient at n = {n0}: {t_complete:.2f} s for {calls[0]} loss "
             f"evaluations (extrapolated: {small['fd']:.2f} s).")

    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    axes[0].loglog(n, t_bp, "o-", label=f"backprop (slope {slope_bp:.2f})")
    axes[0].loglog(n, t_fd, "s-", label=f"finite differences (slope {slope_fd:.2f})")
    axes[0].loglog([n0], [t_complete], "k*", ms=10, label="complete FD run")
    axes[0].loglog([n0], [small["fd"]], "s", mfc="none", color="C1", label="its extrapolation")
    axes[0].loglog(n, t_fw, "^--", label="one forward pass")
    axes[0].set(xlabel="parameters n", ylabel="seconds per gradient", title="gradient cost")
    axes[0].legend(fontsize=8)
    axes[1].semilogx(n, [r["paired"] for r in rows], "o-", label="(forward + backward) / forward")
    axes[1].axhspan(2, 3, color="C2", alpha=0.2, label=cite("seed 001: 2–3×"))
    axes[1].set(xlabel="parameters n", ylabel="ratio", ylim=(0, 6), title="backprop / forward time")
    axes[1].legend(fontsize=8)
    _save(fig, ctx.figure("backprop_cost"))
