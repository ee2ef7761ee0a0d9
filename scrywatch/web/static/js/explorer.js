/* Log Explorer behaviour (also loaded by Patterns and a session's timeline for the parts they have):
 * the search form (time range, custom times in the viewer's zone, recent searches), facet Alt-click,
 * "load older" with infinite scroll, the event drawer, local times and keyboard moves (j/k, /).
 * Rows and event details are HTML fragments of the page URLs themselves (header X-SW-Fragment).
 * The open event is in the URL (`event=<id>`), so a link to the page opens its drawer too.
 */
const SW = window.SW;
const FRAGMENT = "X-SW-Fragment";
const RECENT_MAX = 8;
const pad = (n, width = 2) => String(n).padStart(width, "0");

// ---------- times in the viewer's zone (the server writes UTC, same layout) ----------
function localStamp(ms) {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}
// length of the server's text -> [start, end] of the local stamp to show instead
const SLICES = { 23: [0, 23], 19: [0, 19], 18: [5, 23], 12: [11, 23], 11: [5, 16] };
function localTimes(root = document) {
  for (const el of root.querySelectorAll("time[data-local-ms], time[data-local-short]")) {
    const ms = Date.parse(el.getAttribute("datetime"));
    const slice = SLICES[el.textContent.trim().length];
    if (!Number.isNaN(ms) && slice) el.textContent = localStamp(ms).slice(...slice);
  }
}
const toInput = (ms) => localStamp(ms).slice(0, 19).replace(" ", "T");

// ---------- recent searches (read by the command palette) ----------
function remember(key, text, href) {
  if (!key || !text) return;
  try {
    const name = `sw-recent:${key}`;
    const list = JSON.parse(localStorage.getItem(name) || "[]").filter((r) => r.text !== text);
    list.unshift({ text, href });
    localStorage.setItem(name, JSON.stringify(list.slice(0, RECENT_MAX)));
  } catch { /* storage off: no recent searches */ }
}

// ---------- search form ----------
SW.on("change", "form[data-search-form] [data-range]", (event, select) => {
  const custom = select.form.querySelector("[data-custom]");
  if (select.value === "custom" && custom) {
    custom.classList.add("is-open");
    const from = custom.querySelector('[name="from"]');
    const to = custom.querySelector('[name="to"]');
    if (!from.value) from.value = toInput(Date.now() - 3_600_000);
    if (!to.value) to.value = toInput(Date.now());
    from.focus();
  } else if (select.value !== "custom") {
    select.form.requestSubmit();
  }
});

SW.on("submit", "form[data-search-form]", (event, form) => {
  event.preventDefault();
  const params = new URLSearchParams();
  const q = (form.elements.q?.value || "").trim();
  if (q) params.set("q", q);
  const range = form.elements.range?.value;
  if (range === "custom") {
    for (const name of ["from", "to"]) {
      const input = form.elements[name];
      if (!input?.value) continue;
      const ms = input.type === "datetime-local" ? new Date(input.value).getTime() : Number(input.value);
      if (!Number.isNaN(ms)) params.set(name, String(ms));
    }
  } else if (range) {
    params.set("range", range);
    if (new URLSearchParams(location.search).get("live") === "1") params.set("live", "1");
  }
  const href = form.action + (params.size ? `?${params}` : "");
  remember(form.closest("[data-recent-key]")?.dataset.recentKey || document.querySelector("[data-recent-key]")?.dataset.recentKey, q, href);
  location.assign(href);
});

SW.shortcut("/", (event) => {
  const input = document.querySelector("[data-query-input]");
  if (!input) return;
  event.preventDefault();
  input.focus();
  input.select();
});

// ---------- facets: Alt-click excludes ----------
SW.on("click", "a[data-exclude-href]", (event, link) => {
  if (!event.altKey) return;
  event.preventDefault();
  location.assign(link.dataset.excludeHref);
});

// ---------- older rows: "load more", then automatically near the end ----------
async function fragment(url, kind) {
  const res = await fetch(url, { headers: { [FRAGMENT]: kind }, credentials: "same-origin" });
  if (!res.ok) throw new Error(`${res.status}`);
  const tpl = document.createElement("template");
  tpl.innerHTML = await res.text();
  localTimes(tpl.content);
  SW.enhance(tpl.content);
  return tpl.content;
}

const watcher = "IntersectionObserver" in window
  ? new IntersectionObserver((entries) => entries.forEach((e) => e.isIntersecting && loadMore(e.target)), { rootMargin: "600px" })
  : null;
