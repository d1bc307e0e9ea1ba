"""Experiment ``parameters``: counting a network's parameters (seed 000)."""

from __future__ import annotations

from .. import nn
from .base import experiment


def count_formula(sizes):
    """Σ_l (n_l · n_{l−1} + n_l): weights plus biases of each layer."""
    return sum(sizes[k] * sizes[k + 1] + sizes[k + 1] for k in range(len(sizes) - 1))


@experiment("parameters", "Counting parameters: Σ(n_l·n_{l−1} + n_l)", seeds=["000"])
def run(ctx):
    """The exercise of seed 000: a 2→4→3→1 network has 2·4+4 + 4·3+3 + 3·1+1 = 31 parameters."""
    rows = []
    for sizes in ctx.stages(([2, 4, 3, 1], [2, 4, 1], [784, 512, 512, 10], [1024, 2048, 2048, 1024, 10]), "network"):
        model = nn.MLP(sizes)
        model.init(seed=ctx.seed)
        rows.append([str(sizes), count_formula(sizes), model.n_params()])
    ctx.table("parameters by formula and by counting the model's arrays", ["sizes", "formula", "model"], rows)
    ctx.check_equal("2→4→3→1 has 31 parameters (hand count 12 + 15 + 4)", "000", 31, rows[0][2])
    ctx.check_equal("formula Σ(n_l n_{l−1} + n_l) equals the arrays' total for every network", "000", True,
                    all(r[1] == r[2] for r in rows))
