"""Bad arguments to saving, training and data loading (issue 12, item 11): one line naming the argument."""

import numpy as np
import pytest
from api_cases import assert_refused

from chainrule import Trainer, nn
from chainrule.data import load_csv
from chainrule.data.batching import Batcher
from chainrule.saving import load_weights, save_model, save_weights
from chainrule.train.ensemble import Ensemble

X = np.random.default_rng(0).standard_normal((40, 2))
Y = (X[:, 0] > 0).astype(np.int64)


@pytest.fixture
def weights(tmp_path):
    path = tmp_path / "w.safetensors"
    save_weights({"w": np.ones(2)}, path)
    return path


@pytest.fixture
def csv(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("a,b,y\n1,2,0\n3,4,1\n")
    return path


def model():
    m = nn.MLP([2, 4, 2])
    m.init(0)
    return m


def trainer(**options):
    return Trainer(model(), verbose=0, **options)


def test_save_weights_names_a_tensor_it_cannot_hold(tmp_path):
    for value, dtype in [(np.array(["a", "b"]), "<U1"), (np.array([object()]), "object"),
                         (np.ones(2) + 1j, "complex128"), (np.array([1, 2], "m8[s]"), "timedelta64[s]"),
                         (np.array(["2020-01-01"], "M8[D]"), "datetime64[D]")]:
        assert_refused(lambda v=value: save_weights({"layer.w": v}, tmp_path / "x.safetensors"), TypeError,
                       "save_weights(tensors)", "'layer.w'", f"dtype {dtype}")
    assert not (tmp_path / "x.safetensors").exists()


@pytest.mark.parametrize(("call", "builtin", "words"), [
    (lambda p: save_weights(None, p), TypeError, ("save_weights(tensors)",)),
    (lambda p: save_weights({1: np.ones(2)}, p), TypeError, ("save_weights(tensors)", "1")),
    (lambda p: save_weights({"w": np.ones(2)}, 5), TypeError, ("save_weights(path)",)),
    (lambda p: save_weights({"w": np.ones(2)}, p, metadata="x"), TypeError, ("save_weights(metadata)",)),
    (lambda p: load_weights(p, expected="a"), TypeError, ("load_weights(expected)", "'a'")),
    (lambda p: load_weights(p, expected={"w": 3}), ValueError, ("load_weights(expected)", "'w'")),
    (lambda p: load_weights(p, expected={"w": ((2,), "no-such-dtype")}), ValueError, ("load_weights(expected)",)),
    (lambda p: load_weights(None), TypeError, ("load_weights(path)",)),
    (lambda p: save_model(None, p.parent / "m"), TypeError, ("save_model(model)", "NoneType")),
    (lambda p: save_model({"w": np.ones(2)}, p.parent / "m"), TypeError, ("save_model(model)", "dict")),
], ids=["tensors-None", "name-int", "path-int", "metadata-str", "expected-str", "expected-entry", "expected-dtype",
        "load-path-None", "save_model-None", "save_model-dict"])
def test_saving_arguments(weights, call, builtin, words):
    assert_refused(lambda: call(weights), builtin, *words)


TRAINER_CASES = [
    ("seed-negative", lambda: trainer(seed=-1), ValueError, "Trainer(seed=...)"),
    ("seed-bool", lambda: trainer(seed=True), TypeError, "Trainer(seed=...)"),
    ("callbacks-str", lambda: trainer(callbacks="early"), TypeError, "Trainer(callbacks=...)"),
    ("loss-int", lambda: trainer(loss=5), TypeError, "Trainer(loss=...)"),
    ("loss-name", lambda: trainer(loss="mse2"), ValueError, "unknown loss 'mse2'"),
    ("optimizer-name", lambda: trainer(optimizer="adma"), ValueError, "unknown optimizer 'adma'"),
    ("optimizer-options-list", lambda: trainer(optimizer_options=[1]), TypeError, "Trainer(optimizer_options=...)"),
    ("learning-rate-nan", lambda: trainer(learning_rate=float("nan")), ValueError, "(learning_rate=...)"),
    ("centered-no", lambda: trainer(optimizer="rmsprop", optimizer_options={"centered": "no"}), TypeError,
     "RMSProp(centered=...)"),
    ("compiled-str", lambda: trainer(compiled="no"), TypeError, "Trainer(compiled=...)"),
    ("rollback-factor-1", lambda: trainer(rollback_factor=1.0), ValueError, "Trainer(rollback_factor=...)"),
    ("on-divergence", lambda: trainer(on_divergence="ignore"), ValueError, "Trainer(on_divergence=...)"),
    ("fit-epochs-float", lambda: trainer().fit(X, Y, epochs=1.5), TypeError, "Trainer.fit(epochs)"),
    ("fit-shuffle-str", lambda: trainer().fit(X, Y, shuffle="no"), TypeError, "Trainer.fit(shuffle)"),
    ("fit-complex", lambda: trainer().fit(X + 1j, Y), ValueError, "X", "complex128"),
    ("fit-timedelta", lambda: trainer().fit(np.ones((40, 2), "m8[s]"), Y), ValueError, "X", "timedelta64"),
    ("fit-datetime", lambda: trainer().fit(np.ones((40, 2), "M8[s]"), Y), ValueError, "X", "datetime64"),
    ("fit-object", lambda: trainer().fit(X.astype(object), Y), ValueError, "X", "object"),
    ("predict-complex", lambda: trainer().predict(X + 1j), ValueError, "X", "complex128"),
    ("predict-timedelta", lambda: trainer().predict(np.ones((4, 2), "m8[s]")), ValueError, "X", "timedelta64"),
    ("predict-batch-size", lambda: trainer().predict(X, batch_size=0), ValueError, "Trainer.predict(batch_size)"),
    ("Batcher-shuffle", lambda: Batcher(10, 2, shuffle="no"), TypeError, "Batcher(shuffle=...)"),
    ("Batcher-seed", lambda: Batcher(10, 2, seed=-1), ValueError, "Batcher(seed=...)"),
    ("Batcher-drop-last", lambda: Batcher(10, 2, drop_last=1), TypeError, "Batcher(drop_last=...)"),
    ("Batcher-batch-size", lambda: Batcher(10, 2.5), ValueError, "batch_size"),
    ("Ensemble-seeds", lambda: Ensemble(lambda: nn.MLP([2, 2]), seeds=5), TypeError, "Ensemble(seeds=...)"),
    ("Ensemble-factory", lambda: Ensemble(nn.MLP([2, 2]), seeds=[0]), TypeError, "Ensemble(model_factory=...)"),
    ("Ensemble-callbacks", lambda: Ensemble(lambda: nn.MLP([2, 2]), [0], callbacks=print), TypeError,
     "Ensemble(callbacks=...)"),
]


@pytest.mark.parametrize(("name", "call", "builtin", "words"), [(c[0], c[1], c[2], c[3:]) for c in TRAINER_CASES],
                         ids=[c[0] for c in TRAINER_CASES])
def test_training_arguments(name, call, builtin, words):
    assert_refused(call, builtin, *words)


def test_callbacks_none_is_no_callbacks():
    t = trainer(callbacks=None)
    assert t.callbacks == []
    t.fit(X, Y, epochs=1)
    assert Ensemble(lambda: nn.MLP([2, 2]), [0, 1], verbose=0, callbacks=None).callbacks == []


@pytest.mark.parametrize(("kwargs", "builtin", "words"), [
    ({"label": 5}, TypeError, ("load_csv(label)", "5")),
    ({"label": ["y"]}, TypeError, ("load_csv(label)",)),
    ({"label": "y", "features": 3}, TypeError, ("load_csv(features)",)),
    ({"label": "y", "features": ["a", 1]}, TypeError, ("load_csv(features)",)),
    ({"label": "y", "task": "classify"}, ValueError, ("load_csv(task)", "'classify'")),
])
def test_load_csv_arguments(csv, kwargs, builtin, words):
    assert_refused(lambda: load_csv(csv, **kwargs), builtin, *words)


def test_load_csv_path_must_be_a_path():
    assert_refused(lambda: load_csv(None, label="y"), TypeError, "load_csv(path)")
