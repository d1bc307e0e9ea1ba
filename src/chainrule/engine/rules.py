"""The rule protocol and its sugar (HIPS autograd's ``defvjp_argnums`` and friends).

The engine knows one protocol (``Primitive.vjp``/``Primitive.jvp``, see ``core.py``):
``defvjp_argnums``/``defjvp_argnums`` set it directly; ``defvjp`` (one rule per argument),
``defvjp_argnum`` (one rule for any argument number: variadic primitives), ``defvjp_all`` (one joint
rule whose cotangents share work) and ``deflinear`` are sugar over it. Users reach these through
``chainrule.extend``.
"""

from __future__ import annotations

from ..errors import MissingRuleError
from .core import Primitive


def primitive(name, impl, differentiable=True):
    """Wrap ``impl`` (a NumPy function; static options as keyword arguments) as a primitive."""
    return Primitive(name, impl, differentiable)


def defvjp_argnums(prim, rule):
    """The protocol itself: ``rule(argnums, g, ans, *args, **params) -> one cotangent per argnum``."""
    prim.vjp = rule


def defjvp_argnums(prim, rule):
    """The protocol itself: ``rule(argnums, tangents, ans, *args, **params) -> output tangent or None``."""
    prim.jvp = rule


def _zero(*_, **__):
    return None


def _missing(kind, prim, i):
    def rule(*_, **__):
        raise MissingRuleError(f"{kind} of primitive '{prim.name}' with respect to argument {i} is not defined")

    return rule


def defvjp(prim, *rules):
    """Register VJP rules ``rule_i(g, ans, *args, **params)`` for arguments 0, 1, ..."""
    table = tuple(_zero if rule is None else rule for rule in rules)
    n = len(table)
    if n == 1:  # the common case (unary primitives) without a loop
        only = table[0]

        def vjp(argnums, g, ans, *args, **params):
            if argnums == (0,):
                return (only(g, ans, *args, **params),)
            return [(only if i == 0 else _missing("VJP", prim, i))(g, ans, *args, **params) for i in argnums]
    else:

        def vjp(argnums, g, ans, *args, **params):
            return [(table[i] if i < n else _missing("VJP", prim, i))(g, ans, *args, **params) for i in argnums]

    prim.vjp = vjp


def defjvp(prim, *rules):
    """Register JVP rules ``rule_i(x_dot, ans, *args, **params)`` for arguments 0, 1, ...;
    the output tangent is the sum of the arguments' contributions."""
    table = tuple(_zero if rule is None else rule for rule in rules)
    n = len(table)
    defjvp_argnum(prim, lambda i, x_dot, ans, *args, **params:
                  (table[i] if i < n else _missing("JVP", prim, i))(x_dot, ans, *args, **params))


def defvjp_argnum(prim, rule):
    """One VJP rule for every argument: ``rule(argnum, g, ans, *args, **params)`` (variadic primitives)."""

    def vjp(argnums, g, ans, *args, **params):
        return [rule(i, g, ans, *args, **params) for i in argnums]

    prim.vjp = vjp


def defjvp_argnum(prim, rule):
    """One JVP rule for every argument: ``rule(argnum, x_dot, ans, *args, **params)``; contributions add."""

    def jvp(argnums, tangents, ans, *args, **params):
        out = None
        for i, x_dot in zip(argnums, tangents):
            t = rule(i, x_dot, ans, *args, **params)
            if t is not None:
                out = t if out is None else out + t
        return out

    prim.jvp = jvp


def defvjp_all(prim, rule):
    """Register one joint VJP ``rule(argnums, g, ans, *args, **params) -> [ct for argnums]``.

    For fused primitives whose cotangents share work (a dense layer's BP3/BP4 share delta).
    This is the engine's protocol itself (``defvjp_argnums``)."""
    prim.vjp = rule


def deflinear(prim, nargs=1):
    """JVP rules for a primitive linear in each argument separately (negative, multiply, matmul,
    reshape, sum...): the tangent is the primitive applied with that argument replaced by it."""

    def rule(i, x_dot, ans, *args, **params):
        if i >= nargs:
            return _missing("JVP", prim, i)()
        return prim(*args[:i], x_dot, *args[i + 1:], **params)

    defjvp_argnum(prim, rule)
