"""Limited-memory BFGS for full-batch training."""

from __future__ import annotations

import math

import numpy as np

from ..constraints import NON_NEGATIVE_REAL, POSITIVE_INT, Options
from ..errors import ConfigError
from . import _checks
from .base import Optimizer

_C1, _C2 = 1e-4, 0.9  # strong Wolfe constants for quasi-Newton methods (Nocedal & Wright, §3.1)
_MIN_CURVATURE = 1e-10  # pairs with yᵀs below this are skipped: they would break positive definiteness


class LBFGS(Optimizer):
    """L-BFGS (Liu & Nocedal 1989; Nocedal & Wright, Numerical Optimization, Algorithms 7.4 and 3.5-3.6).

    One ``step`` is one iteration. The parameters are treated as one flat vector x (in the order of
    the params dict), g is the gradient after clipping and penalties, and the last m pairs
    s_i = x_{i+1} − x_i, y_i = g_{i+1} − g_i with y_iᵀs_i > 1e-10 are kept (m = history_size):

        d = −H g   by the two-loop recursion, with H₀ = (sᵀy / yᵀy) I from the newest pair
        x ← x + t d

    The first iteration (and any after the history is reset) uses d = −g and
    t = learning_rate · min(1, 1/‖g‖₁), as torch.optim.LBFGS. Afterwards t starts at learning_rate:
    with ``line_search='strong_wolfe'`` (the default) it is then adjusted by a bracketing line search
    with cubic interpolation until f(x + t d) ≤ f(x) + c₁ t gᵀd and |∇f(x + t d)ᵀd| ≤ c₂ |gᵀd|
    (c₁ = 1e-4, c₂ = 0.9), using at most ``max_line_search`` evaluations; with ``line_search=None``
    t is used as is (then the learning rate must suit the problem).

    ``step(grads, closure, loss=None)``: ``grads`` is the gradient at the current parameters;
    ``closure()`` re-evaluates the full-batch loss at the current parameter values and returns
    ``(loss, grads)``. The line search needs f(x): pass ``loss=`` to save one evaluation. The
    penalties are added to the closure's loss too (weight_decay/2 ‖w‖² + l1 ‖w‖₁), so the line search
    sees the objective whose gradient it uses; clipping would break that link and is only allowed
    with ``line_search=None``. When max |g| ≤ tolerance_grad, or the descent rate −gᵀd is below
    tolerance_change, the step leaves the parameters as they are and sets ``converged``.

    All parameters must share one dtype. State: 'history/s', 'history/y' (m, n), 'history/rho' (m,),
    'previous/s', 'previous/g' (n,) and the scalars 'history_count', 'history_head', 'has_previous'.
    """

    name = "lbfgs"
    _parameter_constraints = {**Optimizer._parameter_constraints, "history_size": [POSITIVE_INT],
                              "line_search": [None, Options(str, ("strong_wolfe",))],
                              "max_line_search": [POSITIVE_INT], "tolerance_grad": [NON_NEGATIVE_REAL],
                              "tolerance_change": [NON_NEGATIVE_REAL]}

    def __init__(self, params, learning_rate=1.0, *, history_size=10, line_search="strong_wolfe",
                 max_line_search=25, tolerance_grad=1e-7, tolerance_change=1e-9,
                 weight_decay=0.0, l1=0.0, clip_norm=None, clip_value=None):
        self._validate(locals())
        self.history_size = _checks.integer("LBFGS", "history_size", history_size, low=1)
        self.line_search = _checks.choice("LBFGS", "line_search", line_search, ("strong_wolfe", None))
        self.max_line_search = _checks.integer("LBFGS", "max_line_search", max_line_search, low=1)
        self.tolerance_grad = _checks.real("LBFGS", "tolerance_grad", tolerance_grad, low=0.0)
        self.tolerance_change = _checks.real("LBFGS", "tolerance_change", tolerance_change, low=0.0)
        if line_search and (clip_norm is not None or clip_value is not None):
            raise ConfigError("LBFGS: clipping changes the gradient but not the loss, which misleads the line "
                              "search; use clip_norm/clip_value only with line_search=None")
        super().__init__(params, learning_rate, weight_decay=weight_decay, l1=l1,
                         clip_norm=clip_norm, clip_value=clip_value)
        dtypes = {p.dtype for p in self.params.values()}
        if len(dtypes) > 1:
            raise ConfigError(f"LBFGS: all parameters must share one dtype, got {sorted(map(str, dtypes))}")
        dtype = dtypes.pop()
        n = sum(p.size for p in self.params.values())
        m = self.history_size
        self._g, self._d, self._x0 = np.empty(n, dtype), np.empty(n, dtype), np.empty(n, dtype)
        self._y = np.empty(n, dtype)
        self._g_prev, self._s_prev = np.zeros(n, dtype), np.zeros(n, dtype)
        self._S, self._Y, self._rho = np.zeros((m, n), dtype), np.zeros((m, n), dtype), np.zeros(m, dtype)
        self._alpha = np.zeros(m)
        self._history_count = self._history_head = 0
        self._has_previous = False
        self.converged = False
        # Views of the flat vectors shaped like each parameter: the gradient is gathered in place.
        self._views = []
        offset = 0
        for slot in self._slots:
            size, shape = slot.param.size, slot.param.shape
            slot.work = self._g[offset:offset + size].reshape(shape)
            self._views.append((slot, self._d[offset:offset + size].reshape(shape),
                                self._x0[offset:offset + size].reshape(shape)))
            offset += size

    def _options(self):
        return {"history_size": self.history_size, "line_search": self.line_search,
                "max_line_search": self.max_line_search, "tolerance_grad": self.tolerance_grad,
                "tolerance_change": self.tolerance_change}

    # -- one iteration -----------------------------------------------------------------------------
    def step(self, grads, closure=None, *, loss=None):
        """One L-BFGS iteration; returns the loss at the new parameters when the line search evaluated it."""
        self._check_grads(grads)
        if self.line_search and closure is None:
            raise ConfigError("LBFGS.step: line_search='strong_wolfe' needs closure() -> (loss, grads)")
        t = self.learning_rate_now
        self.step_count += 1
        g, d = self._g, self._d
        self._gather(grads, self._clip_scale(grads))
        if self._has_previous:
            self._remember(g)
        self.converged = False
        if not float(np.max(np.abs(g), initial=0.0)) > self.tolerance_grad:
            return self._stop()
        self._direction(g)
        gtd = float(np.dot(g, d))
        if not gtd < 0.0:  # not a descent direction (rounding in a poor history): restart from −g
            self._history_count = 0
            self._direction(g)
            gtd = float(np.dot(g, d))
        if not gtd < -self.tolerance_change:
            return self._stop()
        if self._history_count == 0:
            t *= min(1.0, 1.0 / float(np.sum(np.abs(g))))
        np.copyto(self._g_prev, g)
        for slot, _, x0 in self._views:
            np.copyto(x0, slot.param)
        f_new = None
        if self.line_search:
            f0 = self._objective(closure()[0] if loss is None else loss)
            t, f_new = self._strong_wolfe(closure, f0, gtd, t)
        self._move_to(t)
        if t == 0.0:  # the line search found no decrease: forget the history, restart from −g
            self._history_count = 0
            return self._stop(f_new)
        np.multiply(d, t, out=self._s_prev)
        self._has_previous = True
        return f_new

    def _stop(self, loss=None):
        self.converged, self._has_previous = True, False
        return loss

    def _gather(self, grads, scale):
        """The flat effective gradient (clipping, penalties) into self._g through the slots' views."""
        for slot in self._slots:
            np.copyto(slot.work, grads[slot.name])
            self._effective_grad(slot, slot.work, scale)

    def _remember(self, g):
        """Add the pair (s, y) of the previous iteration to the history, if its curvature is positive."""
        y = np.subtract(g, self._g_prev, out=self._y)
        ys = float(np.dot(y, self._s_prev))
        if not ys > _MIN_CURVATURE:
            return
        m = self.history_size
        if self._history_count < m:
            i = (self._history_head + self._history_count) % m
            self._history_count += 1
        else:
            i, self._history_head = self._history_head, (self._history_head + 1) % m
        np.copyto(self._S[i], self._s_prev)
        np.copyto(self._Y[i], y)
        self._rho[i] = 1.0 / ys

    def _direction(self, g):
        """d = −H g by the two-loop recursion (Nocedal & Wright, Algorithm 7.4)."""
        d = np.negative(g, out=self._d)
        k = self._history_count
        if k == 0:
            return
        m, S, Y, rho, alpha = self.history_size, self._S, self._Y, self._rho, self._alpha
        order = [(self._history_head + j) % m for j in range(k)]  # oldest to newest
        for i in reversed(order):
            alpha[i] = rho[i] * float(np.dot(S[i], d))
            d -= float(alpha[i]) * Y[i]
        newest = order[-1]
        d *= float(np.dot(S[newest], Y[newest])) / float(np.dot(Y[newest], Y[newest]))
        for i in order:
            beta = rho[i] * float(np.dot(Y[i], d))
            d += float(alpha[i] - beta) * S[i]

    def _move_to(self, t):
        """Parameters ← x0 + t d, in place."""
        for slot, d, x0 in self._views:
            np.multiply(d, t, out=slot.param)
            slot.param += x0

    def _objective(self, loss):
        """The closure's loss plus the penalties at the current parameters."""
        f = float(loss)
        for slot in self._slots:
            w = slot.param
            if self._l2:
                f += 0.5 * self._l2 * float(np.vdot(w, w))
            if self.l1:
                f += self.l1 * float(np.abs(w, out=slot.tmp).sum())
        return f

    def _evaluate(self, closure, t):
        """(f, ∇fᵀd) at x0 + t d."""
        self._move_to(t)
        loss, grads = closure()
        self._check_grads(grads)
        self._gather(grads, 1.0)
        return self._objective(loss), float(np.dot(self._g, self._d))

    # -- strong Wolfe line search (Nocedal & Wright, Algorithms 3.5 and 3.6) -------------------------
    def _strong_wolfe(self, closure, f0, gtd0, t):
        """Returns (t, f(x0 + t d)); t = 0 when no point with sufficient decrease was found."""
        evaluations = 0
        prev = (0.0, f0, gtd0)
        while evaluations < self.max_line_search:
            f, gtd = self._evaluate(closure, t)
            evaluations += 1
            if not math.isfinite(f) or f > f0 + _C1 * t * gtd0 or (evaluations > 1 and f >= prev[1]):
                return self._zoom(closure, f0, gtd0, prev, (t, f, gtd), evaluations)
            if abs(gtd) <= -_C2 * gtd0:
                return t, f
            if gtd >= 0.0:
                return self._zoom(closure, f0, gtd0, (t, f, gtd), prev, evaluations)
            t_next = _cubic_minimizer(*prev, t, f, gtd, t + 0.01 * (t - prev[0]), 10.0 * t)
            prev, t = (t, f, gtd), t_next
        return prev[0], prev[1]

    def _zoom(self, closure, f0, gtd0, low, high, evaluations):
        """Shrink [low, high] (low: the best point with sufficient decrease) to a strong Wolfe point."""
        d_max = float(np.max(np.abs(self._d)))
        while evaluations < self.max_line_search and abs(high[0] - low[0]) * d_max >= self.tolerance_change:
            a, b = sorted((low[0], high[0]))
            if math.isfinite(high[1]):
                t = _cubic_minimizer(*low, *high, a, b)
            else:
                t = (a + b) / 2.0
            width = b - a  # keep the trial point off the ends, so the bracket keeps shrinking
            t = min(max(t, a + 0.1 * width), b - 0.1 * width)
            f, gtd = self._evaluate(closure, t)
            evaluations += 1
            if not math.isfinite(f) or f > f0 + _C1 * t * gtd0 or f >= low[1]:
                high = (t, f, gtd)
            else:
                if abs(gtd) <= -_C2 * gtd0:
                    return t, f
                if gtd * (high[0] - low[0]) >= 0.0:
                    high = low
                low = (t, f, gtd)
        return low[0], low[1]

    # -- saving and restoring ----------------------------------------------------------------------
    def _buffers(self):
        yield from (("history/s", self._S), ("history/y", self._Y), ("history/rho", self._rho),
                    ("previous/s", self._s_prev), ("previous/g", self._g_prev))

    def _scalars(self):
        return {"history_count": self._history_count, "history_head": self._history_head,
                "has_previous": self._has_previous}

    def _parse_scalars(self, state):
        owner = "LBFGS.load_state_dict"
        count = _checks.integer(owner, "history_count", state["history_count"])
        head = _checks.integer(owner, "history_head", state["history_head"])
        if count > self.history_size or head >= self.history_size:
            raise ConfigError(f"{owner}: history_count={count}, history_head={head} do not fit "
                              f"history_size={self.history_size}")
        return {"_history_count": count, "_history_head": head, "_has_previous": bool(state["has_previous"])}


def _cubic_minimizer(t1, f1, g1, t2, f2, g2, low, high):
    """Minimizer of the cubic through (t1, f1, slope g1) and (t2, f2, slope g2), clamped to [low, high]
    (Nocedal & Wright, eq. 3.59); the midpoint when the cubic has no minimizer."""
    if t1 != t2:
        d1 = g1 + g2 - 3.0 * (f1 - f2) / (t1 - t2)
        d2_squared = d1 * d1 - g1 * g2
        if d2_squared >= 0.0:
            d2 = math.sqrt(d2_squared)
            if t1 > t2:
                t1, f1, g1, t2, f2, g2 = t2, f2, g2, t1, f1, g1
            denominator = g2 - g1 + 2.0 * d2
            if denominator != 0.0:
                t = t2 - (t2 - t1) * (g2 + d2 - d1) / denominator
                if math.isfinite(t):
                    return min(max(t, low), high)
    return (low + high) / 2.0
