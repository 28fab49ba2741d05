// The deals board: drag a card to another column to move it. Without
// JavaScript (or for won and lost, which ask for a reason) each card's own
// Move form does the same; the server answers with the board and a message.
(() => {
  let dragged = null;

  const csrfToken = () => {
    const input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  };

  const openMoveForm = (card, stage) => {
    const details = card.querySelector("[data-move-details]");
    if (!details) return;
    details.open = true;
    const select = details.querySelector("select[name=stage]");
    if (select) select.value = stage;
    const reason = details.querySelector("input[name=reason]");
    if (reason) {
      const board = card.closest("[data-deal-board]");
      const prompt = board ? board.dataset[stage === "lost" ? "lostPrompt" : "wonPrompt"] : "";
      if (prompt) reason.placeholder = prompt;
      reason.required = stage === "lost";
      reason.focus();
    }
  };

  const move = async (card, stage) => {
    const form = card.querySelector("form");
    const body = new FormData(form);
    body.set("stage", stage);
    body.set("reason", "");
    card.classList.add("deal-moving");
    try {
      // The answer is a redirect to this board with a message: reload to show both.
      await fetch(card.dataset.moveUrl, {
        method: "POST",
        body,
        headers: { "X-CSRFToken": csrfToken() },
        credentials: "same-origin",
        redirect: "manual",
      });
    } finally {
      window.location.reload();
    }
  };

  document.addEventListener("dragstart", (event) => {
    const card = event.target.closest && event.target.closest("[data-deal-card]");
    if (!card) return;
    dragged = card;
    card.classList.add("deal-dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.dataset.moveUrl);
  });

  document.addEventListener("dragend", () => {
    if (dragged) dragged.classList.remove("deal-dragging");
    document.querySelectorAll(".deal-drop-target").forEach((el) => el.classList.remove("deal-drop-target"));
    dragged = null;
  });

  document.addEventListener("dragover", (event) => {
    const column = event.target.closest && event.target.closest("[data-deal-board] [data-stage]:not([data-deal-card])");
    if (!column || !dragged) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    document.querySelectorAll(".deal-drop-target").forEach((el) => {
      if (el !== column) el.classList.remove("deal-drop-target");
    });
    column.classList.add("deal-drop-target");
  });

  document.addEventListener("drop", (event) => {
    const column = event.target.closest && event.target.closest("[data-deal-board] [data-stage]:not([data-deal-card])");
    if (!column || !dragged) return;
    event.preventDefault();
    const card = dragged;
    const stage = column.dataset.stage;
    column.classList.remove("deal-drop-target");
    if (stage === card.dataset.stage) return;
    if (stage === "lost" || stage === "won") {
      openMoveForm(card, stage); // a reason is asked for: the card's form takes it
      return;
    }
    move(card, stage);
  });
})();
