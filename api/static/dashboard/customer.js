/* The customer 360: volume and sentiment charts from the data embedded in the page. */
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const data = JSON.parse(document.getElementById("c360-data").textContent);
  const volumeEl = document.getElementById("volume-chart");
  const sentimentEl = document.getElementById("sentiment-chart");
  volumeChart(volumeEl, data.volume);
  const quiet = !data.volume.total.some(n => n > 0);
  if (quiet && data.latest) {
    // A customer who spoke before the period is not one with "no mentions yet": say when.
    volumeEl.querySelector(".empty").textContent = "No mentions in the last 30 days: the latest was on " +
      data.latest.slice(0, 10) + " (in the timeline below).";
  }
  // The trend over the period's days only: days before it would draw empty axes.
  const shown = new Set(data.volume.days);
  sentimentChart(sentimentEl, data.sentiment_trend.filter(t => shown.has(t.day)), data.volume.days);
  if (quiet && data.latest) {
    sentimentEl.querySelector(".empty").textContent = "No mentions in the last 30 days, so no sentiment to show.";
  }
});
