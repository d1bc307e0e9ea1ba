// The heads above the network's columns (per hidden layer: its size, +/− neuron, its activation) and, below
// it, the recorder's warnings in words next to their layer, with the remedy.

function button(text, label, testid, onClick) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = text;
  b.setAttribute("aria-label", label);
  b.dataset.testid = testid;
  b.addEventListener("click", onClick);
  return b;
}

/** settings.layers drawn as columns between the inputs and the output; edit(newLayers) applies a change. */
export function buildLayerHeads(container, settings, activations, limits, edit) {
  container.replaceChildren();
  const column = (cls) => {
    const div = document.createElement("div");
    div.className = `layer-head ${cls}`;
    container.append(div);
    return div;
  };
  column("input").textContent = `${settings.features.length} inputs`;
  settings.layers.forEach((layer, i) => {
    const head = column("hidden");
    head.dataset.testid = `layer-${i}`;
    const change = (patch) => edit(settings.layers.map((l, j) => (j === i ? { ...l, ...patch } : l)));
    const units = document.createElement("span");
    units.dataset.testid = `units-${i}`;
    units.textContent = settings.layers.length > 4 ? String(layer.units) : `${layer.units} neuron${layer.units === 1 ? "" : "s"}`;
    units.title = `${layer.units} neurons`;
    const plus = button("+", `Add a neuron to layer ${i + 1}`, `add-neuron-${i}`,
      () => change({ units: Math.min(limits.max_units, layer.units + 1) }));
    const minus = button("−", `Remove a neuron from layer ${i + 1}`, `remove-neuron-${i}`,
      () => change({ units: Math.max(1, layer.units - 1) }));
    plus.disabled = layer.units >= limits.max_units;
    minus.disabled = layer.units <= 1;
    const select = document.createElement("select");
    select.dataset.testid = `activation-${i}`;
    select.setAttribute("aria-label", `Activation of layer ${i + 1}`);
    for (const name of activations) select.append(new Option(name, name, false, name === layer.activation));
    select.addEventListener("change", () => change({ activation: select.value }));
    const row = document.createElement("div");
    row.append(minus, units, plus);
    head.append(row, select);
  });
  column("output").textContent = "output";
}

/** warnings: [{layer, kind, text, remedy}], layer = the dense layer's index (0 = the first hidden layer).
 *  Next to each layer a badge naming the problem; below, each distinct warning once, in words, with the layers it
 *  concerns and the remedy (the recorder often says the same thing about several layers). */
export function showWarnings(container, list, settings, warnings) {
  container.replaceChildren();
  const columns = settings.layers.length + 2;
  for (let col = 0; col < columns; col++) {
    const cell = document.createElement("div");
    cell.className = "layer-warning-cell";
    for (const w of warnings.filter((w) => w.layer + 1 === col)) {
      const badge = document.createElement("span");
      badge.className = `badge ${w.kind}`;
      badge.dataset.testid = `warning-badge-${w.layer}`;
      badge.textContent = `⚠ ${w.kind}`;
      badge.title = w.text;
      cell.append(badge);
    }
    container.append(cell);
  }
  list.replaceChildren();
  const groups = new Map();
  for (const w of warnings) {
    const key = `${w.kind}|${w.text}|${w.remedy}`;
    if (!groups.has(key)) groups.set(key, { ...w, layers: [] });
    groups.get(key).layers.push(w.layer);
  }
  for (const g of groups.values()) {
    const p = document.createElement("p");
    p.className = `warning ${g.kind}`;
    p.dataset.testid = "warning";
    const where = document.createElement("b");
    const names = g.layers.map((l) => (l + 1 === columns - 1 ? "output" : `${l + 1}`));
    where.textContent = `${g.kind} — layer${names.length > 1 ? "s" : ""} ${names.join(", ")}: `;
    const remedy = document.createElement("span");
    remedy.className = "remedy";
    remedy.textContent = `Remedy: ${g.remedy}`;
    p.append(where, document.createTextNode(g.text), remedy);
    list.append(p);
  }
}
