// The network picture on one canvas: columns of neurons (each a small heat map of its value over the input
// plane), edges coloured by the weight's sign and as wide as its magnitude; in the backward view neurons are
// coloured by ‖δ‖ and edges by |∂L/∂W|. Hit testing for hover (enlarge a neuron) and click (edit a weight).
import { CLASS_COLORS, NEG, POS, diverging, gridToImage, gridToImageDiverging, magnitude, rgb } from "./colors.js";
import { FEATURES } from "./features.js";

const LEVELS = 6; // edges are drawn in LEVELS buckets per colour: a few paths instead of one stroke per edge
const MANY_EDGES = 2000;

function segmentDistance(px, py, x1, y1, x2, y2) {
  const dx = x2 - x1;
  const dy = y2 - y1;
  const t = Math.max(0, Math.min(1, ((px - x1) * dx + (py - y1) * dy) / (dx * dx + dy * dy || 1)));
  return Math.hypot(px - (x1 + t * dx), py - (y1 + t * dy));
}

/** log10 of positive values mapped to [0, 1] over the last `decades` decades below the maximum. */
function logScaler(values, decades = 4) {
  let hi = -Infinity;
  for (const v of values) if (v > 0) hi = Math.max(hi, Math.log10(v));
  if (!Number.isFinite(hi)) return () => 0;
  const lo = hi - decades;
  return (v) => (v > 0 ? Math.max(0, Math.min(1, (Math.log10(v) - lo) / decades)) : 0);
}

