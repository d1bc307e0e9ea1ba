"""The playground end to end in a real headless chromium: the page, training, the backward view, backprop
step by step against chainrule.grad, upload, export, rewind and branch, and the frame rate.

One server and one browser per module (conftest.py); each test opens its own tab, that is its own session.
"""

from __future__ import annotations

import time
import urllib.parse

import numpy as np
import pytest

# Cross-entropy of a chance-level two-class guess is ln 2 ≈ 0.693. Below 0.15 the network is right, with
# confidence, on nearly every test point: a loss only a learned boundary reaches, which noise-free XOR and
# circle reach within seconds at the playground's speed (thousands of steps per second).
TRAINED_LOSS = 0.15
TRAIN_TIMEOUT_MS = 30_000


def settings_of(page):
    return page.evaluate("window.playground.settings")


def query_of(page):
    return dict(urllib.parse.parse_qsl(urllib.parse.urlparse(page.url).query))


def wait_networks(page, before):
    """Wait for the server's answer to a settings change (a `network` message)."""
    page.wait_for_function(f"window.playground.networks > {before}", timeout=10_000)


def test_page_loads_without_console_errors(tab, screenshot):
    page = tab.open()
    assert page.title() == "chainrule playground"
    assert page.locator("[data-testid=error-bar]").is_hidden()
    # the data-driven controls were filled from the server's options
    datasets = page.locator("[data-testid=dataset] option").all_inner_texts()
    assert {"circle", "xor", "gaussian", "spiral"} <= set(datasets)
    assert page.locator("[data-testid^=feature-]").count() == 7
    assert page.locator("[data-testid=legend-class-0]").is_visible()
    assert page.locator("[data-testid=export-safetensors]").count() == 1
    screenshot(page, "loaded")
    assert tab.problems == []


def test_change_dataset_and_layers_and_the_url_keeps_them(tab):
    page = tab.open()
    before = tab.js("window.playground.networks")
    page.select_option("[data-testid=dataset]", "xor")
    wait_networks(page, before)
    assert settings_of(page)["dataset"] == "xor"
    assert query_of(page)["dataset"] == "xor"

    before = tab.js("window.playground.networks")
    page.click("[data-testid=add-layer]")
    wait_networks(page, before)
    assert page.inner_text("[data-testid=hidden-count]") == "3"
    assert len(tab.js("window.playground.sizes")) == 5  # inputs, three hidden layers, output

    before = tab.js("window.playground.networks")
    page.click("[data-testid=add-neuron-0]")
    wait_networks(page, before)
    assert tab.js("window.playground.sizes")[1] == 5

    before = tab.js("window.playground.networks")
    page.click("[data-testid=feature-x1x2]")
    wait_networks(page, before)
    assert tab.js("window.playground.sizes")[0] == 3
    assert page.get_attribute("[data-testid=feature-x1x2]", "aria-pressed") == "true"

    # the URL now reproduces these settings: a new tab on it gets the same ones
    shown = settings_of(page)
    tab.open(urllib.parse.urlparse(page.url).query)
    assert settings_of(page) == shown
    assert query_of(page)["layers"] == ",".join(f"{layer['units']}:{layer['activation']}" for layer in shown["layers"])


@pytest.mark.parametrize("dataset", ["xor", "circle"])
def test_playing_lowers_the_shown_test_loss(tab, screenshot, dataset):
    page = tab.open(f"dataset={dataset}&noise=0&layers=8:tanh,4:tanh")
    start = float(page.get_attribute("[data-testid=test-loss]", "data-value"))
    page.click("[data-testid=play]")
    page.wait_for_function(
        f"Number(document.querySelector('[data-testid=test-loss]').dataset.value) < {TRAINED_LOSS}",
        timeout=TRAIN_TIMEOUT_MS)
    page.click("[data-testid=play]")  # pause
    shown = float(page.inner_text("[data-testid=test-loss]"))
    assert shown < TRAINED_LOSS < start
    assert int(page.inner_text("[data-testid=step-count]")) > 0
    screenshot(page, f"trained-{dataset}")


