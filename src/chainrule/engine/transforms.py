"""The public transforms: grad, value_and_grad, vjp, jvp, jacrev, jacfwd, hessian, hvp.

Each opens a fresh trace, wraps the inputs it differentiates with respect to as tracers of
that trace, calls the user's function, and reads the result. They compose because a trace
only ever unwraps its own tracers (see ``core.py``).
"""

from __future__ import annotations

import functools
import numbers

import numpy as np

from ..constraints import Interval, ListOf, short_repr, validate
from ..errors import ArgumentTypeError, DifferentiationTypeError, ShapeError
from .core import Tracer, dtype_of, lower, shape_of
from .forward import Dual, ForwardTrace
from .reverse import Node, ReverseTrace, backward_pass
from .tree import flatten, leaf_paths, unflatten


def _as_input(x, where):
    """A differentiable input: a floating-point array (or a tracer of an outer transform).

    ``where`` names the input in an error message; it may be a function computing the name,
    so that the common, valid case does not pay for building it.
    """
    if type(x) is np.ndarray and x.dtype.kind == "f":
        return x
    if isinstance(x, Tracer):
        value = lower(x)
    else:
        value = x = np.asarray(x) if not isinstance(x, np.ndarray | np.generic) else x
    dtype = np.result_type(value)
    if not np.issubdtype(dtype, np.floating):
        where = where() if callable(where) else where
        raise DifferentiationTypeError(
            f"can only differentiate with respect to floating-point arrays, but {where} has dtype "
            f"{dtype}; convert it with .astype(np.float64) or pass it as a non-differentiated argument"
        )
    return x


# What the transforms' arguments may be (``chainrule.constraints``), checked when the transform is
# made, never per call.
_INT = Interval(numbers.Integral, None, None)
_CONSTRAINTS = {"f": ["callable"], "argnums": [_INT, ListOf(_INT, min_len=1, types=(tuple,))],
                "has_aux": ["boolean"]}


def _check_transform(fname, **arguments):
    validate(fname, _CONSTRAINTS, arguments)


def _argnums_tuple(argnums, nargs, fname):
    nums = (argnums,) if isinstance(argnums, numbers.Integral) else tuple(argnums)
    for i in nums:
        if not -nargs <= i < nargs:
            raise ArgumentTypeError(f"{fname}(argnums): argnums={argnums} but the function was called with {nargs} "
                                    f"arguments (expected numbers in [{-nargs}, {nargs}))")
    return tuple(int(i) % nargs for i in nums)


def _check_scalar_result(out, fname):
    """A function differentiated by ``grad`` must return an array (or number), not None or a list."""
    if out is None:
        raise ArgumentTypeError(f"{fname}(f): the function returned None; {fname} needs a scalar array")
    if not isinstance(out, Tracer | np.ndarray | np.generic | float | int):
        raise ArgumentTypeError(f"{fname}(f): the function returned {type(out).__name__} "
                                f"({short_repr(out)}); {fname} needs a scalar array")


def _wrap_args(args, nums, make):
    """Replace the leaves of args[i] (i in nums) by tracers; return (args, leaves per argnum)."""
    args = list(args)
    inputs = []
    for i in nums:
        leaves, treedef = flatten(args[i])
        tree = args[i]
        traced = [make(_as_input(x, lambda i=i, j=j, tree=tree: leaf_paths(tree, f"argument {i}")[j]))
                  for j, x in enumerate(leaves)]
        args[i] = unflatten(treedef, traced)
        inputs.append((traced, treedef))
    return args, inputs


def _ones_like(x):
    return np.ones(shape_of(x), dtype_of(x))


def _zeros_like(x):
    return np.zeros(shape_of(x), dtype_of(x))


def _detach_tape(trace):
    """Take the finished recording from the trace, so that no cycle trace → tape → node → trace
    outlives the transform (the graph is then freed by reference counting alone)."""
    tape, trace.tape = trace.tape, []
    return tape


def _sweep(trace, tape, out_leaves, cts, inputs, free):
    seeds = [(y, g) for y, g in zip(out_leaves, cts) if isinstance(y, Node) and y.trace is trace]
    result = backward_pass(tape, seeds, free=free) if seeds else {}
    grads, handed = [], set()
    for traced, treedef in inputs:
        grads.append(unflatten(treedef, [_read(result, x, handed) for x in traced]))
    return grads


