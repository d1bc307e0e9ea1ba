// The export menu: each format a link to /api/export/{session}/{format}. A click fetches it first, so a refusal
// (a config the run schema cannot express, an expired session) is shown in the error bar, not saved as a file.

const FORMATS = [["config", "chainrule config (TOML)"], ["csv", "its data (CSV, beside the config)"],
  ["safetensors", "weights (safetensors)"], ["torch", "PyTorch script"], ["onnx", "ONNX model"],
  ["python", "Python snippet"]];

function fileName(response, format) {
  const match = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") || "");
  return match ? match[1] : `playground-${format}`;
}

async function download(href, format, showError) {
  let response;
  try {
    response = await fetch(href);
  } catch (err) {
    showError(`export ${format}: ${err.message}`);
    return;
  }
  if (!response.ok) {
    showError(`export ${format}: ${(await response.text()).slice(0, 300)}`);
    return;
  }
  const url = URL.createObjectURL(await response.blob());
  const a = document.createElement("a");
  a.href = url;
  a.download = fileName(response, format);
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function buildExports(list, session, showError) {
  list.replaceChildren(...FORMATS.map(([format, label]) => {
    const li = document.createElement("li");
    const a = document.createElement("a");
    a.href = `/api/export/${encodeURIComponent(session)}/${format}`;
    a.dataset.testid = `export-${format}`;
    a.textContent = label;
    a.addEventListener("click", (event) => {
      event.preventDefault();
      download(a.href, format, showError);
    });
    li.append(a);
    return li;
  }));
}
