"""Fuzz chainrule's loaders with random mutations and hand-crafted files; print the counts.

    python tests/fuzz/run_fuzz.py --n 10000 [--seed 0] [--out DIR]

Targets: load_weights/read_header and load_model (model.safetensors), load_model (model.json),
latest_checkpoint + restore (state.json corrupted; state.json and tensors crafted with matching
checksums; checksums.json), load_config (TOML) and load_csv. Every input must be accepted or
rejected with a one-line ChainruleError; anything else is "unclean", saved under --out for
reproduction, and makes the exit status 1.
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from fuzz_targets import Workspace, fuzz  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10_000, help="inputs to try")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="folder for the unclean inputs (default: none saved)")
    args = parser.parse_args()
    base = "/dev/shm" if Path("/dev/shm").is_dir() else None  # many small writes: a RAM disk if there is one
    with tempfile.TemporaryDirectory(dir=base) as tmp:
        t0 = time.perf_counter()
        counts, unclean = fuzz(Workspace(tmp), args.n, seed=args.seed, log=print)
        seconds = time.perf_counter() - t0
    print(f"{'target':<24}{'tried':>8}{'accepted':>10}{'clean':>8}{'unclean':>9}")
    for target, c in counts.items():
        print(f"{target:<24}{c['tried']:>8}{c['accepted']:>10}{c['clean']:>8}{c['unclean']:>9}")
    tried = sum(c["tried"] for c in counts.values())
    print(f"{'total':<24}{tried:>8}{sum(c['accepted'] for c in counts.values()):>10}"
          f"{sum(c['clean'] for c in counts.values()):>8}{len(unclean):>9}   ({seconds:.1f} s)")
    if args.out and unclean:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        for i, (target, data, error) in enumerate(unclean):
            (out / f"{i:04d}-{target}.bin").write_bytes(data)
            (out / f"{i:04d}-{target}.txt").write_text(str(error) + "\n")
    return 1 if unclean else 0


if __name__ == "__main__":
    sys.exit(main())
