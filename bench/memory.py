"""Part b (memory): peak memory of a training step, chainrule vs PyTorch, each in a fresh subprocess.

    python bench/memory.py [--quick] [--json OUT.json]

Method. Every (system, network) pair runs in its own fresh interpreter (``--worker``), so
neither allocator sees the other's heap. The worker imports everything, builds the model, the
optimizer and the mini-batch, reads its resident set size (VmRSS, the *setup* baseline), resets
the kernel's peak-RSS counter (``echo 5 > /proc/self/clear_refs``; falling back to
``resource.getrusage`` maxrss when that is not allowed), runs 3 training steps and reads the
peak (VmHWM). Reported:

- step peak = peak RSS during the steps − RSS after setup: what a training step adds
  (activations, gradients — torch keeps its ``.grad`` buffers, chainrule makes new ones each
  step — and temporaries);
- for chainrule also the tracemalloc peak of one step (NumPy reports its array allocations to
  tracemalloc), in a separate worker because tracing slows the step and uses memory itself.

The parameters, the optimizer state and the batch are the same for both and sit in the baseline.
Each measurement runs 3 times (once with --quick) in fresh processes; the median run is shown.
"""

from __future__ import annotations

import common

# isort: split

import json
import os
import subprocess
import sys

CONFIG_NAMES = ("medium", "large")
STEPS = 3


def _status_kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return None


def _reset_peak():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def worker(system, config):
    """Runs in the fresh subprocess; prints one JSON line."""
    import resource

    import numpy as np

    from systems import CONFIGS, batch_data, chainrule_model, chainrule_trainer, make_step

    common.limit_threads()
    sizes, batch = CONFIGS[config]
    if system == "chainrule-tracemalloc":
        import tracemalloc

        x, y = batch_data(sizes, batch)
        trainer = chainrule_trainer(chainrule_model(sizes), batch)
        tracemalloc.start()
        peaks = []
        for _ in range(STEPS):
            before = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
            trainer.train_step(x, y)
            peaks.append(tracemalloc.get_traced_memory()[1] - before)
        print(json.dumps({"step_peak_bytes": max(peaks), "method": "tracemalloc"}))
        return
    import chainrule  # noqa: F401  (imports count neither in the setup nor in the step)

    if system == "torch":
        common.optional("torch")
    rss_imports = _status_kib("VmRSS")
    step = make_step(system, sizes, batch)
    if step is None:
        print(json.dumps({"skipped": True}))
        return
    np.zeros(1)
    rss_setup = _status_kib("VmRSS")
    reset = _reset_peak()
    maxrss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for _ in range(STEPS):
        step()
    peak = _status_kib("VmHWM") if reset else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({
        "rss_after_imports_kib": rss_imports, "rss_after_setup_kib": rss_setup, "peak_rss_kib": peak,
        "step_peak_bytes": (peak - rss_setup) * 1024, "setup_bytes": (rss_setup - rss_imports) * 1024,
        "method": "VmHWM after clear_refs" if reset else "getrusage maxrss (peak not reset)",
        "maxrss_before_steps_kib": maxrss_before,
    }))


def _spawn(system, config):
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", system, config]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        common.note(f"memory worker {system}/{config} failed: {proc.stderr.strip()[-300:]}")
        return None
    return json.loads(lines[-1])


def run(quick=False):
    repeats = 1 if quick else 3
    results = {}
    for config in CONFIG_NAMES:
        results[config] = {}
        for system in ("chainrule", "torch", "chainrule-tracemalloc"):
            runs = [_spawn(system, config) for _ in range(repeats)]
            runs = [r for r in runs if r is not None and not r.get("skipped")]
            if runs:
                # the median run (by step peak); every run's figure is kept in the JSON
                runs.sort(key=lambda r: r["step_peak_bytes"])
                results[config][system] = {**runs[len(runs) // 2],
                                           "all_step_peak_bytes": [r["step_peak_bytes"] for r in runs]}
        print(f"  {config}: " + ", ".join(f"{s} {r['step_peak_bytes'] / 2**20:.1f} MiB"
                                         for s, r in results[config].items()), flush=True)
    out = {"configs": results, "steps": STEPS}
    out["tables"] = report(out)
    return out


def report(out):
    from systems import CONFIGS, label

    rows, verdicts = [], []
    for config, r in out["configs"].items():
        sizes, batch = CONFIGS[config]
        cr, pt = r.get("chainrule"), r.get("torch")
        for system, v in r.items():
            spread = ", ".join(f"{b / 2**20:.1f}" for b in v["all_step_peak_bytes"])
            rows.append([f"{config} {label(sizes)} B{batch}", system, f"{v['step_peak_bytes'] / 2**20:.1f}", spread,
                         f"{v['setup_bytes'] / 2**20:.1f}" if "setup_bytes" in v else "–", v["method"]])
        if cr and pt:
            ratio = cr["step_peak_bytes"] / pt["step_peak_bytes"]
            verdicts.append([f"{config}: chainrule step peak ≤ PyTorch's", f"{ratio:.2f}× PyTorch's",
                             common.verdict(ratio <= 1.0)])
    headers = ["config", "system", "step peak MiB (median run)", "every run", "setup MiB (model+optimizer+batch)",
               "method"]
    title = f"Peak memory of a training step above the setup ({out['steps']} steps, a fresh process per run)"
    text = [common.table(headers, rows, title)]
    if verdicts:
        text.append(common.table(["target (issue 4)", "measured (RSS)", "verdict"], verdicts, "Memory target"))
    return "\n".join(text)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--worker":
        worker(sys.argv[2], sys.argv[3])
    else:
        common.main_for_part("memory", "Peak memory of a training step", run)
