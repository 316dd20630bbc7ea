/* The page frame: the navigation menu on phones (the menu button opens and closes it), and
   selects that submit their form when changed (`data-autosubmit`: no inline handlers, which
   the Content-Security-Policy refuses). */
document.addEventListener("change", function (event) {
  if (event.target.matches("select[data-autosubmit]")) event.target.form.submit();
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
