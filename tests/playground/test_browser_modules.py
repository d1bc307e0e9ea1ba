"""The page's pure modules run in the browser against the server's own code: the binary frames Python packs
(chainrule.playground.frames.pack) decoded by protocol.js, and the settings ↔ URL query string of urlstate.js."""

from __future__ import annotations

import base64

import numpy as np
import pytest


@pytest.fixture
def modules(tab):
    page = tab.open()
    return page


def decode_in_page(page, message):
    """protocol.js's decodeBinary of the bytes, back as {header, arrays: {name: {shape, data}}}."""
    return page.evaluate(
        """async (b64) => {
             const { decodeBinary } = await import("/static/js/protocol.js");
             const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
             const { header, arrays } = decodeBinary(bytes.buffer);
             const out = {};
             for (const [k, v] of Object.entries(arrays)) out[k] = { shape: v.shape, data: Array.from(v.data) };
             return { header, arrays: out };
           }""", base64.b64encode(message).decode())


def test_binary_frames_from_python_decode_in_the_page(modules):
    from chainrule.playground.frames import pack

    rng = np.random.default_rng(0)
    # header lengths with every remainder mod 8: the padding before the array block must be undone for each
    for pad in range(8):
        arrays = [("surface", rng.normal(size=(3, 4))), ("b0", rng.normal(size=(5,))), ("W1", rng.normal(size=(2, 3)))]
        message = pack("frame", arrays, step=7, note="x" * pad)
        decoded = decode_in_page(modules, message)
        assert decoded["header"]["step"] == 7
        for name, a in arrays:
            got = decoded["arrays"][name]
            assert got["shape"] == list(a.shape)
            # float32 on the wire: the page must see exactly the float32 values
            np.testing.assert_array_equal(np.array(got["data"], np.float32), a.astype(np.float32).ravel())


def test_settings_survive_the_query_string(modules):
    defaults = modules.evaluate("window.playground.options.defaults")
    optimizers = modules.evaluate("window.playground.options.optimizers")
    settings = {**defaults, "dataset": "spiral3", "noise": 17, "features": ["x1", "sinx2", "x1x2"],
                "layers": [{"units": 64, "activation": "relu"}, {"units": 3, "activation": "sigmoid"}],
                "optimizer": {"name": "adam", "learning_rate": 0.0025, "beta1": 0.8, "beta2": 0.99},
                "batchnorm": True, "residual": False, "seeds": 8}
    back = modules.evaluate(
        """async ([settings, defaults, optimizers]) => {
             const u = await import("/static/js/urlstate.js");
             return u.settingsFromQuery(u.settingsToQuery(settings), defaults, optimizers);
           }""", [settings, defaults, optimizers])
    assert back == settings
    # no hidden layers and no features are states too
    empty = {**defaults, "layers": [], "features": []}
    back = modules.evaluate(
        """async ([settings, defaults, optimizers]) => {
             const u = await import("/static/js/urlstate.js");
             return u.settingsFromQuery(u.settingsToQuery(settings), defaults, optimizers);
           }""", [empty, defaults, optimizers])
    assert back == empty
