// Live vote counts: refresh the counts on the page without a reload.  A progressive
// enhancement: without JavaScript the counts are those of the page load and every vote
// button still works as a plain form.
(function () {
  "use strict";
  var PERIOD = 10000;
  if (!window.fetch || !document.querySelectorAll) { return; }
  function counters() { return document.querySelectorAll("[data-vote-count]"); }
  function refresh() {
    if (document.hidden) { return; }
    var nodes = counters(), ids = [];
    for (var i = 0; i < nodes.length && ids.length < 100; i++) {
      var id = nodes[i].getAttribute("data-vote-count");
      if (/^\d+$/.test(id) && ids.indexOf(id) < 0) { ids.push(id); }
    }
    if (!ids.length) { return; }
    fetch("/api/ideas/votes?ids=" + ids.join(","), {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.json() : {items: {}}; })
      .then(function (body) {
        var items = body.items || {}, nodes = counters();
        for (var j = 0; j < nodes.length; j++) {
          var count = items[nodes[j].getAttribute("data-vote-count")];
          if (typeof count === "number") { nodes[j].textContent = String(count); }  // text, never HTML
        }
      })
      .catch(function () { /* keep the counts shown; try again next period */ });
  }
  window.crmsphereRefreshVotes = refresh;
  setInterval(refresh, PERIOD);
  document.addEventListener("visibilitychange", refresh);
}());
