"""Einstein summation: ``einsum`` over any number of operands, with its rules.

The primitive takes its subscripts in explicit form, one letter per axis and an output after
``->`` (``normalize_subscripts`` writes NumPy's ellipsis and implicit-output spellings so). The
VJP with respect to operand k is itself an einsum: the cotangent contracted with the other
operands onto operand k's subscripts. Two things make that more than swapping subscripts:
- a letter only operand k has (summed inside it alone, ``ij->i``) does not occur in the other
  terms: a vector of ones under that letter broadcasts the cotangent along it;
- a letter operand k repeats (a diagonal, ``ii->i``, or a trace, ``ii->``) may occur only once
  in an output: each repeat gets a fresh letter and an identity matrix ties it to the first, so
  the cotangent lands on the diagonal and is zero off it.
The JVP is the einsum with operand k replaced by its tangent (einsum is linear in each operand).
Both rules are einsums, so higher derivatives come for free.
"""

from __future__ import annotations

import string

import numpy as np

from ..engine.core import dtype_of, shape_of
from ..errors import ShapeError
from ..extend import defjvp_argnum, defvjp_argnum, primitive

LETTERS = string.ascii_letters  # NumPy's einsum takes these 52, and only these


def _einsum_impl(*operands, subscripts):
    # More than two operands: NumPy's contraction order (optimize=True) instead of one nested loop
    # over every letter at once; two operands are contracted the same way either way.
    try:
        return np.einsum(subscripts, *operands, optimize=len(operands) > 2)
    except ValueError as e:
        shapes = ", ".join(str(np.shape(x)) for x in operands)
        raise ShapeError(f"einsum {subscripts!r}: operands of shapes {shapes} do not fit ({e})") from None


einsum_p = primitive("einsum", _einsum_impl)


def _einsum_vjp(k, g, ans, *operands, subscripts):
    inputs, output = subscripts.split("->")
    terms = inputs.split(",")
    mine = terms[k]
    others = [t for j, t in enumerate(terms) if j != k]
    shape, dtype = shape_of(operands[k]), dtype_of(operands[k])
    available = set(output) | set("".join(others))
    fresh = iter(c for c in LETTERS if c not in subscripts)
    extra_terms, extra_operands, target = [], [], []
    for axis, letter in enumerate(mine):
        if letter in target:  # a repeat: its own letter, tied to the first by an identity matrix
            new = next(fresh)
            extra_terms.append(letter + new)
            extra_operands.append(np.eye(shape[axis], dtype=dtype))
            target.append(new)
            continue
        if letter not in available:  # summed in this operand alone: the cotangent is constant along it
            extra_terms.append(letter)
            extra_operands.append(np.ones(shape[axis], dtype=dtype))
            available.add(letter)
        target.append(letter)
    rest = [x for j, x in enumerate(operands) if j != k]
    spec = ",".join([output, *others, *extra_terms]) + "->" + "".join(target)
    return einsum_p(g, *rest, *extra_operands, subscripts=spec)


defvjp_argnum(einsum_p, _einsum_vjp)
defjvp_argnum(einsum_p, lambda k, x_dot, ans, *operands, subscripts: einsum_p(
    *operands[:k], x_dot, *operands[k + 1:], subscripts=subscripts))


def normalize_subscripts(subscripts, shapes):
    """NumPy's subscripts for operands of ``shapes`` in explicit form: no ellipsis, an output after
    ``->`` (implicit: the letters used once, in alphabetical order, after the ellipsis axes, as
    NumPy orders them). Letters and ellipsis axes must agree in size (no broadcasting of size 1)."""
    if not isinstance(subscripts, str):
        raise TypeError(f"einsum: subscripts must be a string such as 'ij,jk->ik', found {type(subscripts).__name__} "
                        "(the sublist form einsum(a, [0, 1], b, [1, 2]) is not supported)")
    text = subscripts.replace(" ", "")
    inputs, arrow, output = text.partition("->")
    terms = inputs.split(",")
    if len(terms) != len(shapes):
        raise ShapeError(f"einsum {subscripts!r}: {len(terms)} operand subscripts for {len(shapes)} operands")
    bad = sorted(set(text) - set(LETTERS) - set(",->."))
    if bad or any(t.replace("...", "").count(".") for t in [*terms, output]):
        raise ShapeError(f"einsum {subscripts!r}: subscripts are letters a-z, A-Z, ',', '->' and '...'")
    used = set(text)
    spare = [c for c in LETTERS if c not in used]
    n_ellipsis = max((len(s) - (len(t) - 3) for t, s in zip(terms, shapes) if "..." in t), default=0)
    ellipsis_letters = "".join(spare[:n_ellipsis])
    explicit = []
    sizes = {}
    for t, shape in zip(terms, shapes):
        if "..." in t:
            n = len(shape) - (len(t) - 3)
            if n < 0:
                raise ShapeError(f"einsum {subscripts!r}: term {t!r} has more letters than its operand's "
                                 f"{len(shape)} axes")
            t = t.replace("...", ellipsis_letters[n_ellipsis - n:])
        if len(t) != len(shape):
            raise ShapeError(f"einsum {subscripts!r}: term {t!r} names {len(t)} axes, its operand has shape {shape}")
        for letter, size in zip(t, shape):
            if sizes.setdefault(letter, size) != size:
                what = "an ellipsis axis" if letter in ellipsis_letters else f"letter {letter!r}"
                raise ShapeError(f"einsum {subscripts!r}: {what} has sizes {sizes[letter]} and {size} "
                                 "(broadcasting inside einsum is not supported: broadcast_to first)")
        explicit.append(t)
    if arrow:
        if n_ellipsis and "..." not in output:
            raise ShapeError(f"einsum {subscripts!r}: the operands have axes under '...', so the output must name "
                             "'...' too (as in NumPy; sum them afterwards)")
        output = output.replace("...", ellipsis_letters)
        if len(set(output)) != len(output) or set(output) - set("".join(explicit)):
            raise ShapeError(f"einsum {subscripts!r}: each output letter must appear once, and in an operand")
    else:
        letters = "".join(explicit)
        once = sorted(c for c in set(letters) if letters.count(c) == 1 and c not in ellipsis_letters)
        output = ellipsis_letters + "".join(once)  # NumPy's order: ellipsis axes, then by code point
    return ",".join(explicit) + "->" + output


def einsum(subscripts, *operands, optimize=False):
    """``np.einsum(subscripts, *operands)``: explicit (``'ij,jk->ik'``), implicit (``'ij,jk'``),
    with ``...``, repeated letters (``'ii->i'`` diagonal, ``'ii'`` trace). Not supported (a clear
    error): the sublist form, and size-1 axes broadcast against larger ones. ``optimize`` is
    accepted for NumPy's signature; the contraction order is chosen as described above."""
    spec = normalize_subscripts(subscripts, [shape_of(x) for x in operands])
    return einsum_p(*operands, subscripts=spec)
