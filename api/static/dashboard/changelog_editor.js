// The changelog editor: search ideas while typing (the "Search ideas" button does the same
// without JavaScript).  Results come from GET /api/ideas; picked ones stay in the form.
(function () {
  "use strict";
  var find = document.getElementById("find");
  var found = document.getElementById("found");
  var picked = document.getElementById("picked");
  if (!find || !found || !picked) return;
  var timer = null;
  var asked = 0;

  function pickedIds() {
    var ids = {};
    picked.querySelectorAll("input[name=idea]").forEach(function (box) { ids[box.value] = true; });
    return ids;
  }

  function row(idea) {
    var li = document.createElement("li");
    var label = document.createElement("label");
    var box = document.createElement("input");
    box.type = "checkbox"; box.name = "idea"; box.value = String(idea.id);
    box.addEventListener("change", function () {
      // A ticked result moves to the picked list so a new search keeps it.
      if (box.checked) {
        var empty = document.getElementById("picked-empty");
        if (empty) empty.remove();
        picked.appendChild(li);
      }
    });
    var meta = document.createElement("span");
    meta.className = "meta";
    meta.textContent = " (" + idea.status + ", " + idea.vote_count + " votes)";
    label.appendChild(box);
    label.appendChild(document.createTextNode(" #" + idea.id + " " + idea.title));
    label.appendChild(meta);
    li.appendChild(label);
    return li;
  }

  function search() {
    var text = find.value.trim();
    var mine = ++asked;
    if (text.length < 2) { found.replaceChildren(); return; }
    fetch("/api/ideas?sort=top&limit=10&q=" + encodeURIComponent(text), {credentials: "same-origin"})
      .then(function (resp) { return resp.ok ? resp.json() : {items: []}; })
      .then(function (page) {
        if (mine !== asked) return;  // a newer search answered first
        var have = pickedIds();
        found.replaceChildren.apply(found, (page.items || []).filter(function (idea) {
          return !have[String(idea.id)];
        }).map(row));
      })
      .catch(function () { /* the Search ideas button still works */ });
  }

  find.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(search, 250);
  });
  find.addEventListener("keydown", function (event) {
    if (event.key === "Enter") { event.preventDefault(); clearTimeout(timer); search(); }
  });
  var summary = document.getElementById("error-summary");
  if (summary) summary.focus();
})();
