"""save_model / load_model: bit-exact round trips, and the saved weights load into PyTorch."""

import json

import numpy as np
import pytest

from chainrule import nn
from chainrule.saving import load_model, load_weights, save_model, save_weights

pytest.importorskip("safetensors")


def trained_model(dtype):
    """A model with every kind of state: Dense, BatchNorm (moved running statistics), Residual, Dropout."""
    model = nn.Sequential(nn.Dense(3, 6), nn.BatchNorm(6), nn.ReLU(), nn.Dropout(0.2),
                          nn.Residual(nn.Dense(6, 6), nn.Tanh()), nn.Dense(6, 4), nn.LeakyReLU(0.1),
                          nn.BatchNorm(4, momentum=0.3), nn.Dense(4, 2))
    params = model.init(seed=1, dtype=dtype)
    rng = np.random.default_rng(2)
    for k in params:
        params[k] = params[k] + (0.1 * rng.standard_normal(params[k].shape)).astype(dtype)
    for _ in range(3):
        _, model.buffers = model.apply(params, (2 * rng.standard_normal((8, 3)) + 1).astype(dtype), training=True,
                                       rng=np.random.default_rng(3), return_state=True)
    return model


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_round_trip_is_bit_exact(tmp_path, dtype):
    model = trained_model(dtype)
    save_model(model, tmp_path / "m", extra={"note": "hello"})
    loaded = load_model(tmp_path / "m")
    assert loaded.config() == model.config()
    assert loaded.dtype == dtype
    assert list(loaded.state_dict()) == list(model.state_dict())
    for k, v in model.state_dict().items():
        w = loaded.state_dict()[k]
        assert w.dtype == v.dtype and w.shape == v.shape, k
        assert w.tobytes() == v.tobytes(), k  # bit for bit (NaN payloads and -0.0 included)
        assert w.flags.writeable and w.flags.c_contiguous
    assert model.buffers["1.num_batches_tracked"].dtype == np.int64
    assert int(loaded.buffers["1.num_batches_tracked"]) == 3
    x = np.random.default_rng(4).standard_normal((5, 3)).astype(dtype)
    assert loaded(x).tobytes() == model(x).tobytes()
    assert json.loads((tmp_path / "m" / "model.json").read_text())["note"] == "hello"
    # Loaded parameters are independent copies: training the loaded model leaves the saved file alone.
    loaded.params["0.weight"][:] = 0
    assert load_model(tmp_path / "m").params["0.weight"].tobytes() == model.params["0.weight"].tobytes()


def test_weights_round_trip_keeps_special_values(tmp_path):
    a = np.array([0.0, -0.0, 1e-310, np.finfo(np.float64).max, 1 / 3])
    b = np.arange(6, dtype=np.float32).reshape(2, 3).T  # not C-contiguous
    save_weights({"a": a, "b": b, "n": np.array(7, np.int64)}, tmp_path / "w.safetensors")
    back = load_weights(tmp_path / "w.safetensors")
    assert back["a"].tobytes() == a.tobytes()
    np.testing.assert_array_equal(back["b"], b)
    assert back["n"].shape == () and back["n"] == 7


def test_save_overwrites_atomically(tmp_path):
    model = trained_model(np.float64)
    save_model(model, tmp_path)
    model.params["0.bias"][:] = 5.0
    save_model(model, tmp_path)
    assert np.all(load_model(tmp_path).params["0.bias"] == 5.0)
    # no temp files left
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checksums.json", "model.json", "model.safetensors"]


def test_save_needs_parameters(tmp_path):
    with pytest.raises(ValueError, match="call model.init"):
        save_model(nn.MLP([2, 1]), tmp_path)


# -- PyTorch ---------------------------------------------------------------------------------------

def torch_model(torch, dtype):
    class Residual(torch.nn.Module):
        def __init__(self, fn):
            super().__init__()
            self.fn = fn

        def forward(self, a):
            return a + self.fn(a)

    S = torch.nn.Sequential
    return S(torch.nn.Linear(3, 6), torch.nn.BatchNorm1d(6), torch.nn.ReLU(), torch.nn.Dropout(0.2),
             Residual(S(torch.nn.Linear(6, 6), torch.nn.Tanh())), torch.nn.Linear(6, 4), torch.nn.LeakyReLU(0.1),
             torch.nn.BatchNorm1d(4, momentum=0.3), torch.nn.Linear(4, 2)).to(dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_saved_weights_load_into_torch(tmp_path, dtype):
    torch = pytest.importorskip("torch")
    from safetensors.torch import load_file

    model = trained_model(dtype)
    save_model(model, tmp_path)
    state = load_file(str(tmp_path / "model.safetensors"))
    tmodel = torch_model(torch, getattr(torch, np.dtype(dtype).name))
    tmodel.load_state_dict(state, strict=True)
    tmodel.eval()
    x = np.random.default_rng(5).standard_normal((7, 3)).astype(dtype)
    ours = model(x)
    with torch.no_grad():
        theirs = tmodel(torch.from_numpy(x)).numpy()
    assert theirs.dtype == ours.dtype
    if dtype == np.float64:
        # Same float64 formulas, different kernels: a few ulps per operation over 4 layers of width ≤ 6.
        tol = 1e-12
    else:
        # float32: each layer's dot products of ≤ 6 terms and BatchNorm's division round to
        # ~6·2⁻²⁴ ≈ 4e-7 relative, and the 6 weight layers can add up (and amplify by the weights'
        # ~1 norms) such errors; 1e-5 relative is a ~10× margin over that, 100× below a real mismatch.
        tol = 1e-5
    scale = max(1.0, float(np.abs(theirs).max()))
    assert np.abs(ours - theirs).max() <= tol * scale
    # And the other way: torch's state dict, saved by safetensors, loads into chainrule bit for bit.
    for k, v in tmodel.state_dict().items():
        assert v.numpy().tobytes() == model.state_dict()[k].tobytes(), k


def test_torch_state_dict_loads_into_chainrule(tmp_path):
    torch = pytest.importorskip("torch")
    from safetensors.torch import save_file

    torch.manual_seed(0)
    tmodel = torch_model(torch, torch.float64)
    tmodel.train()
    for _ in range(2):
        tmodel(torch.randn(8, 3, dtype=torch.float64))
    model = trained_model(np.float64)
    save_model(model, tmp_path)
    save_file({k: v.contiguous() for k, v in tmodel.state_dict().items()}, str(tmp_path / "model.safetensors"))
    (tmp_path / "checksums.json").unlink()  # weights replaced on purpose: the folder is no longer sealed
    with pytest.warns(UserWarning, match="no checksums.json"):
        loaded = load_model(tmp_path)
    tmodel.eval()
    x = np.random.default_rng(6).standard_normal((5, 3))
    with torch.no_grad():
        theirs = tmodel(torch.from_numpy(x)).numpy()
    assert np.abs(loaded(x) - theirs).max() <= 1e-12 * max(1.0, np.abs(theirs).max())  # as above, float64