export class NetworkView {
  constructor(canvas, zoom) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.zoom = zoom;
    this.sizes = [];
    this.features = [];
    this.nodes = [];
    this.frame = null;
    this.backward = false;
    this.highlight = null; // a column to highlight (the backprop panel's current layer)
    this.atlas = document.createElement("canvas");
    this.onEdit = () => {};
    canvas.addEventListener("mousemove", (e) => this.hover(e));
    canvas.addEventListener("mouseleave", () => { this.zoom.hidden = true; this.hovered = null; });
    canvas.addEventListener("click", (e) => this.click(e));
  }

  /** sizes: [n_in, ..., n_out]; features: the input features' names (captions of the first column). */
  setSizes(sizes, features = []) {
    this.sizes = sizes;
    this.features = features;
    this.layout();
  }

  layout() {
    const { width, height } = this.canvas;
    const columns = this.sizes.length;
    this.nodes = [];
    let neuron = 0;
    this.sizes.forEach((units, col) => {
      const spacing = Math.min(44, (height - 16) / units);
      const s = Math.max(3, Math.min(30, spacing * 0.8));
      const x = ((col + 0.5) * width) / columns;
      const isOutput = col === columns - 1;
      for (let j = 0; j < units; j++) {
        const y = height / 2 + (j - (units - 1) / 2) * spacing;
        this.nodes.push({ x, y, s, col, unit: j, neuron: isOutput ? null : neuron++ });
      }
    });
  }

  nodesOf(col) {
    return this.nodes.filter((n) => n.col === col);
  }

  draw(frame, backward) {
    this.frame = frame;
    this.backward = backward;
    const { ctx, canvas } = this;
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    if (!frame || !this.sizes.length) return;
    if (this.highlight !== null && this.highlight < this.sizes.length) {
      const w = canvas.width / this.sizes.length;
      ctx.fillStyle = "rgba(255, 213, 79, 0.35)";
      ctx.fillRect(this.highlight * w + 4, 0, w - 8, canvas.height);
    }
    // the backward view's arrays come after the first step (and |∂L/∂W| for every network, δ for plain ones)
    this.drawEdges(frame, backward && Boolean(frame.arrays.gW0));
    this.drawNodes(frame, backward && Boolean(frame.arrays.delta0));
    if (this.hovered && !this.zoom.hidden) this.drawZoom(this.hovered); // the enlarged neuron stays live
  }

  drawEdges(frame, backward) {
    const { ctx } = this;
    const layers = this.sizes.length - 1;
    const key = backward ? "gW" : "W";
    const mats = [];
    for (let l = 0; l < layers; l++) mats.push(frame.arrays[`${key}${l}`] || frame.arrays[`W${l}`]);
    if (mats.some((m) => !m)) return;
    let maxAbs = 1e-12;
    let total = 0;
    for (const m of mats) {
      total += m.data.length;
      for (const v of m.data) maxAbs = Math.max(maxAbs, Math.abs(v));
    }
    const scaleOf = backward ? logScaler(mats.flatMap((m) => Array.from(m.data))) : (v) => Math.abs(v) / maxAbs;
    // above MANY_EDGES, only the MANY_EDGES strongest are drawn (and fainter): a 8 × 64 network stays readable
    let floor = -Infinity;
    if (total > MANY_EDGES) {
      const all = new Float32Array(total);
      let i = 0;
      for (const m of mats) for (const v of m.data) all[i++] = scaleOf(v);
      all.sort();
      floor = all[total - MANY_EDGES];
    }
    const alpha = total > MANY_EDGES ? 0.35 : 1;
    // paths[sign][level]
    const paths = [[], []].map(() => Array.from({ length: LEVELS }, () => new Path2D()));
    for (let l = 0; l < layers; l++) {
      const from = this.nodesOf(l);
      const to = this.nodesOf(l + 1);
      const W = mats[l];
      const [nOut, nIn] = W.shape;
      // a frame can still be of the previous network for a moment after a `network` message: draw what fits
      for (let r = 0; r < to.length && r < nOut; r++) {
        for (let c = 0; c < from.length && c < nIn; c++) {
          const v = W.data[r * nIn + c];
          const t = scaleOf(v);
          if (!Number.isFinite(t)) continue;
          if (t < floor) continue;
          const level = Math.min(LEVELS - 1, Math.floor(t * LEVELS));
          const path = paths[v >= 0 ? 1 : 0][level];
          path.moveTo(from[c].x + from[c].s / 2, from[c].y);
          path.lineTo(to[r].x - to[r].s / 2, to[r].y);
        }
      }
    }
    for (let sign = 0; sign < 2; sign++) {
      for (let level = 0; level < LEVELS; level++) {
        const t = (level + 0.5) / LEVELS;
        const color = backward ? magnitude(t) : sign ? POS : NEG;
        ctx.strokeStyle = rgb(color, alpha * (backward ? 0.9 : 0.25 + 0.75 * t));
        ctx.lineWidth = total > MANY_EDGES ? 0.3 + 1.5 * t : 0.4 + 4 * t;
        ctx.stroke(paths[sign][level]);
      }
    }
  }

  /** Paint every neuron's grid into one atlas canvas (g × N·g) with a single putImageData. */
  paintAtlas(neurons) {
    const [N, g] = neurons.shape;
    this.atlas.width = g;
    this.atlas.height = N * g;
    const actx = this.atlas.getContext("2d");
    const image = actx.createImageData(g, N * g);
    const px = image.data;
    const cell = g * g;
    for (let n = 0; n < N; n++) {
      let peak = 1; // tanh-like values keep their absolute scale; unbounded ones are scaled to their peak
      for (let i = 0; i < cell; i++) peak = Math.max(peak, Math.abs(neurons.data[n * cell + i]));
      const sub = { data: new Uint8ClampedArray(px.buffer, n * cell * 4, cell * 4) };
      gridToImageDiverging(sub, neurons.data, n * cell, g, 1 / peak);
    }
    actx.putImageData(image, 0, 0);
    this.cell = g;
  }

  drawNodes(frame, backward) {
    const { ctx } = this;
    const neurons = frame.arrays.neurons;
    if (neurons) this.paintAtlas(neurons);
    const deltas = [];
    if (backward) for (let l = 0; l < this.sizes.length - 1; l++) deltas.push(frame.arrays[`delta${l}`]);
    const deltaScale = backward ? logScaler(deltas.filter(Boolean).flatMap((d) => Array.from(d.data))) : null;
    ctx.imageSmoothingEnabled = false;
    for (const node of this.nodes) {
      const { x, y, s, col, unit } = node;
      const delta = col > 0 ? deltas[col - 1] : null;
      if (backward && delta) {
        ctx.fillStyle = rgb(magnitude(deltaScale(delta.data[unit])));
        ctx.fillRect(x - s / 2, y - s / 2, s, s);
      } else if (node.neuron !== null && neurons && node.neuron < neurons.shape[0]) {
        ctx.drawImage(this.atlas, 0, node.neuron * this.cell, this.cell, this.cell, x - s / 2, y - s / 2, s, s);
      } else if (frame.arrays.surface && col === this.sizes.length - 1) {
        this.drawOutputThumb(frame.arrays.surface, unit, x - s / 2, y - s / 2, s);
      } else {
        ctx.fillStyle = rgb(CLASS_COLORS[unit % CLASS_COLORS.length]);
        ctx.fillRect(x - s / 2, y - s / 2, s, s);
      }
      ctx.strokeStyle = "rgba(0,0,0,0.35)";
      ctx.lineWidth = 1;
      ctx.strokeRect(x - s / 2, y - s / 2, s, s);
    }
  }

  /** An output unit's map: one output = the value (or P(class 1)) on the orange–blue scale; several = the
   *  probability of this unit's class, white to the class's colour. */
  drawOutputThumb(surface, unit, x, y, s) {
    const G = surface.shape[surface.shape.length - 1];
    const n = G * G;
    if (!this.thumb) this.thumb = document.createElement("canvas");
    this.thumb.width = G;
    this.thumb.height = G;
    const tctx = this.thumb.getContext("2d");
    const image = tctx.createImageData(G, G);
    const outputs = this.sizes[this.sizes.length - 1];
    if (outputs === 1) {
      let lo = Infinity;
      let hi = -Infinity;
      for (const v of surface.data) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
      const probability = lo >= 0 && hi <= 1;
      gridToImage(image, surface.data, 0, G, (v) => diverging(probability ? 2 * v - 1 : (2 * (v - lo)) / (hi - lo || 1) - 1));
    } else {
      // (C, G, G) probabilities, or P(class 1) alone for two classes (P(class 0) = 1 − it)
      const p = (i) => (surface.shape.length === 3 ? surface.data[unit * n + i] : unit === 1 ? surface.data[i] : 1 - surface.data[i]);
      const c = CLASS_COLORS[unit % CLASS_COLORS.length];
      const values = new Float32Array(n);
      for (let i = 0; i < n; i++) values[i] = p(i);
      gridToImage(image, values, 0, G, (v) => [255 + (c[0] - 255) * v, 255 + (c[1] - 255) * v, 255 + (c[2] - 255) * v]);
    }
    tctx.putImageData(image, 0, 0);
    this.ctx.imageSmoothingEnabled = true;
    this.ctx.drawImage(this.thumb, x, y, s, s);
    this.ctx.imageSmoothingEnabled = false;
  }


  pos(event) {
    const rect = this.canvas.getBoundingClientRect();
    return [((event.clientX - rect.left) * this.canvas.width) / rect.width,
      ((event.clientY - rect.top) * this.canvas.height) / rect.height];
  }

  nodeAt(px, py) {
    return this.nodes.find((n) => Math.abs(px - n.x) <= Math.max(n.s / 2, 3) && Math.abs(py - n.y) <= Math.max(n.s / 2, 3));
  }

  hover(event) {
    const [px, py] = this.pos(event);
    const node = this.nodeAt(px, py);
    const neurons = this.frame && this.frame.arrays.neurons;
    if (!node || node.neuron === null || !neurons || node.neuron >= neurons.shape[0]) {
      this.zoom.hidden = true;
      this.hovered = null;
      const edge = node ? null : this.editableAt(px, py);
      this.canvas.title = edge ? `weight ${edge.value.toPrecision(4)}: layer ${edge.layer + 1}, from ${edge.col + 1} `
        + `to ${edge.row + 1} (click to edit)` : "";
      return;
    }
    this.hovered = node;
    const name = this.features[node.unit];
    node.caption = node.col === 0 ? `input ${FEATURES[name]?.label ?? name ?? node.unit + 1}`
      : `layer ${node.col}, unit ${node.unit + 1}`;
    this.drawZoom(node);
    const rect = this.canvas.getBoundingClientRect();
    const scale = rect.width / this.canvas.width;
    this.zoom.style.left = `${Math.min(node.x * scale + 14, rect.width - this.zoom.width)}px`;
    this.zoom.style.top = `${Math.max(0, node.y * scale - this.zoom.height / 2)}px`;
    this.zoom.title = node.caption;
    this.zoom.hidden = false;
  }

  drawZoom(node) {
    const zctx = this.zoom.getContext("2d");
    zctx.imageSmoothingEnabled = false;
    zctx.drawImage(this.atlas, 0, node.neuron * this.cell, this.cell, this.cell, 0, 0, this.zoom.width, this.zoom.height);
    zctx.fillStyle = "rgba(255,255,255,0.8)";
    zctx.fillRect(0, this.zoom.height - 15, this.zoom.width, 15);
    zctx.fillStyle = "#222";
    zctx.font = "11px sans-serif";
    zctx.fillText(node.caption || "", 4, this.zoom.height - 4);
  }

  /** The edge (or, on a neuron, its bias) under a click, with its current value. */
  editableAt(px, py) {
    const frame = this.frame;
    if (!frame) return null;
    const node = this.nodeAt(px, py);
    if (node && node.col > 0) {
      const b = frame.arrays[`b${node.col - 1}`];
      if (b) return { layer: node.col - 1, param: "bias", row: node.unit, col: 0, value: b.data[node.unit] };
    }
    let best = null;
    for (let l = 0; l < this.sizes.length - 1; l++) {
      const W = frame.arrays[`W${l}`];
      if (!W) continue;
      const from = this.nodesOf(l);
      const to = this.nodesOf(l + 1);
      if (px < from[0].x || px > to[0].x) continue;
      for (let r = 0; r < to.length; r++) {
        for (let c = 0; c < from.length; c++) {
          const d = segmentDistance(px, py, from[c].x + from[c].s / 2, from[c].y, to[r].x - to[r].s / 2, to[r].y);
          if (d < 5 && (!best || d < best.d)) best = { d, layer: l, param: "weight", row: r, col: c, value: W.data[r * W.shape[1] + c] };
        }
      }
    }
    return best;
  }

  /** The canvas point a fraction t along an edge (for tests: clicking an edge away from where others cross). */
  edgePoint(layer, row, col, t = 0.5) {
    const a = this.nodesOf(layer)[col];
    const b = this.nodesOf(layer + 1)[row];
    const x0 = a.x + a.s / 2;
    const x1 = b.x - b.s / 2;
    return [x0 + t * (x1 - x0), a.y + t * (b.y - a.y)];
  }

  click(event) {
    const [px, py] = this.pos(event);
    const target = this.editableAt(px, py);
    if (target) this.onEdit(target, px, py);
  }
}
