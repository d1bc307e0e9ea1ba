"""The cache of compiled programs: one per input signature of a jitted function, at most
``MAX_PROGRAMS`` of them; a dropped program's source leaves ``linecache`` with it."""

from __future__ import annotations

import functools

import numpy as np

from ..engine.core import Tracer
from ..engine.tree import flatten
from ..errors import StagingError
from .codegen import CompiledProgram
from .staging import stage

MAX_PROGRAMS = 64  # compiled programs kept per jitted function


def _dynamic(x):
    return isinstance(x, np.ndarray)


def _signature(leaf):
    if type(leaf) is np.ndarray:  # (C order or not: views and copies of an argument come out the same)
        return leaf.shape, leaf.dtype, leaf.flags.c_contiguous
    if isinstance(leaf, np.ndarray):
        return type(leaf), leaf.shape, leaf.dtype, leaf.flags.c_contiguous
    kind = type(leaf)  # a static value: a new one compiles a new program
    if isinstance(leaf, tuple):  # a namedtuple (a leaf of the tree): its fields, each keyed alike
        if any(isinstance(e, np.ndarray) for e in leaf):
            raise StagingError(f"jit: a {kind.__name__} holding arrays cannot be an argument (its arrays would "
                               "become constants); pass the arrays in a dict or a plain tuple")
        return kind, tuple(map(_signature, leaf))
    if kind is float:
        return kind, leaf.hex()  # -0.0 and 0.0 differ (1/x); NaN equals NaN (no recompiling)
    if isinstance(leaf, np.generic):
        return kind, leaf.dtype.str, leaf.tobytes()
    try:
        hash(leaf)
    except TypeError:
        raise StagingError(f"jit: an argument of type {kind.__name__} is neither an array nor a hashable value; "
                           "pass arrays directly or inside dicts, lists and tuples") from None
    return kind, leaf


def jit(fn):
    """Compile ``fn`` per input signature (see the module docstring); ``fn.program(*args)`` shows the code."""
    programs = {}

    def lookup(args, kwargs):
        leaves, treedef = flatten((args, kwargs) if kwargs else args)
        for x in leaves:
            if isinstance(x, Tracer):
                return None, None, leaves  # called inside another transform: run fn traced, uncompiled
        key = (bool(kwargs), treedef, tuple(map(_signature, leaves)))
        return key, programs.get(key), leaves

    def compile_for(key, args, kwargs):
        ir, lowered, result = stage(fn, args, kwargs, _dynamic)
        program = CompiledProgram(ir, lowered)
        while len(programs) >= MAX_PROGRAMS:  # many signatures (shapes): forget the oldest program
            programs.pop(next(iter(programs))).release()
        programs[key] = program
        return program, result

    @functools.wraps(fn)
    def compiled(*args, **kwargs):
        key, program, leaves = lookup(args, kwargs)
        if program is not None:
            return program.run([x for x in leaves if isinstance(x, np.ndarray)])
        if key is None:
            return fn(*args, **kwargs)
        return compile_for(key, args, kwargs)[1]

    def program(*args, **kwargs):
        """The compiled program for these arguments (compiling it if needed)."""
        key, found, _ = lookup(args, kwargs)
        if key is None:
            raise TypeError(f"jit({getattr(fn, '__name__', 'function')}).program: arguments are traced values")
        return found if found is not None else compile_for(key, args, kwargs)[0]

    compiled.program = program
    compiled.programs = programs
    return compiled


def jit_or_eager(fn):
    """``jit(fn)``, falling back to ``fn`` itself for good if it cannot be staged (a StagingError at
    a first call: for a pure function nothing has happened that running it again would repeat)."""
    compiled = jit(fn)
    current = [compiled]

    @functools.wraps(fn)
    def run(*args):
        try:
            return current[0](*args)
        except StagingError:
            if current[0] is fn:
                raise
            current[0] = fn
            return fn(*args)

    run.program = compiled.program
    run.is_compiled = lambda: current[0] is compiled
    return run
