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

/* The fold's control: "Reply on <platform>", the source the reply would go out through and,
   when sending through it is off, a badge saying so (each source has its own state: of two
   Mastodon instances one may be off). The same markup as the team queue's fold. */
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
    off.className = "badge reply-fold-off";
    off.textContent = "sending off";
    summary.appendChild(off);
  }
  return summary;
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
    const off = document.createElement("p");
    off.className = "reply-off";
    off.textContent = "Sending is off: " + reply.off + ". You can still draft.";
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
  if (reply.off) send.disabled = true;  // the reason is shown above
  actions.appendChild(send);
  actions.appendChild(submitButton("draft", "Save as draft", false));
  form.appendChild(actions);
  box.appendChild(form);
  return box;
}
