"""Part e: seed ensembles — K = 64 tiny networks (issue 4).

    python bench/ensemble.py [--quick] [--json OUT.json]

K networks 2-8-8-2 (ReLU, softmax cross-entropy, SGD with learning rate 0.01, float32) that
differ only in their seed k (initial weights and data order), each trained for E epochs of
two moons (256 points, mini-batches of 32: 8 steps per epoch). Every run uses chainrule's
initial weights and chainrule's data order for seed k (``chainrule.data.batching.Batcher``), so
all of them train the same K networks and their loss curves coincide. Throughput = K·E·8 /
seconds (network-steps per second).

- baseline: PyTorch eager, the K networks trained one after another (step loop only);
- reference: chainrule's ``Trainer(seed=k).fit``, one network after another;
- target (issue 4): chainrule's vectorized ensemble (``chainrule.train.ensemble.Ensemble``: one
  call, batched matmul over a model axis) at ≥ 50× the baseline's throughput, with results
  identical to training one by one (compared here: per-epoch losses and final weights).

Both chainrule ``fit`` runs also evaluate the training accuracy once per epoch (part of fit);
the PyTorch loop does not. Each is timed 3 times (once with --quick), the systems taking turns;
the median is reported. Curves (mean ± one standard deviation over the K seeds) go to
bench/results/ensemble_curves.png.
"""

from __future__ import annotations

import common

# isort: split

import time

import numpy as np

from systems import LEARNING_RATE, chainrule_model, torch_sequential

K = 64
SIZES = [2, 8, 8, 2]
BATCH = 32
N = 256


def data():
    from chainrule.data import make_moons

    X, y = make_moons(n=N, noise=0.1, seed=0)
    return np.ascontiguousarray(X, np.float32), np.asarray(y, np.int64)


def torch_one_after_another(X, y, epochs):
    """The baseline: K PyTorch eager networks one after another -> (seconds, losses (K, E), weights)."""
    torch = common.optional("torch")
    if torch is None:
        return None
    from chainrule.data.batching import Batcher

    initial = [chainrule_model(SIZES, seed=k) for k in range(K)]  # made before the clock starts
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    losses = np.zeros((K, epochs))
    weights = []
    t0 = time.perf_counter()
    for k in range(K):
        net = torch_sequential(torch, initial[k])
        opt = torch.optim.SGD(net.parameters(), lr=LEARNING_RATE)
        crit = torch.nn.CrossEntropyLoss()
        batcher = Batcher(N, BATCH, shuffle=True, seed=k)
        for e in range(epochs):
            total = 0.0
            for idx in batcher.batches(e):
                ti = torch.from_numpy(idx)
                opt.zero_grad()
                loss = crit(net(Xt[ti]), yt[ti])
                loss.backward()
                opt.step()
                total += loss.item() * len(idx)
            losses[k, e] = total / N
        weights.append(net.state_dict())
    seconds = time.perf_counter() - t0
    return seconds, losses, [{n: v.numpy() for n, v in w.items()} for w in weights]


def chainrule_one_after_another(X, y, epochs):
    """chainrule's Trainer, one network after another -> (seconds, losses (K, E), weights)."""
    from chainrule import nn
    from chainrule.train import Trainer

    losses = np.zeros((K, epochs))
    weights = []
    t0 = time.perf_counter()
    for k in range(K):
        trainer = Trainer(nn.MLP(SIZES, activation="relu"), loss="cross_entropy", optimizer="sgd",
                          learning_rate=LEARNING_RATE, batch_size=BATCH, seed=k, dtype="float32", verbose=0)
        history = trainer.fit(X, y, epochs=epochs)
        losses[k] = history["loss"]
        weights.append(trainer.model.params)
    return time.perf_counter() - t0, losses, weights


# ==================================================================================================
# LEAD: the vectorized seed ensemble. Trains the same K networks as chainrule_one_after_another
# (MLP SIZES, ReLU, seeds 0..K-1, float32, SGD, softmax cross-entropy, the same data order) in
# ONE vectorized call and returns (seconds, losses (K, E), weights per model). ``run`` compares
# its losses and weights with the one-by-one run (issue 4: "results identical to training them
# one by one") and its throughput with the PyTorch baseline (target ≥ 50×). Adapt this function
# if the ensemble API changes; it is skipped with a note when chainrule.train.ensemble is absent.
# ==================================================================================================
def chainrule_vectorized_ensemble(X, y, epochs):
    try:
        from chainrule.train.ensemble import Ensemble
    except ImportError:
        common.note("chainrule.train.ensemble does not exist: the vectorized ensemble is not measured")
        return None
    from chainrule import nn

    t0 = time.perf_counter()
    ens = Ensemble(lambda: nn.MLP(SIZES, activation="relu"), seeds=range(K), loss="cross_entropy", optimizer="sgd",
                   learning_rate=LEARNING_RATE, batch_size=BATCH, dtype=np.float32, metrics=[], verbose=0)
    history = ens.fit(X, y, epochs=epochs)  # metrics=[]: per-epoch loss only, as the PyTorch baseline records
    seconds = time.perf_counter() - t0
    return seconds, np.asarray(history["loss"]).T, [ens.model_params(k) for k in range(K)]


