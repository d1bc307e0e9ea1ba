"""Gradient checking: compare the engine's derivatives with central finite differences.

For each differentiable leaf (a weight matrix, a bias, an input array) a random direction
``v`` is drawn and, in float64,

    fd = (f(x + ε v) − f(x − ε v)) / (2ε)                      (error O(ε²))

is compared with the forward-mode J·v (``"fwd"``) and, for a random output cotangent ``u``,
⟨u, fd⟩ with the reverse-mode ⟨Jᵀu, v⟩ (``"rev"``), by the relative error of the seeds

    ‖g − ĝ‖ / (‖g‖ + ‖ĝ‖ + δ).

``δ`` is the round-off floor of the finite difference, 64·ε_mach·scale/ε, divided by the
threshold ``rtol``: the test error ≤ rtol then reads ‖g − ĝ‖ ≤ rtol·(‖g‖ + ‖ĝ‖) + round-off
floor, so two gradients that are both zero up to round-off compare as equal. At the smaller
retry steps below, the floor grows as 1/step, as the round-off of the quotient does. With ``order=2`` the same
check is applied to the derivative functions themselves (x ↦ Jᵀu and x ↦ J·v), which checks
every rule's own derivative in both modes.

**Kinks.** ReLU at 0, |x| at 0 and max with ties have no derivative; the engine returns the
conventional one (relu'(0) = 0, abs'(0) = 0, ties share equally). A probe x ± εv that crosses
a kink gives a difference quotient that matches neither side. The checker then retries with
steps ε/10 and ε/100 for as long as the quotient keeps changing with the step (a smooth f
gives the same quotient at every step, so a wrong rule is not retried into a pass); if one
passes, the leaf passes (the kink was near, not at, x). If none
does and the one-sided differences (f(x+εv) − f(x))/ε and (f(x) − f(x−εv))/ε still disagree
as ε shrinks, x sits *on* a kink: the leaf is reported with status ``"kink"`` (not a failure),
naming the one-sided values and which of them the engine's value matches.

**Zero gradients.** A first-order check whose engine value is exactly 0 and whose difference
quotient agrees checks nothing: 0 = 0 holds for any rule. Such an entry passes with ``zero``
set (a leaf can have a zero derivative, as the smaller argument of ``maximum``), and the
verdict says so instead of PASSED: ``ZERO GRADIENTS`` when every leaf is exactly 0 (a dead
network: every ReLU off, or every unit saturated), or which leaves were not checked when some
are (``GradCheckReport.zero_leaves``).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field

import numpy as np

from .constraints import NON_NEGATIVE_INT, NON_NEGATIVE_REAL, POSITIVE_REAL, Interval, ListOf, Options, validate
from .engine.transforms import jvp, vjp
from .engine.tree import flatten, leaf_paths, unflatten
from .errors import GradientCheckError

_EPS_MACH = np.finfo(np.float64).eps


@dataclass
class GradCheckEntry:
    leaf: str
    mode: str
    order: int
    error: float
    status: str  # "pass", "fail" or "kink"
    detail: str = ""
    zero: bool = False  # a first-order pass whose engine value was exactly 0: 0 = 0 checked nothing


@dataclass
class GradCheckReport:
    """The per-leaf result of :func:`check_grads`. ``passed`` is False if any leaf failed."""

    entries: list = field(default_factory=list)
    rtol: float = 1e-7

    @property
    def passed(self):
        return all(e.status != "fail" for e in self.entries)

    @property
    def max_error(self):
        errors = [e.error for e in self.entries if e.status != "kink"]
        return max(errors, default=0.0)

    def failures(self):
        return [e for e in self.entries if e.status == "fail"]

    def by_leaf(self):
        """{leaf: worst relative error over modes and orders} (kinks excluded)."""
        out = {}
        for e in self.entries:
            if e.status != "kink":
                out[e.leaf] = max(out.get(e.leaf, 0.0), e.error)
        return out

    def __str__(self):
        width = max([len(e.leaf) for e in self.entries] + [4])
        lines = [f"{'leaf':<{width}}  {'mode':<9} order  rel. error  status   (threshold {self.rtol:.0e})"]
        for e in self.entries:
            lines.append(
                f"{e.leaf:<{width}}  {e.mode:<9} {e.order:>5}  {e.error:10.2e}  {e.status:<7}"
                + (f"  {e.detail}" if e.detail else "")
            )
        return "\n".join(lines + [self.verdict])

    def zero_leaves(self):
        """The leaves whose first-order gradient checks all found the engine's value exactly 0."""
        first = {}
        for e in self.entries:
            if e.order == 1:
                first[e.leaf] = first.get(e.leaf, True) and e.zero
        return [leaf for leaf, zero in first.items() if zero]

    @property
    def all_zero(self):
        """Every leaf's gradient was exactly 0: the check compared 0 with 0 and checked nothing."""
        zero = self.zero_leaves()
        return bool(zero) and len(zero) == len({e.leaf for e in self.entries if e.order == 1})

    @property
    def verdict(self):
        """One line: PASSED, FAILED: …, or ZERO GRADIENTS: … when gradients were exactly 0."""
        if not self.passed:
            return f"FAILED: {len(self.failures())} check(s) above threshold"
        if self.all_zero:
            return ("ZERO GRADIENTS: every gradient is 0 — the network is dead (every ReLU off or every unit "
                    "saturated; for a plain function: it is constant here), nothing was checked")
        zero = self.zero_leaves()
        if zero:
            return (f"PASSED, except ZERO GRADIENTS in {', '.join(zero)}: their gradient is exactly 0 (dead or "
                    "saturated units), nothing was checked there")
        return "PASSED"


