// Similar ideas while typing a title: a progressive enhancement of the plain submit form.
(function () {
  "use strict";
  var input = document.getElementById("idea-title");
  var box = document.getElementById("similar-ideas");
  if (!input || !box || !window.fetch) { return; }
  var timer = null, last = "";
  function show(items) {
    box.textContent = "";
    if (!items.length) { return; }
    var p = document.createElement("p");
    p.textContent = "Similar ideas — vote there instead?";
    var ul = document.createElement("ul");
    items.forEach(function (item) {
      var li = document.createElement("li"), a = document.createElement("a");
      a.href = "/forum/ideas/" + encodeURIComponent(item.id);
      a.textContent = item.title;  // text, never HTML
      li.appendChild(a);
      if (typeof item.vote_count === "number") {
        // "3 votes · Planned": is it worth voting there instead?
        var meta = document.createElement("span");
        meta.className = "similar-meta";
        meta.textContent = item.vote_count + (item.vote_count === 1 ? " vote" : " votes") +
          (item.status_label ? " · " + item.status_label : "");
        li.appendChild(meta);
      }
      ul.appendChild(li);
    });
    box.appendChild(p);
    box.appendChild(ul);
  }
  function lookup() {
    var title = input.value.trim();
    if (title === last) { return; }
    last = title;
    if (title.length < 3) { show([]); return; }
    fetch("/api/ideas/similar?title=" + encodeURIComponent(title), {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.json() : {items: []}; })
      .then(function (body) { if (title === last) { show(body.items || []); } })
      .catch(function () { show([]); });
  }
  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(lookup, 250);
  });
  // A title already there (the empty search's "Suggest it", a title kept through sign-in):
  // its similar ideas at once, before the customer writes the rest.
  if (input.value.trim()) { lookup(); }
}());
