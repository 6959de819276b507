/* The customer 360: volume and sentiment charts from the data embedded in the page. */
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const data = JSON.parse(document.getElementById("c360-data").textContent);
  volumeChart(document.getElementById("volume-chart"), data.volume);
  sentimentChart(document.getElementById("sentiment-chart"), data.sentiment_trend, data.volume.days);
});
