/* The stream's customer filter: a name box that suggests customers as one types
   (/api/customers?q=); picking one puts its id in the hidden "customer" field, which is what
   the filter sends.  Without this script the form sends the name and the page resolves it
   (api/dashboard/customer_filter.py).  Uses fetchJson (charts.js) and loadFirstPage (stream.js). */
"use strict";

const picker = {request: 0, timer: null, options: [], active: -1};
const SUGGESTED = 8;

function pickerParts() {
  return {box: document.getElementById("customer-name"), id: document.getElementById("customer-id"),
          list: document.getElementById("customer-options")};
}

/* The notice under the filters: several customers match, or none does ("" hides it). */
function sayCustomerChoice(text) {
  const notice = document.getElementById("customer-choice");
  notice.querySelector(".customer-choices")?.remove();
  document.getElementById("customer-problem").textContent = text;
  notice.hidden = !text;
}

function closeSuggestions() {
  const {box, list} = pickerParts();
  list.hidden = true;
  list.textContent = "";
  box.setAttribute("aria-expanded", "false");
  box.removeAttribute("aria-activedescendant");
  picker.active = -1;
}

function showSuggestions(items) {
  const {box, list} = pickerParts();
  picker.options = items;
  picker.active = -1;
  list.textContent = "";
  items.forEach((c, i) => {
    const li = document.createElement("li");
    li.id = "customer-option-" + i;
    li.setAttribute("role", "option");
    li.setAttribute("aria-selected", "false");
    li.textContent = c.name;
    if (c.company && c.company !== c.name) {
      const company = document.createElement("span");
      company.className = "meta";
      company.textContent = " " + c.company;
      li.appendChild(company);
    }
    // mousedown, not click: the box keeps its focus (its blur would close the list first).
    li.addEventListener("mousedown", ev => { ev.preventDefault(); pickCustomer(c); });
    list.appendChild(li);
  });
  list.hidden = !items.length;
  box.setAttribute("aria-expanded", String(items.length > 0));
  sayCustomerChoice(items.length ? "" : "No customer matches “" + box.value.trim() + "”.");
}

function highlight(index) {
  const {box, list} = pickerParts();
  const items = list.querySelectorAll("[role=option]");
  if (!items.length) return;
  picker.active = (index + items.length) % items.length;
  items.forEach((li, i) => li.setAttribute("aria-selected", String(i === picker.active)));
  box.setAttribute("aria-activedescendant", items[picker.active].id);
  items[picker.active].scrollIntoView({block: "nearest"});
}

function pickCustomer(c) {
  const {box, id} = pickerParts();
  box.value = c.name;
  id.value = c.id;
  closeSuggestions();
  sayCustomerChoice("");
  loadFirstPage();
  if (typeof showFilterCount === "function") showFilterCount();
}

async function suggestCustomers() {
  const {box} = pickerParts();
  const text = box.value.trim();
  const request = ++picker.request;
  if (!text) { closeSuggestions(); sayCustomerChoice(""); return; }
  try {
    const body = await fetchJson("/api/customers?" + new URLSearchParams({q: text, limit: String(SUGGESTED)}));
    if (request === picker.request) showSuggestions(body.items);
  } catch (err) {
    if (request === picker.request) sayCustomerChoice("customers: " + err.message);
  }
}

/* Enter without a highlighted suggestion: the one customer suggested, or the one named
   exactly so; else ask to pick (never filter on a guess). */
function pickTyped() {
  const typed = pickerParts().box.value.trim().toLowerCase();
  const exact = picker.options.filter(c => c.name.toLowerCase() === typed);
  const only = exact.length === 1 ? exact[0] : picker.options.length === 1 ? picker.options[0] : null;
  if (only) pickCustomer(only);
  else if (picker.options.length) sayCustomerChoice("Several customers match “" + typed + "”: pick one.");
}

function onPickerKey(ev) {
  const {list} = pickerParts();
  if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
    ev.preventDefault();
    if (list.hidden) { suggestCustomers(); return; }
    highlight(picker.active + (ev.key === "ArrowDown" ? 1 : -1));
  } else if (ev.key === "Enter") {
    ev.preventDefault();  // the form's submit would reload with the name, not an id
    if (picker.active >= 0) pickCustomer(picker.options[picker.active]);
    else pickTyped();
  } else if (ev.key === "Escape" && !list.hidden) {
    ev.stopPropagation();
    closeSuggestions();
  }
}

function onPickerInput(ev) {
  // The box is not a filter by itself: the stream reloads when a customer is picked (or the
  // box is emptied), not on every letter.
  ev.stopPropagation();
  const {id} = pickerParts();
  if (id.value) {  // the name no longer names the customer picked
    id.value = "";
    loadFirstPage();
  }
  clearTimeout(picker.timer);
  picker.timer = setTimeout(suggestCustomers, 150);
}

/* After a saved view set the id, show the customer's name in the box. */
async function showCustomerName() {
  const {box, id} = pickerParts();
  if (!id.value) { box.value = ""; return; }
  try {
    const c = await fetchJson("/api/customers/" + encodeURIComponent(id.value) + "?mentions=1");
    box.value = c.name;
  } catch (err) {
    box.value = id.value;  // an id the registry no longer has: the stream says it is empty
  }
}

document.addEventListener("DOMContentLoaded", () => {
  const {box} = pickerParts();
  box.addEventListener("input", onPickerInput);
  box.addEventListener("keydown", onPickerKey);
  box.addEventListener("blur", closeSuggestions);
  // A choice offered by the page (a name typed before this script ran) picks without reloading.
  for (const link of document.querySelectorAll("#customer-choice a[data-customer-id]")) {
    link.addEventListener("click", ev => {
      ev.preventDefault();
      pickCustomer({id: link.dataset.customerId, name: link.textContent});
    });
  }
});
