/* The stream's tools: saved views, counts per filter, spike alerts, link review, routing,
   ideas and the keyboard help.  Uses fetchJson (charts.js) and the stream's state (stream.js). */
"use strict";

/* The facets in the order shown, with their labels: the page lists them (one per NLP signal). */
const FACET_LABELS = JSON.parse(document.getElementById("facets")?.dataset.labels || "{}");
const tools = {views: [], facetsRequest: 0};

function postJson(url, body, method) {
  return fetchJson(url, {method: method || "POST", body: JSON.stringify(body || {}),
                         headers: {"Content-Type": "application/json", "Accept": "application/json",
                                   "X-CSRF-Token": csrfToken()}});
}

function setFilter(name, value) {
  const el = document.querySelector(`#filters [name="${name}"]`);
  if (!el) return;
  if (el.tagName === "SELECT" && !Array.from(el.options).some(o => o.value === value)) {
    const option = document.createElement("option");
    option.value = value;
    option.textContent = value;
    el.appendChild(option);
  }
  el.value = value;
}

/* -- counts per filter ------------------------------------------------------------------ */
async function loadFacets(params) {
  const request = ++tools.facetsRequest;
  const box = document.getElementById("facets");
  try {
    const counts = await fetchJson("/api/dashboard/facets?" + params);
    if (request !== tools.facetsRequest) return;  // a newer filter set is on its way
    box.textContent = "";
    box.title = "Counts of the mentions these filters select, since " + counts.since.slice(0, 10);
    for (const facet of Object.keys(FACET_LABELS)) {
      const group = document.createElement("span");
      group.className = "facet";
      group.dataset.facet = facet;
      const label = document.createElement("b");
      label.textContent = FACET_LABELS[facet] + ":";
      group.appendChild(label);
      for (const c of (counts[facet] || []).slice(0, 8)) {
        const chip = document.createElement("button");
        chip.type = "button";
        chip.className = "chip";
        chip.dataset.value = c.value;
        chip.textContent = c.value + " " + c.count;
        chip.title = "Show only " + facet + " = " + c.value;
        chip.addEventListener("click", () => { setFilter(facet, c.value); loadFirstPage(); });
        group.appendChild(chip);
      }
      if (!(counts[facet] || []).length) group.appendChild(document.createTextNode(" —"));
      box.appendChild(group);
    }
  } catch (err) {
    box.textContent = "counts: " + err.message;
  }
}

/* -- saved views ------------------------------------------------------------------------ */
async function loadViews(selectName) {
  const body = await fetchJson("/api/dashboard/views");
  tools.views = body.items;
  const select = document.getElementById("view-select");
  select.textContent = "";
  const none = document.createElement("option");
  none.value = "";
  none.textContent = "—";
  select.appendChild(none);
  for (const v of body.items) {
    const option = document.createElement("option");
    option.value = String(v.id);
    option.textContent = v.name;
    select.appendChild(option);
  }
  const chosen = body.items.find(v => v.name === selectName);
  select.value = chosen ? String(chosen.id) : "";
  document.getElementById("view-delete").disabled = !chosen;
}

function applyView(id) {
  const view = tools.views.find(v => String(v.id) === id);
  document.getElementById("view-delete").disabled = !view;
  if (!view) return;
  for (const el of document.querySelectorAll("#filters [name]")) el.value = "";
  for (const [name, value] of Object.entries(view.filters)) setFilter(name, value);
  if (typeof showCustomerName === "function") showCustomerName();
  loadFirstPage();
}

async function saveView() {
  const name = document.getElementById("view-name").value.trim();
  if (!name) { showError("give the view a name first"); return; }
  const filters = Object.fromEntries(filterParams());
  try {
    await postJson("/api/dashboard/views", {name: name, filters: filters});
    document.getElementById("view-name").value = "";
    await loadViews(name);
    showError("");
  } catch (err) {
    showError(err.message);
  }
}

async function deleteView() {
  const id = document.getElementById("view-select").value;
  if (!id) return;
  try {
    await postJson("/api/dashboard/views/" + encodeURIComponent(id), {}, "DELETE");
    await loadViews(null);
  } catch (err) {
    showError(err.message);
  }
}

