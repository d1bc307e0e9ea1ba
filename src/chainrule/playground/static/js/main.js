// The playground page: connects to the server, keeps the settings (mirrored in the URL), and draws the frames
// it receives, coalesced to one render per animation frame.
import { BackpropPanel } from "./backprop.js";
import { drawLines, drawStrip } from "./charts.js";
import { Controls } from "./controls.js";
import { wireEditing } from "./editing.js";
import { errorBar } from "./errors.js";
import { buildExports } from "./exports.js";
import { buildFeatures, showFeatures } from "./features.js";
import { buildLayerHeads, showWarnings } from "./layers.js";
import { NetworkView } from "./network.js";
import { Connection } from "./protocol.js";
import { SeedsView } from "./seeds.js";
import { SurfaceView } from "./surface.js";
import { TimelineView } from "./timeline.js";
import { settingsFromQuery, writeUrl } from "./urlstate.js";

const $ = (id) => document.getElementById(id);
const HISTORY = 1500; // loss-curve points kept; older ones are thinned by half when it fills
const STRIP = 200; // gradient-norm strip columns

const showError = errorBar($("error-bar"), $("error-text"), $("error-dismiss"));
window.addEventListener("error", (e) => showError(`page error: ${e.message}`));
window.addEventListener("unhandledrejection", (e) => showError(`page error: ${e.reason}`));

// The state the tests read (window.playground): counts of frames received and rendered, the settings.
const app = {
  session: null, options: null, settings: null, sizes: [], playing: false, backward: false,
  frame: null, pending: null, framesReceived: 0, framesRendered: 0, pickMode: false,
  history: { steps: [], train: [], test: [] }, strip: [], warnings: [], networks: 0, errors: [], ready: false, renderMs: [],
};
window.playground = app;
app.views = {};

const surface = new SurfaceView($("surface"), $("legend"));
app.views.surface = surface;
const network = new NetworkView($("net"), $("neuron-zoom"));
app.views.network = network;
const backprop = new BackpropPanel({ body: $("bp-body"), prev: $("bp-prev"), next: $("bp-next"), position: $("bp-position"),
  onStep: (column) => { network.highlight = column; schedule(); } });
const seeds = new SeedsView({ panel: $("seeds-panel"), grid: $("seed-grid"), band: $("seed-band") });
const protocol = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
const conn = new Connection(protocol);
const timeline = new TimelineView({ track: $("timeline"), curves: $("branch-curves"), legend: $("branch-legend"),
  onRewind: (s) => conn.send({ type: "rewind", snapshot: s.id }) });
let controls = null;

function change(patch) {
  app.settings = { ...app.settings, ...patch };
  writeUrl(app.settings);
  conn.send({ type: "settings", settings: app.settings });
}

conn.on("hello", (message) => {
  app.session = message.session;
  app.options = message.options;
  const o = message.options;
  controls = new Controls(o, change);
  buildFeatures($("features"), o.features, o.grid.extent, (name) => {
    const active = app.settings.features;
    change({ features: active.includes(name) ? active.filter((f) => f !== name) : [...active, name] });
  });
  buildExports($("export-links"), app.session, showError);
  app.settings = settingsFromQuery(location.search, o.defaults, o.optimizers);
  showSettings(app.settings);
  app.firstSettings = conn.send({ type: "settings", settings: app.settings });
});

function classesOf(sizes, problem) {
  const out = sizes[sizes.length - 1];
  return problem === "regression" ? 1 : Math.max(2, out);
}

