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
  // With no mention at all the chart's own message says why; the spike rule would be noise.
  if (!vol.total.some(n => n > 0)) return "";
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
    li.appendChild(document.createTextNode(": " + a.summary + " · " + a.day));
    list.appendChild(li);
  }
}

/* The period of the picker as a query string: a preset's days, or the custom from/to. */
function periodQuery() {
  const form = document.getElementById("analytics-filters");
  const days = form.elements.days.value;
  if (days) return new URLSearchParams({days: days});
  const q = new URLSearchParams();
  if (form.elements.since.value) q.set("since", form.elements.since.value);
  if (form.elements.until.value) q.set("until", form.elements.until.value);
  return q;
}

function periodLabel(vol) {
  const fmt = day => new Date(day + "T00:00:00Z").toLocaleDateString(undefined,
    {day: "numeric", month: "short", year: "numeric", timeZone: "UTC"});
  return vol.days.length ? fmt(vol.days[0]) + " \u2013 " + fmt(vol.days[vol.days.length - 1]) : "";
}

let loadCount = 0;  // the newest load wins: an older answer arriving late is dropped
// The manager typed a day since the last Apply: a load still under way must not overwrite it.
let periodEdited = false;

/* The period's headline numbers, from the same answers as the charts below them. */
function renderHeadline(vol, alerts, topics, voice) {
  const set = (id, text) => { document.getElementById(id).textContent = text; };
  set("kpi-mentions", vol.total.reduce((sum, n) => sum + n, 0).toLocaleString("en"));
  set("kpi-spikes", vol.spikes.length.toLocaleString("en"));
  set("kpi-alerts", alerts.length.toLocaleString("en"));
  const ours = voice.configured && voice.items.find(v => v.ours);
  set("kpi-voice", ours ? percent(ours.share) : "—");
  set("kpi-topic", topics.share.length ? topics.share[0].topic : "—");
}

async function loadAnalytics() {
  const load = ++loadCount;
  const period = periodQuery();
  const q = "?" + period.toString();
  // Alerts of the same days: a preset as its first day (the alerts' own ``days`` stops at 90).
  const alertQuery = "?" + (period.has("days") ? new URLSearchParams({since: new Date(
    Date.now() - (Number(period.get("days")) - 1) * 86400000).toISOString().slice(0, 10)}) : period);
  const [vol, alerts, topics, sentiment, voice, response, authors] = await Promise.all([
    fetchJson("/api/dashboard/analytics/volume" + q),
    fetchJson("/api/dashboard/alerts" + alertQuery),
    fetchJson("/api/dashboard/analytics/topics" + q),
    fetchJson("/api/dashboard/analytics/sentiment" + q),
    fetchJson("/api/dashboard/analytics/share-of-voice" + q),
    fetchJson("/api/dashboard/analytics/first-response" + q),
    fetchJson("/api/dashboard/analytics/top-authors" + q),
  ]);
  if (load !== loadCount) return;
  document.getElementById("period-label").textContent = periodLabel(vol);
  if (vol.days.length) {  // the export downloads the period shown (its until is exclusive)
    const exporting = document.getElementById("export").elements;
    exporting.since.value = vol.days[0];
    exporting.until.value = new Date(Date.parse(vol.days[vol.days.length - 1] + "T00:00:00Z") + 86400000)
      .toISOString().slice(0, 10);
    document.getElementById("export-period").textContent = periodLabel(vol);
  }
  const form = document.getElementById("analytics-filters");
  if (!periodEdited) {
    form.elements.since.value = vol.days[0] || "";
    form.elements.until.value = vol.days[vol.days.length - 1] || "";
  }
  const alertDays = alerts.items.map(a => a.day);
  const volume = document.getElementById("volume-chart");
  volumeChart(volume, vol, alertDays);
  volume.dataset.period = period.toString();  // which period the chart shows (and tests wait for)
  document.getElementById("spikes").textContent = spikeSummary(vol);
  renderAlerts(alerts.items);
  renderHeadline(vol, alerts.items, topics, voice);
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
  // One handle on two platforms is two authors: the platform tells their bars apart.
  const handles = authors.items.map(a => a.handle);
  barChart(document.getElementById("authors-chart"), authors.items.map(a =>
    "@" + a.handle + (handles.indexOf(a.handle) !== handles.lastIndexOf(a.handle) ? " (" + a.source + ")" : "")),
           authors.items.map(a => a.mentions), "mentions");
}

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("analytics-filters");
  const error = document.getElementById("period-error");
  // ``first``: the page's own load, which keeps a refusal of the URL's period shown (the
  // server then filled in the last 30 days) until the manager picks another period.
  const run = first => {
    // The period lives in the URL, so the page can be linked and reloaded as it is.
    history.replaceState(null, "", location.pathname + "?" + periodQuery().toString());
    periodEdited = false;  // this load's period is the one in the fields
    return loadAnalytics().then(() => { if (first !== true) error.hidden = true; }).catch(err => {
      error.textContent = err.message;
      error.hidden = false;
    });
  };
  form.elements.days.addEventListener("change", () => {
    if (form.elements.days.value) run();
    else form.elements.since.focus();  // custom: the manager picks the days, then Apply
  });
  for (const name of ["since", "until"]) {
    form.elements[name].addEventListener("change", () => {
      form.elements.days.value = "";
      periodEdited = true;
    });
  }
  form.addEventListener("submit", event => {
    event.preventDefault();
    run();
  });
  run(true);
});