def _read(result, x, handed):
    """The cotangent of input ``x``: a writeable array that no other returned gradient shares
    (one array can be the cotangent of two inputs, e.g. of a + b)."""
    ct = result.get(id(x))
    if ct is None:
        return _zeros_like(x.value)
    if id(ct) in handed:
        ct = ct.copy() if isinstance(ct, np.ndarray | np.generic) else ct
    elif not (type(ct) is np.ndarray and ct.flags.writeable):
        ct = _writeable(ct)
    if type(ct) is not np.ndarray and isinstance(ct, np.generic):
        ct = np.asarray(ct)  # a 0-d input gets a 0-d array, not a NumPy scalar
    handed.add(id(ct))
    return ct


def _writeable(a):
    """``a``, or a copy of it if it is a read-only view (``broadcast_to`` gives stride-0 views):
    a gradient handed to the user must take in-place updates such as ``g *= 0.5``."""
    if isinstance(a, np.ndarray) and not a.flags.writeable:
        return a.copy()
    return a


def _own(a, dtype=None):
    """A private copy of a caller's array, so a result never aliases it (a tracer is kept)."""
    return a if isinstance(a, Tracer) else np.array(a, dtype=dtype)


def _value(y, trace):
    return y.value if isinstance(y, Tracer) and y.trace is trace else y


def value_and_grad(f, argnums=0, has_aux=False):
    """``f(*args) -> (value, gradient)`` for a scalar-valued ``f``.

    The gradient has the structure of ``args[argnums]`` (a tuple of such if ``argnums`` is a
    tuple). With ``has_aux=True``, ``f`` returns ``(value, aux)`` and the result is
    ``((value, aux), gradient)``.
    """

    _check_transform("value_and_grad", f=f, argnums=argnums, has_aux=has_aux)

    @functools.wraps(f)
    def value_and_grad_f(*args, **kwargs):
        nums = _argnums_tuple(argnums, len(args), "grad")
        trace = ReverseTrace()
        args, inputs = _wrap_args(args, nums, trace.new_input)
        out = f(*args, **kwargs)
        if has_aux:
            if not (isinstance(out, tuple) and len(out) == 2):
                raise ArgumentTypeError("value_and_grad(has_aux=True): f must return a pair (value, aux)")
            out, aux = out
        if type(out) is not Node:  # (the common case, a recorded scalar, skips the check)
            _check_scalar_result(out, "grad")
        if shape_of(out) != () or dtype_of(out).kind != "f":
            raise ShapeError(
                f"grad requires f to return a real scalar, but it returned shape {shape_of(out)} "
                f"and dtype {dtype_of(out)}; use jacrev or vjp for non-scalar outputs"
            )
        grads = _sweep(trace, _detach_tape(trace), [out], [_ones_like(out)], inputs, free=True)
        value = _value(out, trace)
        if has_aux:
            value = (value, _strip(aux, trace))
        return value, grads[0] if isinstance(argnums, numbers.Integral) else tuple(grads)

    return value_and_grad_f


def grad(f, argnums=0, has_aux=False):
    """The gradient of a scalar-valued ``f`` with respect to ``args[argnums]``: ∇f."""
    _check_transform("grad", f=f, argnums=argnums, has_aux=has_aux)
    vg = value_and_grad(f, argnums, has_aux)

    @functools.wraps(f)
    def grad_f(*args, **kwargs):
        value, g = vg(*args, **kwargs)
        return (g, value[1]) if has_aux else g

    return grad_f


def _strip(tree, trace):
    leaves, treedef = flatten(tree)
    return unflatten(treedef, [_value(y, trace) for y in leaves])


