"""The network a session trains, built from its settings, and where to read its units.

Without residual connections it is exactly ``runs.build.build_model`` of the session's run
config (what ``chainrule train`` builds). With ``residual``, each hidden layer whose width equals
the previous one's becomes a block a + f(a) (``nn.Residual``), which no run config expresses.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import nn
from ..runs.build import build_model
from ..runs.schema import complete
from .run_config import run_config
from .settings import INITIALIZERS


@dataclass
class Network:
    """model: the ``nn.Sequential``; dense: the parameter prefix of each Dense layer in order
    (``'0.'``, ``'2.fn.0.'``); taps: the record names whose outputs are the hidden layers' units."""

    model: object
    dense: list
    taps: list


def build_network(settings, d_in, d_out):
    if settings["residual"]:
        model, taps = _residual(settings, d_in, d_out)
    else:
        cfg = complete(run_config(settings))
        model = build_model(cfg, d_in, d_out)
        taps = [str(i) for i, layer in enumerate(model.layers) if isinstance(layer, nn.Activation)]
        taps = taps[:len(settings["layers"])]
    model.init(seed=int(settings["seed"]))
    return Network(model, dense_prefixes(model), taps)


def _residual(settings, d_in, d_out):
    init = INITIALIZERS[settings["init"]]
    layers, taps, width = [], [], d_in
    for spec in settings["layers"]:
        units = int(spec["units"])
        block = [nn.Dense(width, units, init=init)]
        if settings["batchnorm"]:
            block.append(nn.BatchNorm(units))
        block.append(nn.Activation(spec["activation"]))
        if settings["dropout"]:
            block.append(nn.Dropout(float(settings["dropout"])))
        if units == width:
            layers.append(nn.Residual(*block))
            taps.append(str(len(layers) - 1))
        else:
            layers.extend(block)
            taps.append(str(len(layers) - (2 if settings["dropout"] else 1)))
        width = units
    layers.append(nn.Dense(width, d_out, init=init))
    return nn.Sequential(*layers), taps


def dense_prefixes(seq, prefix=""):
    """The parameter-name prefix of every Dense layer of ``seq``, in order (recursively)."""
    out = []
    for i, layer in enumerate(seq.layers):
        p = prefix + seq.child_prefix(i)
        if isinstance(layer, nn.Dense):
            out.append(p)
        elif hasattr(layer, "layers"):
            out.extend(dense_prefixes(layer, p))
    return out
