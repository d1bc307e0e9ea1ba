// Small canvas charts: loss curves (several series), a min–max band, and the per-layer gradient-norm strip.
import { magnitude, rgb } from "./colors.js";

function bounds(series, band) {
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  const see = (x, y) => {
    if (!Number.isFinite(y)) return;
    x0 = Math.min(x0, x); x1 = Math.max(x1, x);
    y0 = Math.min(y0, y); y1 = Math.max(y1, y);
  };
  for (const s of series) s.xs.forEach((x, i) => see(x, s.ys[i]));
  if (band) band.xs.forEach((x, i) => { see(x, band.lo[i]); see(x, band.hi[i]); });
  if (!(x1 > x0)) x1 = x0 + 1;
  if (!(y1 > y0)) { y0 = Math.min(0, y0); y1 = y0 + 1; }
  return { x0, x1, y0: Math.min(0, y0), y1 };
}

/** series: [{xs, ys, color, width}], band: {xs, lo, hi, color} or null. Y from 0 to the largest value. */
export function drawLines(canvas, series, band = null, label = "") {
  const ctx = canvas.getContext("2d");
  const { width, height } = canvas;
  ctx.clearRect(0, 0, width, height);
  ctx.fillStyle = "#fafafa";
  ctx.fillRect(0, 0, width, height);
  const b = bounds(series, band);
  if (!Number.isFinite(b.x0)) return;
  const X = (x) => 4 + ((x - b.x0) / (b.x1 - b.x0)) * (width - 8);
  const Y = (y) => height - 4 - ((y - b.y0) / (b.y1 - b.y0)) * (height - 16);
  if (band && band.xs.length) {
    ctx.fillStyle = band.color;
    ctx.beginPath();
    band.xs.forEach((x, i) => (i ? ctx.lineTo(X(x), Y(band.hi[i])) : ctx.moveTo(X(x), Y(band.hi[i]))));
    for (let i = band.xs.length - 1; i >= 0; i--) ctx.lineTo(X(band.xs[i]), Y(band.lo[i]));
    ctx.closePath();
    ctx.fill();
  }
  for (const s of series) {
    ctx.strokeStyle = s.color;
    ctx.lineWidth = s.width || 1.5;
    ctx.beginPath();
    let started = false;
    s.xs.forEach((x, i) => {
      const y = s.ys[i];
      if (!Number.isFinite(y)) return;
      if (started) ctx.lineTo(X(x), Y(y));
      else { ctx.moveTo(X(x), Y(y)); started = true; }
    });
    ctx.stroke();
  }
  ctx.fillStyle = "#555";
  ctx.font = "10px sans-serif";
  ctx.fillText(`${label}max ${b.y1.toPrecision(3)} · steps ${b.x0}–${b.x1}`, 6, 10);
}

/** rows: per layer an array of gradient norms over time (oldest first). Colour = log10 of the norm, scaled
 *  over the strip's own range so vanishing (pale) and exploding (dark) layers stand out. */
export function drawStrip(canvas, rows) {
  const wanted = Math.max(60, 12 * rows.length + 14); // a readable row per layer
  if (canvas.height !== wanted) canvas.height = wanted;
  const ctx = canvas.getContext("2d");
  const { width, height } = canvas;
  ctx.clearRect(0, 0, width, height);
  if (!rows.length || !rows[0].length) return;
  let lo = Infinity, hi = -Infinity;
  for (const row of rows) for (const v of row) if (v > 0) { lo = Math.min(lo, Math.log10(v)); hi = Math.max(hi, Math.log10(v)); }
  if (!Number.isFinite(lo)) return;
  const span = Math.max(hi - lo, 1e-6);
  const labelWidth = 56;
  const rowHeight = (height - 12) / rows.length;
  const n = rows[0].length;
  const cellWidth = (width - labelWidth) / n;
  ctx.font = "10px sans-serif";
  rows.forEach((row, l) => {
    ctx.fillStyle = "#333";
    ctx.fillText(`layer ${l + 1}`, 2, l * rowHeight + rowHeight / 2 + 4);
    row.forEach((v, i) => {
      ctx.fillStyle = rgb(magnitude(v > 0 ? (Math.log10(v) - lo) / span : 0));
      ctx.fillRect(labelWidth + i * cellWidth, l * rowHeight, Math.ceil(cellWidth), rowHeight - 1);
    });
  });
  ctx.fillStyle = "#555";
  ctx.fillText(`‖∂L/∂W‖ from 1e${lo.toFixed(1)} (pale) to 1e${hi.toFixed(1)} (dark); time →`, labelWidth, height - 2);
}