const watchMore = (root) => root.querySelectorAll("a[data-load-more]").forEach((a) => watcher?.observe(a));

async function loadMore(link) {
  if (link.dataset.busy) return;
  link.dataset.busy = "1";
  link.classList.add("is-busy");
  watcher?.unobserve(link);
  try {
    const rows = await fragment(link.href, "rows");
    const row = link.closest("tr");
    const body = row.parentElement;
    row.remove();
    body.append(rows);
    watchMore(body);
  } catch {
    link.classList.remove("is-busy");
    delete link.dataset.busy;
    SW.toast("Could not load older events", "error");
  }
}
SW.on("click", "a[data-load-more]", (event, link) => {
  event.preventDefault();
  loadMore(link);
});

// ---------- the event drawer ----------
const drawer = document.querySelector("[data-drawer]");
let selected = null;

function select(row) {
  selected?.classList.remove("is-selected");
  selected = row;
  row?.classList.add("is-selected");
}

// The open event in the address bar (replaceState: Back still leaves the page, as before opening).
function eventInUrl(id) {
  const url = new URL(location.href);
  if (id) url.searchParams.set("event", id);
  else url.searchParams.delete("event");
  if (url.href !== location.href) history.replaceState(history.state, "", url);
}

async function openEvent(href, row) {
  if (!drawer) return location.assign(href);
  select(row);
  eventInUrl(decodeURIComponent(new URL(href, location.href).pathname.split("/").pop()));
  const body = drawer.querySelector("[data-drawer-body]");
  const skeleton = document.createElement("div");
  skeleton.className = "skeleton ev-skeleton";
  body.replaceChildren(skeleton);
  drawer.querySelector("[data-drawer-page]").href = href;
  if (!drawer.open) drawer.showModal();
  try {
    body.replaceChildren(await fragment(href, "event"));
  } catch {
    body.textContent = "This event could not be loaded (it may have been deleted).";
  }
}

SW.on("click", "[data-event-link], tr[data-event-id]", (event, el) => {
  if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  if (String(window.getSelection()) && !el.matches("a")) return; // selecting text in a row
  const link = el.matches("a") ? el : el.querySelector("a[data-event-link]");
  if (!link) return;
  event.preventDefault();
  openEvent(link.href, el.closest("[data-event-id]"));
});
SW.on("click", "[data-drawer-close]", () => drawer?.close());
drawer?.addEventListener("close", () => eventInUrl(null));
drawer?.addEventListener("click", (event) => { if (event.target === drawer) drawer.close(); });

function step(delta) {
  const rows = [...document.querySelectorAll("[data-rows] tr[data-event-id], .timeline [data-event-id]")];
  if (!rows.length) return;
  const next = rows[Math.min(rows.length - 1, Math.max(0, rows.indexOf(selected) + delta))] || rows[0];
  select(next);
  next.scrollIntoView({ block: "nearest" });
  const link = next.querySelector("a[data-event-link]");
  if (drawer?.open && link) openEvent(link.href, next);
}
SW.shortcut("j", () => step(1));
SW.shortcut("k", () => step(-1));
SW.shortcut("enter", (event) => {
  const link = selected?.querySelector("a[data-event-link]");
  if (link && !drawer?.open && document.activeElement === document.body) {
    event.preventDefault();
    openEvent(link.href, selected);
  }
});

// ---------- on load ----------
SW.localTimes = localTimes;
localTimes();
for (const input of document.querySelectorAll("input[type=datetime-local][data-ms]")) input.value = toInput(Number(input.dataset.ms));
document.querySelectorAll("[data-palette-open]").forEach((b) => { b.hidden = false; });
watchMore(document);
const explorer = document.querySelector("[data-mount~=explorer]");
const linked = new URLSearchParams(location.search).get("event");
if (linked && drawer) {
  const row = [...document.querySelectorAll("[data-event-id]")].find((r) => r.dataset.eventId === linked);
  const href = row?.querySelector("a[data-event-link]")?.href
    || explorer?.dataset.eventUrl.replace("EVENT_ID", encodeURIComponent(linked));
  if (href) openEvent(href, row || null);
}
if (explorer?.dataset.searchText) {
  const url = new URL(location.href);
  url.searchParams.delete("cursor");
  url.searchParams.delete("event");
  url.searchParams.delete("live");
  remember(explorer.dataset.recentKey, explorer.dataset.searchText, url.pathname + url.search);
}
