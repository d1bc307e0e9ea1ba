"""The Standardize layer: y = (x − mean) / scale with buffers, through every path a layer takes
(eager forward, compiled training, saving, checkpoints, diagnostics, torch names)."""

import numpy as np
import pytest

from chainrule import nn
from chainrule.data import make_moons
from chainrule.diagnostics import TrainingRecorder
from chainrule.diagnostics.layers import dense_layers
from chainrule.errors import ConfigError, ShapeError
from chainrule.nn.fusion import fusion_plan
from chainrule.saving import load_model, save_model
from chainrule.train import Trainer

MEAN, SCALE = np.array([3.0, -40.0]), np.array([5.0, 0.25])


def raw_moons():
    X, y = make_moons(n=96, noise=0.2, seed=0)
    return X * (1 / SCALE) + MEAN, np.asarray(y)  # moons in units the network must undo


def model(dtype="float64", seed=0):
    m = nn.Sequential(nn.Standardize(MEAN, SCALE), *nn.MLP([2, 8, 2], activation="tanh").layers)
    m.init(seed, dtype)
    return m


def test_forward_is_x_minus_mean_over_scale_in_the_models_dtype():
    X, _ = raw_moons()
    for dtype in ("float32", "float64"):
        m = model(dtype)
        assert m.state_keys() == ["0.mean", "0.scale", "1.weight", "1.bias", "3.weight", "3.bias"]
        assert m.buffers["0.mean"].dtype == dtype and m.buffers["0.scale"].dtype == dtype
        assert m.param_keys() == ["1.weight", "1.bias", "3.weight", "3.bias"]  # no parameters of its own
        Xd = X.astype(dtype)
        z = (Xd - MEAN.astype(dtype)) / SCALE.astype(dtype)
        np.testing.assert_array_equal(m.layers[0].call({}, Xd, nn.Context(buffers={"mean": m.buffers["0.mean"],
                                                                                    "scale": m.buffers["0.scale"]})), z)
        rest = nn.Sequential(*m.layers[1:])
        np.testing.assert_array_equal(m(Xd), rest.apply({_shift(k): v for k, v in m.params.items()}, z))


def _shift(key):  # '1.weight' -> '0.weight': the same layers one place earlier
    i, rest = key.split(".", 1)
    return f"{int(i) - 1}.{rest}"


@pytest.mark.parametrize("mean, scale, error, pattern", [
    ([0.0, np.nan], [1.0, 1.0], ConfigError, r"Standardize: mean must be finite, found nan for feature 1 \(of 2\)"),
    ([0.0, 0.0], [1.0, 0.0], ConfigError, r"Standardize: scale must be finite and > 0, found 0.0 for feature 1"),
    ([0.0, 0.0], [-1.0, 1.0], ConfigError, r"scale must be finite and > 0, found -1.0 for feature 0"),
    ([0.0, 0.0], [1.0, np.inf], ConfigError, r"scale must be finite and > 0, found inf for feature 1"),
    ([0.0, 0.0], [1.0, 1.0, 1.0], ShapeError, r"same shape .* mean \(2,\) and scale \(3,\)"),
    ([[0.0, 0.0]], [[1.0, 1.0]], ShapeError, r"mean must be 1-D with one number per feature, found shape \(1, 2\)"),
    ([], [], ShapeError, r"mean must be 1-D .* found shape \(0,\)"),
    (["a", "b"], [1.0, 1.0], ConfigError, r"mean must be a sequence of numbers, found list"),
])
def test_bad_statistics_are_one_line_errors(mean, scale, error, pattern):
    with pytest.raises(error, match=pattern) as e:
        nn.Standardize(mean, scale)
    assert "\n" not in str(e.value)


def test_a_cast_that_overflows_is_refused_at_init():
    layer = nn.Standardize([1e39, 0.0], [1.0, 1e-50])
    nn.Sequential(layer, nn.Dense(2, 1)).init(0, "float64")  # fine in float64
    with pytest.raises(ConfigError, match=r"Standardize \(in float32\): mean must be finite, found inf for feature 0"):
        nn.Sequential(layer, nn.Dense(2, 1)).init(0, "float32")


def test_bad_buffers_given_at_call_time_are_refused():
    m = model()
    X, _ = raw_moons()
    with pytest.raises(ConfigError, match=r"scale must be finite and > 0, found 0.0 for feature 0"):
        m.apply(m.params, X, buffers={"0.mean": np.zeros(2), "0.scale": np.zeros(2)})
    with pytest.raises(ShapeError, match=r"buffers mean and scale must have shape \(2,\), found mean \(1,\)"):
        m.apply(m.params, X, buffers={"0.mean": np.zeros(1), "0.scale": np.ones(1)})
    with pytest.raises(ConfigError, match="Standardize: num_features must be a positive integer, found 0"):
        nn.layer_from_config({"type": "standardize", "num_features": 0})


def test_save_load_round_trip_is_bit_exact(tmp_path):
    X, _ = raw_moons()
    for dtype in ("float32", "float64"):
        m = model(dtype, seed=1)
        save_model(m, tmp_path / dtype)
        back = load_model(tmp_path / dtype)
        assert back.config() == m.config() and isinstance(back.layers[0], nn.Standardize)
        for k, v in {**m.params, **m.buffers}.items():
            got = {**back.params, **back.buffers}[k]
            assert got.dtype == v.dtype and np.array_equal(got, v), k
        np.testing.assert_array_equal(back(X), m(X))