function showSettings(settings, force = false) {
  controls.show(settings, force);
  showFeatures($("features"), settings.features);
  $("hidden-count").textContent = String(settings.layers.length);
  $("add-layer").disabled = settings.layers.length >= app.options.limits.max_hidden_layers;
  $("remove-layer").disabled = settings.layers.length === 0;
  buildLayerHeads($("layer-heads"), settings, app.options.activations, app.options.limits, (layers) => change({ layers }));
  showWarnings($("layer-warnings"), $("warning-list"), settings, app.warnings);
  const mode = $("click-mode");
  const keep = mode.value;
  const choices = [["", "nothing"]];
  if (settings.problem === "regression") choices.push(["value", "a point with the value below"]);
  else for (let c = 0; c < classesOf(app.sizes.length ? app.sizes : [0, 1], settings.problem); c++) choices.push([String(c), `a point of class ${c}`]);
  mode.replaceChildren(...choices.map(([v, t]) => new Option(t, v)));
  if ([...mode.options].some((o) => o.value === keep)) mode.value = keep;
  document.querySelector(".value-label").hidden = mode.value !== "value";
}

conn.on("network", (message) => {
  app.networks++;
  if (message.id !== undefined && message.id === app.firstSettings) app.ready = true; // the URL's settings are live
  app.sizes = message.sizes;
  app.settings = message.settings;
  app.confirmed = message.settings;
  writeUrl(app.settings);
  if (message.reset) {
    network.highlight = null;
    app.history = { steps: [], train: [], test: [] };
    app.strip = [];
    seeds.reset();
  }
  surface.configure({ extent: app.options.grid.extent, problem: app.settings.problem, classes: classesOf(message.sizes, app.settings.problem) });
  network.setSizes(message.sizes, message.features || app.settings.features);
  showSettings(app.settings);
  schedule();
});

conn.on("binary", (frame) => {
  if (frame.header.kind === "data") {
    surface.setData(frame.arrays.train, frame.arrays.test);
    app.dataCounts = { train: frame.arrays.train?.shape[0] ?? 0, test: frame.arrays.test?.shape[0] ?? 0 };
    schedule();
    return;
  }
  app.framesReceived++;
  measureRate(frame.header.step);
  const h = app.history;
  const { step, train_loss: train, test_loss: test } = frame.header;
  if (h.steps.length && step < h.steps[h.steps.length - 1]) app.history = { steps: [], train: [], test: [] };
  if (!app.history.steps.length || step !== app.history.steps[app.history.steps.length - 1]) {
    app.history.steps.push(step);
    app.history.train.push(train);
    app.history.test.push(test);
    if (app.history.steps.length > HISTORY) {
      for (const k of ["steps", "train", "test"]) app.history[k] = app.history[k].filter((_, i) => i % 2 === 0);
    }
  }
  const norms = frame.arrays.grad_norms;
  if (norms) {
    app.strip.push(Array.from(norms.data));
    if (app.strip.length > STRIP) app.strip.shift();
  }
  seeds.record(frame);
  app.pending = frame;
  schedule();
});

// steps per second while playing, from the frames' step counts over the last second or so
let rateFrom = null;
function measureRate(step) {
  const now = performance.now();
  if (!app.playing || rateFrom === null || step < rateFrom.step) {
    rateFrom = { step, time: now };
    if (!app.playing) app.stepsPerSecond = null;
    return;
  }
  if (now - rateFrom.time >= 1000) {
    app.stepsPerSecond = ((step - rateFrom.step) * 1000) / (now - rateFrom.time);
    rateFrom = { step, time: now };
  }
}

let scheduled = false;
function schedule() {
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(render);
}

function render() {
  const start = performance.now();
  scheduled = false;
  if (app.pending) {
    app.frame = app.pending;
    app.pending = null;
    app.framesRendered++;
  }
  draw();
  app.renderMs.push(performance.now() - start);
  if (app.renderMs.length > 200) app.renderMs.shift();
}

