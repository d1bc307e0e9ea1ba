"""The two torch modules chainrule's networks need besides ``torch.nn``'s own: ``Standardize``
(y = (x − mean) / scale, buffers ``mean`` and ``scale``) and ``Residual`` (x + fn(x), the
layers in ``fn``). A script written by ``write_torch_script`` carries their source (read from
this file), so each is defined once. Imports torch: loaded only on use.
"""

import torch


class Standardize(torch.nn.Module):
    """y = (x - mean) / scale per feature; mean and scale are buffers (saved, never trained)."""

    def __init__(self, num_features):
        super().__init__()
        self.register_buffer("mean", torch.zeros(num_features))
        self.register_buffer("scale", torch.ones(num_features))

    def forward(self, x):
        return (x - self.mean) / self.scale


class Residual(torch.nn.Module):
    """x + fn(x), where fn is the given layers in order."""

    def __init__(self, *layers):
        super().__init__()
        self.fn = torch.nn.Sequential(*layers)

    def forward(self, x):
        return x + self.fn(x)
