/* ScryWatch dashboard behaviour. No build step, no dependencies, no inline scripts (CSP).
 *
 * Pages declare behaviour with data-attributes; this file wires them with event delegation, so
 * content added later (infinite scroll, live tail) works without re-binding. Everything here is an
 * enhancement: every form posts and every link works without JavaScript.
 *
 * Page modules (static/js/<page>.js, loaded with {% block scripts %}) use the `SW` namespace:
 *   SW.mount("name", (el) => {...})   run once for each element with data-mount="name"
 *   SW.on("click", "[data-x]", (event, el) => {...})   delegated listener
 *   SW.shortcut("mod+k", (event) => {...})   keyboard shortcut (mod = Ctrl or Cmd)
 *   SW.toast("Saved", "success")   SW.copy(text)   await SW.confirm({title, text, ok})
 */

const SW = (window.SW = window.SW || {});
const THEME_KEY = "sw-theme";
const SNIPPET_KEY = "sw-snippet-tab";
const THEMES = ["system", "light", "dark"];
const THEME_LABELS = { system: "follow the system", light: "light", dark: "dark" };

// ---------- core helpers ----------
SW.on = (type, selector, handler, options) => {
  document.addEventListener(type, (event) => {
    const el = event.target instanceof Element ? event.target.closest(selector) : null;
    if (el) handler(event, el);
  }, options);
};

SW.mount = (name, init) => {
  for (const el of document.querySelectorAll(`[data-mount~="${name}"]`)) {
    const done = (el.dataset.mounted || "").split(" ");
    if (done.includes(name)) continue;
    el.dataset.mounted = [...done.filter(Boolean), name].join(" ");
    init(el);
  }
};

const shortcuts = [];
SW.shortcut = (combo, handler) => shortcuts.push({ combo: combo.toLowerCase(), handler });
document.addEventListener("keydown", (event) => {
  const typing = event.target instanceof Element && event.target.closest("input, textarea, select, [contenteditable]");
  for (const { combo, handler } of shortcuts) {
    const parts = combo.split("+");
    const key = parts.pop();
    const mod = parts.includes("mod");
    if (event.key.toLowerCase() !== key) continue;
    if (mod !== (event.ctrlKey || event.metaKey)) continue;
    if (!mod && typing && key !== "escape") continue;
    handler(event);
  }
});

SW.toast = (message, kind = "info", ms = 2600) => {
  const host = document.querySelector("[data-toasts]");
  if (!host) return;
  const toast = document.createElement("div");
  toast.className = `toast toast-${kind}`;
  toast.setAttribute("role", kind === "error" ? "alert" : "status");
  toast.textContent = message;
  host.append(toast);
  setTimeout(() => {
    toast.classList.add("is-leaving");
    toast.addEventListener("animationend", () => toast.remove(), { once: true });
  }, ms);
};

SW.copy = async (text) => {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // Plain-http servers (not localhost) have no async clipboard: fall back to a selection copy.
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "sr-only";
    document.body.append(area);
    area.select();
    const ok = document.execCommand("copy");
    area.remove();
    return ok;
  }
};

SW.confirm = ({ title = "Are you sure?", text = "", ok = "Confirm" } = {}) => {
  const dialog = document.querySelector("[data-confirm-dialog]");
  if (!dialog || typeof dialog.showModal !== "function") return Promise.resolve(window.confirm(text || title));
  dialog.querySelector("[data-confirm-title]").textContent = title;
  dialog.querySelector("[data-confirm-text]").textContent = text;
  dialog.querySelector("[data-confirm-ok]").textContent = ok;
  dialog.returnValue = "";
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
  });
};

// ---------- theme: system → light → dark ----------
const currentTheme = () => document.documentElement.getAttribute("data-theme") || "system";

function applyTheme(theme) {
  const root = document.documentElement;
  if (theme === "system") root.removeAttribute("data-theme");
  else root.setAttribute("data-theme", theme);
  try {
    if (theme === "system") localStorage.removeItem(THEME_KEY);
    else localStorage.setItem(THEME_KEY, theme);
  } catch { /* storage disabled: the choice lasts for this page only */ }
  for (const button of document.querySelectorAll("[data-theme-toggle]")) {
    const label = `Theme: ${THEME_LABELS[theme]}`;
    button.setAttribute("aria-label", label);
    button.title = label;
  }
}

SW.on("click", "[data-theme-toggle]", () => {
  const next = THEMES[(THEMES.indexOf(currentTheme()) + 1) % THEMES.length];
  applyTheme(next);
  SW.toast(`Theme: ${THEME_LABELS[next]}`);
});

