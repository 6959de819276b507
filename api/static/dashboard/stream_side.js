/* The stream page's side column: source health (refreshed every 30 s) and the volume chart
   with the spike days.  Uses fetchJson, loadUplot and volumeChart (charts.js) and showError
   (stream.js). */
"use strict";

const TROUBLED_STATES = new Set(["degraded", "failing", "auth_failed", "not_configured"]);

async function loadHealth() {
  try {
    const body = await fetchJson("/api/sources");
    const tbody = document.querySelector("#source-health tbody");
    tbody.textContent = "";
    if (!body.items.length) {
      const tr = document.createElement("tr");
      const td = document.createElement("td");
      td.colSpan = 4;
      td.className = "empty";
      // Say what to do: with no source nothing will ever arrive on this page.
      td.textContent = "No sources configured, so no posts will arrive. Add a [[sources]] " +
                       "section to the config file (Reddit, X, Mastodon, Bluesky, RSS... or a push " +
                       "endpoint; docs/sources.md), or import a file with crmsphere import posts.";
      tr.appendChild(td);
      tbody.appendChild(tr);
    }
    for (const s of body.items) {
      const state = s.paused ? "paused" : s.state;
      const reason = s.problem || s.error || "";
      const tr = document.createElement("tr");
      tr.className = "state-" + state;
      tr.title = reason;
      for (const v of [s.key + " (" + s.kind + ")", state,
                       s.last_success_at ? s.last_success_at.slice(0, 16).replace("T", " ") : "—", s.total_items]) {
        const td = document.createElement("td");
        if (v === state) {
          const badge = document.createElement("span");
          badge.className = "badge source-state state-" + state;
          badge.textContent = state.replace("_", " ");
          td.appendChild(badge);
        } else {
          td.textContent = v;
        }
        tr.appendChild(td);
      }
      tbody.appendChild(tr);
      if (reason && TROUBLED_STATES.has(state)) {
        // Shown, not only in a tooltip: what is wrong is what a manager needs to act on.
        const note = document.createElement("tr");
        note.className = "health-reason state-" + state;
        const td = document.createElement("td");
        td.colSpan = 4;
        td.textContent = reason;
        note.appendChild(td);
        tbody.appendChild(note);
      }
    }
  } catch (err) {
    showError("source health: " + err.message);
  }
}

async function loadVolume() {
  const el = document.getElementById("volume-chart");
  const [vol, alerts] = await Promise.all([
    fetchJson("/api/dashboard/analytics/volume?days=" + el.dataset.days),
    fetchJson("/api/dashboard/alerts?days=" + el.dataset.days), loadUplot()]);
  volumeChart(el, vol, alerts.items.map(a => a.day));
}

document.addEventListener("DOMContentLoaded", () => {
  loadHealth();
  setInterval(loadHealth, 30000);
  loadVolume().catch(err => showError("volume: " + err.message));
});
