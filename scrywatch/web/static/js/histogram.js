/* The Log Explorer's histogram: drag across it to zoom into that span (the URL gets from/to).
 * A plain click still follows the bar's own link (zoom into one bucket), which works without JS.
 */
const SW = window.SW;
const DRAG_PX = 4;

SW.mount("histogram", (figure) => {
  const svg = figure.querySelector("[data-hist-svg]");
  const sel = figure.querySelector("[data-hist-sel]");
  if (!svg || !sel) return;
  const from = Number(figure.dataset.from);
  const to = Number(figure.dataset.to);
  const width = svg.viewBox.baseVal.width;
  let start = null;
  let dragged = false;
  let startX = 0;

  const frac = (event) => {
    const box = svg.getBoundingClientRect();
    return Math.min(1, Math.max(0, (event.clientX - box.left) / box.width));
  };
  const paint = (a, b) => {
    sel.setAttribute("x", String(Math.min(a, b) * width));
    sel.setAttribute("width", String(Math.abs(b - a) * width));
  };

  svg.addEventListener("pointerdown", (event) => {
    if (event.button !== 0) return;
    start = frac(event);
    startX = event.clientX;
    dragged = false;
  });
  svg.addEventListener("pointermove", (event) => {
    if (start === null) return;
    if (!dragged && Math.abs(event.clientX - startX) > DRAG_PX) {
      dragged = true;
      svg.setPointerCapture(event.pointerId); // only once dragging: a click must still reach the bar's link
    }
    if (dragged) paint(start, frac(event));
  });
  const finish = (event) => {
    if (start === null) return;
    const a = Math.min(start, frac(event));
    const b = Math.max(start, frac(event));
    start = null;
    if (!dragged || event.type === "pointercancel") return paint(0, 0);
    const t0 = Math.round(from + a * (to - from));
    const t1 = Math.round(from + b * (to - from));
    location.assign(figure.dataset.href.replace("FROM_MS", String(t0)).replace("TO_MS", String(t1)));
  };
  svg.addEventListener("pointerup", finish);
  svg.addEventListener("pointercancel", finish);
  svg.addEventListener("click", (event) => {
    if (dragged) event.preventDefault();
    dragged = false;
  }, true);
});
