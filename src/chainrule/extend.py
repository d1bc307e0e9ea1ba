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

The engine knows one rule protocol, ``rule(argnums, g, ans, args, params) -> cotangents``
(``defvjp_argnums``; the arguments as a tuple and the options as a dict, as in autograd).
``defvjp`` (one rule per argument), ``defvjp_argnum`` (one rule for any argument number: variadic
primitives such as ``concatenate``), ``defvjp_all`` (one joint rule whose cotangents share work,
such as ``dense``) and ``deflinear`` are sugar over it (``engine/rules.py``).
"""

from __future__ import annotations

from .engine.rules import (  # noqa: F401  (the public extension API)
    defjvp,
    defjvp_argnum,
    defjvp_argnums,
    deflinear,
    defvjp,
    defvjp_all,
    defvjp_argnum,
    defvjp_argnums,
    primitive,
)

__all__ = ["defjvp", "defjvp_argnum", "defjvp_argnums", "deflinear", "defvjp", "defvjp_all", "defvjp_argnum",
           "defvjp_argnums", "primitive"]
