/* Runs before first paint (a blocking <script src> in <head>; CSP forbids inline scripts):
   marks JS as available and applies a theme chosen with the toggle, so pages never flash the wrong theme. */
(function () {
  var root = document.documentElement;
  root.classList.add("js");
  try {
    var theme = localStorage.getItem("sw-theme");
    if (theme === "light" || theme === "dark") root.setAttribute("data-theme", theme);
  } catch (e) { /* storage disabled: follow the system */ }
})();
