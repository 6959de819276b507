/* Charts of the dashboard, drawn with the vendored uPlot (api/static/vendor/uplot). */
"use strict";

const SOURCE_COLOURS = ["#2563eb", "#db2777", "#16a34a", "#ea580c", "#7c3aed", "#0891b2", "#ca8a04", "#475569"];

/* The page's design tokens (design.css), read when a chart is drawn: uPlot paints on a canvas,
   which CSS cannot colour, so axes, grid and the total follow light or dark mode from here. */
function tokens() {
  const css = getComputedStyle(document.body);
  const read = (name, fallback) => css.getPropertyValue(name).trim() || fallback;
  return {fg: read("--fg", "#161b26"), muted: read("--muted", "#5d6679"), grid: read("--border", "#e3e6ec"),
          danger: read("--danger", "#c0362c"), warning: read("--warning", "#b54708"), ok: read("--ok", "#15803d")};
}

/* uPlot's x and y axes in the theme's colours; ``y`` adds options (a label) to the y axis. */
function themedAxes(y) {
  const t = tokens();
  const axis = {stroke: t.muted, grid: {stroke: t.grid, width: 1}, ticks: {stroke: t.grid, width: 1}};
  return [axis, Object.assign({}, axis, y || {})];
}

function dayToSeconds(day) {
  return Date.parse(day + "T00:00:00Z") / 1000;
}

function chartWidth(el) {
  return Math.max(240, el.clientWidth || el.parentElement.clientWidth || 600);
}

/* A readable tooltip for a chart over days: the date and every series' value at the pointer,
   and the same with the keyboard (the chart takes the focus; arrow keys, Home and End move
   between days).  The tooltip is a live region, so a screen reader reads the day it shows. */
function dayTooltip(el, unit) {
  let tip = null;
  const fmt = v => (v == null ? "—" : (Number.isInteger(v) ? v : Number(v).toFixed(2)) + (unit ? " " + unit : ""));
  const show = u => {
    const i = u.cursor.idx;
    if (i == null || u.cursor.left < 0) { tip.hidden = true; return; }
    tip.textContent = "";
    const head = document.createElement("strong");
    head.textContent = new Date(u.data[0][i] * 1000).toISOString().slice(0, 10);
    tip.appendChild(head);
    u.series.forEach((s, k) => {
      if (k === 0 || !s.show || u.data[k][i] == null) return;
      const line = document.createElement("span");
      line.textContent = s.label + ": " + fmt(u.data[k][i]);
      tip.appendChild(line);
    });
    tip.hidden = false;
    const left = u.valToPos(u.data[0][i], "x");
    tip.classList.toggle("flip", left > u.over.clientWidth / 2);  // stay inside the plot
    tip.style.left = left + "px";
  };
  return {hooks: {
    init: u => {
      tip = document.createElement("div");
      tip.className = "chart-tooltip";
      tip.setAttribute("role", "status");
      tip.hidden = true;
      u.over.appendChild(tip);
      const heading = el.closest("section") && el.closest("section").querySelector("h2");
      el.tabIndex = 0;
      el.setAttribute("role", "group");
      el.setAttribute("aria-label", (heading ? heading.textContent : "Chart") +
                      ": a chart by day; arrow keys move between days");
      el.addEventListener("keydown", event => {
        const last = u.data[0].length - 1;
        const now = u.cursor.idx == null ? -1 : u.cursor.idx;
        const next = {ArrowRight: Math.min(last, now + 1), ArrowLeft: Math.max(0, now - 1),
                      Home: 0, End: last}[event.key];
        if (next === undefined) return;
        event.preventDefault();
        u.setCursor({left: u.valToPos(u.data[0][next], "x"), top: u.over.clientHeight / 2});
      });
      el.addEventListener("focus", () => {
        if (u.cursor.idx == null) {
          const last = u.data[0].length - 1;
          u.setCursor({left: u.valToPos(u.data[0][last], "x"), top: u.over.clientHeight / 2});
        }
      });
      el.addEventListener("blur", () => { tip.hidden = true; });
    },
    setCursor: show,
  }};
}

/* Volume per source or topic (lines), total, 7-day baseline, threshold, spike markers and
   (when given) markers on the days a spike alert was raised. */
