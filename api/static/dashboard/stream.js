/* The live stream: first page over JSON, new mentions over Server-Sent Events, triage. */
"use strict";

const state = {source: null, maxId: 0, ids: new Set(), current: null, selected: new Set(),
               nextCursor: null, byId: new Map()};

function filterParams() {
  const params = new URLSearchParams();
  // Boxes marked data-not-a-filter only help to fill one in (the customer's name: its id is
  // the filter).
  for (const el of document.querySelectorAll("#filters [name]:not([data-not-a-filter])")) {
    if (el.value.trim()) params.set(el.name, el.value.trim());
  }
  return params;
}

/* The NLP signals a card shows as badges, from the page (sentiment has its own, with its score). */
const SIGNAL_BADGES = JSON.parse(document.getElementById("stream")?.dataset.signals || "[]");

function badge(text, cls) {
  const span = document.createElement("span");
  span.className = "badge " + cls;
  span.textContent = text;
  return span;
}

function renderMention(m) {
  const li = document.createElement("li");
  li.className = "mention status-" + m.triage.status;
  li.dataset.id = m.id;
  const meta = document.createElement("div");
  meta.className = "meta";
  const box = document.createElement("input");
  box.type = "checkbox";
  box.className = "select";
  // Its name says which mention a screen reader user is ticking (the box has no visible label).
  box.setAttribute("aria-label", "Select the mention by @" + m.author.handle);
  box.checked = state.selected.has(m.id);
  box.addEventListener("change", () => toggleSelect(m.id, box.checked));
  // The label around the box is what a thumb taps on a phone (44 px, dashboard.css).
  const tap = document.createElement("label");
  tap.className = "select-tap";
  tap.appendChild(box);
  meta.appendChild(tap);
  meta.appendChild(badge(m.source, "source source-" + m.source));
  const author = document.createElement("span");
  author.className = "author";
  author.textContent = "@" + m.author.handle + (m.author.name ? " (" + m.author.name + ")" : "");
  meta.appendChild(author);
  const time = document.createElement("time");
  time.dateTime = m.created_at;
  time.textContent = m.created_at.slice(0, 16).replace("T", " ") + " UTC";
  meta.appendChild(time);
  meta.appendChild(badge(m.triage.status, "status"));
  if (m.triage.assignee) meta.appendChild(badge("→ " + (m.triage.assignee_name || m.triage.assignee), "assignee"));
  for (const t of m.triage.tags) meta.appendChild(badge("#" + t, "tag"));
  const a = m.analysis || {};
  if (a.sentiment_label) {
    meta.appendChild(withEvidence(badge(a.sentiment_label, "sentiment-" + a.sentiment_label),
                                  sentimentEvidence(a)));
  }
  // Every other NLP signal the page lists (nlp/signals/), unless it found nothing in this post.
  for (const s of SIGNAL_BADGES) {
    const value = a[s.key];
    if (value && value !== s.default) {
      meta.appendChild(withEvidence(badge(value, "signal " + s.name), s.label + ": " + value));
    }
  }
  for (const t of a.topics || []) meta.appendChild(withEvidence(badge(t, "topic"), topicEvidence(t, m.text)));
  li.appendChild(meta);
  li.appendChild(markedText(m));  // the names of linked customers marked (mention_card.js)
  if (m.links.length) {
    const links = document.createElement("ul");
    links.className = "links";
    for (const k of m.links) {
      const item = document.createElement("li");
      item.className = "link-evidence link-" + (k.status || "accepted");
      withEvidence(item, linkEvidence(k, m.text));
      const link = document.createElement("a");
      link.className = "linked-customer";
      link.href = "/dashboard/customers/" + encodeURIComponent(k.customer_id);
      link.textContent = k.customer_name || k.customer_id;
      item.appendChild(link);
      item.appendChild(document.createTextNode(" " + k.evidence + " (" + k.confidence.toFixed(2) + ")"));
      links.appendChild(item);
    }
    li.appendChild(links);
  }
  li.appendChild(cardLinks(m));  // the card's footer: the original post and the thread
  const reply = cardReply(m);
  if (reply) li.appendChild(reply);
  li.addEventListener("click", ev => { if (!ev.target.closest("a, input, textarea, select, button, summary")) setCurrent(m.id); });
  return li;
}

/* Evidence on hover: a title (read by screen readers too) saying which rule, span and confidence. */
function withEvidence(el, text) {
  el.title = text;
  el.setAttribute("aria-label", (el.textContent ? el.textContent + " — " : "") + text);
  el.classList.add("has-evidence");
  return el;
}

function linkEvidence(k, text) {
  const parts = ["rule: " + k.rule, "evidence: " + k.evidence,
                 "confidence: " + Number(k.confidence).toFixed(2)];
  if (k.span) parts.push("span " + k.span[0] + "–" + k.span[1] + ": “" + spanText(text, k.span) + "”");
  if (k.status && k.status !== "accepted") parts.push("status: " + k.status);
  return parts.join("\n");
}

function topicEvidence(topic, text) {
  return "topic: " + topic + "\nrule: taxonomy phrase (config/topics.toml)";
}

