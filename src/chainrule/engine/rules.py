"""The rule protocol and its sugar (HIPS autograd's ``defvjp_argnums`` and friends).

The engine knows one protocol (``Primitive.vjp``/``Primitive.jvp``, see ``core.py``), with the
primal arguments as a tuple and the options as a dict, as autograd passes them:

    vjp(argnums, g, ans, args, params) -> one cotangent per argument number in argnums
    jvp(argnums, tangents, ans, args, params) -> the output tangent (None if zero)

``defvjp_argnums``/``defjvp_argnums`` set it directly; ``defvjp`` (one rule per argument),
``defvjp_argnum`` (one rule for any argument number: variadic primitives), ``defvjp_all`` (one joint
rule whose cotangents share work), ``defjvp``, ``defjvp_argnum`` and ``deflinear`` are sugar over it,
whose rules take the arguments spread out: ``rule(g, ans, *args, **params)``. Users reach these
through ``chainrule.extend``.
"""

from __future__ import annotations

from ..errors import MissingRuleError
from .core import Primitive


def primitive(name, impl, differentiable=True):
    """Wrap ``impl`` (a NumPy function; static options as keyword arguments) as a primitive."""
    return Primitive(name, impl, differentiable)


def defvjp_argnums(prim, rule):
    """The protocol itself: ``rule(argnums, g, ans, args, params) -> one cotangent per argnum``."""
    prim.vjp = rule


def defjvp_argnums(prim, rule):
    """The protocol itself: ``rule(argnums, tangents, ans, args, params) -> output tangent or None``."""
    prim.jvp = rule


_FIRST, _SECOND, _BOTH = (0,), (1,), (0, 1)


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

    def vjp(argnums, g, ans, args, params):
        out = []
        for i in argnums:
            out.append((table[i] if i < n else _missing("VJP", prim, i))(g, ans, *args, **params))
        return out

    # The common cases without a loop (this runs once per recorded node in every backward pass).
    if n == 1:
        first = table[0]

        def vjp_one(argnums, g, ans, args, params):
            if argnums == _FIRST:
                return (first(g, ans, *args, **params),)
            return vjp(argnums, g, ans, args, params)

        prim.vjp = vjp_one
    elif n == 2:
        first, second = table

        def vjp_two(argnums, g, ans, args, params):
            if argnums == _FIRST:
                return (first(g, ans, *args, **params),)
            if argnums == _BOTH:
                return first(g, ans, *args, **params), second(g, ans, *args, **params)
            if argnums == _SECOND:
                return (second(g, ans, *args, **params),)
            return vjp(argnums, g, ans, args, params)

        prim.vjp = vjp_two
    else:
        prim.vjp = vjp


def defjvp(prim, *rules):
    """Register JVP rules ``rule_i(x_dot, ans, *args, **params)`` for arguments 0, 1, ...;
    the output tangent is the sum of the arguments' contributions."""
    table = tuple(_zero if rule is None else rule for rule in rules)
    n = len(table)

    def jvp(argnums, tangents, ans, args, params):
        out = None
        for i, x_dot in zip(argnums, tangents):
            t = (table[i] if i < n else _missing("JVP", prim, i))(x_dot, ans, *args, **params)
            if t is not None:
                out = t if out is None else out + t
        return out

    if n == 1:  # the common cases without a loop
        only = table[0]

        def jvp_one(argnums, tangents, ans, args, params):
            if argnums == _FIRST:
                return only(tangents[0], ans, *args, **params)
            return jvp(argnums, tangents, ans, args, params)

        prim.jvp = jvp_one
    elif n == 2:
        first, second = table

        def jvp_two(argnums, tangents, ans, args, params):
            if argnums == _FIRST:
                return first(tangents[0], ans, *args, **params)
            if argnums == _SECOND:
                return second(tangents[0], ans, *args, **params)
            return jvp(argnums, tangents, ans, args, params)

        prim.jvp = jvp_two
    else:
        prim.jvp = jvp


def defvjp_argnum(prim, rule):
    """One VJP rule for every argument: ``rule(argnum, g, ans, *args, **params)`` (variadic primitives)."""

    def vjp(argnums, g, ans, args, params):
        return [rule(i, g, ans, *args, **params) for i in argnums]

    prim.vjp = vjp


def defjvp_argnum(prim, rule):
    """One JVP rule for every argument: ``rule(argnum, x_dot, ans, *args, **params)``; contributions add."""

    def jvp(argnums, tangents, ans, args, params):
        out = None
        for i, x_dot in zip(argnums, tangents):
            t = rule(i, x_dot, ans, *args, **params)
            if t is not None:
                out = t if out is None else out + t
        return out

    prim.jvp = jvp


def defvjp_all(prim, rule):
    """Register one joint VJP ``rule(argnums, g, ans, *args, **params) -> [ct for argnums]``.

    For fused primitives whose cotangents share work (a dense layer's BP3/BP4 share delta)."""

    def vjp(argnums, g, ans, args, params):
        return rule(argnums, g, ans, *args, **params)

    prim.vjp = vjp


def deflinear(prim, nargs=1):
    """JVP rules for a primitive linear in each argument separately (negative, multiply, matmul,
    reshape, sum...): the tangent is the primitive applied with that argument replaced by it."""

    def jvp(argnums, tangents, ans, args, params):
        if argnums == _FIRST:  # the common case, without a loop
            return prim(tangents[0], *args[1:], **params)
        out = None
        for i, x_dot in zip(argnums, tangents):
            if i >= nargs:
                _missing("JVP", prim, i)()
            t = prim(*args[:i], x_dot, *args[i + 1:], **params)
            out = t if out is None else out + t
        return out

    prim.jvp = jvp