def _to_float64(tree):
    leaves, treedef = flatten(tree)
    out = []
    for x in leaves:
        a = np.asarray(x)
        if not np.issubdtype(a.dtype, np.floating):
            raise GradientCheckError(
                f"check_grads: leaf of dtype {a.dtype} cannot be differentiated; pass integer "
                "arguments (labels, indices) through a closure or exclude them with argnums"
            )
        out.append(a.astype(np.float64))
    return unflatten(treedef, out)


def _flat_output(y):
    leaves, _ = flatten(y)
    if not leaves:
        return np.zeros(0)
    return np.concatenate([np.ravel(np.asarray(v, dtype=np.float64)) for v in leaves])


def _rel_error(a, b, delta):
    a, b = np.ravel(a), np.ravel(b)
    return float(np.linalg.norm(a - b) / (np.linalg.norm(a) + np.linalg.norm(b) + delta))


class _Problem:
    """f restricted to the checked arguments, as a function of their flat list of leaves."""

    def __init__(self, f, args, argnums, names):
        self.f, self.args, self.argnums = f, list(args), argnums
        self.trees = [flatten(args[i]) for i in argnums]
        self.leaves = [x for leaves, _ in self.trees for x in leaves]
        self.names = names

    def call(self, leaves):
        full = list(self.args)
        k = 0
        for i, (ls, treedef) in zip(self.argnums, self.trees):
            full[i] = unflatten(treedef, leaves[k : k + len(ls)])
            k += len(ls)
        return self.f(*full)

    def tree_at(self, j, x_j):
        leaves = list(self.leaves)
        leaves[j] = x_j
        return self.call(leaves)

    def at(self, j, x_j):
        return _flat_output(self.tree_at(j, x_j))


def _leaf_names(args, argnums):
    if len(argnums) == 1:
        a = args[argnums[0]]
        return leaf_paths(a, "" if isinstance(a, dict | list | tuple) else "x")
    return [n for i in argnums for n in leaf_paths(args[i], f"arg{i}")]


