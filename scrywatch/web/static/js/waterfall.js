/* Trace waterfall: click a span to show its details in the side panel (the URL keeps ?span= so the view
 * can be shared), fold the spans under a parent, arrow keys move between spans, and the logs of the
 * selected span are highlighted. Without JS every span is a link that renders the same panel. */
const SW = window.SW;

SW.mount("waterfall", (root) => {
  const panel = root.querySelector("#span-panel");
  const rows = [...root.querySelectorAll(".wf-row")];
  for (const button of root.querySelectorAll("[data-wf-toggle]")) button.hidden = false;

  function select(row, { focus = false, scroll = true } = {}) {
    const link = row.querySelector(".wf-link");
    for (const other of rows) {
      other.classList.toggle("is-selected", other === row);
      other.querySelector(".wf-link")?.removeAttribute("aria-current");
    }
    link.setAttribute("aria-current", "true");
    for (const detail of panel.querySelectorAll("[data-span-detail]")) detail.hidden = detail.id !== link.dataset.detail;
    panel.querySelector("[data-panel-empty]").hidden = true;
    panel.scrollTop = 0;
    const id = row.dataset.spanId;
    for (const log of document.querySelectorAll("[data-log-span]")) {
      log.classList.toggle("is-selected", log.dataset.logSpan === id);
    }
    const url = new URL(window.location.href);
    url.searchParams.set("span", id);
    url.hash = "";
    history.replaceState(null, "", url);
    if (focus) link.focus();
    // On narrow screens the panel sits below the waterfall: bring it into view.
    if (scroll && getComputedStyle(root).gridTemplateColumns.split(" ").length < 2) panel.scrollIntoView({ block: "start" });
  }

  function fold(row, open) {
    const depth = Number(row.dataset.depth);
    const button = row.querySelector("[data-wf-toggle]");
    button.setAttribute("aria-expanded", String(open));
    button.setAttribute("aria-label", button.getAttribute("aria-label").replace(/^(Hide|Show)/, open ? "Hide" : "Show"));
    row.classList.toggle("is-folded", !open);
    let skipBelow = null; // inside a sub-tree that stays folded
    for (let i = rows.indexOf(row) + 1; i < rows.length && Number(rows[i].dataset.depth) > depth; i++) {
      const d = Number(rows[i].dataset.depth);
      if (skipBelow !== null && d > skipBelow) continue;
      skipBelow = null;
      rows[i].hidden = !open;
      if (open && rows[i].classList.contains("is-folded")) skipBelow = d;
    }
  }

  root.addEventListener("click", (event) => {
    const toggle = event.target.closest("[data-wf-toggle]");
    if (toggle) {
      const row = toggle.closest(".wf-row");
      fold(row, row.classList.contains("is-folded"));
      return;
    }
    const link = event.target.closest(".wf-link");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    select(link.closest(".wf-row"));
  });

  root.addEventListener("keydown", (event) => {
    const row = event.target.closest?.(".wf-row");
    if (!row || !["ArrowDown", "ArrowUp"].includes(event.key)) return;
    const visible = rows.filter((r) => !r.hidden);
    const next = visible[visible.indexOf(row) + (event.key === "ArrowDown" ? 1 : -1)];
    if (!next) return;
    event.preventDefault();
    select(next, { focus: true, scroll: false });
  });

  // A log's span link selects the span here instead of reloading the page.
  SW.on("click", "[data-select-span]", (event, link) => {
    const row = rows.find((r) => r.dataset.spanId === link.dataset.selectSpan);
    if (!row || event.ctrlKey || event.metaKey) return;
    event.preventDefault();
    for (const r of rows) r.hidden = false;
    select(row, { focus: true });
    row.scrollIntoView({ block: "center" });
  });

  const current = rows.find((r) => r.classList.contains("is-selected"));
  if (current) select(current, { scroll: false });
});