def test_a_saved_scale_of_zero_is_refused_when_used(tmp_path):
    from chainrule.saving import load_weights, save_weights
    from chainrule.saving.checksums import write_checksums

    save_model(model(), tmp_path / "m")
    state = load_weights(tmp_path / "m" / "model.safetensors")
    save_weights({**state, "0.scale": np.array([1.0, 0.0])}, tmp_path / "m" / "model.safetensors")
    write_checksums(tmp_path / "m", ["model.json", "model.safetensors"])  # reseal: the layer's own check speaks
    with pytest.raises(ConfigError, match="scale must be finite and > 0, found 0.0 for feature 1"):
        load_model(tmp_path / "m")(raw_moons()[0])


def test_torch_names_and_numbers():
    torch = pytest.importorskip("torch")

    class TorchStandardize(torch.nn.Module):
        def __init__(self, d):
            super().__init__()
            self.register_buffer("mean", torch.zeros(d, dtype=torch.float64))
            self.register_buffer("scale", torch.ones(d, dtype=torch.float64))

        def forward(self, x):
            return (x - self.mean) / self.scale

    m = model()
    net = torch.nn.Sequential(TorchStandardize(2), torch.nn.Linear(2, 8), torch.nn.Tanh(),
                              torch.nn.Linear(8, 2)).double()
    net.load_state_dict({k: torch.from_numpy(v) for k, v in m.state_dict().items()}, strict=True)
    X, _ = raw_moons()
    # Same formulas in float64 with different matmul/tanh kernels: a few ulps per operation.
    np.testing.assert_allclose(m(X), net(torch.from_numpy(X)).detach().numpy(), rtol=1e-12, atol=1e-12)


def train(compiled, epochs=3, **options):
    X, y = raw_moons()
    trainer = Trainer(model(), loss="cross_entropy", optimizer="adam", learning_rate=0.05, batch_size=16, seed=3,
                      verbose=0, compiled=compiled, **options)
    trainer.fit(X, y, epochs=epochs)
    return trainer


def test_it_is_stageable_and_compiled_training_equals_eager_bit_for_bit():
    assert nn.Standardize(MEAN, SCALE).stageable and model().stageable
    fast, slow = train(True), train(False)
    assert fast.compiled and not slow.compiled
    for k in slow.model.params:
        np.testing.assert_array_equal(fast.model.params[k], slow.model.params[k])
    for trainer in (fast, slow):  # training never moves the statistics
        np.testing.assert_array_equal(trainer.model.buffers["0.mean"], MEAN)
        np.testing.assert_array_equal(trainer.model.buffers["0.scale"], SCALE)
    assert fast.history["accuracy"][-1] > 0.8  # it learned through the standardization


def test_checkpoint_restore_continues_bit_for_bit():
    X, y = raw_moons()
    full = train(True, epochs=4)
    half = train(True, epochs=2)
    arrays, state = half.state_dict()
    assert "buffer/0.mean" in arrays and "buffer/0.scale" in arrays
    other = nn.Sequential(nn.Standardize.of_width(2), *nn.MLP([2, 8, 2], activation="tanh").layers)
    other.init(7, "float64")  # other weights and the identity standardization: the checkpoint brings both back
    fresh = Trainer(other, loss="cross_entropy", optimizer="adam", learning_rate=0.05, batch_size=16,
                    seed=3, verbose=0)
    fresh.load_state_dict({k: np.array(v) for k, v in arrays.items()}, state)
    fresh.fit(X, y, epochs=2)
    for k in full.model.params:
        np.testing.assert_array_equal(fresh.model.params[k], full.model.params[k])


def test_diagnostics_skip_it_and_name_the_dense_layers():
    m = model()
    assert [step.activation for step in fusion_plan(m.layers)][0] is None  # a step of its own, not a Dense one
    assert [info.name for info in dense_layers(m)] == ["1.weight", "3.weight"]
    assert len(m.dense_layers()) == 2
    recorder = TrainingRecorder(every=2, probe=raw_moons())
    trainer = train(True, epochs=2, callbacks=[recorder])
    assert recorder.layers == ["1.weight", "3.weight"] and trainer.step == 12
    assert all(v is not None and np.isfinite(v) for v in recorder.series["grad_norm"]["1.weight"])


def test_gradient_checkpointing_runs_it_once_and_agrees():
    X, y = raw_moons()

    def deep():
        m = nn.Sequential(nn.Standardize(MEAN, SCALE), *nn.MLP([2] + [8] * 9 + [2], activation="tanh").layers)
        m.init(0, "float64")
        return m

    results = []
    for remat, compiled in [(True, True), (True, False), (False, False)]:
        t = Trainer(deep(), loss="cross_entropy", optimizer="sgd", learning_rate=0.05, batch_size=16, seed=3,
                    verbose=0, compiled=compiled, gradient_checkpointing=remat)
        t.fit(X, y, epochs=2)
        assert t.compiled == compiled
        results.append(t.model.params)
    for k in results[0]:
        np.testing.assert_array_equal(results[0][k], results[1][k])
        np.testing.assert_array_equal(results[0][k], results[2][k])
