// The account menu of the forum's header (<details class="account-menu">): it opens and closes
// without JavaScript; this only adds what a menu is expected to do besides: Escape closes it
// and gives the focus back to its button, and a click or a focus elsewhere closes it.
(function () {
  "use strict";
  if (!document.querySelector || !document.addEventListener) { return; }
  var menu = document.querySelector("details.account-menu");
  if (!menu) { return; }
  var summary = menu.querySelector("summary");
  function close(refocus) {
    if (!menu.open) { return; }
    menu.open = false;
    if (refocus && summary) { summary.focus(); }
  }
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && menu.open) { close(menu.contains(document.activeElement)); }
  });
  document.addEventListener("click", function (event) {
    if (!menu.contains(event.target)) { close(false); }
  });
  document.addEventListener("focusin", function (event) {
    if (!menu.contains(event.target)) { close(false); }
  });
}());
