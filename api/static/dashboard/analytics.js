/* Analytics: volume with baseline and spikes, top authors. */
"use strict";

async function loadAnalytics() {
  const days = document.querySelector("#analytics-filters [name=days]").value;
  const vol = await fetchJson("/api/dashboard/analytics/volume?days=" + encodeURIComponent(days));
  volumeChart(document.getElementById("volume-chart"), vol);
  const spikes = document.getElementById("spikes");
  spikes.textContent = vol.spikes.length ? "Spikes on " + vol.spikes.join(", ") : "No spikes in this period.";
  const authors = await fetchJson("/api/dashboard/analytics/top-authors?days=" + encodeURIComponent(days));
  const body = document.querySelector("#top-authors tbody");
  body.textContent = "";
  for (const a of authors.items) {
    const tr = document.createElement("tr");
    for (const v of ["@" + a.handle + (a.name ? " (" + a.name + ")" : ""), a.source, a.mentions, a.engagement]) {
      const td = document.createElement("td");
      td.textContent = v;
      tr.appendChild(td);
    }
    body.appendChild(tr);
  }
  barChart(document.getElementById("authors-chart"), authors.items.map(a => "@" + a.handle),
           authors.items.map(a => a.mentions), "mentions");
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelector("#analytics-filters [name=days]").addEventListener("change", loadAnalytics);
  loadAnalytics().catch(err => { document.getElementById("spikes").textContent = err.message; });
});