def _check_first_order(problem, modes, rtol, eps, delta, rng, order_label, mode_prefix):
    entries = []
    y0 = _flat_output(problem.call(problem.leaves))
    u = rng.standard_normal(y0.shape)
    dirs = [rng.standard_normal(np.shape(x)) for x in problem.leaves]
    if "rev" in modes:
        _, vjp_fn = vjp(lambda *ls: problem.call(list(ls)), *problem.leaves)
        out_value = problem.call(problem.leaves)
        out_leaves, out_def = flatten(out_value)
        u_tree, k = [], 0
        for v in out_leaves:
            n = int(np.size(v))
            u_tree.append(u[k : k + n].reshape(np.shape(v)))
            k += n
        rev_grads = vjp_fn(unflatten(out_def, u_tree))
    for j, (x, v, name) in enumerate(zip(problem.leaves, dirs, problem.names)):
        scale = np.linalg.norm(y0) + 1.0
        floor = 64 * _EPS_MACH * scale / eps / rtol if delta is None else delta
        for mode in modes:
            if mode == "fwd":
                engine = _flat_output(jvp(lambda x_j, j=j: problem.tree_at(j, x_j), (x,), (v,))[1])
                project = lambda d: d  # noqa: E731
            else:
                engine = np.array([np.vdot(np.asarray(rev_grads[j], np.float64), v)])
                project = lambda d: np.array([np.vdot(u, d)])  # noqa: E731
                floor_m = floor * (np.linalg.norm(u) + 1.0)
            floor_used = floor if mode == "fwd" else floor_m
            entries.append(
                _compare(problem, j, x, v, engine, project, eps, rtol, floor_used, name,
                         mode_prefix + mode, order_label)
            )
    return entries


def _compare(problem, j, x, v, engine, project, eps, rtol, floor, name, mode, order):
    # ``floor`` is δ at step ε; the round-off of a difference quotient grows as 1/step.
    errors = []
    previous = None
    for step in (eps, eps / 10, eps / 100):
        fd = project((problem.at(j, x + step * v) - problem.at(j, x - step * v)) / (2 * step))
        err = _rel_error(engine, fd, floor * eps / step)
        errors.append(err)
        if err <= rtol:
            if order == 1 and not np.any(engine):
                return GradCheckEntry(name, mode, order, err, "pass", "gradient exactly 0: nothing checked", zero=True)
            detail = "" if step == eps else f"passed with step {step:.0e} (a kink lies within ±{eps:.0e})"
            return GradCheckEntry(name, mode, order, err, "pass", detail)
        if previous is not None and _rel_error(previous, fd, floor * eps / step) <= rtol:
            break  # the quotient does not depend on the step: no kink nearby, the engine is off
        previous = fd
    f0 = problem.at(j, x)
    jumps = []
    for step in (eps, eps / 100):
        right = project((problem.at(j, x + step * v) - f0) / step)
        left = project((f0 - problem.at(j, x - step * v)) / step)
        jumps.append((np.linalg.norm(right - left), left, right))
    (jump_big, _, _), (jump_small, left, right) = jumps
    noise = 2 * rtol * floor * 100  # round-off of a one-sided quotient at step ε/100
    if jump_small > 0.1 * jump_big and jump_small > rtol * (np.linalg.norm(left) + np.linalg.norm(right)) + noise:
        side = "left" if _rel_error(engine, left, noise) <= 1e-4 else (
            "right" if _rel_error(engine, right, noise) <= 1e-4 else "neither side")
        detail = (
            f"probe crossed a kink at this point: one-sided derivatives differ "
            f"(left {_short(left)}, right {_short(right)}); engine's {_short(engine)} matches {side}"
        )
        return GradCheckEntry(name, mode, order, errors[0], "kink", detail)
    return GradCheckEntry(name, mode, order, min(errors), "fail", f"engine {_short(engine)} vs finite difference")


def _short(a):
    a = np.ravel(a)
    return f"{a[0]:.6g}" if a.size == 1 else f"‖·‖={np.linalg.norm(a):.6g}"