def _max_weight_difference(a, b):
    return max(float(np.max(np.abs(np.asarray(wa[n], np.float64) - np.asarray(wb[n], np.float64))))
               for wa, wb in zip(a, b) for n in wa)


def run(quick=False):
    epochs = 6 if quick else 25
    repeats = 1 if quick else 3
    X, y = data()
    runs, weights, times = {}, {}, {}
    systems = (("torch eager, one after another (baseline)", torch_one_after_another),
               ("chainrule Trainer.fit, one after another", chainrule_one_after_another),
               ("chainrule Ensemble.fit (vectorized)", chainrule_vectorized_ensemble))
    steps = K * epochs * (N // BATCH)
    for _ in range(repeats):  # the systems take turns; each time is the median of the repeats
        for name, fn in systems:
            if name in times and times[name] is None:
                continue
            r = fn(X, y, epochs)
            if r is None:
                times[name] = None
                continue
            seconds, losses, weights[name] = r
            times.setdefault(name, []).append(seconds)
            runs[name] = {"losses": losses}
    for name, ts in times.items():
        if ts:
            seconds = float(np.median(ts))
            runs[name].update(seconds=seconds, all_seconds=ts, throughput=steps / seconds)
            print(f"  {name}: {seconds:.2f} s (median of {len(ts)}), {steps / seconds:.0f} network-steps/s", flush=True)
    one_by_one = "chainrule Trainer.fit, one after another"
    for name, r in runs.items():
        if name != one_by_one:
            r["max_abs_loss_difference_vs_chainrule_one_by_one"] = float(np.max(np.abs(r["losses"] - runs[one_by_one]
                                                                                        ["losses"])))
            r["max_abs_weight_difference_vs_chainrule_one_by_one"] = _max_weight_difference(weights[name],
                                                                                             weights[one_by_one])
    out = {"K": K, "sizes": SIZES, "batch": BATCH, "epochs": epochs, "steps_per_network": epochs * (N // BATCH),
           "runs": runs, "plot": plot(runs, epochs)}
    base = runs.get("torch eager, one after another (baseline)")
    for r in runs.values():
        r["speed_vs_baseline"] = r["throughput"] / base["throughput"] if base else None
        curves = r.pop("losses")
        r["final_loss_mean"], r["final_loss_std"] = float(curves[:, -1].mean()), float(curves[:, -1].std())
        r["loss_curve_mean"], r["loss_curve_std"] = curves.mean(axis=0).tolist(), curves.std(axis=0).tolist()
    out["tables"] = report(out)
    return out


def plot(runs, epochs):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        common.note("matplotlib not installed: no ensemble plot")
        return None
    fig, ax = plt.subplots(figsize=(6, 4))
    e = np.arange(1, epochs + 1)
    for i, (name, r) in enumerate(runs.items()):
        mean, std = r["losses"].mean(axis=0), r["losses"].std(axis=0)
        ax.plot(e, mean, ["-", "--", ":"][i % 3], label=name)
        ax.fill_between(e, mean - std, mean + std, alpha=0.2)
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss (epoch mean)")
    ax.set_title(f"{K} seeds of a {'-'.join(map(str, SIZES))} network, mean ± 1 std")
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = common.results_dir() / "ensemble_curves.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return str(path)


def report(out):
    rows = []
    for name, r in out["runs"].items():
        same = r.get("max_abs_weight_difference_vs_chainrule_one_by_one")
        rows.append([name, f"{r['seconds']:.2f}", f"{r['throughput']:.0f}", common.fmt(r["speed_vs_baseline"]) + "×",
                     f"{r['final_loss_mean']:.4f} ± {r['final_loss_std']:.4f}",
                     "(reference)" if same is None else f"{same:.1e}"])
    vec = out["runs"].get("chainrule Ensemble.fit (vectorized)")
    if vec is None:
        rows.append(["chainrule vectorized ensemble", "–", "–", "not available (target ≥ 50×)", "–", "–"])
    text = [common.table(["how", "seconds", "network-steps/s", "vs PyTorch one by one", "final loss (mean ± std)",
                          "max abs Δ weight vs chainrule one by one"], rows,
                         f"Seed ensemble: K = {out['K']} networks {'-'.join(map(str, out['sizes']))}, "
                         f"{out['epochs']} epochs × {out['steps_per_network'] // out['epochs']} steps of batch "
                         f"{out['batch']} each")]
    if vec is not None and vec.get("speed_vs_baseline"):
        text.append(common.table(["target (issue 4)", "measured", "verdict"], [
            ["vectorized ensemble ≥ 50× PyTorch one by one", f"{vec['speed_vs_baseline']:.1f}×",
             common.verdict(vec["speed_vs_baseline"] >= 50)],
            ["identical to one by one (max abs Δ weight)",
             f"{vec['max_abs_weight_difference_vs_chainrule_one_by_one']:.1e}",
             common.verdict(vec["max_abs_weight_difference_vs_chainrule_one_by_one"] == 0)]], "Ensemble target"))
    if out["plot"]:
        print(f"plot: {out['plot']}")
    return "\n".join(text)


if __name__ == "__main__":
    common.main_for_part("ensemble", "Seed ensembles: K = 64 tiny networks", run)