function sentimentEvidence(a) {
  return "sentiment: " + a.sentiment_label + "\nscore: " +
    (a.sentiment === null || a.sentiment === undefined ? "—" : Number(a.sentiment).toFixed(2)) +
    " in [-1, 1]\nrule: lexicon with negation, caps, emoji and intensifier rules";
}

function putMention(m, atTop) {
  state.byId.set(m.id, m);
  const list = document.getElementById("stream");
  const empty = list.querySelector(".stream-empty");
  if (empty) empty.remove();
  const fresh = renderMention(m);
  const old = list.querySelector(`li[data-id="${m.id}"]`);
  if (old) {
    if (state.current === m.id) fresh.classList.add("current");
    old.replaceWith(fresh);
  } else if (atTop) {
    fresh.classList.add("fresh");
    list.prepend(fresh);
  } else {
    list.appendChild(fresh);
  }
  state.ids.add(m.id);
  state.maxId = Math.max(state.maxId, m.id);
  document.getElementById("stream-count").textContent = state.ids.size + " shown";
}

function showError(message) {
  const el = document.getElementById("stream-error");
  el.hidden = !message;
  el.textContent = message || "";
}

/* An empty stream says why and what to do, instead of a bare "0 shown". */
function showEmpty(params) {
  const li = document.createElement("li");
  li.className = "empty stream-empty";
  const filtered = [...params.keys()].length > 0;
  li.textContent = filtered
    ? "No mentions match these filters. New ones that do appear here as they are collected."
    : "No mentions yet. Posts appear here live as the configured sources collect them, or when a file is imported (crmsphere import posts FILE).";
  document.getElementById("stream").appendChild(li);
}

async function loadFirstPage() {
  const params = filterParams();
  history.replaceState(null, "", "/dashboard" + (params.toString() ? "?" + params : ""));
  document.getElementById("csv-export").href = "/api/dashboard/mentions.csv?" + params;
  document.getElementById("stream").textContent = "";
  state.ids.clear();
  state.byId.clear();
  state.maxId = 0;
  state.current = null;
  try {
    const page = await fetchJson("/api/dashboard/mentions?" + params);
    showError("");
    for (const m of page.items) putMention(m, false);
    if (!page.items.length) showEmpty(params);
    state.nextCursor = page.next_cursor;
    document.getElementById("more").hidden = !page.next_cursor;
  } catch (err) {
    showError(err.message);
  }
  document.getElementById("stream-count").textContent = state.ids.size + " shown";
  connectStream(params);
  if (typeof loadFacets === "function") loadFacets(params);
}

async function loadMore() {
  const params = filterParams();
  params.set("cursor", state.nextCursor);
  const page = await fetchJson("/api/dashboard/mentions?" + params);
  for (const m of page.items) if (!state.ids.has(m.id)) putMention(m, false);
  state.nextCursor = page.next_cursor;
  document.getElementById("more").hidden = !page.next_cursor;
}

function connectStream(params) {
  if (state.source) state.source.close();
  const live = document.getElementById("live-state");
  const streamParams = new URLSearchParams(params);
  streamParams.set("after", String(state.maxId));
  const source = new EventSource("/api/stream/mentions?" + streamParams);
  state.source = source;
  source.addEventListener("ready", () => { live.textContent = "live"; live.className = "live-state on"; });
  source.addEventListener("mention", ev => {
    const m = JSON.parse(ev.data);
    if (!state.ids.has(m.id)) putMention(m, true);
  });
  source.addEventListener("updated", ev => {
    // A shown mention changed (a topic label): new analysis and links, its triage kept.
    const m = JSON.parse(ev.data), old = state.byId.get(m.id);
    if (!old) return;
    putMention(Object.assign({}, old, {analysis: m.analysis, links: m.links}), false);
    if (state.current === m.id) showDetail(m.id);
  });
  source.onerror = () => { live.textContent = "reconnecting…"; live.className = "live-state off"; };
}

function rows() {
  return Array.from(document.querySelectorAll("#stream > li[data-id]"));
}

function setCurrent(id) {
  state.current = id;
  for (const li of rows()) li.classList.toggle("current", Number(li.dataset.id) === id);
  const li = document.querySelector(`#stream > li[data-id="${id}"]`);
  if (li) li.scrollIntoView({block: "nearest"});
  showDetail(id);
}

function move(step) {
  const all = rows();
  if (!all.length) return;
  let index = all.findIndex(li => Number(li.dataset.id) === state.current);
  index = index < 0 ? 0 : Math.min(all.length - 1, Math.max(0, index + step));
  setCurrent(Number(all[index].dataset.id));
}

function toggleSelect(id, on) {
  if (on) state.selected.add(id); else state.selected.delete(id);
  const bar = document.getElementById("bulk-bar");
  bar.hidden = state.selected.size === 0;
  document.getElementById("bulk-count").textContent = String(state.selected.size);
  const box = document.querySelector(`#stream > li[data-id="${id}"] input.select`);
  if (box) box.checked = on;
}

