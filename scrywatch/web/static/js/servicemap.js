/* Service map: pointing at a service (on the map or in the table) lights it, its calls and the
 * services it talks to, and dims the rest. */
const SW = window.SW;

SW.mount("servicemap", (svg) => {
  const nodes = [...svg.querySelectorAll(".sm-node")];
  const links = [...svg.querySelectorAll(".sm-link")];

  function light(name) {
    svg.classList.toggle("is-focused", name !== null);
    const near = new Set([name]);
    for (const link of links) {
      const on = name !== null && (link.dataset.source === name || link.dataset.target === name);
      link.classList.toggle("is-lit", on);
      if (on) near.add(link.dataset.source).add(link.dataset.target);
    }
    for (const node of nodes) node.classList.toggle("is-lit", name !== null && near.has(node.dataset.service));
    for (const row of document.querySelectorAll("[data-service-row]")) {
      row.classList.toggle("is-selected", row.dataset.serviceRow === name);
    }
  }

  for (const node of nodes) {
    node.addEventListener("mouseenter", () => light(node.dataset.service));
    node.addEventListener("focus", () => light(node.dataset.service));
    node.addEventListener("mouseleave", () => light(null));
    node.addEventListener("blur", () => light(null));
  }
  for (const row of document.querySelectorAll("[data-service-row]")) {
    row.addEventListener("mouseenter", () => light(row.dataset.serviceRow));
    row.addEventListener("mouseleave", () => light(null));
  }
});