/* -- spike alerts ----------------------------------------------------------------------- */
async function loadAlerts() {
  const list = document.getElementById("alerts");
  try {
    const body = await fetchJson("/api/dashboard/alerts?days=7");
    list.textContent = "";
    if (!body.items.length) {
      const li = document.createElement("li");
      li.className = "empty";
      li.textContent = "No spikes in the last 7 days.";
      list.appendChild(li);
    }
    for (const a of body.items) {
      const li = document.createElement("li");
      li.className = "alert alert-" + a.kind;
      const link = document.createElement("a");
      link.href = "/dashboard?" + new URLSearchParams({[a.kind === "customer" ? "customer" : "topic"]: a.subject});
      link.textContent = a.kind + " " + a.subject_name;
      li.appendChild(link);
      li.appendChild(document.createTextNode(
        ": " + a.summary + " · " + a.day));
      li.title = "detected " + a.detected_at.slice(0, 16).replace("T", " ") + " UTC";
      list.appendChild(li);
    }
  } catch (err) {
    list.textContent = "alerts: " + err.message;
  }
}

/* -- the current mention: link review, routing, ideas ------------------------------------ */
function showDetailTools(m) {
  const list = document.getElementById("detail-links");
  list.textContent = "";
  if (!m.links.length) {
    const li = document.createElement("li");
    li.className = "empty";
    li.textContent = "No customer linked.";
    list.appendChild(li);
  }
  for (const k of m.links) {
    const li = document.createElement("li");
    li.dataset.linkId = k.id;
    li.className = "link-" + k.status;
    withEvidence(li, linkEvidence(k, m.text));
    li.appendChild(document.createTextNode((k.customer_name || k.customer_id) + " · " + k.status + " "));
    if (k.id !== null && k.id !== undefined && k.status !== "confirmed") {
      for (const [verb, label] of [["confirm", "Confirm"], ["reject", "Reject"]]) {
        const b = document.createElement("button");
        b.type = "button";
        b.className = "link-" + verb;
        b.textContent = label;
        b.addEventListener("click", () => decideLink(m.id, k.id, verb));
        li.appendChild(b);
      }
    }
    list.appendChild(li);
  }
  document.getElementById("route-result").textContent = "";
  document.getElementById("idea-result").textContent = "";
}

async function refreshMention(id) {
  const m = await fetchJson("/api/mentions/" + id);
  const old = state.byId.get(id);
  if (old) { m.analysis = old.analysis; m.triage = old.triage; }
  putMention(m, false);
  if (state.current === id) showDetailTools(m);
}

async function decideLink(mentionId, linkId, verb) {
  try {
    await postJson(`/api/links/${linkId}/${verb}`, {});
    await refreshMention(mentionId);
    showError("");
  } catch (err) {
    showError(err.message);
  }
}

function firstLinkToReview() {
  const m = state.byId.get(state.current);
  return m ? m.links.find(k => k.status === "pending") || m.links.find(k => k.status !== "confirmed") : null;
}

async function loadTeams() {
  const select = document.getElementById("route-team");
  try {
    const body = await fetchJson("/api/teams");
    select.textContent = "";
    for (const t of body.items || []) {
      const option = document.createElement("option");
      option.value = t.key;
      option.textContent = t.name || t.key;
      select.appendChild(option);
    }
    document.getElementById("route-send").disabled = !select.options.length;
  } catch (err) {
    document.getElementById("route-send").disabled = true;
  }
}

async function routeCurrent() {
  const team = document.getElementById("route-team").value;
  const out = document.getElementById("route-result");
  if (state.current === null || !team) return;
  try {
    const routed = await postJson("/api/route", {mention_id: state.current, team: team});
    out.textContent = "routed to " + routed.team;
  } catch (err) {
    out.textContent = err.message;
  }
}

/* "Convert to idea" is a step of its own: a dialog prefilled from the mention (title, body,
   hide the author's handle); nothing is created until the manager presses Create. */
let ideaDraft = null;

async function openIdeaDialog() {
  const out = document.getElementById("idea-result");
  const mentionId = state.current;
  try {
    ideaDraft = await fetchJson(`/api/mentions/${mentionId}/idea-draft`);
  } catch (err) {
    out.textContent = err.message;
    return;
  }
  document.getElementById("idea-title").value = ideaDraft.title;
  document.getElementById("idea-body").value = ideaDraft.body;
  document.getElementById("idea-hide-handle").checked = false;
  document.getElementById("idea-handle").textContent = "@" + ideaDraft.handle;
  document.getElementById("idea-error").hidden = true;
  document.getElementById("idea-dialog").showModal();
  document.getElementById("idea-title").focus();
}

