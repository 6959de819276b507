/* A stream card's text with the linked customers' names marked, and its way out: the original
   post (http(s) only, in a new tab) and the thread view. */
"use strict";

/* The URL when it is an absolute http(s) URL, else "" (a feed can send "javascript:..."). */
function webUrl(value) {
  if (!value) return "";
  try {
    const url = new URL(value);
    return (url.protocol === "http:" || url.protocol === "https:") && url.host ? url.href : "";
  } catch (err) {
    return "";
  }
}

/* A link's [start, end] when it names a non-empty piece of ``chars``, else null. The offsets
   are Python string indices (code points): a JS string counts UTF-16 units, so an emoji before
   the name would shift them; ``chars`` is the text as code points (Array.from). */
function linkSpan(k, chars) {
  const span = k.span;
  if (!Array.isArray(span) || span.length !== 2) return null;
  const [start, end] = span;
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || start >= end || end > chars.length) return null;
  return [start, end];
}

/* The piece of ``text`` a link's span names, counted in code points as the server does. */
function spanText(text, span) {
  return Array.from(text).slice(span[0], span[1]).join("");
}

/* What a marked name says on hover; a link awaiting review is dotted (dashboard.css). */
function markTitle(k) {
  return (k.customer_name || k.customer_id) + ": " + k.evidence + " (" + Number(k.confidence).toFixed(2) + ")" +
    (k.status === "pending" ? " · awaiting review (dotted)" : "");
}

/* The card's text with each linked customer's name marked, as the server's card does
   (_mention.html): of overlapping spans the earlier, then the more confident, wins; spans
   outside the text are skipped. Text nodes only: a post's text is never parsed as HTML. */
function markedText(m) {
  const p = document.createElement("p");
  p.className = "text";
  const chars = Array.from(m.text || "");
  const spans = [];
  for (const k of m.links || []) {
    const span = linkSpan(k, chars);
    if (span) spans.push({span: span, link: k});
  }
  spans.sort((a, b) => a.span[0] - b.span[0] || Number(b.link.confidence) - Number(a.link.confidence));
  let pos = 0;
  for (const {span: [start, end], link: k} of spans) {
    if (start < pos) continue;  // overlaps an earlier or stronger span
    if (start > pos) p.appendChild(document.createTextNode(chars.slice(pos, start).join("")));
    const mark = document.createElement("mark");
    mark.className = "customer link-" + (k.status || "accepted");
    mark.title = markTitle(k);
    const a = document.createElement("a");
    a.href = "/dashboard/customers/" + encodeURIComponent(k.customer_id);
    a.textContent = chars.slice(start, end).join("");
    mark.appendChild(a);
    p.appendChild(mark);
    pos = end;
  }
  if (pos < chars.length) p.appendChild(document.createTextNode(chars.slice(pos).join("")));
  return p;
}

function cardLinks(m) {
  const row = document.createElement("div");
  row.className = "card-links";
  const href = webUrl(m.url);
  if (href) {
    const original = document.createElement("a");
    original.className = "original";
    original.href = href;
    original.target = "_blank";
    original.rel = "noopener noreferrer";
    original.textContent = "Original post";
    const hint = document.createElement("span");
    hint.className = "visually-hidden";
    hint.textContent = " on " + m.source + " (opens in a new tab)";
    original.appendChild(hint);
    original.appendChild(document.createTextNode(" ↗"));
    row.appendChild(original);
  } else {
    const none = document.createElement("span");
    none.className = "no-original";
    none.textContent = "No link to the original post";
    row.appendChild(none);
  }
  const thread = document.createElement("a");
  thread.className = "thread-link";
  thread.href = "/dashboard/mentions/" + m.id;
  thread.textContent = "Thread";
  row.appendChild(thread);
  return row;
}

/* The platforms replies can be written to: source -> "" (ready) or why sending is off. */
function hidden(name, value) {
  const input = document.createElement("input");
  input.type = "hidden";
  input.name = name;
  input.value = value;
  return input;
}

function submitButton(value, label, primary) {
  const button = document.createElement("button");
  button.type = "submit";
  button.name = "action";
  button.value = value;
  button.className = primary ? "button primary" : "button";
  button.textContent = label;
  return button;
}

/* Platform names as people write them, for the notes above the stream: each collector's
   label, from the page (a platform without one is named by its kind). */
const PLATFORM_NAMES = JSON.parse(document.getElementById("stream")?.dataset.platforms || "{}");

/* The fold's control: "Reply on <platform>", the source the reply would go out through and,
   when sending through it is off, a quiet "drafts only" (why is said once, above the stream,
   and inside the fold: each source has its own state, of two Mastodon instances one may be
   off). The team queue's fold shows the same. */
function replySummary(platform, reply) {
  const summary = document.createElement("summary");
  summary.className = "reply-fold";
  const label = document.createElement("span");
  label.textContent = "Reply on " + platform;
  summary.appendChild(label);
  if (reply.source) {
    const via = document.createElement("span");
    via.className = "reply-via";
    via.textContent = "via " + reply.source;
    summary.appendChild(via);
  }
  if (reply.off) {
    const off = document.createElement("span");
    off.className = "reply-drafts";
    off.textContent = "drafts only";
    summary.appendChild(off);
  }
  return summary;
}

