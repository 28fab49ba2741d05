// The client list's selection: tick a page at once; "all matching" overrides the ticks.
// Without this script every checkbox still works one by one.
(() => {
  const sync = (root) => {
    const form = root.querySelector("#bulk-form");
    if (!form) return;
    const pageBox = form.querySelector("[data-select-page]");
    const allBox = form.querySelector("[data-select-all-matching]");
    const rows = () => Array.from(form.querySelectorAll("input[name=ids]"));
    if (pageBox) {
      pageBox.hidden = false;
      pageBox.addEventListener("change", () => {
        rows().forEach((box) => { box.checked = pageBox.checked; });
      });
    }
    if (allBox) {
      allBox.addEventListener("change", () => {
        rows().forEach((box) => { box.disabled = allBox.checked; });
        if (pageBox) pageBox.disabled = allBox.checked;
      });
    }
  };
  document.addEventListener("DOMContentLoaded", () => sync(document));
  document.addEventListener("htmx:afterSwap", (event) => {
    if (event.detail.target && event.detail.target.id === "client-rows") sync(event.detail.target);
  });
})();
