"""Write a program (``ir.py``) out as a Python function of NumPy calls, and compile it.

Every name in the generated source is generated here (``v7`` a variable, ``c3`` a constant, a
primitive's function named from its name after keeping only ASCII letters, digits and ``_``), and
every value is either a literal of a plain type (bool, int, finite float, None, a tuple of ints, a
string written with ``ascii()``) or a constant passed in the namespace. Nothing a user wrote (tree
keys, names, static arguments, reprs of values) reaches the source otherwise: the input comments
are ``ascii()``-escaped and cut short, so no newline or quote in a key can end the comment.
"""

from __future__ import annotations

import itertools
import keyword
import linecache
import math
import re

import numpy as np

from ..engine.tree import unflatten
from .ir import vars_of

_programs = itertools.count()
_RESERVED = re.compile(r"[vc]\d+|np|program")
_LABEL_MAX = 120  # characters of an input's description kept in its comment


class CompiledProgram:
    """A staged function: ``source`` (straight-line NumPy calls), ``run(dynamic_leaves)``, and the
    ``ir`` it was written from. ``release()`` removes its source from ``linecache`` (the jit cache
    calls it when it drops the program)."""

    def __init__(self, ir, lowered):
        self.ir = ir
        self.name = ir.name
        self.eqns = ir.eqns
        self.out_treedef = ir.out_treedef
        self.source, namespace = _codegen(ir, lowered)
        self.filename = f"<chainrule.jit #{next(_programs)}>"
        lines = self.source.splitlines(keepends=True)
        linecache.cache[self.filename] = (len(self.source), None, lines, self.filename)  # readable tracebacks
        exec(compile(self.source, self.filename, "exec"), namespace)
        self.fn = namespace["program"]

    def run(self, leaves):
        return unflatten(self.out_treedef, self.fn(*leaves))

    def release(self):
        linecache.cache.pop(self.filename, None)

    def __len__(self):
        return len(self.eqns)

    def __repr__(self):
        return f"<chainrule.jit program {_label(self.name)}: {len(self.eqns)} equations>\n{self.source}"


def _label(text):
    """``text`` as it may appear in a comment: ASCII, escaped (no line break of any kind), short."""
    text = ascii(str(text))[1:-1]
    return text if len(text) <= _LABEL_MAX else text[:_LABEL_MAX] + "..."


_LITERALS = (bool, int, type(None))


def _literal(v):
    """Python source for ``v`` if it is a value of a plain type, else None (it becomes a constant)."""
    kind = type(v)
    if kind in _LITERALS:
        return repr(v)
    if kind is float:
        return repr(v) if math.isfinite(v) else None
    if kind is str:
        return ascii(v)
    if kind is tuple and all(type(e) in _LITERALS for e in v):
        return repr(v)
    return None


def _function_name(prim_name):
    """An identifier for a primitive's function, from its name: ASCII letters, digits and '_' only."""
    base = "".join(ch if ch.isascii() and (ch.isalnum() or ch == "_") else "_" for ch in str(prim_name)[:40])
    base = base.strip("_") or "op"
    if not base.isidentifier() or keyword.iskeyword(base) or _RESERVED.fullmatch(base):
        base = f"op_{base}"  # '3x', 'lambda', 'v0' (a variable), 'c1' (a constant), 'np', 'program'
    return base


def _codegen(ir, lowered):
    """Python source of ``program(*inputs)`` and the namespace (primitives, constants) it runs in."""
    namespace = {"np": np}
    names = {}
    n_consts = [0]
    const_names = {}  # id(value) -> name: one constant object, one name

    def const(value):
        key = const_names.get(id(value))
        if key is not None and namespace[key] is value:
            return key
        key = f"c{n_consts[0]}"
        n_consts[0] += 1
        namespace[key] = value
        const_names[id(value)] = key
        return key

    def value(v):
        lit = _literal(v)
        return lit if lit is not None else const(v)

    def function(prim):  # named after the primitive: the source reads like the math
        key = names.get(prim)
        if key is None:
            base = key = _function_name(prim.name)
            i = 1
            while key in namespace:
                i += 1
                key = f"{base}_{i}"
            namespace[key] = prim.impl
            names[prim] = key
        return key

    def arg(spec):
        kind = spec[0]
        if kind == "var":
            return f"v{int(spec[1])}"
        if kind == "const":
            return value(spec[1])
        items = ", ".join(arg(s) for s in spec[2])
        return f"({items},)" if spec[1] is tuple else f"[{items}]"

    # The last equation reading each variable: delete it there (large activations are freed
    # as soon as the backward sweep has used them, as in the eager sweep).
    outputs = {spec[1] for spec in ir.outs if spec[0] == "var"}
    last_use = {}
    for k, eqn in enumerate(ir.eqns):
        for v in vars_of(eqn.ins):
            last_use[v] = k
    lines = [f"def program({', '.join(f'v{int(v)}' for v in ir.in_vars)}):"]
    lines += [f"    # v{int(v)}: {_label(label)}" for v, label in zip(ir.in_vars, ir.labels)]
    for k, eqn in enumerate(ir.eqns):
        out = f"v{int(eqn.out)}"
        statements = lowered.get(eqn.out)
        if statements is not None:  # NumPy statements in place of a call of impl (lowering.py)
            templates, values = statements
            slots = {f"a{i}": arg(s) for i, s in enumerate(eqn.ins)}
            slots.update((key, value(v)) for key, v in values.items())
            lines.extend(f"    {line.format(out=out, **slots)}" for line in templates)
        else:
            call = [arg(s) for s in eqn.ins]
            keyword_params = {}
            for key, v in eqn.params.items():
                if type(key) is str and key.isascii() and key.isidentifier() and not keyword.iskeyword(key):
                    call.append(f"{key}={value(v)}")
                else:  # a key that is not a plain identifier travels inside a constant dict
                    keyword_params[key] = v
            if keyword_params:
                call.append(f"**{const(keyword_params)}")
            lines.append(f"    {out} = {function(eqn.prim)}({', '.join(call)})")
        dead = sorted({v for v in vars_of(eqn.ins) if last_use[v] == k and v not in outputs})
        if dead:
            lines.append(f"    del {', '.join(f'v{int(v)}' for v in dead)}")
    returned = []
    for spec, copy in zip(ir.outs, ir.copies):
        if spec[0] == "var":
            returned.append(f"v{int(spec[1])}.copy()" if copy else f"v{int(spec[1])}")
        elif isinstance(spec[1], np.ndarray):
            returned.append(f"{const(spec[1])}.copy()")  # a constant output (a zero gradient) is new each call
        else:
            returned.append(value(spec[1]))
    lines.append(f"    return ({', '.join(returned)},)")
    return "\n".join(lines) + "\n", namespace