function csrfToken() {
  // A signed-in manager's browser session must prove each change comes from this page.
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

async function applyTriage(ids, change) {
  try {
    const result = await fetchJson("/api/dashboard/triage", {
      method: "POST", headers: {"Content-Type": "application/json", "Accept": "application/json",
                             "X-CSRF-Token": csrfToken()},
      body: JSON.stringify(Object.assign({mention_ids: ids}, change))});
    for (const t of result.items) {
      const m = state.byId.get(t.mention_id);
      if (m) { m.triage = t; putMention(m, false); }
    }
    showError("");
    if (state.current !== null && ids.includes(state.current)) showDetail(state.current);
  } catch (err) {
    showError(err.message);
  }
}

async function showDetail(id) {
  const m = state.byId.get(id);
  const panel = document.getElementById("detail");
  if (!m) { panel.hidden = true; return; }
  panel.hidden = false;
  document.getElementById("detail-id").textContent = "#" + id;
  document.getElementById("detail-status").value = m.triage.status;
  showAssignee(m.triage);
  document.getElementById("detail-tags").value = m.triage.tags.join(", ");
  if (typeof showDetailTools === "function") showDetailTools(m);
  const notes = document.getElementById("notes");
  notes.textContent = "";
  const result = await fetchJson(`/api/dashboard/mentions/${id}/notes`);
  if (state.current !== id) return;
  for (const n of result.items) {
    const li = document.createElement("li");
    li.textContent = n.body + " — " + (n.author_name || n.author) + ", " + n.created_at.slice(0, 16).replace("T", " ");
    notes.appendChild(li);
  }
}

async function saveDetail() {
  const id = state.current;
  const m = state.byId.get(id);
  if (!m) return;
  const tags = document.getElementById("detail-tags").value.split(",").map(t => t.trim().toLowerCase()).filter(Boolean);
  const change = {
    status: document.getElementById("detail-status").value,
    add_tags: tags.filter(t => !m.triage.tags.includes(t)),
    remove_tags: m.triage.tags.filter(t => !tags.includes(t)),
  };
  // Send the assignee only when changed: a former staff member stays assigned until someone
  // picks another (the server refuses to assign to an account that is no longer staff).
  const picked = document.getElementById("detail-assignee").value;
  if (picked !== assigneeId(m.triage.assignee)) change.assignee = picked;
  await applyTriage([id], change);
}

async function addNote() {
  const body = document.getElementById("note-body");
  if (state.current === null || !body.value.trim()) return;
  try {
    await fetchJson(`/api/dashboard/mentions/${state.current}/notes`, {
      method: "POST", headers: {"Content-Type": "application/json", "Accept": "application/json",
                             "X-CSRF-Token": csrfToken()},
      body: JSON.stringify({body: body.value})});
    body.value = "";
    showDetail(state.current);
  } catch (err) {
    showError(err.message);
  }
}

function targets() {
  return state.selected.size ? Array.from(state.selected) : (state.current !== null ? [state.current] : []);
}

function onKey(ev) {
  if (ev.target.closest("input, textarea, select") || ev.ctrlKey || ev.metaKey || ev.altKey) return;
  const ids = targets();
  const actions = {
    j: () => move(1), k: () => move(-1),
    x: () => state.current !== null && toggleSelect(state.current, !state.selected.has(state.current)),
    o: () => ids.length && applyTriage(ids, {status: "open"}),
    p: () => ids.length && applyTriage(ids, {status: "pending"}),
    e: () => ids.length && applyTriage(ids, {status: "closed"}),
    a: () => document.getElementById("detail-assignee").focus(),
    t: () => document.getElementById("detail-tags").focus(),
    n: () => document.getElementById("note-body").focus(),
    v: () => state.current !== null && location.assign("/dashboard/mentions/" + state.current),
  };
  if (typeof toolKeyActions === "function") Object.assign(actions, toolKeyActions());
  if (actions[ev.key]) { ev.preventDefault(); actions[ev.key](); }
}

function bulkStatus(status) {
  applyTriage(Array.from(state.selected), {status: status});
}

document.addEventListener("DOMContentLoaded", () => {
  let timer = null;
  document.getElementById("filters").addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(loadFirstPage, 250);
  });
  document.getElementById("filters").addEventListener("submit", ev => { ev.preventDefault(); loadFirstPage(); });
  document.getElementById("more").addEventListener("click", loadMore);
  document.getElementById("detail-save").addEventListener("click", saveDetail);
  document.getElementById("note-add").addEventListener("click", addNote);
  for (const b of document.querySelectorAll("[data-bulk-status]")) {
    b.addEventListener("click", () => bulkStatus(b.dataset.bulkStatus));
  }
  document.getElementById("bulk-assign").addEventListener("click", () =>
    applyTriage(Array.from(state.selected), {assignee: document.getElementById("bulk-assignee").value}));
  document.getElementById("bulk-tag-add").addEventListener("click", () => {
    const tag = document.getElementById("bulk-tag").value.trim().toLowerCase();
    if (tag) applyTriage(Array.from(state.selected), {add_tags: [tag]});
  });
  document.addEventListener("keydown", onKey);
  loadFirstPage();
  loadStaff().catch(err => showError("staff: " + err.message));
});
