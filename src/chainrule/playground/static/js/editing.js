// Direct manipulation: a CSV uploaded, points added (or the backprop point picked) by clicking the output, and a
// weight (or a bias) edited by clicking its edge (or its neuron).

const $ = (id) => document.getElementById(id);

export function wireEditing({ app, conn, surface, network, schedule, showError }) {
  $("upload").addEventListener("change", async () => {
    const file = $("upload").files[0];
    if (!file) return;
    if (file.size > app.options.limits.max_upload_bytes) {
      showError(`upload: ${file.name} is ${file.size} bytes; the limit is ${app.options.limits.max_upload_bytes}`);
    } else {
      conn.send({ type: "upload", csv: await file.text(), problem: app.settings.problem });
    }
    $("upload").value = "";
  });

  // --- the output canvas: add points, or pick the point for backprop ---
  $("bp-pick").addEventListener("click", () => {
    app.pickMode = !app.pickMode;
    $("bp-pick").setAttribute("aria-pressed", String(app.pickMode));
  });
  $("surface").addEventListener("click", (event) => {
    const canvas = $("surface");
    const rect = canvas.getBoundingClientRect();
    const point = surface.toPoint(((event.clientX - rect.left) * canvas.width) / rect.width,
      ((event.clientY - rect.top) * canvas.height) / rect.height);
    if (event.shiftKey || app.pickMode) {
      app.pickMode = false;
      $("bp-pick").setAttribute("aria-pressed", "false");
      surface.picked = point;
      const target = $("bp-target").value.trim();
      // without a target the server takes the nearest training point's
      conn.send({ type: "backprop", point, ...(target === "" ? {} : { target: Number(target) }) });
      schedule();
      return;
    }
    const mode = $("click-mode").value;
    if (mode === "") return;
    const target = mode === "value" ? Number($("click-value").value) : Number(mode);
    conn.send({ type: "add_point", point, target });
  });

  // --- editing a weight by clicking its edge (or a bias by clicking its neuron) ---
  let editing = null; // the weight or bias the editor is open for
  network.onEdit = (target, px, py) => {
    editing = target;
    const form = $("weight-editor");
    $("weight-editor-label").textContent = target.param === "bias"
      ? `bias of layer ${target.layer + 1}, unit ${target.row + 1} `
      : `weight, layer ${target.layer + 1}, from ${target.col + 1} to ${target.row + 1} `;
    $("weight-value").value = target.value.toPrecision(4);
    const canvas = $("net");
    const scale = canvas.getBoundingClientRect().width / canvas.width;
    form.style.left = `${px * scale}px`;
    form.style.top = `${py * scale}px`;
    form.hidden = false;
    $("weight-value").focus();
  };
  $("weight-editor").addEventListener("submit", (event) => {
    event.preventDefault();
    const value = Number($("weight-value").value);
    if (editing && Number.isFinite(value)) {
      conn.send({ type: "set_weight", layer: editing.layer, param: editing.param, row: editing.row, col: editing.col, value });
    }
    $("weight-editor").hidden = true;
  });
  $("weight-cancel").addEventListener("click", () => { $("weight-editor").hidden = true; });
  $("weight-editor").addEventListener("keydown", (event) => {
    if (event.key === "Escape") $("weight-editor").hidden = true;
  });
}
