"""Fuzzing the loaders in the suite (a bounded run; ``tests/fuzz/run_fuzz.py --n 10000`` is the
long one and ``tests/fuzz/atheris_fuzz.py`` the coverage-guided one).

Every input — truncated, bit-flipped, spliced, structurally altered or hand-crafted — must be
accepted or rejected with a one-line ChainruleError; any other exception fails the test.
"""

import random
import shutil
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parents[1] / "fuzz"))

from fuzz_targets import Unclean, Workspace, crafted, deep_json, fuzz, mutate_bytes  # noqa: E402

pytest.importorskip("safetensors")

TARGETS = ["weights", "model_json", "ckpt_state", "ckpt_state_resummed", "ckpt_tensors_resummed", "ckpt_checksums",
           "config", "csv", "model_checksums", "weights_resealed", "model_json_resealed", "run_preprocessing",
           "run_manifest"]
TALLY = {"tried": 0, "unclean": 0}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    # Hundreds of small writes: on a RAM disk when there is one (several times faster than /tmp here).
    if Path("/dev/shm").is_dir():
        root = Path(tempfile.mkdtemp(dir="/dev/shm", prefix="chainrule-fuzz-"))
        yield Workspace(root)
        shutil.rmtree(root, ignore_errors=True)
    else:
        yield Workspace(tmp_path_factory.mktemp("fuzz"))


def _run(workspace, target, data):
    TALLY["tried"] += 1
    try:
        return workspace.run(target, data)
    except Unclean:
        TALLY["unclean"] += 1
        raise


@settings(max_examples=240, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(target=st.sampled_from(TARGETS), seed=st.integers(0, 2**32 - 1), stack=st.integers(0, 2))
def test_mutated_files_fail_cleanly(workspace, target, seed, stack):
    rng = random.Random(seed)
    data = crafted(target, workspace.seeds[target], rng)
    for _ in range(stack):
        data = mutate_bytes(data, rng)
    _run(workspace, target, data)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(target=st.sampled_from(TARGETS), data=st.binary(max_size=400))
def test_arbitrary_bytes_fail_cleanly(workspace, target, data):
    assert _run(workspace, target, data) in ("accepted", "clean")


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("text", [deep_json(100_000), deep_json(3000, "dict"), "\ud800", "[" * 50 + "1"],
                         ids=["nested-lists", "nested-objects", "lone-surrogate", "unclosed"])
def test_deeply_nested_and_invalid_text(workspace, target, text):
    data = text.encode("utf-8", "surrogatepass")
    if target == "config":
        data = b"x = " + data
    # A corrupted newest checkpoint (state or checksums) is skipped for the previous good one.
    expected = "accepted" if target in ("ckpt_state", "ckpt_checksums") else "clean"
    assert _run(workspace, target, data) == expected


def test_seed_files_are_accepted(workspace):
    # The fuzz starts from valid files: were they not accepted, every "clean" above would prove nothing.
    for target in TARGETS:
        assert _run(workspace, target, workspace.seeds[target]) == "accepted", target


def test_round_robin_run_and_tally(workspace):
    counts, unclean = fuzz(workspace, 160, seed=7)
    TALLY["tried"] += sum(c["tried"] for c in counts.values())
    TALLY["unclean"] += len(unclean)
    assert not unclean, unclean[0][2]
    # Both outcomes occur: the mutations are neither all harmless nor all fatal.
    assert sum(c["clean"] for c in counts.values()) > 50 and sum(c["accepted"] for c in counts.values()) > 10
    print(f"\nfuzz (in-suite): {TALLY['tried']} inputs tried, {TALLY['unclean']} unclean")
