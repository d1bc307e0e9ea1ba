"""Part d: the seeds' scaling claims, measured and plotted (issue 4, 'Also measure and plot').

    python bench/scaling.py [--quick] [--json OUT.json]

1. Step time vs parameter count P: MLP [w, w, w, 10], batch 256, float32, ReLU, softmax CE, SGD,
   for widths w from 16 up; chainrule (and PyTorch eager beside it, interleaved). Log-log plot
   with a least-squares slope fitted where the matrix products dominate (P ≥ 10⁵): the seeds
   claim time ∝ P, slope 1.
2. The gradient by central finite differences vs by backpropagation: MLP [8, w, w, 3] with tanh
   (smooth, so the two gradients can also be compared), batch 256, float64, for growing w.
   Finite differences cost 2 forward passes per parameter, so O(P²) in total; backpropagation
   costs a small constant times one forward pass, O(P). For large P the finite-difference time
   is measured on a random sample of coordinates and scaled by P / sample (every coordinate
   costs the same two forward passes; those points are drawn hollow). Slopes are fitted where
   P ≥ 10⁴.

PNGs go to bench/results/ (needs matplotlib; without it the numbers are still printed).
"""

from __future__ import annotations

import common

# isort: split

import time

import numpy as np

from systems import batch_data, chainrule_model, make_step

STEP_BATCH = 256
FD_BATCH = 256
FD_SAMPLE = 600  # coordinates timed when P is larger than FD_FULL
FD_FULL = 3000


def slope(P, t, min_p):
    P, t = np.asarray(P, float), np.asarray(t, float)
    keep = P >= min_p
    if keep.sum() < 2:
        return None
    return float(np.polyfit(np.log(P[keep]), np.log(t[keep]), 1)[0])


def step_time_vs_params(quick=False):
    widths = [16, 32, 64, 128, 256, 512, 1024] + ([] if quick else [2048])
    rows = []
    for w in widths:
        sizes = [w, w, w, 10]
        fns = {"chainrule": make_step("chainrule", sizes, STEP_BATCH)}
        torch_step = make_step("torch", sizes, STEP_BATCH)
        if torch_step is not None:
            fns["torch"] = torch_step
        samples = common.interleaved(fns, budget=0.8 if quick else 2.5, min_rounds=3 if quick else 5)
        P = chainrule_model(sizes).n_params()
        rows.append({"width": w, "params": P, **{k: common.stats(v)["median"] for k, v in samples.items()}})
        print(f"  w={w} P={P}: " + ", ".join(f"{k} {rows[-1][k] * 1e3:.3f} ms" for k in fns), flush=True)
    P = [r["params"] for r in rows]
    fits = {s: {"slope_P>=1e5": slope(P, [r[s] for r in rows], 1e5), "slope_all": slope(P, [r[s] for r in rows], 0)}
            for s in ("chainrule", "torch") if s in rows[0]}
    return {"batch": STEP_BATCH, "rows": rows, "fits": fits}


def _fd_gradient_time(model, x, y, sample):
    """Seconds for central differences over all parameters (or ``sample`` of them, scaled)."""
    from chainrule.nn import losses

    params = model.params
    leaves = list(params.values())
    sizes = [p.size for p in leaves]
    P = sum(sizes)
    offsets = np.cumsum([0] + sizes)
    idx = np.arange(P) if sample is None else np.random.default_rng(0).choice(P, sample, replace=False)
    h = 1e-6
    grad = np.zeros(len(idx))

    def loss():
        return float(losses.cross_entropy(model.apply(params, x), y))

    t0 = time.perf_counter()
    for n, k in enumerate(idx):
        leaf = int(np.searchsorted(offsets, k, side="right") - 1)
        flat = leaves[leaf].reshape(-1)
        j = k - offsets[leaf]
        old = flat[j]
        flat[j] = old + h
        f_plus = loss()
        flat[j] = old - h
        f_minus = loss()
        flat[j] = old
        grad[n] = (f_plus - f_minus) / (2 * h)
    elapsed = time.perf_counter() - t0
    return elapsed * (P / len(idx)), idx, grad


