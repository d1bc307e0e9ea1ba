"""Part b: one training step, side by side (issues 3 and 4), and the backward/forward ratio.

    python bench/training.py [--quick] [--json OUT.json]

For each network of issue 4 (tiny 2-8-8-2 B32, small 64-128-10 B64, medium 784-512-512-10 B256,
large 1024-2048-2048-1024-10 B512; float32, ReLU, softmax cross-entropy, SGD) one full step —
forward, loss, backward, update — in chainrule (``Trainer.train_step``), PyTorch eager, ``jax.jit``
of the whole step and scikit-learn's ``MLPClassifier.partial_fit``, plus the same step written by
hand in NumPy as a reference (the floor for a NumPy engine) and, for medium and large, the step's
matrix products alone (the ceiling of any NumPy step's GFLOP/s), timed one step at a time in
interleaved rounds. Before timing, the losses of the first steps from the same weights are
compared with chainrule's (a guard that every system runs the same computation). GFLOP/s counts
6·B·Σ n_in·n_out per step; the GEMM peak is a 2048³ float32 NumPy matmul measured in the same
run (before and after the step timings).
"""

from __future__ import annotations

import common

# isort: split


from systems import (
    CEILING,
    CONFIGS,
    REFERENCE,
    SYSTEMS,
    batch_data,
    chainrule_model,
    label,
    make_step,
    step_flops,
    torch_sequential,
)

SHOWN = {REFERENCE: "numpy (hand-written reference)", CEILING: "its GEMMs alone (ceiling)"}
BUDGET = {"full": {"tiny": 5, "small": 5, "medium": 8, "large": 15},  # seconds of timed steps per config
          "quick": {"tiny": 1.5, "small": 1.5, "medium": 2.5, "large": 4}}


def run(quick=False):
    mode = "quick" if quick else "full"
    gemm_before = common.gemm_peak(repeats=5 if quick else 9)
    print(f"GEMM reference (2048³ float32 np.matmul): {gemm_before['gflops']:.1f} GFLOP/s", flush=True)
    results = {}
    for name, (sizes, batch) in CONFIGS.items():
        fns = {}
        for system in (*SYSTEMS, REFERENCE) + ((CEILING,) if name in ("medium", "large") else ()):
            step = make_step(system, sizes, batch)
            if step is not None:
                fns[system] = step
        agreement = same_losses(sizes, batch)
        samples = common.interleaved(fns, budget=BUDGET[mode][name], round_time=0.1, min_rounds=5 if quick else 8)
        results[name] = {"sizes": sizes, "batch": batch, "flops": step_flops(sizes, batch),
                         "systems": {s: common.stats(v) for s, v in samples.items()},
                         "loss_agreement": agreement}
        med = {s: f"{v['median'] * 1e3:.3f} ms" for s, v in results[name]["systems"].items()}
        print(f"  {name} {label(sizes)} B{batch}: {med}", flush=True)
    gemm_after = common.gemm_peak(repeats=5 if quick else 9)
    gemm = max(gemm_before["gflops"], gemm_after["gflops"])
    out = {"gemm_before": gemm_before, "gemm_after": gemm_after, "gemm_gflops": gemm, "configs": results}
    out["backward_forward"] = backward_forward_ratio(quick)
    out["tables"] = report(out)
    return out


def same_losses(sizes, batch, steps=3):
    """Max relative difference from chainrule's losses over the first steps (same weights, same
    batch): a guard that every system runs the same computation. scikit-learn is left out (its
    own initialization, and a single logistic output for two classes)."""
    ref = make_step("chainrule", sizes, batch)
    ref_losses = [float(ref()) for _ in range(steps)]
    out = {}
    for system in ("torch", "jax", REFERENCE):
        step = make_step(system, sizes, batch)
        if step is not None:
            losses = [_scalar(step()) for _ in range(steps)]
            out[system] = max(abs(a - b) / max(abs(b), 1e-30) for a, b in zip(losses, ref_losses))
    return out


def _scalar(loss):
    return float(loss.detach() if hasattr(loss, "detach") else loss)


