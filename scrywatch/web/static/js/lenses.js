/* The lens bar: drag a lens to reorder (saved at once). The edit menu's Move buttons do the same
 * without JavaScript. */
const SW = window.SW;

SW.mount("lenses", (bar) => {
  const list = bar.querySelector("[data-lens-list]");
  if (!list) return;
  let dragging = null;
  let before = "";
  const order = () => [...list.children].map((li) => li.dataset.lensId).join(",");
  for (const li of list.children) li.draggable = true;

  list.addEventListener("dragstart", (event) => {
    dragging = event.target.closest(".lens");
    if (!dragging) return;
    before = order();
    dragging.classList.add("is-dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", dragging.dataset.lensId);
  });
  list.addEventListener("dragover", (event) => {
    const over = event.target.closest(".lens");
    if (!dragging || !over) return;
    event.preventDefault();
    if (over === dragging) return;
    const box = over.getBoundingClientRect();
    over[event.clientX > box.left + box.width / 2 ? "after" : "before"](dragging);
  });
  list.addEventListener("drop", (event) => event.preventDefault());
  list.addEventListener("dragend", async () => {
    if (!dragging) return;
    dragging.classList.remove("is-dragging");
    dragging = null;
    const ids = order();
    if (ids === before) return;
    const body = new URLSearchParams({ csrf_token: bar.dataset.csrf, ids });
    const res = await fetch(bar.dataset.orderUrl, {
      method: "POST", body, credentials: "same-origin", headers: { "X-SW-Fragment": "order" },
    });
    SW.toast(res.ok ? "Lens order saved" : "Could not save the lens order", res.ok ? "success" : "error");
  });
});
