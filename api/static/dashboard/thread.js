/* The thread view: the mention asked for gets the focus; j/k move between the posts. */
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const cards = Array.from(document.querySelectorAll("#thread > li.mention"));
  for (const card of cards) card.tabIndex = -1;
  const focused = document.querySelector("#thread > li.focused") || cards[0];
  if (focused) focused.focus();

  document.addEventListener("keydown", ev => {
    if (ev.target.closest("input, textarea, select") || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const at = cards.indexOf(document.activeElement.closest("#thread > li.mention"));
    if (ev.key === "j" || ev.key === "k") {
      ev.preventDefault();
      const next = cards[Math.max(0, Math.min(cards.length - 1, (at < 0 ? 0 : at) + (ev.key === "j" ? 1 : -1)))];
      if (next) next.focus();
    } else if (ev.key === "Enter" && at >= 0 && ev.target === cards[at]) {
      const original = cards[at].querySelector("a.original");
      if (original) original.click();
    } else if (ev.key === "Escape") {
      location.assign("/dashboard");
    }
  });
});
