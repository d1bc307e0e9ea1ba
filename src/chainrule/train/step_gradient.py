"""The gradient function of a training step: ``value_and_grad`` of the objective, compiled with
``chainrule.jit`` when that is safe, and made again when the network changes.

Compiled code keeps the network as it was traced. So the function is compiled only for a network
whose training forward pass says it can be staged (``model.stageable``: no random draws, no state
read or written outside the arguments; BatchNorm returns its running statistics) and a built-in
loss, and ``current()`` re-examines the network whenever its ``version`` moved (a Setting such as
Dropout.p assigned, a layer swapped, added or removed, at any depth): a changed configuration or
a swapped layer object gives a new function, traced anew or run eagerly.
"""

from __future__ import annotations

from ..engine.transforms import value_and_grad
from ..jit import jit_or_eager
from ..nn.model import is_stageable, network_fingerprint


class StepGradient:
    """``current()`` -> ``value_and_grad(objective, has_aux)`` for ``model`` as it is now."""

    def __init__(self, model, objective, compiled, has_aux=False):
        self.model, self.objective, self.compile, self.has_aux = model, objective, bool(compiled), has_aux
        self.fingerprint = self.version = self.fn = None
        self.refresh()

    def _version(self):
        return getattr(self.model, "version", None)  # None: not a chainrule network, never changes

    def refresh(self):
        self.version = self._version()
        fingerprint = network_fingerprint(self.model)
        if fingerprint == self.fingerprint:
            return
        self.fingerprint = fingerprint
        fn = value_and_grad(self.objective, has_aux=self.has_aux)
        self.fn = jit_or_eager(fn) if self.compile and is_stageable(self.model) else fn

    def current(self):
        if self._version() != self.version:  # the network changed since the function was made
            self.refresh()
        return self.fn

    @property
    def compiled(self):
        return hasattr(self.fn, "is_compiled") and self.fn.is_compiled()
