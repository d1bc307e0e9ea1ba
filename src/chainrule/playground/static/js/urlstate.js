// The whole settings object mirrored in the URL's query string, so a URL reproduces a run.
// Scalars as key=value, features as a comma list, layers as "4:tanh,2:tanh", the optimizer as
// optimizer=adam plus optimizer.learning_rate=0.003 etc.; booleans as 1/0.

export function settingsToQuery(settings) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(settings)) {
    if (key === "features") params.set(key, value.join(","));
    else if (key === "layers") params.set(key, value.map((l) => `${l.units}:${l.activation}`).join(","));
    else if (key === "optimizer") {
      params.set("optimizer", value.name);
      for (const [name, v] of Object.entries(value)) if (name !== "name") params.set(`optimizer.${name}`, String(v));
    } else if (typeof value === "boolean") params.set(key, value ? "1" : "0");
    else params.set(key, String(value));
  }
  return params.toString();
}

/** Overlay the query string on the defaults; each value takes its type from the default. Unknown keys are
 *  passed through as text so the server can name them in its error. */
export function settingsFromQuery(query, defaults, optimizers) {
  const settings = structuredClone(defaults);
  const params = new URLSearchParams(query);
  if (params.has("optimizer")) {
    const name = params.get("optimizer");
    settings.optimizer = { name, ...(optimizers[name] || {}) };
  }
  for (const [key, text] of params) {
    if (key === "optimizer") continue;
    if (key.startsWith("optimizer.")) {
      settings.optimizer[key.slice("optimizer.".length)] = Number(text);
    } else if (key === "features") {
      settings.features = text === "" ? [] : text.split(",");
    } else if (key === "layers") {
      settings.layers = text === "" ? [] : text.split(",").map((part) => {
        const [units, activation] = part.split(":");
        return { units: Number(units), activation };
      });
    } else if (typeof defaults[key] === "boolean") {
      settings[key] = text === "1" || text === "true";
    } else if (typeof defaults[key] === "number") {
      settings[key] = Number(text);
    } else {
      settings[key] = text;
    }
  }
  return settings;
}

export function writeUrl(settings) {
  const url = `${location.pathname}?${settingsToQuery(settings)}`;
  history.replaceState(null, "", url);
}
