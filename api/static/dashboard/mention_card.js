/* A stream card's way out: the original post (http(s) only, in a new tab) and the thread view. */
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

/* Platform names as people write them, for the notes above the stream. */
const PLATFORM_NAMES = {reddit: "Reddit", x: "X", mastodon: "Mastodon", bluesky: "Bluesky",
                        hackernews: "Hacker News", discourse: "Discourse"};

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

/* The note above the stream for the source of ``m`` whose replies are off, added the first
   time one of its cards is shown (one per source, not per card). */
function noteReplyOff(m) {
  const list = document.getElementById("reply-notices");
  if (!list) return;
  const key = m.reply.source ? "source:" + m.reply.source : "platform:" + m.source;
  for (const item of list.children) if (item.dataset.key === key) return;
  const platform = PLATFORM_NAMES[m.source] || m.source;
  const item = document.createElement("li");
  item.className = "reply-notice";
  item.dataset.key = key;
  // One short line each (a phone shows the stream, not four paragraphs); what to set is one
  // tap away.
  const head = document.createElement("strong");
  head.textContent = m.reply.source
    ? "Replies through " + m.reply.source + " (" + platform + ") are off"
    : "Replies to " + platform + " are off";
  item.appendChild(head);
  item.appendChild(document.createTextNode(" · drafts are kept "));
  const why = document.createElement("details");
  why.className = "reply-notice-why";
  const ask = document.createElement("summary");
  ask.textContent = "Why";
  const hiddenName = document.createElement("span");
  hiddenName.className = "visually-hidden";
  hiddenName.textContent = " replies to " + (m.reply.source || platform) + " are off";
  ask.appendChild(hiddenName);
  why.appendChild(ask);
  const reason = document.createElement("p");
  reason.textContent = m.reply.off.charAt(0).toUpperCase() + m.reply.off.slice(1) + ".";
  why.appendChild(reason);
  item.appendChild(why);
  list.appendChild(item);
  list.hidden = false;
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
  if (reply.off) {
    noteReplyOff(m);
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
