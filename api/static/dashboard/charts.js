/* Charts of the dashboard, drawn with the vendored uPlot (api/static/vendor/uplot). */
"use strict";

const SOURCE_COLOURS = ["#2563eb", "#db2777", "#16a34a", "#ea580c", "#7c3aed", "#0891b2", "#ca8a04", "#475569"];

function dayToSeconds(day) {
  return Date.parse(day + "T00:00:00Z") / 1000;
}

function chartWidth(el) {
  return Math.max(240, el.clientWidth || el.parentElement.clientWidth || 600);
}

/* Volume per source (lines), total, 7-day baseline, threshold and spike markers. */
function volumeChart(el, vol) {
  el.textContent = "";
  const xs = vol.days.map(dayToSeconds);
  const data = [xs];
  const series = [{}];
  Object.keys(vol.by_source).forEach((source, i) => {
    data.push(vol.by_source[source]);
    series.push({label: source, stroke: SOURCE_COLOURS[i % SOURCE_COLOURS.length], width: 1.5});
  });
  data.push(vol.total);
  series.push({label: "total", stroke: "#111827", width: 2});
  data.push(vol.baseline);
  series.push({label: "7-day baseline", stroke: "#9ca3af", dash: [6, 4], width: 1.5});
  data.push(vol.threshold);
  series.push({label: "spike threshold", stroke: "#fca5a5", dash: [2, 4], width: 1});
  const spikes = new Set(vol.spikes);
  data.push(vol.days.map((d, i) => (spikes.has(d) ? vol.total[i] : null)));
  series.push({label: "spike", stroke: "#dc2626", width: 0, paths: () => null,
               points: {show: true, size: 10, fill: "#dc2626", stroke: "#dc2626"}});
  const chart = new uPlot({width: chartWidth(el), height: 220, series: series,
                           scales: {x: {time: true}}, axes: [{}, {label: "mentions"}]}, data, el);
  el.dataset.rendered = "1";
  return chart;
}

/* Bars of a labelled count (top authors). */
function barChart(el, labels, values, label) {
  el.textContent = "";
  const xs = labels.map((_, i) => i);
  const bars = uPlot.paths.bars({size: [0.6, 60]});
  const chart = new uPlot({
    width: chartWidth(el), height: 200,
    scales: {x: {time: false, range: [-0.5, Math.max(labels.length - 0.5, 0.5)]}},
    axes: [{values: (u, splits) => splits.map(i => labels[i] ?? "")}, {label: label}],
    series: [{}, {label: label, fill: "#93c5fd", stroke: "#2563eb", paths: bars, points: {show: false}}],
  }, [xs, values], el);
  el.dataset.rendered = "1";
  return chart;
}

/* Daily mean sentiment in [-1, 1]. */
function sentimentChart(el, trend) {
  el.textContent = "";
  if (!trend.length) {
    const p = document.createElement("p");
    p.className = "empty";
    p.textContent = "No sentiment yet: it appears once mentions are analysed.";
    el.appendChild(p);
    el.dataset.rendered = "empty";
    return null;
  }
  const chart = new uPlot({width: chartWidth(el), height: 180,
                           scales: {x: {time: true}, y: {range: [-1, 1]}},
                           series: [{}, {label: "sentiment", stroke: "#16a34a", width: 2}]},
                          [trend.map(t => dayToSeconds(t.day)), trend.map(t => t.sentiment)], el);
  el.dataset.rendered = "1";
  return chart;
}

async function fetchJson(url, options) {
  const resp = await fetch(url, Object.assign({headers: {"Accept": "application/json"}}, options || {}));
  const body = await resp.json();
  if (!resp.ok) {
    throw new Error(body && body.error ? body.error.message : "request failed: " + resp.status);
  }
  return body;
}
