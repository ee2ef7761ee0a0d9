/* Live tail in the Log Explorer: new events matching the filters stream in at the top over the
 * project's WebSocket. Scrolled down, they wait behind an "N new events" pill; back at the top,
 * they flow in again. Rows are built with textContent only (event text is never parsed as HTML).
 * Live is part of the view's URL (`live=1`): switching it updates the address bar and the page's
 * links to other views (facets, chips), so it stays on while filtering and in bookmarks.
 */
const SW = window.SW;
const TOP_PX = 120;
const MAX_ROWS = 1000;
const RETRY_MS = [1000, 2000, 5000, 10000];
const LEVELS = { error: "lvl-error", warn: "lvl-warn", info: "lvl-info", debug: "lvl-debug" };
const pad = (n, w = 2) => String(n).padStart(w, "0");

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text != null) node.textContent = text;
  return node;
}

function stamp(ms) {
  const d = new Date(ms);
  return `${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

SW.mount("explorer", (root) => {
  const button = root.querySelector("[data-live]");
  const body = root.querySelector("[data-rows]");
  if (!button || !body) return;
  button.hidden = false;
  const pill = root.querySelector("[data-new-pill]");
  const state = root.querySelector("[data-live-state]");
  let socket = null;
  let on = false;
  let waiting = [];
  let attempt = 0;

  function row(e) {
    const tr = el("tr", "is-new");
    tr.dataset.eventId = e.id;
    const time = el("time", "", stamp(e.timestamp));
    time.dateTime = new Date(e.timestamp).toISOString();
    tr.append(el("td", "x-time"));
    tr.lastChild.append(time);
    tr.append(el("td", "x-level"));
    tr.lastChild.append(el("span", `badge ${LEVELS[e.level] || "lvl-other"}`, e.level));
    tr.append(el("td", "x-service"));
    tr.lastChild.append(el("bdi", "", e.service || ""));
    const link = el("a");
    link.href = root.dataset.eventUrl.replace("EVENT_ID", encodeURIComponent(e.id));
    link.dataset.eventLink = "";
    link.append(el("bdi", "", String(e.message).slice(0, 400)));
    tr.append(el("td", "cell-message"));
    tr.lastChild.append(link);
    return tr;
  }

  function show(events) {
    if (!events.length) return;
    const table = body.closest("table");
    table.hidden = false;
    root.querySelector("[data-testid=no-results]")?.remove();
    const rows = document.createDocumentFragment();
    for (const e of events) rows.prepend(row(e)); // the tail sends oldest first
    body.prepend(rows);
    const extra = body.querySelectorAll("tr[data-event-id]").length - MAX_ROWS;
    if (extra > 0) {
      [...body.querySelectorAll("tr[data-event-id]")].slice(-extra).forEach((tr) => tr.remove());
      body.querySelector("[data-more-row]")?.remove(); // older rows are gone: the cursor no longer follows on
    }
  }

  function updatePill() {
    pill.hidden = waiting.length === 0;
    pill.querySelector("[data-new-count]").textContent = waiting.length.toLocaleString();
  }

  const atTop = () => window.scrollY < TOP_PX;
  function receive(events) {
    if (atTop() && !waiting.length) return show(events);
    waiting.push(...events);
    updatePill();
  }
  function flush() {
    show(waiting);
    waiting = [];
    updatePill();
  }

  function say(text) {
    state.hidden = !text;
    state.textContent = text;
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const params = root.dataset.tailParams;
    socket = new WebSocket(`${scheme}://${location.host}${root.dataset.tail}${params ? `?${params}` : ""}`);
    socket.addEventListener("open", () => { attempt = 0; say("Live: new events appear at the top"); });
    socket.addEventListener("message", (message) => {
      let data;
      try { data = JSON.parse(message.data); } catch { return; }
      if (Array.isArray(data)) receive(data);
      else if (data?.type === "reset") SW.toast("Live tail fell behind: some events were skipped. Reload for the full list.", "error", 5000);
    });
    socket.addEventListener("close", () => {
      socket = null;
      if (!on) return;
      say("Live: reconnecting…");
      setTimeout(() => on && !socket && connect(), RETRY_MS[Math.min(attempt++, RETRY_MS.length - 1)]);
    });
  }

  const explorerPath = new URL(root.dataset.explorer, location.href).pathname;
  function mark(href) {
    const url = new URL(href, location.href);
    if (url.pathname !== explorerPath || url.searchParams.has("from")) return null;
    if (on) url.searchParams.set("live", "1");
    else url.searchParams.delete("live");
    return url;
  }
  function keepInUrls() {
    const here = mark(location.href);
    if (here && here.href !== location.href) history.replaceState(history.state, "", here);
    for (const a of document.querySelectorAll("main a[href], [data-exclude-href]")) {
      const url = mark(a.getAttribute("href"));
      if (url) a.setAttribute("href", url.pathname + url.search);
      if (a.dataset.excludeHref) {
        const ex = mark(a.dataset.excludeHref);
        if (ex) a.dataset.excludeHref = ex.pathname + ex.search;
      }
    }
  }

  function toggle(value) {
    on = value;
    button.setAttribute("aria-pressed", String(on));
    keepInUrls();
    if (on) {
      connect();
    } else {
      socket?.close();
      socket = null;
      flush();
      say("");
    }
  }

  button.addEventListener("click", () => toggle(!on));
  SW.shortcut("l", () => { if (!button.disabled) toggle(!on); });
  pill.addEventListener("click", () => window.scrollTo({ top: 0, behavior: "smooth" }));
  window.addEventListener("scroll", () => { if (atTop() && waiting.length) flush(); }, { passive: true });
  if (new URLSearchParams(location.search).get("live") === "1" && !button.disabled) toggle(true);
});
