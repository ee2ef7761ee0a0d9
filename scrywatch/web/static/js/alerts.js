/* Alert rule form: offer the values of the chosen condition field, and show only the address field
 * of the chosen channel (without JS both show, each saying when it is used). */
const SW = window.SW;

SW.mount("alert-form", (form) => {
  const field = form.querySelector("[data-condition-field]");
  const value = form.querySelector("[data-condition-value]");
  const syncValues = () => {
    if (field && value && document.getElementById(`cv-${field.value}`)) value.setAttribute("list", `cv-${field.value}`);
  };
  const syncChannel = () => {
    const chosen = form.querySelector("[data-notify-type]:checked")?.value || "webhook";
    for (const block of form.querySelectorAll("[data-channel]")) {
      block.hidden = block.dataset.channel !== chosen;
      for (const hint of block.querySelectorAll(".field-hint")) hint.hidden = true;
    }
  };
  field?.addEventListener("change", syncValues);
  form.addEventListener("change", (event) => {
    if (event.target.matches("[data-notify-type]")) syncChannel();
  });
  syncValues();
  syncChannel();
});
