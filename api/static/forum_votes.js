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

// Voting without a reload: a vote button's submit goes to the JSON API and the button shows the
// answer (pressed or not, the new count).  A progressive enhancement: without JavaScript, or
// whenever the API says no (signed out, e-mail not verified, rate limited...), the plain form
// is sent instead and the server's page says what happens next.  Two forms vote: the ideas
// list's one form, whose pressed button says which idea (vote=7 / unvote=7), and an idea
// page's own form (action /forum/ideas/7/vote).
(function () {
  "use strict";
  if (!window.fetch || !document.addEventListener) { return; }
  var ACTION = /^\/forum\/ideas\/(\d+)\/vote$/;

  function show(ideaId, voted, count) {
    var buttons = document.querySelectorAll("form.votes button.vote[value='" + ideaId + "'], " +
                                            "form.vote[action='/forum/ideas/" + ideaId + "/vote'] button.vote");
    for (var i = 0; i < buttons.length; i++) {
      var button = buttons[i], form = button.form;
      if (form && form.classList.contains("votes")) {
        button.name = voted ? "unvote" : "vote";  // what pressing it again does without JavaScript
      } else if (form) {
        var unvote = form.querySelector("input[name=action]");
        if (voted && !unvote) {
          unvote = document.createElement("input");
          unvote.type = "hidden"; unvote.name = "action"; unvote.value = "unvote";
          form.appendChild(unvote);
        } else if (!voted && unvote) {
          form.removeChild(unvote);
        }
      }
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

  // The idea a submit is for, and the button that shows it; null when it is no vote.
  function target(form, submitter) {
    if (form.classList.contains("votes")) {
      var button = submitter || document.activeElement;
      if (!button || button.form !== form || !/^\d+$/.test(button.value || "")) { return null; }
      return {id: button.value, button: button};
    }
    var match = ACTION.exec(form.getAttribute("action") || "");
    var own = form.querySelector("button.vote");
    return match && own ? {id: match[1], button: own} : null;
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    // Only where the server said this viewer can vote; others get the plain form (sign-in...).
    if (!form || !form.classList || !form.hasAttribute("data-live") ||
        !(form.classList.contains("vote") || form.classList.contains("votes"))) { return; }
    var vote = target(form, event.submitter);
    var csrf = form.querySelector("input[name=csrf]");
    if (!vote || !csrf) { return; }
    event.preventDefault();
    var button = vote.button;
    if (button.getAttribute("aria-busy") === "true") { return; }  // one request at a time
    var voted = button.getAttribute("aria-pressed") === "true";
    button.setAttribute("aria-busy", "true");
    fetch("/api/ideas/" + vote.id + "/vote", {
      method: voted ? "DELETE" : "POST", credentials: "same-origin",
      headers: {"X-CSRF-Token": csrf.value, "Accept": "application/json"}
    }).then(function (response) {
      if (!response.ok) { throw new Error("vote answered " + response.status); }
      return response.json();
    }).then(function (body) {
      button.removeAttribute("aria-busy");
      show(vote.id, body.voted === true, body.vote_count);
    }).catch(function () {
      button.removeAttribute("aria-busy");
      // The plain form, as without JavaScript (submit() sends no button: say which one).
      if (form.classList.contains("votes")) {
        var pressed = document.createElement("input");
        pressed.type = "hidden"; pressed.name = button.name; pressed.value = button.value;
        form.appendChild(pressed);
      }
      form.submit();  // does not fire "submit" again
    });
  });
}());
