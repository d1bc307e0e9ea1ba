"""Coverage-guided fuzzing of chainrule's loaders with atheris (run by hand, not in the suite).

    pip install atheris
    python tests/fuzz/atheris_fuzz.py -atheris_runs=10000          # or -max_total_time=300

The first input byte picks the target (see fuzz_targets.Workspace); the rest is the file's
content, starting from the valid seed files. A crash is any failure other than a one-line
ChainruleError (fuzz_targets.Unclean); atheris stops and saves the input that caused it. At
exit the per-target counts are printed.
"""

import atexit
import shutil
import sys
import tempfile
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).parent))

with atheris.instrument_imports():
    import chainrule.data.csv  # noqa: F401
    import chainrule.runs.config  # noqa: F401
    import chainrule.runs.schema  # noqa: F401
    import chainrule.saving.model_io  # noqa: F401
    import chainrule.saving.weights  # noqa: F401
    import chainrule.train.checkpoint  # noqa: F401

from fuzz_targets import Workspace  # noqa: E402

base = "/dev/shm" if Path("/dev/shm").is_dir() else None
WORKSPACE_DIR = tempfile.mkdtemp(dir=base)
atexit.register(shutil.rmtree, WORKSPACE_DIR, ignore_errors=True)
WORKSPACE = Workspace(WORKSPACE_DIR)
TARGETS = list(WORKSPACE.targets)
COUNTS = {t: {"tried": 0, "accepted": 0, "clean": 0} for t in TARGETS}


def one_input(data):
    if not data:
        return
    target = TARGETS[data[0] % len(TARGETS)]
    body = data[1:]
    if len(body) < 4:  # mostly start from the valid seed, mutated by the fuzzer's bytes
        body = WORKSPACE.seeds[target][: len(WORKSPACE.seeds[target]) - body[0] if body else None]
    COUNTS[target]["tried"] += 1
    COUNTS[target][WORKSPACE.run(target, bytes(body))] += 1  # Unclean propagates: atheris reports it


@atexit.register
def _report():
    tried = sum(c["tried"] for c in COUNTS.values())
    print(f"\natheris: {tried} inputs tried, 0 unclean (a crash would have stopped the run)")
    for t, c in COUNTS.items():
        print(f"  {t:<24} tried {c['tried']:>7}  accepted {c['accepted']:>7}  clean errors {c['clean']:>7}")


def main():
    corpus = Path(tempfile.mkdtemp(dir=base))  # a temporary seed corpus, unless a corpus folder is given
    atexit.register(shutil.rmtree, corpus, ignore_errors=True)
    for target, seed in WORKSPACE.seeds.items():
        (corpus / f"seed-{target}").write_bytes(bytes([TARGETS.index(target)]) + seed)
    argv = [*sys.argv, str(corpus)] if not any(not a.startswith("-") for a in sys.argv[1:]) else sys.argv
    atheris.Setup(argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
