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
