// Seeds side by side: the K boundaries of a seed ensemble as small multiples, and the band of their test losses.
import { drawLines } from "./charts.js";
import { gridToImage } from "./colors.js";

export class SeedsView {
  constructor({ panel, grid, band }) {
    Object.assign(this, { panel, grid, band });
    this.history = { xs: [], lo: [], hi: [], mid: [] };
  }

  reset() {
    this.history = { xs: [], lo: [], hi: [], mid: [] };
  }

  /** Every frame's seed losses go into the band's history (frames are rendered fewer than received). */
  record(frame) {
    const losses = frame.arrays.seed_losses;
    if (!losses) return;
    const K = losses.shape[0];
    const tests = [];
    for (let k = 0; k < K; k++) tests.push(losses.data[2 * k + 1]);
    tests.sort((a, b) => a - b);
    const h = this.history;
    h.xs.push(frame.header.step);
    h.lo.push(tests[0]);
    h.hi.push(tests[K - 1]);
    h.mid.push(tests[Math.floor(K / 2)]);
  }

  /** colorOf(v) -> [r, g, b]: the output panel's colours for one seed's map value. */
  draw(frame, colorOf) {
    const surfaces = frame.arrays.surfaces;
    this.panel.hidden = !surfaces;
    if (!surfaces) return;
    const [K, G] = surfaces.shape;
    while (this.grid.children.length > K) this.grid.lastChild.remove();
    while (this.grid.children.length < K) {
      const canvas = document.createElement("canvas");
      canvas.width = G;
      canvas.height = G;
      canvas.dataset.testid = "seed-surface";
      canvas.setAttribute("aria-label", `the boundary of seed ${this.grid.children.length}`);
      this.grid.append(canvas);
    }
    for (let k = 0; k < K; k++) {
      const ctx = this.grid.children[k].getContext("2d");
      const image = ctx.createImageData(G, G);
      gridToImage(image, surfaces.data, k * G * G, G, colorOf);
      ctx.putImageData(image, 0, 0);
    }
    const h = this.history;
    drawLines(this.band, [{ xs: h.xs, ys: h.mid, color: "#333", width: 1.5 }],
      { xs: h.xs, lo: h.lo, hi: h.hi, color: "rgba(8,119,189,0.25)" }, "test loss over seeds (band: min–max, line: median) · ");
  }
}
