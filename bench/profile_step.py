"""Where the time of chainrule's training step goes (for whoever optimizes the engine).

    python bench/profile_step.py [--quick] [--json OUT.json] [--config tiny|small|medium|large]

1. A breakdown with public calls only, each timed alone (medians, interleaved): the whole
   ``Trainer.train_step``; ``chainrule.value_and_grad`` of the same objective, eager (forward +
   loss recorded, reverse sweep) and compiled (``chainrule.jit``, as the Trainer runs it); the
   plain forward pass and loss (no tracing); the optimizer's
   ``step(grads)``; and the same step written by hand in NumPy (the arithmetic floor of a NumPy
   engine).
2. A pyinstrument profile of 2,000 steps (if pyinstrument is installed), written to
   bench/results/profile_<config>.txt and .html.
"""

from __future__ import annotations

import common

# isort: split

import sys

from systems import CONFIGS, batch_data, chainrule_model, chainrule_trainer, label, make_step


def breakdown(config, quick=False):
    import chainrule as cr
    from chainrule.nn import losses

    sizes, batch = CONFIGS[config]
    x, y = batch_data(sizes, batch)
    trainer = chainrule_trainer(chainrule_model(sizes), batch)
    model = trainer.model
    opt_model = chainrule_model(sizes)
    opt_trainer = chainrule_trainer(opt_model, batch)

    def objective(p):
        return losses.cross_entropy(model.apply(p, x, training=True), y)

    vg = cr.value_and_grad(objective)
    compiled = cr.jit(vg)
    grads = vg(opt_model.params)[1]
    numpy_step = make_step("numpy", sizes, batch)
    fns = {
        "Trainer.train_step (whole step)": lambda: trainer.train_step(x, y),
        "value_and_grad(objective), eager (record + sweep)": lambda: vg(model.params),
        "jit(value_and_grad(objective)) (the Trainer's compiled step)": lambda: compiled(model.params),
        "forward + loss, plain arrays (no tracing)": lambda: losses.cross_entropy(model.apply(model.params, x), y),
        "optimizer.step(grads)": lambda: opt_trainer.optimizer.step(grads),
        "hand-written NumPy step (reference)": numpy_step,
    }
    samples = common.interleaved(fns, budget=2 if quick else 5, settle=0)
    return {k: common.stats(v) for k, v in samples.items()}


def pyinstrument_profile(config, steps):
    try:
        from pyinstrument import Profiler
    except ImportError:
        common.note("pyinstrument not installed: no profile (pip install pyinstrument)")
        return None
    sizes, batch = CONFIGS[config]
    x, y = batch_data(sizes, batch)
    trainer = chainrule_trainer(chainrule_model(sizes), batch)
    for _ in range(10):
        trainer.train_step(x, y)
    profiler = Profiler(interval=0.0001)
    profiler.start()
    for _ in range(steps):
        trainer.train_step(x, y)
    profiler.stop()
    text = profiler.output_text(unicode=True, show_all=False)
    path = common.results_dir() / f"profile_{config}.txt"
    path.write_text(text)
    (common.results_dir() / f"profile_{config}.html").write_text(profiler.output_html())
    return str(path)


def run(quick=False, config="tiny"):
    parts = breakdown(config, quick)
    sizes, batch = CONFIGS[config]
    out = {"config": config, "breakdown": parts,
           "profile": pyinstrument_profile(config, 300 if quick else 2000)}
    total = parts["Trainer.train_step (whole step)"]["median"]
    rows = [[k, f"{v['median'] * 1e6:.1f}", f"{v['median'] / total:.2f}"] for k, v in parts.items()]
    out["tables"] = common.table(["part", "median µs", "of the whole step"], rows,
                                 f"Where chainrule's step goes: {config} {label(sizes)} B{batch}")
    if out["profile"]:
        print(f"pyinstrument profile: {out['profile']}")
    return out


if __name__ == "__main__":
    cfg = "tiny"
    if "--config" in sys.argv:
        i = sys.argv.index("--config")
        cfg = sys.argv.pop(i + 1)
        sys.argv.pop(i)
    common.main_for_part("profile", "Where chainrule's training step goes", lambda quick: run(quick, cfg))
