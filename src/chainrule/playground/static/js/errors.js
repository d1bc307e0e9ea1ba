// The dismissable error bar: every error from the server (and any failure of the page itself) is shown here.

export function errorBar(bar, text, dismiss) {
  dismiss.addEventListener("click", () => { bar.hidden = true; });
  return (message) => {
    text.textContent = message;
    bar.hidden = false;
  };
}
