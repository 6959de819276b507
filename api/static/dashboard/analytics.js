/* Analytics: volume with baseline, spikes and alerts; topics; sentiment; share of voice;
   first-response time; top authors. */
"use strict";

function fillTable(selector, rows) {
  const body = document.querySelector(selector + " tbody");
  body.textContent = "";
  for (const row of rows) {
    const tr = document.createElement("tr");
    if (row.className) tr.className = row.className;
    for (const v of row.cells) {
      const td = document.createElement("td");
      td.textContent = v;
      tr.appendChild(td);
    }
    body.appendChild(tr);
  }
}

function percent(share) {
  return (share * 100).toFixed(1) + " %";
}

/* What the spike markers of the volume chart mean, by the rule the alerts use too. */
function spikeSummary(vol) {
  const rule = vol.spike_rule;
  const how = "total mentions of a day above its " + rule.baseline_days + "-day mean + " + rule.k +
              " standard deviations, and at least " + rule.min_volume;
  if (!vol.spikes.length) return "No day's total volume spiked in this period (" + how + ").";
  const days = vol.spikes.length === 1 ? "1 day" : vol.spikes.length + " days";
  return "Total volume spiked on " + days + ": " + vol.spikes.join(", ") + " (" + how + ").";
}

function renderAlerts(items) {
  const list = document.getElementById("alerts");
  list.textContent = "";
  if (!items.length) {
    const li = document.createElement("li");
    li.className = "empty";
    li.textContent = "No topic or customer crossed its alert threshold in this period.";
    list.appendChild(li);
  }
  for (const a of items) {
    const li = document.createElement("li");
    li.className = "alert alert-" + a.kind;
    const link = document.createElement("a");
    link.href = "/dashboard?" + new URLSearchParams({[a.kind === "customer" ? "customer" : "topic"]: a.subject});
    link.textContent = a.kind + " " + a.subject_name;
    li.appendChild(link);
    li.appendChild(document.createTextNode(": " + a.count + " in 24 h (threshold " + a.threshold + ") · " + a.day));
    list.appendChild(li);
  }
}

async function loadAnalytics() {
  const days = document.querySelector("#analytics-filters [name=days]").value;
  const q = "?days=" + encodeURIComponent(days);
  const [vol, alerts, topics, sentiment, voice, response, authors] = await Promise.all([
    fetchJson("/api/dashboard/analytics/volume" + q),
    fetchJson("/api/dashboard/alerts?days=" + encodeURIComponent(Math.min(Number(days), 90))),
    fetchJson("/api/dashboard/analytics/topics" + q),
    fetchJson("/api/dashboard/analytics/sentiment" + q),
    fetchJson("/api/dashboard/analytics/share-of-voice" + q),
    fetchJson("/api/dashboard/analytics/first-response" + q),
    fetchJson("/api/dashboard/analytics/top-authors" + q),
  ]);
  const alertDays = alerts.items.map(a => a.day);
  volumeChart(document.getElementById("volume-chart"), vol, alertDays);
  document.getElementById("spikes").textContent = spikeSummary(vol);
  renderAlerts(alerts.items);
  volumeChart(document.getElementById("topic-chart"), topics, alertDays);

  barChart(document.getElementById("topic-share-chart"), topics.share.map(t => t.topic),
           topics.share.map(t => t.mentions), "mentions");
  fillTable("#topic-share", topics.share.map(t => ({cells: [t.topic, t.mentions, percent(t.share)]})));

  barChart(document.getElementById("voice-chart"), voice.items.map(v => v.name),
           voice.items.map(v => v.mentions), "mentions");
  fillTable("#voice", voice.configured
    ? voice.items.map(v => ({cells: [v.name + (v.ours ? " (us)" : ""), v.mentions, percent(v.share)],
                             className: v.ours ? "ours" : ""}))
    : [{cells: ["No brands configured ([dashboard] brand and competitors)", "", ""]}]);

  sentimentChart(document.getElementById("sentiment-chart"), sentiment.items, vol.days);
  const hours = key => spreadOverDays(vol.days, response.items, d => d.day, d => +(d[key] / 3600).toFixed(2));
  dayLinesChart(document.getElementById("response-chart"), response.items.length ? vol.days : [], [
    {label: "median", values: hours("median_seconds")},
    {label: "p90", values: hours("p90_seconds")},
  ], "hours");

  fillTable("#top-authors", authors.items.map(a => ({cells: [
    "@" + a.handle + (a.name ? " (" + a.name + ")" : ""), a.source, a.mentions, a.engagement]})));
  barChart(document.getElementById("authors-chart"), authors.items.map(a => "@" + a.handle),
           authors.items.map(a => a.mentions), "mentions");
}

document.addEventListener("DOMContentLoaded", () => {
  const run = () => loadAnalytics().catch(err => { document.getElementById("spikes").textContent = err.message; });
  document.querySelector("#analytics-filters [name=days]").addEventListener("change", run);
  run();
});