def test_frames_per_second_while_playing(tab):
    # The benchmark measures the real rate (bench/); here a loose floor: the server sends a frame every 50 ms
    # (≤ 20/s) and this machine's 2 cores are shared with the training loop and other tests, so 5 rendered
    # updates per second is what a page that renders every frame it receives clears with a wide margin, while
    # a page that stalls (a render error, a missed requestAnimationFrame) falls far below it.
    page = tab.open("layers=8:tanh,8:tanh,8:tanh,8:tanh,8:tanh,8:tanh&points=500")
    page.click("[data-testid=play]")
    time.sleep(0.5)
    first = tab.js("[window.playground.framesRendered, performance.now()]")
    time.sleep(3)
    last = tab.js("[window.playground.framesRendered, performance.now()]")
    steps_per_second = float(page.inner_text("[data-testid=steps-per-second]"))  # the page's own measure
    page.click("[data-testid=play]")
    fps = (last[0] - first[0]) / ((last[1] - first[1]) / 1000)
    render_ms = sorted(tab.js("window.playground.renderMs"))
    median = render_ms[len(render_ms) // 2]
    print(f"playground: {fps:.1f} rendered frames/s while playing a 6 x 8 network on 500 points; "
          f"a render takes {median:.1f} ms (median), {render_ms[-1]:.1f} ms (max); {steps_per_second:.0f} steps/s")
    assert fps >= 5
    assert steps_per_second > 0
    # responsive: drawing a frame takes a small part of the 50 ms between frames (median; the maximum can
    # include a garbage collection or the other tests' load on this machine's two cores)
    assert median < 25


def test_backward_view(tab, screenshot):
    page = tab.open("layers=6:sigmoid,6:sigmoid,6:sigmoid,6:sigmoid")
    page.check("[data-testid=backward-toggle]")
    # at step 0 there is no last batch yet: the view says so instead of drawing weights as gradients
    page.wait_for_function("document.querySelector('[data-testid=backward-note]').textContent.includes('Train a step')")
    page.click("[data-testid=play]")
    page.wait_for_function("window.playground.frame && window.playground.frame.arrays.gW0 "
                           "&& window.playground.frame.arrays.delta0 && window.playground.strip.length > 3",
                           timeout=10_000)
    page.click("[data-testid=play]")
    assert page.locator("[data-testid=grad-strip]").is_visible()
    assert page.inner_text("[data-testid=backward-note]") == ""
    frame = tab.js("(() => { const a = window.playground.frame.arrays;"
                   " return {g: Array.from(a.gW0.data), d: Array.from(a.delta0.data), shape: a.gW0.shape}; })()")
    assert frame["shape"] == [6, 2]
    assert all(v >= 0 for v in frame["g"]) and any(v > 0 for v in frame["g"])  # magnitudes, not all zero
    assert len(frame["d"]) == 6
    screenshot(page, "backward")
    page.uncheck("[data-testid=backward-toggle]")
    page.wait_for_function("window.playground.frame && !window.playground.frame.arrays.gW0", timeout=10_000)


# ---- backprop step by step, checked against chainrule.grad in Python -------------------------------------------

def numbers_in(page, testid):
    """The numbers of a table the backprop panel shows (rows of cells), as a float array."""
    rows = page.locator(f"[data-testid={testid}] tr")
    cells = [rows.nth(i).locator("td").all_inner_texts() for i in range(rows.count())]
    return np.array([[float(cell) for cell in row] for row in cells])


def download(page, fmt, path):
    """The session's export `fmt`, fetched through the page's own link (the same session), saved to path."""
    href = page.get_attribute(f"[data-testid=export-{fmt}]", "href")
    response = page.request.get(urllib.parse.urljoin(page.url, href))
    assert response.ok, (fmt, response.status, response.text()[:200])
    path.write_bytes(response.body())
    return path


def dense_weights(path):
    """[(W, b)] of the exported safetensors in layer order (names '0.weight', '2.weight', ...)."""
    from chainrule.saving import load_weights

    state = load_weights(str(path))
    prefixes = sorted({k.rsplit(".", 1)[0] for k in state}, key=lambda p: [int(t) for t in p.split(".") if t.isdigit()])
    return [(state[p + ".weight"], state[p + ".bias"]) for p in prefixes]


def test_backprop_step_by_step_matches_chainrule_grad(tab, tmp_path, screenshot):
    import chainrule as cr
    import chainrule.numpy as cnp

    page = tab.open("dataset=xor&layers=4:tanh,3:tanh&loss=cross_entropy")
    for _ in range(5):
        page.click("[data-testid=step]")
    page.wait_for_function("document.querySelector('[data-testid=step-count]').textContent === '5'")
    page.fill("[data-testid=bp-target]", "1")
    box = page.locator("[data-testid=surface]").bounding_box()
    page.click("[data-testid=surface]", position={"x": box["width"] * 0.7, "y": box["height"] * 0.35},
               modifiers=["Shift"])
    page.wait_for_function("window.playground.backprop")
    point = np.array(tab.js("window.playground.backprop.point"))

    # walk through every step with Next, keeping what each one shows
    shown = []
    while True:
        title = page.inner_text("[data-testid=bp-step-title]")
        step = {"title": title, "equation": page.inner_text("[data-testid=bp-equation]"),
                "highlight": tab.js("window.playground.views.network.highlight")}
        for testid in ("bp-a", "bp-delta", "bp-db", "bp-dW"):
            if page.locator(f"[data-testid={testid}]").count():
                step[testid] = numbers_in(page, testid)
        if title.startswith("BP3"):
            step["max_diff"] = float(page.inner_text("[data-testid=bp-max-diff]"))
        shown.append(step)
        if page.is_disabled("[data-testid=bp-next]"):
            break
        page.click("[data-testid=bp-next]")
    screenshot(page, "backprop")
    assert [s["title"].split(",")[0] for s in shown] == ["Forward"] * 4 + ["BP1", "BP3 and BP4", "BP2", "BP3 and BP4",
                                                                         "BP2", "BP3 and BP4"]
    assert "δᴸ = ∇ₐL ⊙ σ′(zᴸ)" in shown[4]["equation"]
    # the network highlights the column each step is about: inputs, hidden 1, 2, output, then back down
    assert [s["highlight"] for s in shown] == [0, 1, 2, 3, 3, 3, 2, 2, 1, 1]

    # the truth: the same weights (the safetensors export), a hand-written forward pass, chainrule.grad
    layers = dense_weights(download(page, "safetensors", tmp_path / "model.safetensors"))
    params = [{"W": W, "b": b} for W, b in layers]
    target = 1

    def forward(params, x):
        acts = [x]
        for k, p in enumerate(params):
            z = cnp.matmul(p["W"], acts[-1]) + p["b"]
            acts.append(z if k == len(params) - 1 else cnp.tanh(z))
        return acts

    def loss(params):
        logits = forward(params, point)[-1]
        return cnp.logsumexp(logits) - logits[target]  # softmax cross-entropy of one point

    truth = cr.grad(loss)(params)
    acts = forward(params, point)
    # 6 significant digits on the page: a relative rounding of at most 5e-6, so 1e-5 is the page's own precision
    for k, step in enumerate(shown[:4]):
        np.testing.assert_allclose(step["bp-a"][0], np.asarray(acts[k]), rtol=1e-5, atol=1e-12)
    gradient_steps = [s for s in shown if s["title"].startswith("BP3")]
    for step, k in zip(gradient_steps, [2, 1, 0]):  # from the output layer down
        np.testing.assert_allclose(step["bp-dW"], truth[k]["W"], rtol=1e-5, atol=1e-12)
        np.testing.assert_allclose(step["bp-db"][0], truth[k]["b"], rtol=1e-5, atol=1e-12)
        assert step["max_diff"] < 1e-9  # by hand vs the engine, both float64 on the server


# ---- your own data, export, rewind and branch, seeds, errors -----------------------------------------------------

def test_upload_a_csv(tab, tmp_path, screenshot):
    rng = np.random.default_rng(0)
    rows = [(*rng.normal([-2, 2], 0.5), 0) for _ in range(60)] + [(*rng.normal([2, -2], 0.5), 1) for _ in range(60)]
    path = tmp_path / "two-blobs.csv"
    path.write_text("x1,x2,label\n" + "".join(f"{a:.4f},{b:.4f},{c}\n" for a, b, c in rows))
    page = tab.open()
    page.set_input_files("[data-testid=upload]", str(path))
    page.wait_for_function("window.playground.settings.dataset === 'upload'", timeout=10_000)
    page.wait_for_function("window.playground.dataCounts.train + window.playground.dataCounts.test === 120")
    assert page.input_value("[data-testid=dataset]") == "upload"
    assert page.locator("[data-testid=error-bar]").is_hidden()
    screenshot(page, "upload")


def test_export_config_and_weights_reload_with_the_same_predictions(tab, tmp_path):
    import tomllib

    from chainrule.runs.build import build_model
    from chainrule.runs.schema import complete
    from chainrule.saving import load_weights

    page = tab.open("dataset=circle&layers=5:tanh,3:relu&features=x1,x2,x1sq")
    for _ in range(10):
        page.click("[data-testid=step]")
    page.wait_for_function("document.querySelector('[data-testid=step-count]').textContent === '10'")
    page.click("[data-testid=export-menu] summary")
    assert page.locator("[data-testid=export-config]").is_visible()
    config = tomllib.loads(download(page, "config", tmp_path / "playground.toml").read_text())
    assert config["model"]["hidden"] == [5, 3] and config["model"]["activation"] == ["tanh", "relu"]
    assert config["data"]["features"] == ["x1", "x2", "x1sq"]
    state = load_weights(str(download(page, "safetensors", tmp_path / "model.safetensors")))
    model = build_model(complete(config), 3, 2)
    model.params = {k: state[k] for k in model.param_names}

    # the page's surface: P(class 1) on the G×G grid, rows = x2 from the top
    surface = np.array(tab.js("Array.from(window.playground.frame.arrays.surface.data)"))
    G = int(np.sqrt(surface.size))
    extent = tab.js("window.playground.options.grid.extent")
    ticks = np.linspace(-extent, extent, G)
    x1, x2 = np.meshgrid(ticks, ticks[::-1])
    x1, x2 = x1.ravel(), x2.ravel()
    logits = np.asarray(model.apply(model.params, np.column_stack([x1, x2, x1 * x1])))
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p = p[:, 1] / p.sum(axis=1)
    # the frame carries float32: 6e-8 relative rounding on probabilities ≤ 1, so 1e-6 is float32's own precision
    np.testing.assert_allclose(surface, p, atol=1e-6)
    assert p.min() < 0.5 < p.max() or np.ptp(p) > 1e-3  # a surface with structure, not a constant

    for fmt in ("torch", "onnx", "python"):
        assert download(page, fmt, tmp_path / f"export.{fmt}").stat().st_size > 100


def test_rewind_and_branch(tab, screenshot):
    page = tab.open("dataset=xor&layers=4:tanh,2:tanh")
    page.click("[data-testid=play]")
    page.wait_for_function("Number(document.querySelector('[data-testid=step-count]').textContent) > 3000",
                           timeout=15_000)
    page.click("[data-testid=play]")
    page.wait_for_function("window.playground.timeline && window.playground.timeline.snapshots.length >= 3")
    now = int(page.inner_text("[data-testid=step-count]"))
    snapshots = tab.js("window.playground.timeline.snapshots")
    back = [s for s in snapshots if 0 < s["step"] < now][0]
    page.click(f"[data-testid=snapshot][data-snapshot='{back['id']}']")
    page.wait_for_function(
        f"document.querySelector('[data-testid=step-count]').textContent === '{back['step']}'", timeout=10_000)

    # a new learning rate, then train again: a second branch from that step
    page.fill("[data-testid=lr]", "0.3")
    page.dispatch_event("[data-testid=lr]", "change")
    page.wait_for_function("window.playground.settings.optimizer.learning_rate === 0.3")
    for _ in range(3):
        page.click("[data-testid=step]")
    page.wait_for_function("window.playground.timeline.branches.length >= 2", timeout=10_000)
    branches = tab.js("window.playground.timeline.branches")
    assert branches[-1]["from_step"] == back["step"]
    assert page.locator("#branch-legend .legend-item").count() == len(branches)
    assert page.locator(".timeline-row").count() == len(branches)
    screenshot(page, "branches")


def test_seeds_side_by_side(tab, screenshot):
    page = tab.open("dataset=circle&seeds=4")
    page.wait_for_function("document.querySelectorAll('[data-testid=seed-surface]').length === 4", timeout=10_000)
    assert page.locator("[data-testid=seeds-panel]").is_visible()
    page.click("[data-testid=play]")
    page.wait_for_function("window.playground.framesReceived > 10", timeout=10_000)
    page.click("[data-testid=play]")
    losses = tab.js("Array.from(window.playground.frame.arrays.seed_losses.data)")
    assert len(losses) == 8 and all(np.isfinite(losses))
    screenshot(page, "seeds")


def test_a_refused_setting_is_shown_and_the_page_keeps_working(tab):
    page = tab.open()
    page.fill("[data-testid=lr]", "50")  # the protocol's range is (0, 10]
    page.dispatch_event("[data-testid=lr]", "change")
    page.wait_for_selector("[data-testid=error-bar]", state="visible", timeout=10_000)
    assert "learning_rate" in page.inner_text("[data-testid=error-text]")
    page.wait_for_function("window.playground.settings.optimizer.learning_rate !== 50")
    assert "learning_rate=50" not in urllib.parse.urlparse(page.url).query
    page.click("[data-testid=error-dismiss]")
    assert len(tab.js("window.playground.errors")) == 1  # refused once: the field shows the kept value again
    assert page.locator("[data-testid=error-bar]").is_hidden()
    page.click("[data-testid=step]")
    page.wait_for_function("document.querySelector('[data-testid=step-count]').textContent === '1'")