function volumeChart(el, vol, alertDays) {
  el.textContent = "";
  if (!vol.total.some(n => n > 0)) {
    // A flat line at zero reads as "the chart is broken": say why there is nothing to draw.
    const p = document.createElement("p");
    p.className = "empty";
    p.textContent = "No mentions in this period yet. The chart draws itself as the configured " +
                    "sources collect posts (or when a file is imported).";
    el.appendChild(p);
    el.dataset.rendered = "empty";
    return null;
  }
  const xs = vol.days.map(dayToSeconds);
  const data = [xs];
  const series = [{}];
  const byKey = vol.by_source || vol.by_topic || {};
  Object.keys(byKey).forEach((source, i) => {
    data.push(byKey[source]);
    series.push({label: source, stroke: SOURCE_COLOURS[i % SOURCE_COLOURS.length], width: 1.5});
  });
  data.push(vol.total);
  const t = tokens();
  series.push({label: "total", stroke: t.fg, width: 2});
  data.push(vol.baseline);
  series.push({label: "7-day baseline", stroke: t.muted, dash: [6, 4], width: 1.5});
  data.push(vol.threshold);
  series.push({label: "spike threshold", stroke: "#fca5a5", dash: [2, 4], width: 1});
  const spikes = new Set(vol.spikes);
  data.push(vol.days.map((d, i) => (spikes.has(d) ? vol.total[i] : null)));
  series.push({label: "spike", stroke: t.danger, width: 0, paths: () => null,
               points: {show: true, size: 10, fill: t.danger, stroke: t.danger}});
  if (alertDays && alertDays.length) {
    const alerted = new Set(alertDays);
    data.push(vol.days.map((d, i) => (alerted.has(d) ? vol.total[i] : null)));
    series.push({label: "alert raised", stroke: t.warning, width: 0, paths: () => null,
                 points: {show: true, size: 14, fill: "transparent", stroke: t.warning, width: 2}});
  }
  const chart = new uPlot({width: chartWidth(el), height: 220, series: series, legend: {live: false},
                           plugins: [dayTooltip(el, "")], scales: {x: {time: true}, y: {range: zeroBased}},
                           axes: themedAxes({label: "mentions"})}, data, el);
  el.dataset.rendered = "1";
  return chart;
}

/* A y range from zero to a little above the largest value: counts and hours start at zero. */
function zeroBased(u, min, max) {
  return [0, max > 0 ? max * 1.1 : 1];
}

const SVG_NS = "http://www.w3.org/2000/svg";

function svgElement(name, attributes) {
  const el = document.createElementNS(SVG_NS, name);
  for (const [key, value] of Object.entries(attributes || {})) el.setAttribute(key, value);
  return el;
}

/* ``label`` cut to about ``width`` pixels of 12 px text, with an ellipsis when cut. */
function fitLabel(label, width) {
  const chars = Math.max(4, Math.floor(width / 7));
  return label.length <= chars ? label : label.slice(0, chars - 1) + "\u2026";
}

/* Horizontal bars of a labelled count (topic share, share of voice, top authors), drawn as
   SVG: one row per label, so labels never overlap at any width; bars start at zero; every bar
   is focusable and named ("billing: 30 mentions"), with the same text as its tooltip. */
function barChart(el, labels, values, label) {
  el.textContent = "";
  if (!labels.length) {
    const p = document.createElement("p");
    p.className = "empty";
    p.textContent = "Nothing to show for this period yet.";
    el.appendChild(p);
    el.dataset.rendered = "empty";
    return null;
  }
  const width = chartWidth(el), row = 28, valueWidth = 48;
  const labelWidth = Math.min(Math.round(width * 0.4), 180);
  const barSpace = Math.max(40, width - labelWidth - valueWidth - 8);
  const max = Math.max(1, ...values);  // zero-based: a bar's length is its share of the largest
  const heading = el.closest("section") && el.closest("section").querySelector("h2");
  const svg = svgElement("svg", {width: width, height: row * labels.length, role: "list",
                                 class: "bar-chart", "aria-label": (heading ? heading.textContent + ": " : "") +
                                 labels.length + " bars, " + label});
  labels.forEach((name, i) => {
    const y = i * row, length = Math.round((values[i] / max) * barSpace);
    const text = name + ": " + values[i] + " " + label;
    const item = svgElement("g", {role: "listitem", tabindex: "0", class: "bar", "aria-label": text,
                                  "data-value": values[i]});
    const title = svgElement("title");
    title.textContent = text;
    item.appendChild(title);
    const name_ = svgElement("text", {x: labelWidth - 6, y: y + row / 2, class: "bar-label",
                                      "text-anchor": "end", "dominant-baseline": "middle"});
    name_.textContent = fitLabel(name, labelWidth - 8);
    item.appendChild(name_);
    item.appendChild(svgElement("rect", {x: labelWidth, y: y + 5, height: row - 10,
                                         width: Math.max(values[i] > 0 ? 2 : 0, length),
                                         rx: 3, class: "bar-fill"}));
    const value = svgElement("text", {x: labelWidth + length + 6, y: y + row / 2, class: "bar-value",
                                      "dominant-baseline": "middle"});
    value.textContent = values[i];
    item.appendChild(value);
    svg.appendChild(item);
  });
  el.appendChild(svg);
  el.dataset.rendered = "1";
  return svg;
}

