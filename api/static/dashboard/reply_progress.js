/* Replies on their way: approving only records the approval and the sender posts a moment later,
   off the request.  While a reply shown here is approved or sending (and not waiting for a rate
   limit), the page asks for its state every second and, once it moved on, swaps in the parts of
   the page as the server renders them now (never the reply box someone may be typing in). */
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const EVERY_MS = 1000;
  const GIVE_UP_MS = 120000; // the replies job goes on sending; a reload shows it
  const started = Date.now();
  const watched = () => Array.from(document.querySelectorAll("li.reply-item[data-watch]"));

  const moved = async item => {
    const resp = await fetch(`/api/replies/${encodeURIComponent(item.dataset.reply)}`,
                             {credentials: "same-origin", headers: {Accept: "application/json"}});
    if (!resp.ok) return false;
    const reply = await resp.json();
    return reply.state !== item.dataset.state || Boolean(reply.retry_after);
  };

  const refresh = async () => {
    const resp = await fetch(location.pathname + location.search, {credentials: "same-origin"});
    if (!resp.ok) return;
    const fresh = new DOMParser().parseFromString(await resp.text(), "text/html");
    for (const part of document.querySelectorAll("[data-refresh][id]")) {
      const now = fresh.getElementById(part.id);
      if (now) part.replaceWith(document.importNode(now, true));
    }
    for (const item of watched()) {
      const now = fresh.getElementById(item.id);
      if (now) item.replaceWith(document.importNode(now, true));
    }
  };

  const tick = async () => {
    const items = watched();
    if (!items.length || Date.now() - started > GIVE_UP_MS) return;
    try {
      for (const item of items) {
        if (await moved(item)) {
          await refresh();
          break;
        }
      }
    } catch (err) {
      // The network hiccupped: ask again on the next tick.
    }
    setTimeout(tick, EVERY_MS);
  };
  if (watched().length) setTimeout(tick, EVERY_MS);
});
