// The input features column: each feature a toggle button with a heat map of its value over the input plane
// (computed here: the features are fixed functions of x1 and x2).
import { diverging, gridToImage } from "./colors.js";

export const FEATURES = {
  x1: { label: "x₁", f: (a) => a },
  x2: { label: "x₂", f: (a, b) => b },
  x1sq: { label: "x₁²", f: (a) => a * a },
  x2sq: { label: "x₂²", f: (a, b) => b * b },
  x1x2: { label: "x₁x₂", f: (a, b) => a * b },
  sinx1: { label: "sin x₁", f: (a) => Math.sin(a) },
  sinx2: { label: "sin x₂", f: (a, b) => Math.sin(b) },
};

const G = 24;

function heatMap(canvas, f, extent) {
  const values = new Float32Array(G * G);
  let peak = 1e-9;
  for (let r = 0; r < G; r++) {
    for (let c = 0; c < G; c++) {
      const x1 = -extent + ((c + 0.5) * 2 * extent) / G;
      const x2 = extent - ((r + 0.5) * 2 * extent) / G;
      values[r * G + c] = f(x1, x2);
      peak = Math.max(peak, Math.abs(values[r * G + c]));
    }
  }
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(G, G);
  gridToImage(image, values, 0, G, (v) => diverging(v / peak));
  ctx.putImageData(image, 0, 0);
}

/** Build the buttons once; onToggle(name) is called on a click. */
export function buildFeatures(container, names, extent, onToggle) {
  container.replaceChildren();
  for (const name of names) {
    const spec = FEATURES[name] || { label: name, f: () => 0 };
    const button = document.createElement("button");
    button.type = "button";
    button.className = "feature";
    button.dataset.testid = `feature-${name}`;
    button.dataset.feature = name;
    button.setAttribute("aria-pressed", "false");
    button.title = `use ${spec.label} as an input (click to toggle)`;
    const canvas = document.createElement("canvas");
    canvas.width = G;
    canvas.height = G;
    heatMap(canvas, spec.f, extent);
    const label = document.createElement("span");
    label.textContent = spec.label;
    button.append(canvas, label);
    button.addEventListener("click", () => onToggle(name));
    container.append(button);
  }
}

export function showFeatures(container, active) {
  for (const button of container.children) {
    button.setAttribute("aria-pressed", active.includes(button.dataset.feature) ? "true" : "false");
  }
}
