/* The dashboard's links on a phone are one row that scrolls sideways by itself: the page's own
   link (Teams, Dead letters...) would sit off screen, leaving no sign of where one is, so the
   row starts scrolled to show it.  Only the row scrolls, never the page. */
"use strict";

function showCurrentNavLink() {
  const nav = document.querySelector(".dash-nav");
  const current = nav && nav.querySelector("[aria-current=page]");
  if (!current || nav.scrollWidth <= nav.clientWidth) return;
  const left = current.offsetLeft - nav.offsetLeft;
  if (left + current.offsetWidth > nav.scrollLeft + nav.clientWidth || left < nav.scrollLeft) {
    // Centred, so the links on either side show the row goes on.
    nav.scrollLeft = Math.max(0, left - (nav.clientWidth - current.offsetWidth) / 2);
  }
}

document.addEventListener("DOMContentLoaded", showCurrentNavLink);
