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

// Voting without a reload: a vote form's submit goes to the JSON API and the button shows the
// answer (pressed or not, the new count).  A progressive enhancement: without JavaScript, or
// whenever the API says no (signed out, e-mail not verified, rate limited...), the plain form
// is sent instead and the server's page says what happens next.
(function () {
  "use strict";
  if (!window.fetch || !document.addEventListener) { return; }
  var ACTION = /^\/forum\/ideas\/(\d+)\/vote$/;

  function show(ideaId, voted, count) {
    var forms = document.querySelectorAll("form.vote[action='/forum/ideas/" + ideaId + "/vote']");
    for (var i = 0; i < forms.length; i++) {
      var form = forms[i], button = form.querySelector("button[type=submit]");
      var unvote = form.querySelector("input[name=action]");
      if (voted && !unvote) {
        unvote = document.createElement("input");
        unvote.type = "hidden"; unvote.name = "action"; unvote.value = "unvote";
        form.appendChild(unvote);
      } else if (!voted && unvote) {
        form.removeChild(unvote);
      }
      if (!button) { continue; }
      var label = button.getAttribute("aria-label") || "";
      var title = label.replace(/^(Remove your vote for|Vote for) /, "");
      button.setAttribute("aria-pressed", voted ? "true" : "false");
      button.setAttribute("aria-label", (voted ? "Remove your vote for " : "Vote for ") + title);
      var state = button.querySelector(".vote-state");
      if (state) { state.textContent = voted ? "Voted" : "Vote"; }
    }
    var counts = document.querySelectorAll("[data-vote-count='" + ideaId + "']");
    for (var j = 0; j < counts.length; j++) { counts[j].textContent = String(count); }  // text, never HTML
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    // Only where the server said this viewer can vote; others get the plain form (sign-in...).
    if (!form || !form.classList || !form.classList.contains("vote") || !form.hasAttribute("data-live")) { return; }
    var match = ACTION.exec(form.getAttribute("action") || "");
    var button = form.querySelector("button[type=submit]");
    var csrf = form.querySelector("input[name=csrf]");
    if (!match || !button || !csrf) { return; }
    event.preventDefault();
    if (button.getAttribute("aria-busy") === "true") { return; }  // one request at a time
    var voted = button.getAttribute("aria-pressed") === "true";
    button.setAttribute("aria-busy", "true");
    fetch("/api/ideas/" + match[1] + "/vote", {
      method: voted ? "DELETE" : "POST", credentials: "same-origin",
      headers: {"X-CSRF-Token": csrf.value, "Accept": "application/json"}
    }).then(function (response) {
      if (!response.ok) { throw new Error("vote answered " + response.status); }
      return response.json();
    }).then(function (body) {
      button.removeAttribute("aria-busy");
      show(match[1], body.voted === true, body.vote_count);
    }).catch(function () {
      button.removeAttribute("aria-busy");
      form.submit();  // the plain form, as without JavaScript (does not fire "submit" again)
    });
  });
}());