/* Several labelled lines over days (first-response median and p90). */
function dayLinesChart(el, days, lines, yLabel) {
  el.textContent = "";
  if (!days.length) {
    const p = document.createElement("p");
    p.className = "empty";
    p.textContent = "Nothing to show for this period yet.";
    el.appendChild(p);
    el.dataset.rendered = "empty";
    return null;
  }
  const series = [{}];
  const data = [days.map(dayToSeconds)];
  lines.forEach((line, i) => {
    data.push(line.values);
    series.push({label: line.label, stroke: SOURCE_COLOURS[i % SOURCE_COLOURS.length], width: 2,
                 spanGaps: true, points: {show: true, size: 5}});
  });
  const chart = new uPlot({width: chartWidth(el), height: 200, series: series, legend: {live: false},
                           plugins: [dayTooltip(el, yLabel)], scales: {x: {time: true}, y: {range: zeroBased}},
                           axes: themedAxes({label: yLabel})}, data, el);
  el.dataset.rendered = "1";
  return chart;
}

/* Values by day spread over every day of ``days`` (null where a day has none), so that a
   chart spans the whole period even when only a few days have data. */
function spreadOverDays(days, items, dayOf, valueOf) {
  const byDay = new Map(items.map(item => [dayOf(item), valueOf(item)]));
  return days.map(d => (byDay.has(d) ? byDay.get(d) : null));
}

/* Daily mean sentiment in [-1, 1]; over every day of ``days`` when given. */
function sentimentChart(el, trend, days) {
  el.textContent = "";
  if (!trend.length) {
    const p = document.createElement("p");
    p.className = "empty";
    p.textContent = "No sentiment yet: it appears once mentions are analysed.";
    el.appendChild(p);
    el.dataset.rendered = "empty";
    return null;
  }
  const xs = days || trend.map(t => t.day);
  const ys = spreadOverDays(xs, trend, t => t.day, t => t.sentiment);
  const chart = new uPlot({width: chartWidth(el), height: 180, legend: {live: false},
                           plugins: [dayTooltip(el, "")], scales: {x: {time: true}, y: {range: [-1, 1]}}, axes: themedAxes(),
                           series: [{}, {label: "sentiment", stroke: tokens().ok, width: 2, spanGaps: true,
                                         points: {show: true, size: 5}}]},
                          [xs.map(dayToSeconds), ys], el);
  el.dataset.rendered = "1";
  return chart;
}

/* uPlot, fetched when a chart is first drawn on a page that does not link it (the stream: its
   first paint waits for no chart library); the page names the files (with their content hashes)
   in data-uplot-js and data-uplot-css. */
let uplotLoading = null;
function loadUplot() {
  if (window.uPlot) return Promise.resolve();
  if (uplotLoading) return uplotLoading;
  const urls = document.body.dataset;
  uplotLoading = new Promise((resolve, reject) => {
    const css = document.createElement("link");
    css.rel = "stylesheet";
    css.href = urls.uplotCss;
    document.head.appendChild(css);
    const js = document.createElement("script");
    js.src = urls.uplotJs;
    js.onload = () => resolve();
    js.onerror = () => { uplotLoading = null; reject(new Error("the chart library did not load")); };
    document.head.appendChild(js);
  });
  return uplotLoading;
}

async function fetchJson(url, options) {
  const resp = await fetch(url, Object.assign({headers: {"Accept": "application/json"}}, options || {}));
  const body = await resp.json();
  if (!resp.ok) {
    throw new Error(body && body.error ? body.error.message : "request failed: " + resp.status);
  }
  return body;
}
