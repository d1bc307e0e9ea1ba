"""``jit``: compile a pure function of arrays into straight-line NumPy code, once per input signature.

    step = chainrule.jit(chainrule.value_and_grad(loss))
    loss_value, grads = step(params, x, y)   # first call: traced and compiled; then replayed
    print(step.program(params, x, y))        # the forward pass and backprop, as plain NumPy calls

The first call with a new signature — the tree structure of the arguments, the shape and dtype of
every array, the value of every non-array leaf — runs the function under a staging trace
(``staging.py``) and compiles what it recorded; later calls with that signature run the compiled
code only: no tracers, no tape, no rule lookup, no shape checks that the signature already
guarantees. Results are the same bits as calling the function directly: the compiled code calls
the same primitive implementations, in the same order, on the same values.

Rules, as for ``jax.jit``: the function must be *pure* — its result depends on its array
arguments and on nothing it reads or mutates elsewhere (no random draws, no updates of
running statistics); Python control flow may depend on shapes and non-array arguments, not on
array values (that raises a StagingError at the first call, as do converting a traced value to
a number or NumPy array, assigning into one, boolean-mask indexing and NumPy functions chainrule
does not know). Arrays the function closes over, and random numbers it draws, are constants of
the compiled code: a later change to them is not seen — pass anything that changes as an
argument. Returned arrays are always new (never an argument or a view of one). Inside another
transform (its arguments are tracers) a jitted function simply runs, traced by that transform.
"""

from __future__ import annotations

import functools

import numpy as np

from ..errors import StagingError
from .core import Tracer
from .staging import stage
from .tree import flatten

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
        program, result = stage(fn, args, kwargs, _dynamic)
        if len(programs) >= MAX_PROGRAMS:  # many signatures (shapes): forget the oldest program
            del programs[next(iter(programs))]
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
