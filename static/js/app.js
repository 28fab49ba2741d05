// Small progressive enhancements; every page works without them.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-autosubmit]").forEach((el) => {
    el.addEventListener("change", () => el.form.submit());
  });
  document.querySelectorAll("[data-toggle]").forEach((button) => {
    const target = document.getElementById(button.dataset.toggle);
    if (!target) return;
    button.addEventListener("click", () => {
      const open = target.classList.toggle("open");
      button.setAttribute("aria-expanded", String(open));
    });
  });
});

// Work dialogs (touches, tasks, surveys, notes): htmx puts a <dialog> into
// #dialog-slot; open it as a modal, and empty the slot when it closes.
document.addEventListener("htmx:afterSwap", (event) => {
  const slot = event.detail.target;
  if (!slot || slot.id !== "dialog-slot") return;
  const dialog = slot.querySelector("dialog[data-modal]");
  if (!dialog) return;
  if (!dialog.open) dialog.showModal();
  const invalid = dialog.querySelector(".has-error input, .has-error select, .has-error textarea");
  (invalid || dialog.querySelector("textarea, input:not([type=hidden]), select"))?.focus();
  dialog.addEventListener("close", () => { slot.innerHTML = ""; }, { once: true });
});
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-close-dialog]");
  if (button) button.closest("dialog")?.close();
});
