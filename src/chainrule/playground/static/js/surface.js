// The output panel's picture: the decision surface (ImageData on a G×G canvas, scaled up), the data points on
// top, and the legend that says which colour is which class or value.
import { CLASS_COLORS, MID, diverging, gridToImage, rgb } from "./colors.js";

const LIGHTEN = 0.3; // the surface is drawn lighter than the points so the points stand out

function lighten(c) {
  return [c[0] + (255 - c[0]) * LIGHTEN, c[1] + (255 - c[1]) * LIGHTEN, c[2] + (255 - c[2]) * LIGHTEN];
}

export class SurfaceView {
  constructor(canvas, legend) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.legend = legend;
    this.extent = 6;
    this.problem = "classification";
    this.classes = 2;
    this.train = null;
    this.test = null;
    this.range = [-1, 1];
    this.picked = null;
    this.offscreen = document.createElement("canvas");
  }

  configure({ extent, problem, classes }) {
    this.extent = extent;
    this.problem = problem;
    this.classes = classes;
    this.drawLegend();
  }

  setData(train, test) {
    this.train = train;
    this.test = test;
    if (this.problem === "regression" && train && train.data.length) {
      let lo = Infinity;
      let hi = -Infinity;
      for (let i = 2; i < train.data.length; i += 3) {
        lo = Math.min(lo, train.data[i]);
        hi = Math.max(hi, train.data[i]);
      }
      this.range = lo < hi ? [lo, hi] : [lo - 1, hi + 1];
      this.drawLegend();
    }
  }

  /** value -> t in [-1, 1] for regression colours. */
  scale(v) {
    const [lo, hi] = this.range;
    return (2 * (v - lo)) / (hi - lo) - 1;
  }

  pointColor(target) {
    if (this.problem === "regression") return diverging(this.scale(target));
    return CLASS_COLORS[Math.round(target) % CLASS_COLORS.length];
  }

  /** The canvas pixel of a data point and back. */
  toPixel(x1, x2) {
    const { width, height } = this.canvas;
    return [((x1 + this.extent) / (2 * this.extent)) * width, ((this.extent - x2) / (2 * this.extent)) * height];
  }

  toPoint(px, py) {
    const { width, height } = this.canvas;
    return [(px / width) * 2 * this.extent - this.extent, this.extent - (py / height) * 2 * this.extent];
  }

  /** The colour of one seed's map value (seeds.py: P(class 1), the most probable class, or the value). */
  seedColor(v) {
    if (this.problem === "regression") return diverging(this.scale(v));
    if (this.classes > 2) return CLASS_COLORS[Math.round(v) % CLASS_COLORS.length];
    return diverging(2 * v - 1);
  }

  surfaceImage(surface, discretize) {
    const shape = surface.shape;
    const G = shape[shape.length - 1];
    this.offscreen.width = G;
    this.offscreen.height = G;
    const octx = this.offscreen.getContext("2d");
    const image = octx.createImageData(G, G);
    if (shape.length === 3) {
      // C class probabilities per pixel: mix the class colours (or take the most probable one)
      const C = shape[0];
      const n = G * G;
      const px = image.data;
      for (let i = 0; i < n; i++) {
        let color = [0, 0, 0];
        if (discretize) {
          let best = 0;
          for (let c = 1; c < C; c++) if (surface.data[c * n + i] > surface.data[best * n + i]) best = c;
          color = CLASS_COLORS[best % CLASS_COLORS.length];
        } else {
          for (let c = 0; c < C; c++) {
            const p = surface.data[c * n + i];
            const k = CLASS_COLORS[c % CLASS_COLORS.length];
            color = [color[0] + p * k[0], color[1] + p * k[1], color[2] + p * k[2]];
          }
        }
        color = lighten(color);
        px.set([color[0], color[1], color[2], 255], 4 * i);
      }
    } else if (this.problem === "regression") {
      gridToImage(image, surface.data, 0, G, (v) => {
        const t = this.scale(v);
        return lighten(diverging(discretize ? Math.sign(t) : t));
      });
    } else {
      gridToImage(image, surface.data, 0, G, (p) => lighten(diverging(discretize ? Math.sign(2 * p - 1) : 2 * p - 1)));
    }
    octx.putImageData(image, 0, 0);
    return this.offscreen;
  }

  draw(surface, { discretize, showTest }) {
    const { ctx, canvas } = this;
    if (surface) {
      ctx.imageSmoothingEnabled = !discretize;
      ctx.drawImage(this.surfaceImage(surface, discretize), 0, 0, canvas.width, canvas.height);
    } else {
      ctx.fillStyle = rgb(MID);
      ctx.fillRect(0, 0, canvas.width, canvas.height);
    }
    this.drawAxes();
    if (this.train) this.drawPoints(this.train, "white");
    if (showTest && this.test) this.drawPoints(this.test, "black");
    if (this.picked) {
      const [x, y] = this.toPixel(this.picked[0], this.picked[1]);
      ctx.strokeStyle = "black";
      ctx.lineWidth = 2;
      ctx.beginPath();
      ctx.arc(x, y, 7, 0, 2 * Math.PI);
      ctx.moveTo(x - 10, y);
      ctx.lineTo(x + 10, y);
      ctx.moveTo(x, y - 10);
      ctx.lineTo(x, y + 10);
      ctx.stroke();
    }
  }

  drawAxes() {
    const { ctx, canvas } = this;
    ctx.strokeStyle = "rgba(0,0,0,0.15)";
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(canvas.width / 2, 0);
    ctx.lineTo(canvas.width / 2, canvas.height);
    ctx.moveTo(0, canvas.height / 2);
    ctx.lineTo(canvas.width, canvas.height / 2);
    ctx.stroke();
  }

  drawPoints(points, outline) {
    const { ctx } = this;
    const d = points.data;
    ctx.lineWidth = 1;
    ctx.strokeStyle = outline;
    for (let i = 0; i + 2 < d.length; i += 3) {
      const [x, y] = this.toPixel(d[i], d[i + 1]);
      ctx.fillStyle = rgb(this.pointColor(d[i + 2]));
      ctx.beginPath();
      ctx.arc(x, y, 3.2, 0, 2 * Math.PI);
      ctx.fill();
      ctx.stroke();
    }
  }

  drawLegend() {
    const legend = this.legend;
    legend.replaceChildren();
    const item = (color, text, testid) => {
      const span = document.createElement("span");
      span.className = "legend-item";
      if (testid) span.dataset.testid = testid;
      const sw = document.createElement("span");
      sw.className = "swatch";
      sw.style.background = color;
      span.append(sw, document.createTextNode(text));
      legend.append(span);
    };
    if (this.problem === "regression") {
      const [lo, hi] = this.range;
      item(rgb(diverging(-1)), `low value (${lo.toFixed(2)})`, "legend-low");
      item(rgb(MID), `middle (${((lo + hi) / 2).toFixed(2)})`);
      item(rgb(diverging(1)), `high value (${hi.toFixed(2)})`, "legend-high");
    } else {
      for (let c = 0; c < this.classes; c++) item(rgb(CLASS_COLORS[c % CLASS_COLORS.length]), `class ${c}`, `legend-class-${c}`);
    }
    const note = document.createElement("span");
    note.className = "legend-note";
    note.textContent = "points: white outline = training, black outline = test";
    legend.append(note);
  }
}
