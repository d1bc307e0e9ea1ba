"""Mini-batching as seed 003 describes it: shuffle, split into blocks of M, an epoch is one pass."""

import json
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainrule.data import Batcher, epoch_permutation, iterate_minibatches
from chainrule.data.batching import DATA_ORDER_STREAM
from chainrule.errors import DataError


def epoch_batches(batcher, epoch, start=0):
    return [b.tolist() for b in batcher.batches(epoch, start)]


@pytest.mark.parametrize(("n", "batch_size"), [(10, 3), (10, 5), (7, 1), (7, 7), (100, 32), (1, 1)])
def test_every_index_once_per_epoch_in_blocks_of_m(n, batch_size):
    batcher = Batcher(n, batch_size, seed=4)
    for epoch in range(3):
        batches = list(batcher.batches(epoch))
        assert len(batches) == batcher.n_batches == -(-n // batch_size)
        assert [len(b) for b in batches[:-1]] == [batch_size] * (len(batches) - 1)
        assert len(batches[-1]) == n - batch_size * (len(batches) - 1)
        # Consecutive blocks of the epoch's shuffled order: step 2 of the seed's procedure.
        assert np.array_equal(np.concatenate(batches), batcher.order(epoch))
        assert sorted(np.concatenate(batches).tolist()) == list(range(n))
        assert all(b.dtype == np.int64 for b in batches)


def test_drop_last_drops_only_the_short_block():
    batcher = Batcher(10, 3, drop_last=True)
    batches = list(batcher.batches(0))
    assert batcher.n_batches == 3 and [len(b) for b in batches] == [3, 3, 3]
    assert len(set(np.concatenate(batches).tolist())) == 9
    assert Batcher(9, 3, drop_last=True).n_batches == 3


def test_full_batch_is_gradient_descent_and_batch_one_is_sgd():
    full = list(Batcher(8, 8, seed=1).batches(0))
    assert len(full) == 1 and sorted(full[0].tolist()) == list(range(8))
    online = list(Batcher(8, 1, seed=1).batches(0))
    assert len(online) == 8 and all(len(b) == 1 for b in online)


def test_each_epoch_reshuffles_and_order_depends_only_on_seed_and_epoch():
    a, b = Batcher(50, 10, seed=3), Batcher(50, 10, seed=3)
    assert epoch_batches(a, 0) != epoch_batches(a, 1)
    assert epoch_batches(a, 5) == epoch_batches(b, 5)  # b never saw epochs 0-4
    assert epoch_batches(a, 0) != epoch_batches(Batcher(50, 10, seed=4), 0)
    stream = np.random.PCG64(np.random.SeedSequence([DATA_ORDER_STREAM, 3]))
    stream.advance(2 * 0x9E3779B97F4A7C15F39CC0605CEDC835 % 2**128)  # epoch 2: 2 golden-ratio jumps in
    np.testing.assert_array_equal(a.order(2), np.random.Generator(stream).permutation(50))
    np.testing.assert_array_equal(a.order(2), epoch_permutation(50, 3, 2))
    np.testing.assert_array_equal(a.order(0), np.random.Generator(np.random.PCG64(
        np.random.SeedSequence([DATA_ORDER_STREAM, 3]))).permutation(50))
    assert not np.array_equal(a.order(1), a.order(2))
    np.testing.assert_array_equal(a.order(2), epoch_permutation(50, 3, 2))


def test_no_shuffle_goes_in_order():
    assert epoch_batches(Batcher(5, 2, shuffle=False), 3) == [[0, 1], [2, 3], [4]]


def test_batch_size_above_n_is_clamped_with_a_warning():
    with pytest.warns(UserWarning, match=r"batch_size=64 is larger than the number of samples \(10\); "
                                         r"using batch_size=10"):
        batcher = Batcher(10, 64)
    assert batcher.batch_size == 10 and batcher.n_batches == 1


@pytest.mark.parametrize(("n", "batch_size", "pattern"), [
    (10, 0, "batch_size must be an integer >= 1; got 0"),
    (10, -3, "batch_size must be an integer >= 1; got -3"),
    (10, 2.5, "batch_size must be an integer; got float 2.5"),
    (10, True, "batch_size must be an integer; got bool"),
    (0, 4, "no samples: cannot make mini-batches of empty data"),
])
def test_bad_sizes_are_data_errors(n, batch_size, pattern):
    with pytest.raises(DataError, match=pattern):
        Batcher(n, batch_size)


def test_start_beyond_the_epoch_is_an_error():
    batcher = Batcher(10, 3)
    assert list(batcher.batches(0, start=4)) == []  # a finished epoch is empty, not an error
    with pytest.raises(DataError, match=r"start batch index must be in \[0, 4\]"):
        list(batcher.batches(0, start=5))


@pytest.mark.parametrize("stop_after", [0, 1, 3, 4, 7, 11])
def test_resume_from_a_saved_state_gives_the_remaining_batches(stop_after):
    """Interrupt after `stop_after` batches, save, restore in a new batcher, and finish."""
    epochs = 3

    def run(batcher, first_epoch=0, first_batch=0):
        for epoch in range(first_epoch, epochs):
            yield from batcher.batches(epoch, start=first_batch if epoch == first_epoch else 0)

    uninterrupted = [b.tolist() for b in run(Batcher(10, 3, seed=9))]

    batcher = Batcher(10, 3, seed=9)
    seen = []
    if stop_after:
        for batch in run(batcher):
            seen.append(batch.tolist())  # "train" on the batch, then checkpoint and die
            if len(seen) == stop_after:
                break
    state = json.loads(json.dumps(batcher.state_dict()))  # a checkpoint survives JSON

    restored = Batcher.from_state_dict(state)
    seen += [b.tolist() for b in run(restored, *restored.position)]
    assert seen == uninterrupted


def test_position_after_a_finished_epoch_is_the_next_epoch():
    batcher = Batcher(10, 5)
    list(batcher.batches(2))
    assert batcher.state_dict()["epoch"] == 2 and batcher.state_dict()["batch_index"] == 2
    assert batcher.position == (3, 0)


def test_load_state_dict_refuses_a_different_configuration():
    state = Batcher(10, 3, seed=1).state_dict()
    with pytest.raises(DataError, match="batcher state has n=10 but this batcher has n=12"):
        Batcher(12, 3, seed=1).load_state_dict(state)
    with pytest.raises(DataError, match="batcher state has seed=1 but this batcher has seed=2"):
        Batcher(10, 3, seed=2).load_state_dict(state)
    del state["batch_size"]
    with pytest.raises(DataError, match="batcher state is missing 'batch_size'"):
        Batcher.from_state_dict(state)


@settings(max_examples=150, deadline=None)
@given(n=st.integers(1, 300), batch_size=st.integers(1, 400), drop_last=st.booleans(),
       seed=st.integers(0, 2**32 - 1), epoch=st.integers(0, 10**6))
def test_batches_partition_the_epoch(n, batch_size, drop_last, seed, epoch):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # batch_size > n is clamped; tested above
        batcher = Batcher(n, batch_size, seed=seed, drop_last=drop_last)
    m = min(batch_size, n)
    batches = list(batcher.batches(epoch))
    sizes = [len(b) for b in batches]
    if drop_last:
        assert sizes == [m] * (n // m)
    else:
        assert sizes == [m] * (n // m) + ([n % m] if n % m else [])
    flat = np.concatenate(batches)
    assert len(np.unique(flat)) == len(flat) and flat.min() >= 0 and flat.max() < n
    assert np.array_equal(flat, batcher.order(epoch)[:len(flat)])


def test_iterate_minibatches_keeps_rows_and_targets_together():
    X = np.arange(20.0).reshape(10, 2)
    y = np.arange(10) * 10
    pairs = list(iterate_minibatches(X, y, batch_size=4, seed=5, epoch=2))
    assert [len(xb) for xb, _ in pairs] == [4, 4, 2]
    for xb, yb in pairs:
        assert np.array_equal(xb[:, 0] / 2 * 10, yb)
    order = np.concatenate([yb for _, yb in pairs]) // 10
    assert np.array_equal(order, Batcher(10, 4, seed=5).order(2))
    with pytest.raises(DataError, match="X has 10, y has 9"):
        list(iterate_minibatches(X, y[:9], batch_size=4, seed=0, epoch=0))


def test_a_changed_seed_changes_the_order():
    b = Batcher(40, 8, seed=7)
    first = b.order(0)
    b.seed = 8
    np.testing.assert_array_equal(b.order(0), epoch_permutation(40, 8, 0))
    assert not np.array_equal(b.order(0), first)
