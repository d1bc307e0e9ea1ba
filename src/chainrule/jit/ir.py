"""The recorded program as a small IR, and an interpreter that runs it (JAX autodidax's jaxpr and
``eval_jaxpr``).

A program is a list of equations ``out = prim(*ins, **params)`` over numbered variables. An input
is ``("var", n)``, ``("const", value)`` or ``("seq", tuple|list, [inputs])`` (an index such as
``(rows, y)`` holding variables). ``evaluate`` runs the equations with each primitive's ``impl``:
what the generated code computes, without generating code (tests compare the two bit for bit).
"""

from __future__ import annotations

from ..engine.tree import unflatten


class Equation:
    """``out = prim(*ins, **params)``."""

    __slots__ = ("prim", "ins", "params", "out")

    def __init__(self, prim, ins, params, out):
        self.prim, self.ins, self.params, self.out = prim, ins, params, out

    def __repr__(self):
        params = "".join(f", {k}={v!r}" for k, v in self.params.items())
        return f"v{self.out} = {self.prim.name}({', '.join(map(_show, self.ins))}{params})"


def _show(spec):
    if spec[0] == "var":
        return f"v{spec[1]}"
    if spec[0] == "const":
        return "const"
    return f"{spec[1].__name__}({', '.join(map(_show, spec[2]))})"


class Program:
    """Equations, the input variables, and the outputs: ``outs[i]`` is ``("var", n)`` or
    ``("const", value)``; ``copies[i]`` says whether output i is returned as a copy (it could
    alias an input, or appear twice); ``labels`` describe the inputs (for comments only)."""

    __slots__ = ("name", "eqns", "in_vars", "labels", "outs", "copies", "out_treedef")

    def __init__(self, name, eqns, in_vars, labels, outs, copies, out_treedef):
        self.name, self.eqns, self.in_vars, self.labels = name, eqns, in_vars, labels
        self.outs, self.copies, self.out_treedef = outs, copies, out_treedef

    def __len__(self):
        return len(self.eqns)


def vars_of(ins):
    """The variable numbers read by a list of inputs (looking inside sequences)."""
    for spec in ins:
        if spec[0] == "var":
            yield spec[1]
        elif spec[0] == "seq":
            yield from vars_of(spec[2])


def _read(env, spec):
    kind = spec[0]
    if kind == "var":
        return env[spec[1]]
    if kind == "const":
        return spec[1]
    return spec[1](_read(env, s) for s in spec[2])


def evaluate(program, inputs):
    """Run ``program`` on the input arrays by calling each primitive's implementation in order."""
    env = dict(zip(program.in_vars, inputs))
    for eqn in program.eqns:
        env[eqn.out] = eqn.prim.impl(*[_read(env, s) for s in eqn.ins], **eqn.params)
    values = []
    for spec, copy in zip(program.outs, program.copies):
        v = _read(env, spec)
        values.append(v.copy() if (copy or spec[0] == "const") and hasattr(v, "copy") else v)
    return unflatten(program.out_treedef, values)
