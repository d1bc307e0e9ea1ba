// Backprop step by step for one point: the forward values layer by layer, then BP1–BP4 one layer at a time
// with the server's actual numbers, each checked against the engine's gradient (max |difference|).

const fmt = (v) => (typeof v === "number" ? v.toPrecision(6) : String(v));
const AGREE = 1e-6; // the server computes both in float64: anything above rounding error is a real disagreement

function el(tag, text, attrs = {}) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = text;
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

/** A labelled vector or matrix as a table; every number in a cell, row-major, under data-testid. */
function numbers(label, values, testid) {
  const wrap = el("div", null, { class: "bp-array" });
  wrap.append(el("div", label, { class: "bp-label" }));
  const table = el("table", null, { "data-testid": testid });
  const rows = Array.isArray(values[0]) ? values : [values];
  for (const row of rows) {
    const tr = el("tr");
    for (const v of row) tr.append(el("td", fmt(v)));
    table.append(tr);
  }
  wrap.append(table);
  return wrap;
}

export class BackpropPanel {
  /** onStep(column): the network column the current step is about (0 = the inputs), to highlight it. */
  constructor({ body, prev, next, position, onStep = () => {} }) {
    Object.assign(this, { body, prev, next, position, onStep });
    this.steps = [];
    this.index = 0;
    prev.addEventListener("click", () => this.go(this.index - 1));
    next.addEventListener("click", () => this.go(this.index + 1));
  }

  show(message) {
    this.message = message;
    this.steps = [];
    const lastForward = message.forward.length - 1;
    this.columns = [];
    for (const f of message.forward) {
      this.steps.push(() => this.forwardStep(f, lastForward));
      this.columns.push(f.layer);
    }
    message.backward.forEach((b, i) => {
      this.steps.push(() => this.deltaStep(b, i === 0));
      this.steps.push(() => this.gradientStep(b));
      this.columns.push(b.layer, b.layer);
    });
    this.go(0);
  }

  go(index) {
    if (!this.steps.length) return;
    this.index = Math.max(0, Math.min(this.steps.length - 1, index));
    this.body.replaceChildren();
    const m = this.message;
    const head = el("p", null, { class: "bp-point" });
    head.append(`point (${fmt(m.point[0])}, ${fmt(m.point[1])}), target ${fmt(m.target)}, loss `,
      el("b", fmt(m.loss), { "data-testid": "bp-loss" }));
    this.body.append(head, ...this.steps[this.index]());
    this.prev.disabled = this.index === 0;
    this.next.disabled = this.index === this.steps.length - 1;
    this.position.textContent = `step ${this.index + 1} of ${this.steps.length}`;
    this.onStep(this.columns[this.index]);
  }

  title(text, equation) {
    const out = [el("h3", text, { "data-testid": "bp-step-title" })];
    if (equation) out.push(el("p", equation, { class: "bp-equation", "data-testid": "bp-equation" }));
    return out;
  }

  forwardStep(f, lastForward) {
    if (f.layer === 0) {
      return [...this.title("Forward, the input: the features of the point", "a⁰ = x"), numbers("a⁰", f.a, "bp-a")];
    }
    const l = f.layer;
    const where = l === lastForward ? "the output layer" : `hidden layer ${l}`;
    return [...this.title(`Forward, ${where}`, `z${sup(l)} = W${sup(l)} a${sup(l - 1)} + b${sup(l)},   a${sup(l)} = σ(z${sup(l)})`),
      numbers(`z${sup(l)}`, f.z, "bp-z"), numbers(`a${sup(l)}`, f.a, "bp-a")];
  }

  deltaStep(b, isOutput) {
    const eq = this.message.equations;
    const l = b.layer;
    const out = [...this.title(isOutput ? `BP1, the output layer (${l})` : `BP2, layer ${l}: the error flows back`,
      isOutput ? eq.BP1 : eq.BP2)];
    out.push(numbers(isOutput ? "∇ₐL" : `(W${sup(l + 1)})ᵀ δ${sup(l + 1)}`, b.grad_a, "bp-grad-a"),
      numbers(`σ′(z${sup(l)})`, b.sigma_prime, "bp-sigma-prime"), numbers(`δ${sup(l)}`, b.delta, "bp-delta"));
    return out;
  }

  gradientStep(b) {
    const eq = this.message.equations;
    const l = b.layer;
    const verdict = b.max_abs_diff <= AGREE ? "agrees with the engine" : "DIFFERS from the engine";
    const check = el("p", null, { class: "bp-check" });
    check.append(`Engine check: max |difference| = `, el("b", fmt(b.max_abs_diff), { "data-testid": "bp-max-diff" }),
      ` — ${verdict}`);
    return [...this.title(`BP3 and BP4, layer ${l}: the gradients`, `${eq.BP3}     ${eq.BP4}`),
      numbers(`∂L/∂b${sup(l)} = δ${sup(l)}`, b.db, "bp-db"), numbers(`∂L/∂W${sup(l)} = δ${sup(l)} (a${sup(l - 1)})ᵀ`, b.dW, "bp-dW"),
      numbers("the engine's ∂L/∂W (chainrule.grad)", b.engine_dW, "bp-engine-dW"), check];
  }
}

const SUP = "⁰¹²³⁴⁵⁶⁷⁸⁹";
function sup(n) {
  return String(n).split("").map((d) => SUP[Number(d)] ?? d).join("");
}