def vjp(f, *primals):
    """``(f(*primals), vjp_fn)`` where ``vjp_fn(ct)`` returns a tuple of cotangents, one per primal.

    ``ct`` has the structure, shapes and dtypes of ``f``'s output. ``vjp_fn`` may be called
    many times (it keeps the recorded graph alive while it exists).
    """
    _check_transform("vjp", f=f)
    trace = ReverseTrace()
    args, inputs = _wrap_args(primals, range(len(primals)), trace.new_input)
    out = f(*args)
    tape = _detach_tape(trace)
    out_leaves, out_def = flatten(out)
    out_value = unflatten(out_def, [_value(y, trace) for y in out_leaves])

    def vjp_fn(ct):
        ct_leaves, ct_def = flatten(ct)
        ct_leaves = [_own(g) for g in ct_leaves]
        if ct_def != out_def:
            raise ShapeError("vjp_fn: the cotangent's structure differs from the output's structure")
        for y, g in zip(out_leaves, ct_leaves):
            if shape_of(g) != shape_of(y):
                raise ShapeError(f"vjp_fn: cotangent of shape {shape_of(g)} for an output of shape {shape_of(y)}")
        return tuple(_sweep(trace, tape, out_leaves, ct_leaves, inputs, free=False))

    return out_value, vjp_fn


def vjp_once(f, primals, ct):
    """``vjp(f, *primals)[1](ct)`` for a single use (``f`` returns one array): the sweep frees the
    recorded graph as it passes, as ``grad`` does. Used by gradient checkpointing."""
    trace = ReverseTrace()
    args, inputs = _wrap_args(primals, range(len(primals)), trace.new_input)
    out = f(*args)
    if shape_of(out) != shape_of(ct):
        raise ShapeError(f"vjp_once: cotangent of shape {shape_of(ct)} for an output of shape {shape_of(out)}")
    return tuple(_sweep(trace, _detach_tape(trace), [out], [ct], inputs, free=True))


def jvp(f, primals, tangents):
    """``(f(*primals), J·tangents)``: the output and its directional derivative (forward mode)."""
    _check_transform("jvp", f=f)
    for name, given in (("primals", primals), ("tangents", tangents)):
        if not isinstance(given, tuple | list):
            raise ArgumentTypeError(f"jvp({name}): expected a tuple with one entry per argument of f, such as "
                                    f"(x,), got {type(given).__name__}; write jvp(f, (x,), (t,))")
    primals, tangents = tuple(primals), tuple(tangents)
    if len(primals) != len(tangents):
        raise ArgumentTypeError(f"jvp: {len(primals)} primals but {len(tangents)} tangents")
    trace = ForwardTrace()
    args = []
    for i, (p, t) in enumerate(zip(primals, tangents)):
        p_leaves, p_def = flatten(p)
        t_leaves, t_def = flatten(t)
        if p_def != t_def:
            raise ShapeError(f"jvp: tangent {i} does not have the structure of primal {i}")
        duals = []
        for x, x_dot, name in zip(p_leaves, t_leaves, leaf_paths(p, f"primal {i}")):
            x = _as_input(x, name)
            if shape_of(x_dot) != shape_of(x):
                raise ShapeError(f"jvp: tangent of shape {shape_of(x_dot)} for {name} of shape {shape_of(x)}")
            duals.append(Dual(x, trace, _own(x_dot, dtype_of(x))))
        args.append(unflatten(p_def, duals))
    out = f(*args)
    out_leaves, out_def = flatten(out)
    values = [_value(y, trace) for y in out_leaves]
    dots = [
        _writeable(y.tangent) if isinstance(y, Dual) and y.trace is trace else _zeros_like(y)
        for y in out_leaves
    ]
    return unflatten(out_def, values), unflatten(out_def, dots)


def _basis(shape, dtype):
    """Yield one-hot arrays e_k of ``shape``, k over all entries in C order."""
    size = int(np.prod(shape))
    for k in range(size):
        e = np.zeros(size, dtype)
        e[k] = 1
        yield e.reshape(shape)


def _stack_rows(rows, out_shape, in_shape, axis=0):
    """Stack Jacobian rows (or columns, ``axis=-1``) into an array of shape out_shape + in_shape.

    Rows may be tracers of an outer transform (``hessian``): ``np.stack``/``np.reshape`` reach
    chainrule's differentiable versions through NumPy's ``__array_function__`` protocol."""
    if not rows:
        return np.zeros(tuple(out_shape) + tuple(in_shape))
    return np.reshape(np.stack(rows, axis=axis), tuple(out_shape) + tuple(in_shape))


