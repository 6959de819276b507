/* The assignee pickers: staff accounts by id (names may repeat), loaded once per page. */
"use strict";

/* Assignees are staff accounts: the pickers' values are account ids, their labels names. */
function assigneeId(key) {
  return key && key.startsWith("account:") ? key.slice("account:".length) : "";
}

async function loadStaff() {
  const staff = (await fetchJson("/api/dashboard/staff")).items;
  const counts = new Map();
  for (const s of staff) counts.set(s.name, (counts.get(s.name) || 0) + 1);
  for (const select of document.querySelectorAll("[data-staff-picker]")) {
    for (const s of staff) {
      // A saved view may have put this id in already (as a bare number): name it instead.
      let option = Array.from(select.options).find(o => o.value === String(s.id));
      if (!option) {
        option = document.createElement("option");
        option.value = String(s.id);
        select.appendChild(option);
      }
      // Two staff may share a name: tell them apart by account number.
      option.textContent = counts.get(s.name) > 1 ? s.name + " (#" + s.id + ")" : s.name;
    }
    if (select.dataset.selected) select.value = select.dataset.selected;
  }
  if (state.current !== null && state.byId.get(state.current)) showAssignee(state.byId.get(state.current).triage);
}

function showAssignee(triage) {
  const select = document.getElementById("detail-assignee");
  for (const o of Array.from(select.querySelectorAll("option[data-former]"))) o.remove();
  const id = assigneeId(triage.assignee);
  if (id && !Array.from(select.options).some(o => o.value === id)) {
    // Not (or no longer) active staff: show who it is without offering them to others.
    const option = document.createElement("option");
    option.value = id;
    option.textContent = triage.assignee_name || triage.assignee;
    option.dataset.former = "1";
    select.appendChild(option);
  }
  select.value = id;
}