def check_grads(f, args, modes=("fwd", "rev"), order=2, *, argnums=None, rtol=1e-7, eps=1e-6,
                delta=None, seed=0, raise_on_failure=True):
    """Check ``f``'s derivatives at ``args`` against central differences, leaf by leaf.

    f: function of ``*args``; each argument may be an array or a tree of arrays; the output
        may be an array or a tree of arrays. Arguments are converted to float64.
    modes: any of ``"fwd"`` (J·v by forward mode) and ``"rev"`` (Jᵀu by reverse mode).
    order: 1 checks first derivatives; 2 also checks the derivatives of the derivatives.
    argnums: which arguments to check (default: all).
    rtol: pass threshold on the relative error ‖g − ĝ‖ / (‖g‖ + ‖ĝ‖ + δ).
    Returns a :class:`GradCheckReport`; raises :class:`GradientCheckError` (whose message is
    the report) if a leaf fails and ``raise_on_failure`` is true.
    """
    args = tuple(args) if isinstance(args, list | tuple) else (args,)
    if isinstance(modes, str):
        modes = (modes,)
    n = len(args)
    argnum = Interval(numbers.Integral, -n, n, closed="left")
    validate("check_grads", {
        "f": ["callable"], "modes": [ListOf(Options(str, ("fwd", "rev")), min_len=1)],
        "order": [Interval(numbers.Integral, 1, None, closed="left")],
        "argnums": [None, argnum, ListOf(argnum, min_len=1)], "rtol": [POSITIVE_REAL],
        "eps": [POSITIVE_REAL], "delta": [None, NON_NEGATIVE_REAL],
        "seed": [NON_NEGATIVE_INT, np.random.Generator], "raise_on_failure": ["boolean"],
    }, {"f": f, "modes": modes, "order": order, "argnums": argnums, "rtol": rtol, "eps": eps, "delta": delta,
        "seed": seed, "raise_on_failure": raise_on_failure})
    argnums = tuple(range(n)) if argnums is None else tuple(
        int(i) % n for i in ((argnums,) if isinstance(argnums, numbers.Integral) else argnums))
    args = tuple(_to_float64(a) if i in argnums else a for i, a in enumerate(args))
    rng = np.random.default_rng(seed)
    report = GradCheckReport(rtol=rtol)
    names = _leaf_names(args, argnums)
    _check(f, args, argnums, names, modes, order, 1, "", rtol, eps, delta, rng, report)
    if raise_on_failure and not report.passed:
        raise GradientCheckError("gradient check failed:\n" + str(report))
    return report


def _check(f, args, argnums, names, modes, order, level, prefix, rtol, eps, delta, rng, report):
    problem = _Problem(f, args, argnums, names)
    report.entries += _check_first_order(problem, modes, rtol, eps, delta, rng, level, prefix)
    if level >= order:
        return
    out_leaves, out_def = flatten(problem.call(problem.leaves))
    sub_args = tuple(args[i] for i in argnums)
    for mode in modes:
        if mode == "rev":
            u = unflatten(out_def, [rng.standard_normal(np.shape(y)) for y in out_leaves])

            def df(*xs, u=u):
                return vjp(lambda *ys: f(*_merge(args, argnums, ys)), *xs)[1](u)
        else:
            v = tuple(unflatten(t, [rng.standard_normal(np.shape(x)) for x in ls]) for ls, t in problem.trees)

            def df(*xs, v=v):
                return jvp(lambda *ys: f(*_merge(args, argnums, ys)), xs, v)[1]

        _check(df, sub_args, tuple(range(len(argnums))), names, modes, order, level + 1,
               f"{prefix}{mode}→", rtol, eps, delta, rng, report)


def _merge(args, argnums, xs):
    full = list(args)
    for i, x in zip(argnums, xs):
        full[i] = x
    return full