/* "A", "A and B", "A, B and C": how the notice names the platforms. */
function spokenList(names) {
  if (names.length < 2) return names.join("");
  return names.slice(0, -1).join(", ") + " and " + names[names.length - 1];
}

/* What is off, by source (or platform when no source is set up), as cards show them; and the
   platforms with a source whose replies do go out (of two Mastodon instances one may be off). */
const repliesOff = new Map();
const platformsSending = new Set();

/* How the notice names what is off: the platform ("Reddit"), or the source as well when
   another source of that platform sends ("Mastodon via mastodon-fosstodon"): "Replies to
   Mastodon are off" would be untrue there. */
function offLabel(off) {
  return off.source && platformsSending.has(off.platform) ? off.platform + " via " + off.source : off.platform;
}

/* The one notice above the stream: every platform whose replies are off named in one calm
   line ("Replies to Mastodon, Reddit and X are off · drafts are kept · Why"), and behind
   "Why" what to set for each source. Said once here rather than on every card, and once for
   all sources rather than a line each (a phone shows the stream, not four paragraphs). */
function showRepliesOff() {
  const notice = document.getElementById("reply-notices");
  if (!notice || repliesOff.size === 0) return;
  const offs = [...repliesOff.values()].sort((a, b) =>
    (a.platform + " " + a.source).localeCompare(b.platform + " " + b.source));
  const head = document.createElement("strong");
  head.textContent = "Replies to " + spokenList([...new Set(offs.map(offLabel))]) + " are off";
  const why = document.createElement("details");
  why.className = "reply-notice-why";
  // Kept open when a later card adds a source while someone reads the reasons.
  const was = notice.querySelector(".reply-notice-why");
  why.open = Boolean(was && was.open);
  const ask = document.createElement("summary");
  ask.textContent = "Why";
  const hiddenName = document.createElement("span");
  hiddenName.className = "visually-hidden";
  hiddenName.textContent = " replies are off";
  ask.appendChild(hiddenName);
  why.appendChild(ask);
  const reasons = document.createElement("ul");
  for (const off of offs) {
    const item = document.createElement("li");
    const name = document.createElement("strong");
    name.textContent = off.source ? off.source + " (" + off.platform + ")" : off.platform;
    item.appendChild(name);
    // The reason starts lower case ("no reddit source is configured…", "source '…' has…"):
    // after the colon it reads as it is, and a source name keeps its spelling.
    item.appendChild(document.createTextNode(": " + off.reason + "."));
    reasons.appendChild(item);
  }
  why.appendChild(reasons);
  notice.replaceChildren(head, document.createTextNode(" · drafts are kept · "), why);
  notice.hidden = false;
}

/* Count the reply state of card ``m`` into the notice (redrawn only when it changes). */
function noteReplyState(m) {
  const platform = PLATFORM_NAMES[m.source] || m.source;
  if (!m.reply.off) {
    if (!m.reply.source || platformsSending.has(platform)) return;
    platformsSending.add(platform);
  } else {
    const key = m.reply.source ? "source:" + m.reply.source : "platform:" + m.source;
    if (repliesOff.has(key)) return;
    repliesOff.set(key, {platform: platform, source: m.reply.source || "", reason: m.reply.off});
  }
  showRepliesOff();
}

/* A reply box on a stream card: a plain form post (the answer is the thread page with the
   reply on it), so it works as the thread page's box does. */
function cardReply(m) {
  const reply = m.reply;
  if (!reply) return null;
  const box = document.createElement("details");
  box.className = "card-reply";
  box.appendChild(replySummary(m.source, reply));
  const form = document.createElement("form");
  form.method = "post";
  form.action = "/dashboard/mentions/" + m.id + "/replies";
  const meta = document.querySelector('meta[name="csrf-token"]');
  form.appendChild(hidden("csrf", meta ? meta.content : ""));
  form.appendChild(hidden("back", "/dashboard/mentions/" + m.id));
  noteReplyState(m);
  if (reply.off) {
    const off = document.createElement("p");
    off.className = "reply-note";
    off.id = "card-reply-off-" + m.id;
    off.textContent = "Sending is off: " + reply.off + ". You can still save a draft.";
    form.appendChild(off);
  }
  const label = document.createElement("label");
  label.htmlFor = "card-reply-" + m.id;
  label.textContent = "Your reply to @" + m.author.handle;
  const text = document.createElement("textarea");
  text.id = "card-reply-" + m.id;
  text.name = "text";
  text.rows = 3;
  text.maxLength = 5000;
  text.required = true;
  form.appendChild(label);
  form.appendChild(text);
  const actions = document.createElement("div");
  actions.className = "reply-actions";
  const send = submitButton("send", "Send reply", true);
  if (reply.off) {  // the reason is the note above the text box
    send.disabled = true;
    send.setAttribute("aria-describedby", "card-reply-off-" + m.id);
  }
  actions.appendChild(send);
  actions.appendChild(submitButton("draft", "Save as draft", false));
  form.appendChild(actions);
  box.appendChild(form);
  return box;
}