// ---------- copy buttons ----------
SW.on("click", "[data-copy], [data-copy-target]", async (event, button) => {
  const target = button.dataset.copyTarget ? document.querySelector(button.dataset.copyTarget) : null;
  const text = target ? (target.value ?? target.textContent) : button.dataset.copy;
  if (text == null) return;
  const ok = await SW.copy(text.trim());
  SW.toast(ok ? "Copied to the clipboard" : "Copy failed: select the text and copy it", ok ? "success" : "error");
  if (!ok) return;
  const label = button.querySelector("span");
  const before = label ? label.textContent : "";
  button.classList.add("is-copied");
  if (label) label.textContent = button.dataset.copiedLabel || "Copied";
  setTimeout(() => {
    button.classList.remove("is-copied");
    if (label) label.textContent = before;
  }, 1600);
});

// ---------- confirmation before destructive form posts ----------
SW.on("submit", "form[data-confirm]", async (event, form) => {
  if (form.dataset.confirmed === "1") return;
  event.preventDefault();
  const submitter = event.submitter;
  const ok = await SW.confirm({
    title: form.dataset.confirmTitle || "Are you sure?",
    text: form.dataset.confirm,
    ok: form.dataset.confirmOk || "Confirm",
  });
  if (!ok) return;
  form.dataset.confirmed = "1";
  form.requestSubmit(submitter && form.contains(submitter) ? submitter : undefined);
});

// ---------- typed confirmation: the button waits for the exact text ----------
function syncMatch(input) {
  const form = input.form;
  if (!form) return;
  const matches = input.value.trim() === input.dataset.match;
  for (const button of form.querySelectorAll("[data-match-submit]")) button.disabled = input.disabled || !matches;
}
SW.on("input", "input[data-match]", (event, input) => syncMatch(input));

// ---------- tabs ----------
function selectTab(tabs, tab, { focus = false, remember = true } = {}) {
  for (const other of tabs.querySelectorAll('[role="tab"]')) {
    const selected = other === tab;
    other.setAttribute("aria-selected", String(selected));
    other.tabIndex = selected ? 0 : -1;
    document.getElementById(other.getAttribute("aria-controls"))?.classList.toggle("is-active", selected);
  }
  if (focus) tab.focus();
  if (remember) {
    try { localStorage.setItem(SNIPPET_KEY, tab.id); } catch { /* ignore */ }
  }
}
SW.on("click", '[data-tabs] [role="tab"]', (event, tab) => selectTab(tab.closest("[data-tabs]"), tab));
SW.on("keydown", '[data-tabs] [role="tab"]', (event, tab) => {
  if (event.key !== "ArrowRight" && event.key !== "ArrowLeft") return;
  const all = [...tab.closest('[role="tablist"]').querySelectorAll('[role="tab"]')];
  const step = event.key === "ArrowRight" ? 1 : -1;
  selectTab(tab.closest("[data-tabs]"), all[(all.indexOf(tab) + step + all.length) % all.length], { focus: true });
});

// ---------- menus (details[data-menu]): one open at a time, close outside or on Escape ----------
document.addEventListener("toggle", (event) => {
  const menu = event.target;
  if (!(menu instanceof HTMLDetailsElement) || !menu.matches("[data-menu]") || !menu.open) return;
  for (const other of document.querySelectorAll("details[data-menu][open]")) if (other !== menu) other.open = false;
}, true);
document.addEventListener("click", (event) => {
  for (const menu of document.querySelectorAll("details[data-menu][open]")) {
    if (!menu.contains(event.target)) menu.open = false;
  }
});
SW.shortcut("escape", () => {
  for (const menu of document.querySelectorAll("details[data-menu][open]")) {
    menu.open = false;
    menu.querySelector("summary")?.focus();
  }
});

// ---------- small things ----------
SW.on("click", "[data-dismiss]", (event, button) => button.closest("[data-flash]")?.remove());
SW.on("change", "select[data-autosubmit]", (event, select) => select.form?.requestSubmit());
SW.on("submit", "form[data-busy-on-submit]", (event, form) => {
  if (event.defaultPrevented) return;
  const button = form.querySelector('[type="submit"]');
  if (button) setTimeout(() => button.classList.add("is-busy"), 0);
});

function enhance(root = document) {
  for (const el of root.querySelectorAll("[data-copy], [data-copy-target], [data-dismiss], [data-theme-toggle]")) el.hidden = false;
  for (const el of root.querySelectorAll("time[data-local-title]")) {
    const date = new Date(el.getAttribute("datetime"));
    if (!Number.isNaN(date.getTime())) el.title = date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" });
  }
  for (const input of root.querySelectorAll("input[data-match]")) syncMatch(input);
  for (const tabs of root.querySelectorAll("[data-tabs]")) {
    let remembered = null;
    try { remembered = localStorage.getItem(SNIPPET_KEY); } catch { /* ignore */ }
    const first = (remembered && tabs.querySelector(`#${CSS.escape(remembered)}`)) || tabs.querySelector('[role="tab"]');
    if (first) selectTab(tabs, first, { remember: false });
  }
}
SW.enhance = enhance;

applyTheme(currentTheme());
enhance();
