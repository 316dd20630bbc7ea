/* The page frame: the navigation menu on phones (the menu button opens and closes it), selects
   that submit their form when changed (`data-autosubmit`), previews that follow their inputs
   (`data-preview`) and print buttons (`data-print`): no inline scripts or handlers, which the
   Content-Security-Policy refuses. */
document.addEventListener("change", function (event) {
  if (event.target.matches("select[data-autosubmit]")) event.target.form.submit();
  // A form that previews (the tariff's price) asks again as soon as an input changes.
  var preview = event.target.closest("form[data-preview]");
  if (preview) preview.requestSubmit();
});
// A print button prints the page (invoices and statements have print layouts).
document.addEventListener("click", function (event) {
  if (event.target.closest("[data-print]")) window.print();
});
(function () {
  "use strict";
  var button = document.querySelector("[data-nav-toggle]");
  var shell = document.querySelector("[data-shell]");
  if (!button || !shell) return;
  function set(open) {
    shell.classList.toggle("nav-open", open);
    button.setAttribute("aria-expanded", open ? "true" : "false");
  }
  button.addEventListener("click", function () { set(!shell.classList.contains("nav-open")); });
  document.addEventListener("keydown", function (event) { if (event.key === "Escape") set(false); });
  // A link followed from the menu closes it (the page may only scroll to an anchor).
  shell.querySelector(".sidebar").addEventListener("click", function (event) {
    if (event.target.closest("a")) set(false);
  });
})();
