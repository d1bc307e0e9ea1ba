"""What every benchmark shares: a clean environment, 2 threads for everyone, timing, tables, JSON.

Import this module *before NumPy* (each script does, then ``# isort: split``):

- ``OPENBLAS_CORETYPE`` / ``OPENBLAS_L2_SIZE`` are read by OpenBLAS when NumPy loads it and slow
  NumPy's GEMM here (a forced Haswell kernel on an AVX-512 CPU), so if either is set the
  interpreter re-executes itself (``os.execve``) with both removed, for this process only;
- every system gets ``THREADS`` = 2 threads: threadpoolctl limits for NumPy's BLAS and OpenMP,
  ``torch.set_num_threads``; XLA has no thread-count flag, so when more than ``THREADS`` CPUs are
  available the process is pinned to ``THREADS`` of them (affinity applies to NumPy and torch too,
  which use that many threads anyway). ``--no-pin`` turns that off.

This module does not import NumPy at import time (the re-exec must come first).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

THREADS = 2
SLOW_BLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
_UNSET_NOTE = "CHAINRULE_BENCH_UNSET"  # what the re-exec removed, for the report
BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
_quick = False


def set_quick(quick):
    """--quick runs write their plots and profiles to results/quick/, not over the full run's."""
    global _quick
    _quick = bool(quick)


def results_dir():
    path = RESULTS_DIR / "quick" if _quick else RESULTS_DIR
    path.mkdir(parents=True, exist_ok=True)
    return path
REPO_DIR = BENCH_DIR.parent


def _clean_environment():
    present = [k for k in SLOW_BLAS_VARS if k in os.environ]
    if not present:
        return
    env = {k: v for k, v in os.environ.items() if k not in SLOW_BLAS_VARS}
    env[_UNSET_NOTE] = ",".join(f"{k}={os.environ[k]}" for k in present)
    sys.stdout.flush()
    sys.stderr.flush()
    # sys.orig_argv keeps interpreter options (-X, -m ...) as the user gave them.
    os.execve(sys.executable, [sys.executable, *sys.orig_argv[1:]], env)


def _pin_cpus():
    if "--no-pin" in sys.argv or not hasattr(os, "sched_getaffinity"):
        return None
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) > THREADS:
        os.sched_setaffinity(0, cpus[:THREADS])
        return cpus[:THREADS]
    return None


_clean_environment()
PINNED = _pin_cpus()
os.environ.setdefault("JAX_PLATFORMS", "cpu")  # no accelerator probing
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KMP_DUPLICATE_LIB_OK", "TRUE")

_notes_printed = set()
_limiter = None


def note(msg):
    """Print a note once (e.g. 'torch not installed: skipped')."""
    if msg not in _notes_printed:
        _notes_printed.add(msg)
        print(f"note: {msg}", flush=True)


def optional(name):
    """Import an optional comparison library, or print a note and return None."""
    import importlib

    try:
        mod = importlib.import_module(name)
    except Exception as e:  # ImportError, or a broken install
        note(f"{name} not available ({type(e).__name__}: {e}); its rows are skipped")
        return None
    if name == "torch":
        mod.set_num_threads(THREADS)
    limit_threads()  # a library may bring its own OpenMP runtime: limit it too
    return mod


def limit_threads():
    """Limit every BLAS / OpenMP pool loaded so far to THREADS (threadpoolctl)."""
    global _limiter
    try:
        import threadpoolctl
    except ImportError:
        note("threadpoolctl not installed: BLAS threads are not limited and not reported")
        return
    _limiter = threadpoolctl.threadpool_limits(limits=THREADS)


def blas_info():
    """threadpoolctl's view of the loaded BLAS / OpenMP libraries (kernel, version, threads)."""
    try:
        import threadpoolctl
    except ImportError:
        return []
    keys = ("user_api", "internal_api", "prefix", "version", "architecture", "num_threads", "threading_layer")
    out = []
    for info in threadpoolctl.threadpool_info():
        row = {k: info.get(k) for k in keys}
        row["library"] = os.path.basename(info.get("filepath", ""))
        out.append(row)
    return out


def numpy_blas_row(info):
    """The row of ``blas_info()`` that NumPy itself uses (libscipy_openblas64_ in numpy.libs)."""
    blas = [r for r in info if r["user_api"] == "blas"]
    for r in blas:
        if "64_" in r["library"] or "numpy" in r["library"]:
            return r
    return blas[0] if blas else None


def _cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _cpu_flags():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                return [f for f in ("avx2", "fma", "avx512f", "avx512_bf16", "amx_tile") if f in flags]
    except OSError:
        pass
    return []


