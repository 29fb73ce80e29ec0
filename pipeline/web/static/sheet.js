// The patrol sheet's controls (no inline handlers: the pages' CSP allows only these files).
(function () {
  document.querySelectorAll("[data-submit-on-change]").forEach(el =>
    el.addEventListener("change", () => el.form.submit()));
  document.querySelectorAll("[data-print]").forEach(el =>
    el.addEventListener("click", () => window.print()));
})();
