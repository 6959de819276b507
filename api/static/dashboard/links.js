/* The review queue page: pending links grouped by customer and rule, decided in bulk. */
"use strict";

const queue = {groups: [], rule: "", selectedGroups: new Set(), selectedLinks: new Set()};

function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined) node.textContent = text;
  return node;
}

function groupKey(g) { return g.customer_id + "\u0000" + g.rule + "\u0000" + g.phrase_key; }

function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

async function call(url, options) {
  const resp = await fetch(url, Object.assign({credentials: "same-origin"}, options || {}));
  const body = await resp.json().catch(() => ({}));
  if (!resp.ok) throw new Error(body.error || ("HTTP " + resp.status));
  return body;
}

function post(url, body) {
  return call(url, {method: "POST", body: JSON.stringify(body), headers: {
    "Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": csrfToken()}});
}

function say(message) {
  const status = document.getElementById("queue-status");
  status.hidden = !message;
  status.textContent = message || "";
}

function fail(message) {
  const error = document.getElementById("queue-error");
  error.hidden = !message;
  error.textContent = message || "";
}

function plural(n, one, many) { return n.toLocaleString("en") + " " + (n === 1 ? one : many); }

function ruleLabel(rule) { return rule.replace(/_/g, " "); }

/* The example's text with the matched words marked (text nodes only: no HTML from posts). */
function snippet(ex) {
  const p = el("p", "snippet");
  const s = ex.snippet;
  if (s.cut_before) p.appendChild(document.createTextNode("…"));
  if (s.start === null) {
    p.appendChild(document.createTextNode(s.text));
    return p;
  }
  p.appendChild(document.createTextNode(s.text.slice(0, s.start)));
  p.appendChild(el("mark", "", s.text.slice(s.start, s.end)));
  p.appendChild(document.createTextNode(s.text.slice(s.end) + (s.text.length >= 140 ? "…" : "")));
  return p;
}

function exampleItem(ex) {
  const li = el("li", "example");
  const box = el("input", "select-link");
  box.type = "checkbox";
  box.checked = queue.selectedLinks.has(ex.id);
  box.setAttribute("aria-label", "Select link " + ex.id + " by @" + ex.author_handle);
  box.addEventListener("change", () => {
    if (box.checked) queue.selectedLinks.add(ex.id); else queue.selectedLinks.delete(ex.id);
    updateBar();
  });
  li.appendChild(pickable(box));
  const body = el("div", "example-body");
  const meta = el("div", "example-meta");
  meta.appendChild(el("span", "badge source source-" + ex.source, ex.source));
  meta.appendChild(el("span", "author", "@" + ex.author_handle));
  meta.appendChild(el("span", "confidence", "confidence " + ex.confidence.toFixed(2)));
  const thread = el("a", "thread-link", "Thread");
  thread.href = "/dashboard/mentions/" + ex.mention_id;
  meta.appendChild(thread);
  body.appendChild(meta);
  body.appendChild(snippet(ex));
  li.appendChild(body);
  return li;
}

/* A checkbox inside a label as big as a fingertip (44 px), for phones. */
function pickable(box) {
  const label = el("label", "pick");
  label.appendChild(box);
  return label;
}