def _git_commit():
    try:
        rev = subprocess.run(["git", "-C", str(REPO_DIR), "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO_DIR), "status", "--porcelain", "--", "src"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return rev + ("+dirty(src)" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


def _version(name):
    import importlib

    try:
        return importlib.import_module(name).__version__
    except Exception:
        return None


def _torch_backend():
    """torch's own BLAS (MKL is linked statically, so threadpoolctl does not list it) and SIMD level."""
    import sys as _sys

    torch = _sys.modules.get("torch")
    if torch is None:
        return None
    keep = ("Math Kernel Library", "BLAS_INFO", "CPU capability usage", "MKL-DNN")
    lines = []
    for line in torch.__config__.show().splitlines():
        line = line.strip(" -")
        if "BLAS_INFO" in line:
            line = next((part.strip() for part in line.split(",") if "BLAS_INFO" in part), line)
            line = line.replace("Build settings: ", "")
        if any(k in line for k in keep):
            lines.append(line)
    return "; ".join(lines) + f"; threads {torch.get_num_threads()}"


def machine():
    """The machine description recorded with every result."""
    import numpy as np

    cpus = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    info = blas_info()
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": _cpu_model(),
        "cpu_flags": _cpu_flags(),
        "logical_cpus": os.cpu_count(),
        "cpus_available": len(cpus) if cpus is not None else None,
        "pinned_to": PINNED,
        "threads": THREADS,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "platform": platform.platform(),
        "numpy": np.__version__,
        "chainrule": _version("chainrule"),
        "chainrule_commit": _git_commit(),
        "torch": _version("torch"),
        "jax": _version("jax"),
        "sklearn": _version("sklearn"),
        "torch_backend": _torch_backend(),
        "unset_env": os.environ.get(_UNSET_NOTE, ""),
        "blas": info,
        "numpy_blas": numpy_blas_row(info),
    }


def print_machine(m):
    print(f"# chainrule benchmarks — {m['date']}")
    print(f"CPU: {m['cpu']} ({m['cpus_available']} CPUs available of {m['logical_cpus']}; "
          f"flags {' '.join(m['cpu_flags'])}){'; pinned to CPUs ' + str(m['pinned_to']) if m['pinned_to'] else ''}")
    print(f"Python {m['python']}, NumPy {m['numpy']}, chainrule {m['chainrule']} ({m['chainrule_commit']}), "
          f"torch {m['torch']}, jax {m['jax']}, scikit-learn {m['sklearn']}")
    nb = m["numpy_blas"]
    if nb:
        print(f"NumPy BLAS: {nb['internal_api']} {nb['version']} kernel={nb['architecture']} "
              f"threads={nb['num_threads']} ({nb['library']})")
    for r in m["blas"]:
        if r is not nb:
            print(f"  also loaded: {r['internal_api']} {r['version'] or ''} {r['architecture'] or ''} "
                  f"threads={r['num_threads']} ({r['library']})")
    if m.get("torch_backend"):
        print(f"torch: {m['torch_backend']}")
    unset = f"unset for this process: {m['unset_env']}" if m["unset_env"] else "no OPENBLAS_* to unset"
    print(f"Environment: {unset}; {m['threads']} threads for every system")
    load = m["load_average_at_start"]
    print(f"Load average at start: {load}" + ("  <- other work is running: expect noisier numbers" if
                                               load[0] > 0.5 else ""))
    print(flush=True)


# -- other work on the machine ----------------------------------------------------------------------
class OtherLoad:
    """CPUs used by *other* processes between ``start()`` and ``stop()`` (averaged over the wall time).

    All CPUs' busy time from /proc/stat minus this process's own CPU time (and its waited-for
    children's). The load average cannot tell this: the benchmark's own 2 threads count in it.
    """

    def __init__(self):
        self.t0 = self._read()

    @staticmethod
    def _read():
        try:
            with open("/proc/stat") as f:
                fields = [int(v) for v in f.readline().split()[1:]]
        except (OSError, ValueError):
            return None
        busy = sum(fields[:3]) + sum(fields[5:8])  # user nice system, irq softirq steal
        t = os.times()
        own = t.user + t.system + t.children_user + t.children_system
        return time.perf_counter(), busy / os.sysconf("SC_CLK_TCK"), own

    def cpus(self):
        t1 = self._read()
        if self.t0 is None or t1 is None:
            return None
        wall = t1[0] - self.t0[0]
        other = (t1[1] - self.t0[1]) - (t1[2] - self.t0[2])
        return max(0.0, other / wall) if wall > 0 else None


def other_load_note(cpus):
    if cpus is None:
        return "other processes' CPU use: unknown (no /proc/stat)"
    flag = "  <- NOT an idle machine: these numbers are disturbed" if cpus > 0.15 else ""
    return f"other processes used {cpus:.2f} CPUs on average during this part{flag}"


# -- timing --------------------------------------------------------------------------------------
def estimate(fn, min_time=0.05, max_calls=1000):
    """Seconds per call of ``fn`` (after one call), from a short run."""
    fn()
    n, t0 = 0, time.perf_counter()
    while True:
        fn()
        n += 1
        dt = time.perf_counter() - t0
        if dt >= min_time or n >= max_calls:
            return dt / n


def interleaved(fns, budget, round_time=0.05, min_rounds=5, max_rounds=60, warmup=1, settle=0.12):
    """Time each callable of ``fns`` ({name: fn}) one call at a time, in interleaved rounds.

    Each round runs every system in turn (A B C … A B C …), each for about ``round_time``
    seconds (at least one call), so slow drift of the machine hits every system alike. The
    number of rounds fills ``budget`` seconds of timed calls (within [min_rounds, max_rounds]).

    Before each system's turn the process sleeps ``settle`` seconds (untimed): after a GEMM,
    OpenBLAS's worker threads keep spinning for ~0.1 s, and on a 2-CPU machine they steal the
    cores of whatever runs next (measured: torch's forward pass on the large network takes
    ~2× longer right after a NumPy step than 0.1 s later). Short calls (< 50 ms) also get one
    untimed call after the pause, so caches are warm. Pass ``settle=0`` when every callable uses
    the same library. Returns {name: [seconds per call, ...]}.
    """
    per_call = {}
    for name, fn in fns.items():
        for _ in range(warmup):
            fn()
        per_call[name] = estimate(fn)
    inner = {name: max(1, min(20_000, round(round_time / t))) for name, t in per_call.items()}
    round_cost = sum(inner[n] * per_call[n] for n in fns)
    rounds = int(min(max_rounds, max(min_rounds, budget / max(round_cost, 1e-9))))
    samples = {name: [] for name in fns}
    clock = time.perf_counter
    for _ in range(rounds):
        for name, fn in fns.items():
            if settle:
                time.sleep(settle)
                if per_call[name] < 0.05:
                    fn()
            out = samples[name]
            for _ in range(inner[name]):
                t0 = clock()
                fn()
                out.append(clock() - t0)
    return samples


def stats(samples):
    """Median, p10, p90 (seconds) and count of a list of timings."""
    import numpy as np

    a = np.asarray(samples, dtype=float)
    p10, med, p90 = np.percentile(a, [10, 50, 90])
    return {"median": float(med), "p10": float(p10), "p90": float(p90), "n": int(a.size)}


def gemm_peak(n=2048, repeats=7):
    """GFLOP/s of an n×n×n float32 NumPy matmul (median of ``repeats``): the GEMM reference."""
    import numpy as np

    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    c = np.empty((n, n), np.float32)
    np.matmul(a, b, out=c)
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        np.matmul(a, b, out=c)
        ts.append(time.perf_counter() - t0)
    s = stats(ts)
    return {"n": n, "seconds": s, "gflops": 2 * n**3 / s["median"] / 1e9}


# -- output --------------------------------------------------------------------------------------
def table(headers, rows, title=None):
    """A Markdown pipe table (printed as is and pasted into BENCHMARKS.md)."""
    lines = []
    if title:
        lines.append(f"\n### {title}\n")
    cells = [[str(c) for c in r] for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    lines.append("| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths)) + " |")
    lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in cells:
        lines.append("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |")
    text = "\n".join(lines)
    print(text, flush=True)
    return text


def fmt(x, digits=3):
    """A number with ``digits`` significant digits ('–' for None)."""
    if x is None:
        return "–"
    if isinstance(x, str):
        return x
    if x == 0:
        return "0"
    return f"{x:.{digits}g}" if abs(x) < 10 ** digits else f"{x:.0f}"


def verdict(ok):
    return "–" if ok is None else ("met" if ok else "MISSED")


def wait_for_idle(max_seconds, threshold=0.6):
    """Wait (up to ``max_seconds``) until the 1-minute load average falls below ``threshold``."""
    t0 = time.time()
    while os.getloadavg()[0] >= threshold and time.time() - t0 < max_seconds:
        print(f"waiting for an idle machine: load average {os.getloadavg()[0]:.2f}", flush=True)
        time.sleep(15)


def parser(description):
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--wait-idle", type=float, default=0, metavar="SECONDS",
                   help="first wait up to SECONDS for the load average to fall below 0.6")
    p.add_argument("--quick", action="store_true", help="fewer sizes and shorter timings (a smoke run)")
    p.add_argument("--json", metavar="OUT.json", help="write the results as JSON here")
    p.add_argument("--no-pin", action="store_true", help="do not pin the process to 2 CPUs")
    return p


def write_json(path, data):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1, default=_jsonable))
    print(f"\nwrote {path}")


def _jsonable(x):
    import numpy as np

    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    raise TypeError(f"not JSON serializable: {type(x).__name__}")


def main_for_part(name, description, run_part):
    """``python bench/<part>.py [--quick] [--json OUT]``: machine header, the part, JSON."""
    args = parser(description).parse_args()
    set_quick(args.quick)
    wait_for_idle(args.wait_idle)
    limit_threads()
    m = machine()
    print_machine(m)
    load = OtherLoad()
    result = run_part(quick=args.quick)
    result["other_cpus"] = load.cpus()
    print(other_load_note(result["other_cpus"]))
    if args.json:
        write_json(args.json, {"machine": m, "quick": args.quick, "parts": {name: result}})
    return result
