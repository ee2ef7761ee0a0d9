/* The command palette (Ctrl/Cmd-K), on every project page: jump to a page, a lens, a service or a
 * recent search. Pages come from the sidebar; lenses and services from the project's API on first
 * open (the session cookie authenticates); recent searches from this browser (explorer.js keeps
 * them). `?` lists the keyboard shortcuts.
 */
const SW = window.SW;
const PER_GROUP = 8;
const KINDS = { Pages: "Page", Lenses: "Lens", Services: "Service", "Recent searches": "Search" };
const dialog = document.querySelector("[data-palette]");
const shortcuts = document.querySelector("[data-shortcuts]");
const MAC = /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent);
if (MAC) document.querySelectorAll("[data-mod-key]").forEach((k) => { k.textContent = "⌘"; });

function valueText(v) {
  return /^[^\s,"\\]+$/.test(v) ? v : `"${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

if (dialog) {
  const input = dialog.querySelector("[data-palette-input]");
  const list = dialog.querySelector("[data-palette-list]");
  const explorer = dialog.dataset.explorer;
  let remote = [];
  let loaded = null;
  let shown = [];
  let active = 0;

  const pages = () => [...document.querySelectorAll(".sidebar a.nav-item")].map((a) => ({
    group: "Pages", label: a.textContent.trim(), href: a.getAttribute("href"),
  }));
  function recent() {
    try {
      const saved = JSON.parse(localStorage.getItem(`sw-recent:${dialog.dataset.recentKey}`) || "[]");
      return saved.map((r) => ({ group: "Recent searches", label: r.text, href: r.href, mono: true }));
    } catch { return []; }
  }
  async function json(path) {
    const res = await fetch(dialog.dataset.api + path, { credentials: "same-origin" });
    return res.ok ? res.json() : {};
  }
  function load() {
    loaded ??= Promise.all([json("/lenses"), json("/services")]).then(([l, s]) => {
      remote = [
        ...(l.lenses || []).map((lens) => {
          let filters = {};
          try { filters = JSON.parse(lens.filters) || {}; } catch { /* a lens with unreadable filters opens the explorer */ }
          const params = new URLSearchParams(Object.entries(filters).filter(([, v]) => v != null).map(([k, v]) => [k, String(v)]));
          return { group: "Lenses", label: lens.name, href: params.size ? `${explorer}?${params}` : explorer, color: lens.color };
        }),
        ...(s.services || []).map((name) => ({
          group: "Services", label: name, href: `${explorer}?${new URLSearchParams({ q: `service:${valueText(name)}` })}`, mono: true,
        })),
      ];
      render();
    }).catch(() => { loaded = null; });
  }

  function matches(label, query) {
    const text = label.toLowerCase();
    if (text.includes(query)) return true;
    let at = 0;
    for (const ch of query) { // or its letters in order ("chkerr" finds "Checkout errors")
      at = text.indexOf(ch, at) + 1;
      if (at === 0) return false;
    }
    return true;
  }

  function render() {
    const query = input.value.trim().toLowerCase();
    const all = [...recent(), ...remote.filter((r) => r.group === "Lenses"), ...pages(), ...remote.filter((r) => r.group === "Services")];
    const counts = {};
    shown = all.filter((item) => (!query || matches(item.label, query)) && (counts[item.group] = (counts[item.group] || 0) + 1) <= PER_GROUP);
    active = Math.min(active, Math.max(0, shown.length - 1));
    list.replaceChildren();
    let group = "";
    shown.forEach((item, i) => {
      if (item.group !== group) {
        group = item.group;
        const head = document.createElement("li");
        head.className = "palette-group";
        head.setAttribute("role", "presentation");
        head.textContent = group;
        list.append(head);
      }
      const li = document.createElement("li");
      li.className = "palette-item";
      li.id = `palette-${i}`;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", String(i === active));
      li.dataset.index = String(i);
      if (item.color) li.append(Object.assign(document.createElement("span"), { className: `lens-dot lens-${item.color}` }));
      const label = document.createElement(item.mono ? "code" : "span");
      label.className = "truncate";
      label.textContent = item.label;
      const hint = Object.assign(document.createElement("span"), { className: "hint", textContent: KINDS[item.group] });
      li.append(label, hint);
      list.append(li);
    });
    if (!shown.length) list.append(Object.assign(document.createElement("li"), { className: "palette-group", textContent: "Nothing matches" }));
    input.setAttribute("aria-activedescendant", shown.length ? `palette-${active}` : "");
    list.querySelector('[aria-selected="true"]')?.scrollIntoView({ block: "nearest" });
  }

  function open() {
    if (dialog.open) return;
    input.value = "";
    active = 0;
    render();
    dialog.showModal();
    input.focus();
    load();
  }
  const go = (item) => item && location.assign(item.href);

  SW.shortcut("mod+k", (event) => {
    event.preventDefault();
    if (dialog.open) dialog.close();
    else open();
  });
  SW.on("click", "[data-palette-open]", open);
  input.addEventListener("input", () => { active = 0; render(); });
  input.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      active = (active + (event.key === "ArrowDown" ? 1 : -1) + shown.length) % Math.max(1, shown.length);
      render();
    } else if (event.key === "Enter") {
      event.preventDefault();
      go(shown[active]);
    }
  });
  list.addEventListener("click", (event) => go(shown[Number(event.target.closest("[data-index]")?.dataset.index)]));
  dialog.addEventListener("click", (event) => { if (event.target === dialog) dialog.close(); });
  document.querySelectorAll("[data-palette-open]").forEach((b) => { b.hidden = false; });
}

if (shortcuts) {
  SW.shortcut("?", (event) => {
    if (document.querySelector("dialog[open]")) return;
    event.preventDefault();
    shortcuts.showModal();
  });
  shortcuts.addEventListener("click", (event) => { if (event.target === shortcuts) shortcuts.close(); });
}