function groupRow(g) {
  const key = groupKey(g);
  const row = el("li", "group" + (g.alias_refused ? " refused" : ""));
  row.dataset.key = key;
  const box = el("input", "select-group");
  box.type = "checkbox";
  box.checked = queue.selectedGroups.has(key);
  box.setAttribute("aria-label", "Select the " + g.count + " links of “" + g.phrase + "” to " + g.customer_name);
  box.addEventListener("change", () => {
    if (box.checked) queue.selectedGroups.add(key); else queue.selectedGroups.delete(key);
    updateBar();
  });
  row.appendChild(pickable(box));

  const main = el("div", "group-main");
  const title = el("div", "group-title");
  title.appendChild(el("q", "phrase", g.phrase));
  title.appendChild(el("span", "badge rule rule-" + g.rule, ruleLabel(g.rule)));
  title.appendChild(el("span", "group-count", plural(g.count, "link", "links")));
  if (g.alias_refused) title.appendChild(el("span", "badge refused-mark", "alias refused"));
  main.appendChild(title);
  if (g.examples.length) main.appendChild(snippet(g.examples[0]));

  const actions = el("div", "group-actions");
  const confirm = el("button", "btn btn-confirm", "Confirm " + (g.count > 1 ? "all " + g.count : ""));
  confirm.type = "button";
  confirm.addEventListener("click", () => bulk("confirm", [g], []));
  const reject = el("button", "btn btn-reject", "Reject " + (g.count > 1 ? "all " + g.count : ""));
  reject.type = "button";
  reject.addEventListener("click", () => bulk("reject", [g], []));
  actions.append(confirm, reject);
  if (g.can_refuse_alias && !g.alias_refused) actions.appendChild(refuseControl(g));
  const more = el("button", "btn btn-quiet", "Examples");
  more.type = "button";
  more.setAttribute("aria-expanded", "false");
  actions.appendChild(more);
  main.appendChild(actions);

  const list = el("ol", "examples");
  list.hidden = true;
  list.id = "examples-" + btoa(unescape(encodeURIComponent(key))).replace(/[^A-Za-z0-9]/g, "");
  more.setAttribute("aria-controls", list.id);
  for (const ex of g.examples) list.appendChild(exampleItem(ex));
  if (g.count > g.examples.length) list.appendChild(el("li", "more-note", "and " + plural(g.count - g.examples.length, "more link", "more links")));
  more.addEventListener("click", () => {
    list.hidden = !list.hidden;
    more.setAttribute("aria-expanded", String(!list.hidden));
    more.textContent = list.hidden ? "Examples" : "Hide examples";
  });
  main.appendChild(list);
  row.appendChild(main);
  return row;
}

/* "Never link as a word" asks once more inline (no dialog) before it is stored. */
function refuseControl(g) {
  const wrap = el("span", "refuse");
  const ask = el("button", "btn btn-warn", "Never link “" + g.phrase + "” as a word");
  ask.type = "button";
  ask.addEventListener("click", () => {
    wrap.textContent = "";
    const sure = el("button", "btn btn-danger", "Yes, never link “" + g.phrase + "” to " + g.customer_name);
    sure.type = "button";
    sure.addEventListener("click", () => refuseAlias(g));
    const cancel = el("button", "btn btn-quiet", "Cancel");
    cancel.type = "button";
    cancel.addEventListener("click", () => wrap.replaceWith(refuseControl(g)));
    wrap.append(sure, cancel);
    sure.focus();
  });
  wrap.appendChild(ask);
  return wrap;
}

function shownGroups() {
  return queue.groups.filter(g => !queue.rule || g.rule === queue.rule);
}

function render() {
  const root = document.getElementById("queue");
  root.textContent = "";
  const shown = shownGroups();
  if (!shown.length) {
    const empty = el("div", "queue-empty");
    empty.appendChild(el("p", "empty-title", "Nothing to review"));
    empty.appendChild(el("p", "", "Every customer link is decided. New low-confidence links appear here as posts arrive."));
    root.appendChild(empty);
  }
  const byCustomer = new Map();
  for (const g of shown) {
    if (!byCustomer.has(g.customer_id)) byCustomer.set(g.customer_id, []);
    byCustomer.get(g.customer_id).push(g);
  }
  for (const [customerId, groups] of byCustomer) {
    const section = el("section", "customer-group panel");
    const head = el("h2", "customer-head");
    const link = el("a", "", groups[0].customer_name);
    link.href = "/dashboard/customers/" + encodeURIComponent(customerId);
    head.appendChild(link);
    head.appendChild(el("span", "count", plural(groups.reduce((n, g) => n + g.count, 0), "link", "links")));
    section.appendChild(head);
    const list = el("ul", "groups");
    for (const g of groups) list.appendChild(groupRow(g));
    section.appendChild(list);
    root.appendChild(section);
  }
  renderRules();
  // Nothing to choose from: no selection bar, no rule filter.
  document.getElementById("queue-bar").hidden = !queue.groups.length;
  document.getElementById("rule-filter").hidden = !queue.groups.length;
  updateBar();
}