function draw() {
  const frame = app.frame;
  surface.draw(frame && frame.arrays.surface, { discretize: $("discretize").checked, showTest: $("show-test").checked });
  network.draw(frame, app.backward);
  if (!frame) return;
  const { step, epoch, train_loss: train, test_loss: test } = frame.header;
  $("step-count").textContent = String(step);
  $("epoch").textContent = String(epoch);
  $("steps-per-second").textContent = app.stepsPerSecond == null ? "–" : String(Math.round(app.stepsPerSecond));
  for (const [id, v] of [["train-loss", train], ["test-loss", test]]) {
    $(id).textContent = Number.isFinite(v) ? v.toFixed(3) : "–";
    $(id).dataset.value = String(v);
  }
  const h = app.history;
  seeds.draw(frame, (v) => surface.seedColor(v));
  drawLines($("loss-curve"), [{ xs: h.steps, ys: h.train, color: "#888", width: 1.5 },
    { xs: h.steps, ys: h.test, color: "#222", width: 2 }], null, "test (dark) and training (grey) loss · ");
  if (app.backward) {
    const a = frame.arrays;
    $("backward-note").textContent = !a.gW0 ? "Train a step to see the gradients (the view shows the last step's batch)."
      : !a.delta0 ? "‖δ‖ per neuron is shown for plain networks only (no batch norm, dropout or residual): "
        + "the edges show |∂L/∂W|." : "";
  }
  if (app.backward && app.strip.length) {
    const layers = app.strip[app.strip.length - 1].length;
    const rows = Array.from({ length: layers }, (_, l) => app.strip.map((col) => col[l] ?? 0));
    drawStrip($("grad-strip"), rows);
  }
}

conn.on("warnings", (message) => {
  app.warnings = message.layers;
  if (app.settings) showWarnings($("layer-warnings"), $("warning-list"), app.settings, app.warnings);
});
conn.on("backprop", (message) => {
  app.backprop = message;
  backprop.show(message);
});
conn.on("timeline", (message) => {
  app.timeline = message;
  timeline.show(message);
});
conn.on("error", (message) => {
  app.errors.push(message);
  if (message.request === "play") showPlaying(false); // the server stopped training (diverged, say)
  if (message.id !== undefined && message.id === app.firstSettings) app.ready = true; // refused: the defaults stay
  if (message.request === "settings" && app.confirmed) {
    // the server kept its settings: show those again (and in the URL) rather than the refused ones
    app.settings = app.confirmed;
    writeUrl(app.settings);
    showSettings(app.settings, true);
  }
});
conn.on("error", (message) => showError(message.request ? `${message.request}: ${message.message}` : message.message));
conn.on("close", () => {
  showPlaying(false);
  showError("the connection to the server closed; reload the page to start a new session");
});

// --- controls that are messages rather than settings ---
function showPlaying(playing) {
  app.playing = playing;
  $("play").textContent = playing ? "❚❚ Pause" : "▶ Play";
  $("play").setAttribute("aria-pressed", String(playing));
}
function setPlaying(playing) {
  showPlaying(playing);
  conn.send({ type: playing ? "play" : "pause" });
}
$("play").addEventListener("click", () => setPlaying(!app.playing));
$("step").addEventListener("click", () => conn.send({ type: "step", n: 1 }));
$("reset").addEventListener("click", () => conn.send({ type: "reset" }));
$("regenerate").addEventListener("click", () => conn.send({ type: "regenerate" }));
$("add-layer").addEventListener("click", () => {
  const layers = app.settings.layers;
  const last = layers[layers.length - 1] || { units: 4, activation: app.options.defaults.layers[0]?.activation || "tanh" };
  change({ layers: [...layers, { ...last }] });
});
$("remove-layer").addEventListener("click", () => change({ layers: app.settings.layers.slice(0, -1) }));
$("backward").addEventListener("change", () => {
  app.backward = $("backward").checked;
  $("backward-panel").hidden = !app.backward;
  conn.send({ type: "view", backward: app.backward });
  schedule();
});
for (const id of ["discretize", "show-test"]) $(id).addEventListener("change", schedule);
$("click-mode").addEventListener("change", () => {
  document.querySelector(".value-label").hidden = $("click-mode").value !== "value";
});

wireEditing({ app, conn, surface, network, schedule, showError });
