"""Part c: gradient checkpointing on a deep network — activation memory and step time (issue 4).

    python bench/checkpointing.py [--quick] [--json OUT.json]

Network: ``nn.Sequential`` of 64 × (Dense(256, 256), ReLU) followed by a Dense(256, 10) head,
batch 256, float32, softmax cross-entropy, SGD; the same initial weights with and without
``gradient_checkpointing=True`` (Trainer) / ``remat=True`` (``model.apply``).

- activation memory = bytes the recorded graph holds when the forward pass ends, i.e. what the
  backward pass will need: tracemalloc's current size after ``chainrule.vjp(objective, params)``
  returns minus before (NumPy reports its allocations to tracemalloc);
- step peak = tracemalloc peak during one ``Trainer.train_step`` above the memory before it
  (activations + gradients + temporaries; gradients are the same 16 MiB either way);
- step time = median of ``Trainer.train_step``, with and without checkpointing interleaved.

Targets (issue 4): activation memory ≥ 4× lower for ≤ 1.4× step time.
"""

from __future__ import annotations

import common

# isort: split

import tracemalloc

import numpy as np

DEPTH, WIDTH, BATCH, CLASSES = 64, 256, 256, 10


def deep_model():
    from chainrule import nn

    layers = []
    for _ in range(DEPTH):
        layers += [nn.Dense(WIDTH, WIDTH), nn.ReLU()]
    model = nn.Sequential(layers + [nn.Dense(WIDTH, CLASSES)])
    model.init(seed=0, dtype="float32")
    return model


def _data():
    rng = np.random.default_rng(0)
    return rng.standard_normal((BATCH, WIDTH)).astype(np.float32), rng.integers(0, CLASSES, BATCH)


def _memory(remat):
    import chainrule as cr
    from chainrule.nn import losses
    from systems import chainrule_trainer

    model = deep_model()
    x, y = _data()

    def objective(p):
        return losses.cross_entropy(model.apply(p, x, training=True, remat=remat), y)

    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        value, pullback = cr.vjp(objective, model.params)
        held, forward_peak = tracemalloc.get_traced_memory()
        del value, pullback
        trainer = chainrule_trainer(model, BATCH, gradient_checkpointing=remat)
        trainer.train_step(x, y)  # warm-up: lazily made buffers belong to the setup
        before_step = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        trainer.train_step(x, y)
        step_peak = tracemalloc.get_traced_memory()[1] - before_step
    finally:
        tracemalloc.stop()
    return {"activation_bytes": held - before, "forward_peak_bytes": forward_peak - before,
            "step_peak_bytes": step_peak}


def run(quick=False):
    from systems import chainrule_trainer

    x, y = _data()
    plain = chainrule_trainer(deep_model(), BATCH)
    remat = chainrule_trainer(deep_model(), BATCH, gradient_checkpointing=True)
    samples = common.interleaved({"without checkpointing": lambda: plain.train_step(x, y),
                                  "gradient_checkpointing=True": lambda: remat.train_step(x, y)},
                                 budget=3 if quick else 10, min_rounds=5 if quick else 10, settle=0)
    times = {k: common.stats(v) for k, v in samples.items()}
    memory = {"without checkpointing": _memory(False), "gradient_checkpointing=True": _memory(True)}
    out = {"depth": DEPTH, "width": WIDTH, "batch": BATCH, "times": times, "memory": memory,
           "param_bytes": int(sum(p.nbytes for p in plain.model.params.values()))}
    off, on = memory["without checkpointing"], memory["gradient_checkpointing=True"]
    out["memory_reduction"] = off["activation_bytes"] / max(on["activation_bytes"], 1)
    out["time_ratio"] = times["gradient_checkpointing=True"]["median"] / times["without checkpointing"]["median"]
    out["tables"] = report(out)
    return out


def report(out):
    mib = 2**20
    rows = []
    for k in ("without checkpointing", "gradient_checkpointing=True"):
        t, m = out["times"][k], out["memory"][k]
        rows.append([k, f"{t['median'] * 1e3:.1f}", f"{t['p10'] * 1e3:.1f}–{t['p90'] * 1e3:.1f}",
                     f"{m['activation_bytes'] / mib:.1f}", f"{m['forward_peak_bytes'] / mib:.1f}",
                     f"{m['step_peak_bytes'] / mib:.1f}"])
    title = (f"Gradient checkpointing: {out['depth']} × (Dense {out['width']} + ReLU) + head, batch {out['batch']}, "
             f"float32 (parameters {out['param_bytes'] / mib:.1f} MiB)")
    text = [common.table(["run", "step median ms", "p10–p90 ms", "activation MiB (held after forward)",
                          "forward peak MiB", "step peak MiB (tracemalloc)"], rows, title)]
    text.append(common.table(["target (issue 4)", "measured", "verdict"], [
        ["activation memory ≥ 4× lower", f"{out['memory_reduction']:.2f}× lower",
         common.verdict(out["memory_reduction"] >= 4)],
        ["step time ≤ 1.4× without checkpointing", f"{out['time_ratio']:.3f}×",
         common.verdict(out["time_ratio"] <= 1.4)],
    ], "Checkpointing targets"))
    return "\n".join(text)


if __name__ == "__main__":
    common.main_for_part("checkpointing", "Gradient checkpointing: memory and time", run)
