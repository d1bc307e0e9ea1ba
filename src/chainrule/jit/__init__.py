"""``jit``: compile a pure function of arrays into straight-line NumPy code, once per input signature.

    step = chainrule.jit(chainrule.value_and_grad(loss))
    loss_value, grads = step(params, x, y)   # first call: traced and compiled; then replayed
    print(step.program(params, x, y))        # the forward pass and backprop, as plain NumPy calls

The first call with a new signature — the tree structure of the arguments, the shape and dtype of
every array, the value of every non-array leaf — runs the function under a staging trace
(``staging.py``), which records a program (``ir.py``: equations, and an interpreter that runs them);
``codegen.py`` writes it out as NumPy code, using the statements of ``lowering.py`` for the
primitives that have them, and ``cache.py`` keeps one compiled program per signature. Later
calls with that signature run the compiled code only: no tracers, no tape, no rule lookup, no
shape checks that the signature already guarantees. Results are the same bits as calling the
function directly: the compiled code calls the same primitive implementations (or the same NumPy
statements), in the same order, on the same values.

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

from ..errors import StagingError
from .cache import MAX_PROGRAMS, jit, jit_or_eager

__all__ = ["MAX_PROGRAMS", "StagingError", "jit", "jit_or_eager"]