def report(out):
    gemm = out["gemm_gflops"]
    rows = []
    for name, r in out["configs"].items():
        torch_med = r["systems"].get("torch", {}).get("median")
        for system, s in r["systems"].items():
            gflops = r["flops"] / s["median"] / 1e9
            s["gflops"], s["of_gemm_peak"] = gflops, gflops / gemm
            s["speed_vs_torch"] = torch_med / s["median"] if torch_med else None
            shown = SHOWN.get(system, system)
            rows.append([f"{name} {label(r['sizes'])} B{r['batch']}", shown, f"{s['median'] * 1e3:.3f}",
                         f"{s['p10'] * 1e3:.3f}–{s['p90'] * 1e3:.3f}", common.fmt(gflops),
                         f"{s['of_gemm_peak']:.2f}", common.fmt(s["speed_vs_torch"]) + "×", s["n"]])
    text = [f"GEMM reference: 2048³ float32 np.matmul = {out['gemm_before']['gflops']:.1f} GFLOP/s before, "
            f"{out['gemm_after']['gflops']:.1f} after the step timings (the larger is the peak used below)."]
    text.append(common.table(
        ["config", "system", "median ms", "p10–p90 ms", "GFLOP/s", "of GEMM peak", "speed vs PyTorch", "steps timed"],
        rows, "Training step (forward + loss + backward + SGD update), float32, 2 threads"))
    agree = {k: max((r["loss_agreement"].get(k, 0.0) for r in out["configs"].values()), default=0.0)
             for k in ("torch", "jax", REFERENCE)}
    line = ("Same computation: over the first 3 steps from the same weights, the losses differ from chainrule's by at "
            "most " + ", ".join(f"{k} {v:.1e}" for k, v in agree.items()) + " (relative; scikit-learn "
            "initializes its own weights and is not compared).")
    print(line)
    text.append(line)
    text.append(common.table(["target (issue 4)", "measured", "verdict"], targets(out), "Issue 4 step-time targets"))
    bf = out["backward_forward"]
    if bf:
        rows = [[s, f"{v['forward_ms']:.2f}", f"{v['value_and_grad_ms']:.2f}", f"{v['ratio']:.2f}"]
                for s, v in bf["systems"].items()]
        text.append(common.table(["system", "forward ms", "forward+backward ms", "backward/forward"], rows,
                                 f"Backward/forward ratio, large {label(bf['sizes'])} B{bf['batch']} "
                                 "(target ≤ 2.2 for chainrule)"))
        print(bf["definition"])
        text.append(bf["definition"])
    return "\n".join(text)


def targets(out):
    rows = []
    c = out["configs"]

    def med(name, system):
        return c[name]["systems"].get(system, {}).get("median")

    for name in ("tiny", "small"):
        cr, pt, jx = med(name, "chainrule"), med(name, "torch"), med(name, "jax")
        if pt:
            rows.append([f"{name}: ≥ 5× faster than PyTorch eager", f"{pt / cr:.2f}×", common.verdict(pt / cr >= 5)])
        if jx:
            rows.append([f"{name}: ≥ 2× faster than jax.jit", f"{jx / cr:.2f}×", common.verdict(jx / cr >= 2)])
    for name in ("medium", "large"):
        cr, pt = med(name, "chainrule"), med(name, "torch")
        if pt:
            rows.append([f"{name}: no slower than PyTorch eager", f"{pt / cr:.2f}× (time ratio torch/chainrule)",
                         common.verdict(pt / cr >= 1)])
        frac = c[name]["systems"]["chainrule"]["of_gemm_peak"]
        ceiling = c[name]["systems"].get(CEILING, {}).get("of_gemm_peak")
        note = f" (the step's GEMMs alone: {ceiling:.2f})" if ceiling else ""
        rows.append([f"{name}: ≥ 0.90 of NumPy GEMM GFLOP/s", f"{frac:.2f}{note}", common.verdict(frac >= 0.90)])
    bf = out.get("backward_forward")
    if bf and "chainrule" in bf["systems"]:
        r = bf["systems"]["chainrule"]["ratio"]
        rows.append(["large: backward/forward ≤ 2.2", f"{r:.2f}", common.verdict(r <= 2.2)])
    return rows


def backward_forward_ratio(quick=False):
    """Forward = the plain forward pass and loss (no tracing, eval mode); backward = the
    value_and_grad call (traced forward + reverse sweep) minus that forward."""
    import chainrule as cr
    from chainrule.nn import losses

    sizes, batch = CONFIGS["large"]
    x, y = batch_data(sizes, batch)
    model = chainrule_model(sizes)
    params = model.params

    def objective(p):
        return losses.cross_entropy(model.apply(p, x, training=True), y)

    vg = cr.value_and_grad(objective)
    fns = {"chainrule forward": lambda: losses.cross_entropy(model.apply(params, x), y),
           "chainrule value_and_grad": lambda: vg(params)}
    torch = common.optional("torch")
    if torch is not None:
        net = torch_sequential(torch, model)
        crit = torch.nn.CrossEntropyLoss()
        xt, yt = torch.from_numpy(x), torch.from_numpy(y)
        weights = list(net.parameters())

        def torch_forward():
            with torch.no_grad():
                return crit(net(xt), yt)

        fns["torch forward"] = torch_forward
        fns["torch value_and_grad"] = lambda: torch.autograd.grad(crit(net(xt), yt), weights)
    samples = common.interleaved(fns, budget=4 if quick else 12, min_rounds=5 if quick else 10)
    med = {k: common.stats(v)["median"] for k, v in samples.items()}
    systems = {}
    for system in ("chainrule", "torch"):
        if f"{system} forward" in med:
            f, fb = med[f"{system} forward"], med[f"{system} value_and_grad"]
            systems[system] = {"forward_ms": f * 1e3, "value_and_grad_ms": fb * 1e3, "ratio": (fb - f) / f}
    return {"sizes": sizes, "batch": batch, "systems": systems,
            "definition": "backward/forward = (t(value_and_grad) − t(forward)) / t(forward); forward = model.apply "
                          "in eval mode + cross-entropy on plain arrays (torch: under no_grad); value_and_grad = "
                          "chainrule.value_and_grad of the same objective (torch: forward + torch.autograd.grad). "
                          "The FLOP ratio is 2."}


if __name__ == "__main__":
    common.main_for_part("training", "Training step, side by side", run)