function renderRules() {
  const nav = document.getElementById("rule-filter");
  nav.textContent = "";
  const counts = new Map();
  for (const g of queue.groups) counts.set(g.rule, (counts.get(g.rule) || 0) + g.count);
  const total = queue.groups.reduce((n, g) => n + g.count, 0);
  for (const [rule, n] of [["", total], ...Array.from(counts).sort((a, b) => b[1] - a[1])]) {
    const chip = el("button", "chip" + (queue.rule === rule ? " on" : ""), (rule ? ruleLabel(rule) : "all rules") + " " + n.toLocaleString("en"));
    chip.type = "button";
    chip.setAttribute("aria-pressed", String(queue.rule === rule));
    chip.addEventListener("click", () => { queue.rule = rule; render(); });
    nav.appendChild(chip);
  }
}

function selection() {
  const groups = queue.groups.filter(g => queue.selectedGroups.has(groupKey(g)));
  const inGroups = new Set(groups.flatMap(g => g.link_ids));
  const links = Array.from(queue.selectedLinks).filter(id => !inGroups.has(id));
  return {groups, links, count: inGroups.size + links.length};
}

function updateBar() {
  const chosen = selection();
  document.getElementById("selected-count").textContent =
    chosen.count ? plural(chosen.count, "link", "links") + " selected" : "Nothing selected";
  for (const id of ["confirm-selected", "reject-selected"]) document.getElementById(id).disabled = !chosen.count;
  const all = document.getElementById("select-all");
  const shown = shownGroups();
  all.checked = shown.length > 0 && shown.every(g => queue.selectedGroups.has(groupKey(g)));
}

async function bulk(action, groups, linkIds) {
  fail("");
  say((action === "confirm" ? "Confirming" : "Rejecting") + "…");
  try {
    const result = await post("/api/links/review/bulk", {
      action: action, link_ids: linkIds,
      groups: groups.map(g => ({customer_id: g.customer_id, rule: g.rule, phrase: g.phrase_key}))});
    queue.selectedGroups.clear();
    queue.selectedLinks.clear();
    let message = plural(result.decided, "link", "links") + (action === "confirm" ? " confirmed" : " rejected");
    if (result.skipped.length) message += "; " + plural(result.skipped.length, "link was", "links were") + " decided meanwhile";
    await load();
    say(message + ".");
  } catch (err) {
    say("");
    fail(err.message);
  }
}

async function refuseAlias(g) {
  fail("");
  try {
    const result = await post("/api/links/refused-aliases", {customer_id: g.customer_id, alias: g.phrase});
    await load();
    say("“" + result.alias + "” is never linked to " + g.customer_name + " as a word again; " +
        plural(result.dropped_links, "pending link", "pending links") + " removed.");
  } catch (err) {
    fail(err.message);
  }
}

function renderRefused(items) {
  const list = document.getElementById("refused-list");
  list.textContent = "";
  if (!items.length) list.appendChild(el("li", "empty", "None yet."));
  for (const r of items) {
    const li = el("li");
    li.appendChild(el("q", "phrase", r.alias));
    li.appendChild(document.createTextNode(" for "));
    const link = el("a", "", r.customer_name || r.customer_id);
    link.href = "/dashboard/customers/" + encodeURIComponent(r.customer_id);
    li.appendChild(link);
    li.appendChild(el("span", "refused-when", " · " + r.refused_at.slice(0, 10)));
    list.appendChild(li);
  }
}

async function load() {
  const [body, refused] = await Promise.all([call("/api/links/review/groups"), call("/api/links/refused-aliases")]);
  queue.groups = body.groups;
  if (queue.rule && !queue.groups.some(g => g.rule === queue.rule)) queue.rule = "";
  document.getElementById("queue-summary").textContent = body.pending
    ? plural(body.pending, "pending link", "pending links") + " in " + plural(body.groups.length, "group", "groups") +
      (body.truncated ? " (the oldest only)" : "") + ", biggest first."
    : "No pending links.";
  render();
  renderRefused(refused.items);
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("select-all").addEventListener("change", ev => {
    for (const g of shownGroups()) {
      if (ev.target.checked) queue.selectedGroups.add(groupKey(g)); else queue.selectedGroups.delete(groupKey(g));
    }
    render();
  });
  document.getElementById("confirm-selected").addEventListener("click", () => {
    const chosen = selection();
    bulk("confirm", chosen.groups, chosen.links);
  });
  document.getElementById("reject-selected").addEventListener("click", () => {
    const chosen = selection();
    bulk("reject", chosen.groups, chosen.links);
  });
  load().catch(err => fail(err.message));
});
