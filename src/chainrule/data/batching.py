"""Mini-batches exactly as seed 003 extracts them.

1. Shuffle the full dataset;
2. split it into blocks of M elements and process them sequentially;
3. after the last block, return to 1. A full pass over the dataset is an epoch.

M = N is (full-)batch gradient descent, M = 1 is online SGD. The order of epoch e is a pure
function of (seed, e), so a run stopped anywhere resumes at (epoch, batch index) and sees
exactly the batches it would have seen.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterator

import numpy as np

from chainrule.constraints import NON_NEGATIVE_INT, validate
from chainrule.errors import DataError

# Mixed into the seed so the data order is a different random stream from anything else
# (weight init, dropout) that a trainer seeds with the same integer.
DATA_ORDER_STREAM = 0xDA7A


def _check_int(value, name: str, minimum: int, error=DataError) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise error(f"{name} must be an integer; got {type(value).__name__} {value!r}")
    if value < minimum:
        raise error(f"{name} must be an integer >= {minimum}; got {value}")
    return int(value)


# Epoch e's shuffle starts e·S draws (mod 2^128) into the seed's data-order stream, S the golden-
# ratio fraction of PCG64's period 2^128 (the jump of numpy's PCG64.jumped): the epochs' starts
# are spread evenly around the period (a Weyl sequence), so epochs never share draws (a shuffle
# of n uses about n) and share no low-bit structure, as a power-of-two stride would. Reaching an
# epoch is one cheap jump (advance), not a new seeding (~3× the cost of the shuffle, which adds
# up for a 64-model ensemble).
EPOCH_STRIDE = 0x9E3779B97F4A7C15F39CC0605CEDC835
_PERIOD = 1 << 128
_ORDER_LOCK = threading.Lock()


def data_order_stream(seed: int) -> np.random.PCG64:
    """The bit generator of ``seed``'s data order, at its start: PCG64 seeded with
    ``SeedSequence([DATA_ORDER_STREAM, seed])``."""
    return np.random.PCG64(np.random.SeedSequence([DATA_ORDER_STREAM, seed]))


def epoch_permutation(n: int, seed: int, epoch: int) -> np.ndarray:
    """The shuffled order of epoch ``epoch``: int64 (n,), a permutation of 0..n-1.

    ``Generator(data_order_stream(seed)).permutation(n)`` after advancing the stream by
    ``epoch × EPOCH_STRIDE mod 2^128`` draws: a pure function of (seed, epoch).
    """
    stream = data_order_stream(seed)
    stream.advance(epoch * EPOCH_STRIDE % _PERIOD)
    return np.random.Generator(stream).permutation(n)


class Batcher:
    """Index batches for ``n`` samples in blocks of ``batch_size``.

    ``batches(epoch, start)`` yields int64 index arrays, blocks of ``batch_size`` except
    possibly a smaller last one (dropped when ``drop_last``). With ``shuffle=False`` every
    epoch goes through 0..n-1 in order. A ``batch_size`` above ``n`` is clamped to ``n`` with a
    warning, as scikit-learn does.

    The batcher remembers the position of the last batch it handed out (``epoch``,
    ``batch_index`` = index of the next batch); ``state_dict()`` records it and
    ``load_state_dict()`` restores it, so a checkpoint holds the data order and position.
    """

    # n and batch_size are checked as data (DataError, with the empty-data message); the rest here.
    _parameter_constraints = {"shuffle": ["boolean"], "seed": [NON_NEGATIVE_INT], "drop_last": ["boolean"]}

    def __init__(self, n: int, batch_size: int, shuffle: bool = True, seed: int = 0, drop_last: bool = False):
        validate("Batcher", self._parameter_constraints, {"shuffle": shuffle, "seed": seed, "drop_last": drop_last})
        if not isinstance(n, bool) and isinstance(n, int | np.integer) and n == 0:
            raise DataError("no samples: cannot make mini-batches of empty data (n = 0)")
        self.n = _check_int(n, "number of samples n", minimum=1)
        batch_size = _check_int(batch_size, "batch_size", minimum=1)
        if batch_size > self.n:
            warnings.warn(f"batch_size={batch_size} is larger than the number of samples ({self.n}); "
                          f"using batch_size={self.n} (full-batch gradient descent)", UserWarning, stacklevel=2)
            batch_size = self.n
        self.batch_size = batch_size
        self.shuffle = bool(shuffle)
        self.seed = _check_int(seed, "seed", minimum=0)
        self.drop_last = bool(drop_last)
        self.epoch = 0
        self.batch_index = 0
        self._stream = self._start = self._generator = self._stream_seed = None

    @property
    def n_batches(self) -> int:
        """Batches per epoch: ceil(n / M), or floor(n / M) with ``drop_last``."""
        if self.drop_last:
            return self.n // self.batch_size
        return -(-self.n // self.batch_size)

    def __len__(self) -> int:
        return self.n_batches

    def order(self, epoch: int) -> np.ndarray:
        """The sample order of ``epoch``: int64 (n,)."""
        epoch = _check_int(epoch, "epoch", minimum=0)
        if not self.shuffle:
            return np.arange(self.n, dtype=np.int64)
        with _ORDER_LOCK:  # one stream per batcher, rewound for each call: one call at a time
            if self._stream is None or self._stream_seed != self.seed:  # epoch_permutation, seeded once
                self._stream, self._stream_seed = data_order_stream(self.seed), self.seed
                self._start = self._stream.state
                self._generator = np.random.Generator(self._stream)
            self._stream.state = self._start
            self._stream.advance(epoch * EPOCH_STRIDE % _PERIOD)
            return self._generator.permutation(self.n)

    def batches(self, epoch: int, start: int = 0) -> Iterator[np.ndarray]:
        """Yield the index arrays of batches ``start, start+1, …`` of ``epoch``.

        Before each batch is yielded the position advances past it, so a checkpoint taken after
        processing a batch resumes with the next one.
        """
        order = self.order(epoch)
        start = _check_int(start, "start batch index", minimum=0)
        if start > self.n_batches:
            raise DataError(f"start batch index must be in [0, {self.n_batches}] for {self.n_batches} batches "
                            f"per epoch; got {start}")
        self.epoch, self.batch_index = epoch, start
        size = self.batch_size
        for index in range(start, self.n_batches):
            self.epoch, self.batch_index = epoch, index + 1
            yield order[index * size:(index + 1) * size]

    @property
    def position(self) -> tuple[int, int]:
        """(epoch, batch index) at which to continue; a finished epoch continues at (epoch + 1, 0)."""
        if self.batch_index >= self.n_batches:
            return self.epoch + 1, 0
        return self.epoch, self.batch_index

    def state_dict(self) -> dict:
        """Configuration and position as plain ints and bools (JSON-ready)."""
        return {
            "n": self.n, "batch_size": self.batch_size, "shuffle": self.shuffle, "seed": self.seed,
            "drop_last": self.drop_last, "epoch": self.epoch, "batch_index": self.batch_index,
        }

    def load_state_dict(self, state: dict) -> None:
        """Restore the position; the configuration in ``state`` must match this batcher's.

        A mismatch (different data size, batch size, seed, ...) would silently change the data
        order, so it is a ``DataError`` naming the key and both values.
        """
        for key in ("n", "batch_size", "shuffle", "seed", "drop_last"):
            if key not in state:
                raise DataError(f"batcher state is missing {key!r}; found keys {sorted(state)}")
            if state[key] != getattr(self, key):
                raise DataError(f"batcher state has {key}={state[key]!r} but this batcher has "
                                f"{key}={getattr(self, key)!r}; the data order would differ")
        self.epoch = _check_int(state.get("epoch"), "epoch in batcher state", minimum=0)
        self.batch_index = _check_int(state.get("batch_index"), "batch_index in batcher state", minimum=0)
        if self.batch_index > self.n_batches:
            raise DataError(f"batch_index in batcher state must be <= {self.n_batches}; got {self.batch_index}")

    @classmethod
    def from_state_dict(cls, state: dict) -> Batcher:
        """A batcher with the configuration and position recorded in ``state``."""
        try:
            batcher = cls(state["n"], state["batch_size"], shuffle=state["shuffle"], seed=state["seed"],
                          drop_last=state["drop_last"])
        except KeyError as exc:
            raise DataError(f"batcher state is missing {exc.args[0]!r}; found keys {sorted(state)}") from None
        batcher.load_state_dict(state)
        return batcher


def iterate_minibatches(X, y, batch_size: int, seed: int = 0, epoch: int = 0, shuffle: bool = True,
                        drop_last: bool = False):
    """Yield ``(X[idx], y[idx])`` for the batches of one epoch (y may be None).

    X: (n, ...) and y: (n, ...) indexed along the first axis, in ``Batcher`` order.
    """
    X = np.asarray(X)
    if X.ndim == 0:
        raise DataError("X must have a sample axis; got a scalar")
    if y is not None:
        y = np.asarray(y)
        if y.ndim == 0 or len(y) != len(X):
            found = "a scalar" if y.ndim == 0 else str(len(y))
            raise DataError(f"X and y must have the same number of samples: X has {len(X)}, y has {found}")
    batcher = Batcher(len(X), batch_size, shuffle=shuffle, seed=seed, drop_last=drop_last)
    for idx in batcher.batches(epoch):
        yield X[idx], (None if y is None else y[idx])
