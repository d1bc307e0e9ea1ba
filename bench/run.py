"""Every chainrule benchmark in one command.

    python bench/run.py [--quick] [--json OUT.json] [--only overhead,training,...] [--wait-idle S] [--no-pin]

Parts (each also runs alone: ``python bench/<part>.py [--quick] [--json OUT.json]``):

  overhead       engine overhead per primitive call; value_and_grad of a tanh MLP (issue 2)
  training       one training step in chainrule, PyTorch, jax.jit, scikit-learn; backward/forward
  memory         peak memory of a training step, chainrule vs PyTorch (fresh subprocesses)
  checkpointing  gradient checkpointing on a depth-64 network: memory and time
  scaling        step time vs parameter count; finite differences vs backprop (PNGs)
  ensemble       K = 64 tiny networks: PyTorch one by one vs chainrule (vectorized: when it exists)
  profile        where chainrule's tiny step goes (breakdown + pyinstrument)
  sweep          chainrule sweep on 2 Dask workers: throughput, packed seeds, overhead, BLAS threads
                 (needs the 'sweep' extra)
  playground     the playground's server through its WebSocket (bench/playground.py in a subprocess,
                 short: 3 s × 1 with --quick, 10 s × 3 otherwise; needs the 'playground' extra)

A part whose extra is not installed is skipped with a note naming the missing module.

Prints Markdown tables; writes the JSON (default bench/results/latest[-quick].json) and the
tables (the same path with .md). Run it on an otherwise idle machine: the header prints the
load average, and every system uses 2 threads.
"""

from __future__ import annotations

import common

# isort: split

import importlib.util
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import checkpointing
import ensemble
import memory
import overhead
import profile_step
import scaling
import training


def needing(modules, part):
    """``part``, or a stand-in that skips it with a note when one of ``modules`` is not installed."""
    def run(quick=False):
        missing = [m for m in modules if importlib.util.find_spec(m) is None]
        if missing:
            note = f"skipped: {', '.join(missing)} not installed (the part needs {', '.join(modules)})"
            common.note(note)
            return {"skipped": note, "tables": note}
        return part(quick=quick)
    return run


def sweep_part(quick=False):
    import sweep  # bench/sweep.py (imports chainrule.sweep, whose Dask and Optuna load lazily)

    return sweep.run_part(quick=quick)


def playground_part(quick=False):
    """bench/playground.py in its own process (it starts the server as a user does); its JSON back."""
    seconds, repeats = ("3", "1") if quick else ("10", "3")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "playground.json"
        done = subprocess.run([sys.executable, str(common.BENCH_DIR / "playground.py"), "--seconds", seconds,
                               "--repeats", repeats, "--json", str(out)], capture_output=True, text=True)
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
            raise RuntimeError(f"bench/playground.py failed (exit {done.returncode}): {last}")
        runs = json.loads(out.read_text())
    print(done.stdout, end="", flush=True)
    table = "\n".join(line for line in done.stdout.splitlines() if line.startswith("|"))
    return {"runs": runs, "tables": table}


PARTS = {
    "overhead": overhead.run,
    "training": training.run,
    "memory": memory.run,
    "checkpointing": checkpointing.run,
    "scaling": scaling.run,
    "ensemble": ensemble.run,
    "profile": profile_step.run,
    "sweep": needing(("distributed", "optuna", "threadpoolctl", "psutil"), sweep_part),
    "playground": needing(("starlette", "uvicorn", "websockets"), playground_part),
}


def main():
    p = common.parser("Run every chainrule benchmark")
    p.add_argument("--only", help="comma-separated parts: " + ",".join(PARTS))
    args = p.parse_args()
    names = list(PARTS) if not args.only else [s.strip() for s in args.only.split(",")]
    unknown = [n for n in names if n not in PARTS]
    if unknown:
        p.error(f"unknown part(s) {unknown}; valid: {', '.join(PARTS)}")
    common.set_quick(args.quick)
    common.wait_for_idle(args.wait_idle)
    common.limit_threads()
    for lib in ("torch", "jax", "sklearn"):  # load them now, so the header lists their thread pools
        common.optional(lib)
    m = common.machine()
    common.print_machine(m)
    t_start = time.perf_counter()
    whole_run = common.OtherLoad()
    results, tables, seconds = {}, [], {}
    for name in names:
        print(f"\n## {name}", flush=True)
        t0 = time.perf_counter()
        load = common.OtherLoad()
        results[name] = PARTS[name](quick=args.quick)
        seconds[name] = round(time.perf_counter() - t0, 1)
        results[name]["other_cpus"] = load.cpus()
        note = common.other_load_note(results[name]["other_cpus"])
        tables.append(f"## {name}\n\n{results[name].get('tables', '')}\n\n({seconds[name]} s; {note})\n")
        print(f"({name}: {seconds[name]} s; {note})", flush=True)
    m["other_cpus_during_run"] = whole_run.cpus()
    m["seconds"] = {**seconds, "total": round(time.perf_counter() - t_start, 1)}
    print(f"\nTotal {m['seconds']['total']} s; {common.other_load_note(m['other_cpus_during_run'])}"
          .replace("this part", "the whole run"))
    default = common.RESULTS_DIR / ("latest-quick.json" if args.quick else "latest.json")
    out = Path(args.json) if args.json else default
    common.write_json(out, {"machine": m, "quick": args.quick, "parts": results})
    md = out.with_suffix(".md")
    header = (f"Run of {m['date']} on {m['cpu']} ({m['cpus_available']} CPUs), NumPy BLAS "
              f"{(m['numpy_blas'] or {}).get('internal_api')} {(m['numpy_blas'] or {}).get('version')} "
              f"kernel {(m['numpy_blas'] or {}).get('architecture')}, {m['threads']} threads; "
              f"load average {m['load_average_at_start']} at start; other processes used "
              f"{common.fmt(m['other_cpus_during_run'])} CPUs on average during the run.\n\n")
    md.write_text(header + "\n".join(tables))
    print(f"wrote {md}")


if __name__ == "__main__":
    main()
