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
    units.textContent = `${layer.units} neuron${layer.units === 1 ? "" : "s"}`;
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

/** warnings: [{layer, kind, text, remedy}], layer = the dense layer's index (0 = the first hidden layer). */
export function showWarnings(container, settings, warnings) {
  container.replaceChildren();
  const columns = settings.layers.length + 2;
  for (let col = 0; col < columns; col++) {
    const cell = document.createElement("div");
    cell.className = "layer-warning-cell";
    for (const w of warnings.filter((w) => w.layer + 1 === col)) {
      const p = document.createElement("p");
      p.className = `warning ${w.kind}`;
      p.dataset.testid = "warning";
      const kind = document.createElement("b");
      kind.textContent = `${w.kind}: `;
      const remedy = document.createElement("span");
      remedy.className = "remedy";
      remedy.textContent = ` Remedy: ${w.remedy}`;
      p.append(kind, document.createTextNode(w.text), remedy);
      cell.append(p);
    }
    container.append(cell);
  }
}
