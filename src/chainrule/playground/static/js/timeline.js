// Rewind and branch: the snapshots as buttons on one track per branch, and the branches' loss curves together.
import { drawLines } from "./charts.js";
import { CLASS_COLORS, rgb } from "./colors.js";

const branchColor = (i) => rgb(CLASS_COLORS[(i + 1) % CLASS_COLORS.length]);

export class TimelineView {
  constructor({ track, curves, legend, onRewind }) {
    Object.assign(this, { track, curves, legend, onRewind });
    this.message = { snapshots: [], branches: [] };
  }

  show(message) {
    this.message = message;
    const branches = message.branches || [];
    const order = new Map(branches.map((b, i) => [b.id, i]));
    let maxStep = 1;
    for (const s of message.snapshots) maxStep = Math.max(maxStep, s.step);
    this.track.replaceChildren();
    const rows = new Map();
    for (const b of branches.length ? branches : [{ id: 0, parent: null, from_step: 0 }]) {
      const row = document.createElement("div");
      row.className = "timeline-row";
      row.dataset.branch = String(b.id);
      const label = document.createElement("span");
      label.className = "timeline-label";
      label.style.color = branchColor(order.get(b.id) ?? 0);
      label.textContent = b.parent === null || b.parent === undefined ? `branch ${b.id}` : `branch ${b.id} ← ${b.parent} at ${b.from_step}`;
      label.title = label.textContent;
      row.append(label);
      this.track.append(row);
      rows.set(b.id, row);
    }
    for (const s of message.snapshots) {
      const row = rows.get(s.branch) || this.track.lastElementChild;
      const button = document.createElement("button");
      button.type = "button";
      button.className = "snapshot";
      button.dataset.testid = "snapshot";
      button.dataset.snapshot = String(s.id);
      button.dataset.step = String(s.step);
      // a log scale: the snapshots come densely at the start (where training changes fastest), sparsely later
      const x = Math.log1p(s.step) / Math.log1p(maxStep);
      button.style.left = `calc(9rem + (100% - 10rem) * ${x})`;
      button.title = `step ${s.step}, branch ${s.branch}: click to rewind here`;
      button.setAttribute("aria-label", `Rewind to step ${s.step} of branch ${s.branch}`);
      button.addEventListener("click", () => this.onRewind(s));
      row.append(button);
    }
    this.drawCurves();
  }

  drawCurves() {
    const branches = this.message.branches || [];
    const series = branches.map((b, i) => ({ xs: b.steps, ys: b.test, color: branchColor(i), width: 2 }));
    drawLines(this.curves, series, null, "test loss per branch · ");
    this.legend.replaceChildren();
    branches.forEach((b, i) => {
      const item = document.createElement("span");
      item.className = "legend-item";
      const sw = document.createElement("span");
      sw.className = "swatch";
      sw.style.background = branchColor(i);
      const last = b.test.length ? b.test[b.test.length - 1] : NaN;
      item.append(sw, document.createTextNode(`branch ${b.id}: test loss ${Number.isFinite(last) ? last.toFixed(3) : "–"}`));
      this.legend.append(item);
    });
  }
}