def fd_vs_backprop(quick=False):
    import chainrule as cr
    from chainrule.nn import losses

    widths = [2, 4, 8, 16, 32, 64, 128, 256] + ([] if quick else [512])
    rows = []
    for w in widths:
        sizes = [8, w, w, 3]
        model = chainrule_model(sizes, dtype="float64", activation="tanh")
        x, y = batch_data(sizes, FD_BATCH)
        x = x.astype(np.float64)
        P = model.n_params()
        vg = cr.value_and_grad(lambda p, model=model, x=x, y=y: losses.cross_entropy(model.apply(p, x), y))
        t_bp = common.stats(common.interleaved({"bp": lambda vg=vg, model=model: vg(model.params)},
                                               budget=0.3 if quick else 1.0, settle=0)["bp"])["median"]
        t_fwd = common.stats(common.interleaved(
            {"fwd": lambda model=model, x=x, y=y: losses.cross_entropy(model.apply(model.params, x), y)},
            budget=0.2 if quick else 0.5, settle=0)["fwd"])["median"]
        sample = None if P <= FD_FULL else FD_SAMPLE
        t_fd, idx, g_fd = _fd_gradient_time(model, x, y, sample)
        g_bp = np.concatenate([g.reshape(-1) for g in vg(model.params)[1].values()])[idx]
        rel = float(np.linalg.norm(g_fd - g_bp) / (np.linalg.norm(g_fd) + np.linalg.norm(g_bp) + 1e-30))
        rows.append({"width": w, "params": P, "backprop": t_bp, "forward": t_fwd, "finite_differences": t_fd,
                     "fd_sampled": sample is not None, "fd_vs_backprop_rel_error": rel})
        print(f"  w={w} P={P}: backprop {t_bp * 1e3:.3f} ms, FD {t_fd:.3f} s"
              f"{' (sampled)' if sample else ''}, rel. difference {rel:.1e}", flush=True)
    P = [r["params"] for r in rows]
    for r in rows:  # in units of one forward pass: FD needs 2P passes, backprop a constant number
        r["fd_in_forward_passes"] = r["finite_differences"] / r["forward"]
        r["backprop_in_forward_passes"] = r["backprop"] / r["forward"]
    fits = {k: {"slope_P>=1e4": slope(P, [r[k] for r in rows], 1e4), "slope_all": slope(P, [r[k] for r in rows], 0)}
            for k in ("backprop", "forward", "finite_differences", "fd_in_forward_passes",
                      "backprop_in_forward_passes")}
    return {"batch": FD_BATCH, "dtype": "float64", "rows": rows, "fits": fits}


