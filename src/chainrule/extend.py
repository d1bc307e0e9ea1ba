"""Define new primitives: the extension point of the engine (HIPS autograd's ``extend``).

A primitive is a plain NumPy function plus two rules per differentiable argument::

    from chainrule.extend import primitive, defvjp, defjvp
    import chainrule.numpy as cnp

    cube = primitive("cube", lambda x: x * x * x)
    defvjp(cube, lambda g, ans, x: g * 3 * x**2)        # VJP: cotangent g -> cotangent of x
    defjvp(cube, lambda x_dot, ans, x: 3 * x**2 * x_dot)  # JVP: tangent of x -> tangent of ans

Rules receive the output ``ans`` and the primal inputs, and must use chainrule operations
(operators on the arguments, or ``chainrule.numpy``) so that they are differentiable in turn:
that is all higher-order derivatives need. Rules may return the broadcast shape; the engine
sums back to each argument's shape. Pass ``None`` for an argument that has zero derivative
(an index, a mask); an argument with no rule at all raises ``MissingRuleError`` when needed.
"""

from __future__ import annotations

from .engine.core import Primitive


def primitive(name, impl, differentiable=True):
    """Wrap ``impl`` (a NumPy function; static options as keyword arguments) as a primitive."""
    return Primitive(name, impl, differentiable)


def _zero(*_, **__):
    return None


def defvjp(prim, *rules):
    """Register VJP rules ``rule_i(g, ans, *args, **params)`` for arguments 0, 1, ..."""
    for i, rule in enumerate(rules):
        prim.vjps[i] = _zero if rule is None else rule


def defjvp(prim, *rules):
    """Register JVP rules ``rule_i(x_dot, ans, *args, **params)`` for arguments 0, 1, ..."""
    for i, rule in enumerate(rules):
        prim.jvps[i] = _zero if rule is None else rule


def defvjp_all(prim, rule):
    """Register one joint VJP ``rule(argnums, g, ans, *args, **params) -> [ct for argnums]``.

    For fused primitives whose cotangents share work (a dense layer's BP3/BP4 share delta).
    """
    prim.vjp_all = rule


def deflinear(prim, nargs=1):
    """JVP rules for a primitive linear in each argument separately (negative, multiply, matmul,
    reshape, sum...): the tangent is the primitive applied with that argument replaced by it."""
    for i in range(nargs):
        prim.jvps[i] = _linear_jvp(prim, i)


def _linear_jvp(prim, i):
    def jvp(x_dot, ans, *args, **params):
        return prim(*args[:i], x_dot, *args[i + 1 :], **params)

    return jvp