function swapDraftBody() {
  // The prefilled text follows the checkbox; a body the manager edited is left as written.
  const body = document.getElementById("idea-body");
  const hide = document.getElementById("idea-hide-handle").checked;
  if (body.value === (hide ? ideaDraft.body : ideaDraft.body_without_handle)) {
    body.value = hide ? ideaDraft.body_without_handle : ideaDraft.body;
  }
}

async function createIdea(event) {
  event.preventDefault();
  const error = document.getElementById("idea-error");
  try {
    const result = await postJson(`/api/mentions/${ideaDraft.mention_id}/idea`, {
      title: document.getElementById("idea-title").value,
      body: document.getElementById("idea-body").value,
      hide_handle: document.getElementById("idea-hide-handle").checked,
    });
    document.getElementById("idea-dialog").close();
    const out = document.getElementById("idea-result");
    out.textContent = "idea #" + result.idea.id;
  } catch (err) {
    error.textContent = err.message;
    error.hidden = false;
  }
}

async function ideaAction(kind) {
  const out = document.getElementById("idea-result");
  if (state.current === null) return;
  if (kind === "convert") {
    await openIdeaDialog();
    return;
  }
  const id = Number(document.getElementById("idea-attach-id").value.trim());
  if (!Number.isInteger(id) || id < 1) { out.textContent = "give an idea id"; return; }
  try {
    const result = await postJson(`/api/mentions/${state.current}/attach`, {idea_id: id});
    const idea = result.idea || result;
    out.textContent = "attached to idea #" + idea.id;
  } catch (err) {
    out.textContent = err.message;
  }
}

/* -- keyboard help ---------------------------------------------------------------------- */
function toggleHelp(show) {
  const help = document.getElementById("help");
  help.hidden = show === undefined ? !help.hidden : !show;
  if (!help.hidden) document.getElementById("help-close").focus();
}

function toolKeyActions() {
  const review = verb => { const k = firstLinkToReview(); if (k) decideLink(state.current, k.id, verb); };
  return {
    "?": () => toggleHelp(),
    c: () => review("confirm"),
    r: () => review("reject"),
    g: () => document.getElementById("route-team").focus(),
    i: () => state.current !== null && ideaAction("convert"),
    I: () => document.getElementById("idea-attach-id").focus(),
  };
}

/* -- the filters' fold on a phone (dashboard.css hides them until opened) ----------------- */
function showFilterCount() {
  const form = document.getElementById("filters");
  const used = Array.from(form.elements).filter(el => el.name && el.value && !("notAFilter" in el.dataset)).length;
  document.getElementById("filters-active").textContent = used ? `${used} in use` : "";
}

function toggleFilters() {
  const button = document.getElementById("filters-toggle");
  const open = button.getAttribute("aria-expanded") !== "true";
  button.setAttribute("aria-expanded", String(open));
  document.getElementById("stream-tools").classList.toggle("is-open", open);
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("filters-toggle").addEventListener("click", toggleFilters);
  document.getElementById("filters").addEventListener("change", showFilterCount);
  showFilterCount();
  document.getElementById("view-select").addEventListener("change", ev => applyView(ev.target.value));
  document.getElementById("view-save").addEventListener("click", saveView);
  document.getElementById("view-delete").addEventListener("click", deleteView);
  document.getElementById("help-open").addEventListener("click", () => toggleHelp(true));
  document.getElementById("help-close").addEventListener("click", () => toggleHelp(false));
  document.addEventListener("keydown", ev => { if (ev.key === "Escape") toggleHelp(false); });
  document.getElementById("route-send").addEventListener("click", routeCurrent);
  document.getElementById("idea-convert").addEventListener("click", () => ideaAction("convert"));
  document.getElementById("idea-attach").addEventListener("click", () => ideaAction("attach"));
  document.getElementById("idea-form").addEventListener("submit", createIdea);
  document.getElementById("idea-hide-handle").addEventListener("change", swapDraftBody);
  document.getElementById("idea-cancel").addEventListener("click", () => document.getElementById("idea-dialog").close());
  loadViews(null).catch(err => showError("saved views: " + err.message));
  loadTeams();
  loadAlerts();
  setInterval(loadAlerts, 60000);
});
