"""The primitives: every differentiable operation, each with its VJP and JVP rules beside it.

One module per family: ``elementwise`` (arithmetic), ``unary`` (exp, tanh, tan, sigmoid...),
``reduce`` (sum, max, prod...), ``scan`` (cumsum), ``softmax`` (logsumexp, softmax, log_softmax),
``shape`` (reshape, indexing, concatenate...), ``linalg`` (matmul, norm), ``einsum``, ``nn`` (fused
dense and softmax cross-entropy); ``broadcast`` sums a cotangent back to its argument's shape, for the engine.
"""

from . import broadcast  # noqa: F401  (installs unbroadcast into the engine's sweep)