def plot(out):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        common.note("matplotlib not installed: no PNGs")
        return []
    paths = []

    s = out["step_time"]
    fig, ax = plt.subplots(figsize=(6, 4.5))
    P = np.array([r["params"] for r in s["rows"]], float)
    for system, marker in (("chainrule", "o"), ("torch", "s")):
        if system not in s["rows"][0]:
            continue
        t = np.array([r[system] for r in s["rows"]]) * 1e3
        k = s["fits"][system]["slope_P>=1e5"]
        ax.loglog(P, t, marker + "-", label=f"{system} (slope {k:.2f} for P ≥ 1e5)" if k else system)
    ref = P[P >= 1e5]
    if ref.size:
        t0 = np.array([r["chainrule"] for r in s["rows"]])[P >= 1e5][0] * 1e3
        ax.loglog(ref, t0 * ref / ref[0], "k:", label="slope 1 (time ∝ P)")
    ax.set_xlabel("parameters P")
    ax.set_ylabel("training step, ms (median)")
    ax.set_title(f"Step time vs parameters: MLP [w, w, w, 10], batch {s['batch']}, float32", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = common.results_dir() / "step_time_vs_params.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    paths.append(str(path))

    f = out["fd_vs_backprop"]
    fig, ax = plt.subplots(figsize=(6, 4.5))
    P = np.array([r["params"] for r in f["rows"]], float)
    sampled = np.array([r["fd_sampled"] for r in f["rows"]])
    for key, name, color in (("finite_differences", "finite differences", "C3"), ("backprop", "backprop", "C0"),
                             ("forward", "one forward pass", "C7")):
        t = np.array([r[key] for r in f["rows"]])
        k = f["fits"][key]["slope_P>=1e4"]
        ax.loglog(P, t, "-", color=color, label=f"{name} (slope {k:.2f} for P ≥ 1e4)" if k else name)
        ax.loglog(P[~sampled], t[~sampled], "o", color=color)
        if key == "finite_differences":
            ax.loglog(P[sampled], t[sampled], "o", mfc="none", color=color, label="FD, sampled coordinates × P/n")
        else:
            ax.loglog(P[sampled], t[sampled], "o", color=color)
    ax.set_xlabel("parameters P")
    ax.set_ylabel("seconds for the full gradient")
    ax.set_title(f"Full gradient: finite differences vs backprop, batch {f['batch']}, float64", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = common.results_dir() / "fd_vs_backprop.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    paths.append(str(path))
    return paths


def run(quick=False):
    out = {"step_time": step_time_vs_params(quick), "fd_vs_backprop": fd_vs_backprop(quick)}
    out["plots"] = plot(out)
    out["tables"] = report(out)
    return out


def report(out):
    s, f = out["step_time"], out["fd_vs_backprop"]
    rows = [[r["width"], r["params"], *(f"{r[k] * 1e3:.3f}" for k in ("chainrule", "torch") if k in r)]
            for r in s["rows"]]
    systems = [k for k in ("chainrule", "torch") if k in s["rows"][0]]
    text = [common.table(["w", "P", *(f"{k} ms" for k in systems)], rows,
                         f"Step time vs parameter count, MLP [w, w, w, 10], batch {s['batch']}, float32")]
    fits = ", ".join(f"{k}: slope {common.fmt(v['slope_P>=1e5'])} for P ≥ 1e5 ({common.fmt(v['slope_all'])} over all)"
                     for k, v in s["fits"].items())
    print(fits)
    text.append(fits)
    rows = [[r["width"], r["params"], f"{r['forward'] * 1e3:.3f}", f"{r['backprop'] * 1e3:.3f}",
             f"{r['finite_differences']:.3g}" + (" (sampled)" if r["fd_sampled"] else ""),
             f"{r['finite_differences'] / r['backprop']:.3g}", f"{r['backprop_in_forward_passes']:.2f}",
             f"{r['fd_in_forward_passes']:.3g}", f"{r['fd_vs_backprop_rel_error']:.1e}"]
            for r in f["rows"]]
    text.append(common.table(["w", "P", "forward ms", "backprop ms", "finite differences s", "FD / backprop",
                              "backprop in forward passes", "FD in forward passes", "rel. difference"], rows,
                             f"Gradient by finite differences vs backprop, tanh MLP [8, w, w, 3], batch {f['batch']}, "
                             "float64 (rel. difference = ‖g_FD − g_BP‖ / (‖g_FD‖ + ‖g_BP‖) on the coordinates "
                             "probed)"))
    fits = ", ".join(f"{k}: slope {common.fmt(v['slope_P>=1e4'])} for P ≥ 1e4 ({common.fmt(v['slope_all'])} over all)"
                     for k, v in f["fits"].items())
    print(fits)
    text.append(fits)
    for p in out["plots"]:
        print(f"plot: {p}")
    return "\n".join(text)


if __name__ == "__main__":
    common.main_for_part("scaling", "Scaling: step time vs P, finite differences vs backprop", run)