def _nest(out_def, in_defs, blocks, single):
    """The Jacobian as a tree: the output's structure, each output leaf replaced by the input's
    structure (a tuple of them for tuple ``argnums``), as JAX does. ``blocks[a][k][b]`` is
    ∂(output leaf a)/∂(leaf b of argument k)."""
    per_out = []
    for per_arg in blocks:
        jacs = [unflatten(treedef, leaves) for treedef, leaves in zip(in_defs, per_arg)]
        per_out.append(jacs[0] if single else tuple(jacs))
    return unflatten(out_def, per_out)


def jacrev(f, argnums=0):
    """The Jacobian ∂f/∂x by reverse mode: one backward sweep per output entry.

    For an output leaf of shape ``S`` and an input leaf of shape ``T`` the Jacobian block has
    shape ``S + T``. For an array output the result has the structure of ``args[argnums]``;
    for a tree output, each output leaf is replaced by that structure.
    """

    _check_transform("jacrev", f=f, argnums=argnums)

    def jac_f(*args):
        nums = _argnums_tuple(argnums, len(args), "jacrev")

        def f_of(*xs):
            full = list(args)
            for i, x in zip(nums, xs):
                full[i] = x
            return f(*full)

        out, vjp_fn = vjp(f_of, *[args[i] for i in nums])
        out_leaves, out_def = flatten(out)
        in_trees = [flatten(args[i]) for i in nums]
        zeros = [_zeros_like(y) for y in out_leaves]
        blocks = []
        for a, y in enumerate(out_leaves):
            rows = []
            for e in _basis(shape_of(y), dtype_of(y)):
                ct = list(zeros)
                ct[a] = e
                rows.append([flatten(g)[0] for g in vjp_fn(unflatten(out_def, ct))])
            blocks.append([
                [_stack_rows([r[k][b] for r in rows], shape_of(y), shape_of(x)) for b, x in enumerate(leaves)]
                for k, (leaves, _) in enumerate(in_trees)
            ])
        return _nest(out_def, [t for _, t in in_trees], blocks, isinstance(argnums, numbers.Integral))

    return jac_f


def jacfwd(f, argnums=0):
    """The Jacobian ∂f/∂x by forward mode: one JVP per input entry. Same layout as ``jacrev``."""

    _check_transform("jacfwd", f=f, argnums=argnums)

    def jac_f(*args):
        nums = _argnums_tuple(argnums, len(args), "jacfwd")
        in_trees = [flatten(args[i]) for i in nums]
        columns = {}  # (k, b) -> one flat output tree per basis vector of leaf b of argument k
        out_def = None
        for k, (i, (leaves, treedef)) in enumerate(zip(nums, in_trees)):
            for b, x in enumerate(leaves):

                def f_leaf(x_b, i=i, b=b, leaves=leaves, treedef=treedef):
                    full = list(args)
                    ls = list(leaves)
                    ls[b] = x_b
                    full[i] = unflatten(treedef, ls)
                    return f(*full)

                x_dtype = dtype_of(_as_input(x, f"argument {i}"))
                cols = []
                for e in _basis(shape_of(x), x_dtype):
                    y_dot_leaves, out_def = flatten(jvp(f_leaf, (x,), (e,))[1])
                    cols.append(y_dot_leaves)
                columns[k, b] = cols
        out_leaves = None
        if out_def is None or not all(columns.values()):  # an empty input: shapes from f itself
            out_leaves, out_def = flatten(f(*args))
        n_out = len(out_leaves) if out_leaves is not None else len(next(iter(columns.values()))[0])
        blocks = []
        for a in range(n_out):
            blocks.append([
                [
                    _stack_rows(
                        [c[a] for c in columns[k, b]],
                        shape_of(out_leaves[a] if out_leaves is not None else columns[k, b][0][a]),
                        shape_of(x),
                        axis=-1,
                    )
                    for b, x in enumerate(leaves)
                ]
                for k, (leaves, _) in enumerate(in_trees)
            ])
        return _nest(out_def, [t for _, t in in_trees], blocks, isinstance(argnums, numbers.Integral))

    return jac_f


def hessian(f, argnums=0):
    """The Hessian ∇²f of a scalar ``f``: forward-over-reverse, ``jacfwd(jacrev(f))``."""
    return jacfwd(jacrev(f, argnums), argnums)


def hvp(f, x, v):
    """The Hessian-vector product ∇²f(x)·v by forward-over-reverse (one grad, one jvp)."""
    return jvp(grad(f), (x,), (v,))[1]
