// The settings controls: filled from the server's options, shown from a settings object, and each change
// reported as a patch of the settings.

export function fillSelect(select, values) {
  select.replaceChildren(...values.map((v) => new Option(v, v)));
}

const $ = (id) => document.getElementById(id);

export class Controls {
  /** onChange(patch) is called with the changed part of the settings. */
  constructor(options, onChange) {
    this.options = options;
    this.onChange = onChange;
    fillSelect($("activation"), options.activations);
    fillSelect($("optimizer"), Object.keys(options.optimizers));
    fillSelect($("init"), options.initializers);
    fillSelect($("problem"), Object.keys(options.datasets));
    const limits = options.limits;
    $("seeds").max = limits.max_seeds;
    $("points").max = limits.max_points;
    this.bind();
  }

  bind() {
    const number = (id, key) => $(id).addEventListener("change", () => {
      const v = Number($(id).value);
      if ($(id).value !== "" && Number.isFinite(v)) this.onChange({ [key]: v });
    });
    number("noise", "noise");
    number("train-percent", "train_percent");
    number("batch-size", "batch_size");
    number("points", "points");
    number("regularization-rate", "regularization_rate");
    number("dropout", "dropout");
    number("seeds", "seeds");
    number("seed", "seed");
    $("noise").addEventListener("input", () => { $("noise-out").textContent = $("noise").value; });
    $("train-percent").addEventListener("input", () => { $("train-percent-out").textContent = $("train-percent").value; });
    $("dataset").addEventListener("change", () => this.onChange({ dataset: $("dataset").value }));
    $("init").addEventListener("change", () => this.onChange({ init: $("init").value }));
    $("loss").addEventListener("change", () => this.onChange({ loss: $("loss").value }));
    $("regularization").addEventListener("change", () => this.onChange({ regularization: $("regularization").value }));
    $("batchnorm").addEventListener("change", () => this.onChange({ batchnorm: $("batchnorm").checked }));
    $("residual").addEventListener("change", () => this.onChange({ residual: $("residual").checked }));
    $("activation").addEventListener("change", () => this.onChange({
      layers: this.settings.layers.map((l) => ({ ...l, activation: $("activation").value })),
    }));
    $("lr").addEventListener("change", () => {
      const v = Number($("lr").value);
      if ($("lr").value !== "" && Number.isFinite(v)) this.onChange({ optimizer: { ...this.settings.optimizer, learning_rate: v } });
    });
    $("optimizer").addEventListener("change", () => {
      const name = $("optimizer").value;
      this.onChange({ optimizer: { name, ...this.options.optimizers[name] } });
    });
    $("problem").addEventListener("change", () => {
      const problem = $("problem").value;
      this.onChange({ problem, dataset: this.options.datasets[problem][0], loss: this.options.losses[problem][0] });
    });
  }

  /** force: also rewrite the field being edited (after the server refused its value). */
  show(settings, force = false) {
    this.settings = settings;
    const set = (id, v) => { if (force || document.activeElement !== $(id)) $(id).value = String(v); };
    $("problem").value = settings.problem;
    fillSelect($("dataset"), [...this.options.datasets[settings.problem], ...(settings.dataset === "upload" ? ["upload"] : [])]);
    $("dataset").value = settings.dataset;
    fillSelect($("loss"), this.options.losses[settings.problem]);
    $("loss").value = settings.loss;
    set("noise", settings.noise);
    $("noise-out").textContent = String(settings.noise);
    set("train-percent", settings.train_percent);
    $("train-percent-out").textContent = String(settings.train_percent);
    set("batch-size", settings.batch_size);
    set("points", settings.points);
    set("lr", settings.optimizer.learning_rate);
    $("optimizer").value = settings.optimizer.name;
    $("init").value = settings.init;
    $("regularization").value = settings.regularization;
    set("regularization-rate", settings.regularization_rate);
    set("dropout", settings.dropout);
    $("batchnorm").checked = settings.batchnorm;
    $("residual").checked = settings.residual;
    set("seeds", settings.seeds);
    set("seed", settings.seed);
    const activations = new Set(settings.layers.map((l) => l.activation));
    if (activations.size === 1) $("activation").value = [...activations][0];
    else $("activation").selectedIndex = -1;
    this.showOptimizerExtra(settings.optimizer);
  }

  /** Inputs for the optimizer's settings other than the learning rate (momentum, beta1, beta2). */
  showOptimizerExtra(optimizer) {
    const box = $("optimizer-extra");
    box.replaceChildren();
    for (const [name, value] of Object.entries(optimizer)) {
      if (name === "name" || name === "learning_rate") continue;
      const label = document.createElement("label");
      label.textContent = `${name} `;
      const input = document.createElement("input");
      input.type = "number";
      input.step = "any";
      input.value = String(value);
      input.dataset.testid = `optimizer-${name}`;
      input.addEventListener("change", () => {
        const v = Number(input.value);
        if (Number.isFinite(v)) this.onChange({ optimizer: { ...this.settings.optimizer, [name]: v } });
      });
      label.append(input);
      box.append(label);
    }
  }
}
