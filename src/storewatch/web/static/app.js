// storewatch dashboard: the playbook dry run, approval action by action, rollback, the verdict buttons, the case
// panel and the exception form on an incident page.
// Everything shown comes back through textContent, never innerHTML: values from logs stay text.
"use strict";

const HEADERS = { "Content-Type": "application/json", "X-Storewatch-CSRF": "1" };

async function post(url, body) {
  const response = await fetch(url, { method: "POST", headers: HEADERS, credentials: "same-origin",
                                      body: JSON.stringify(body) });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const detail = typeof data.detail === "string" ? data.detail : JSON.stringify(data.detail || response.statusText);
    throw new Error(detail);
  }
  return data;
}

function say(element, text, failed) {
  element.textContent = text;
  element.classList.toggle("failed", Boolean(failed));
}

function cell(row, value) {
  const td = row.insertCell();
  td.textContent = value === null || value === undefined ? "" : typeof value === "object" ? JSON.stringify(value) : String(value);
  return td;
}

const OPEN = new Set(["planned", "failed"]);  // what an execution can still carry out

function actionRow(body, a) {
  const row = body.insertRow();
  for (const value of [a.action, a.target, a.status, a.expires_at, a.detail]) cell(row, value);
  const last = row.insertCell();
  if (a.status === "executed") {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "rollback";
    button.dataset.actionId = a.action_id;
    button.textContent = "Roll back";
    last.appendChild(button);
  }
}

async function refreshActions(base) {
  const response = await fetch(base + "/actions", { credentials: "same-origin" });
  if (!response.ok) return;
  const body = document.getElementById("actions").tBodies[0];
  body.replaceChildren();
  for (const a of await response.json()) actionRow(body, a);
}

// Rollback asks twice on the page itself (no dialog): the first click arms the button, the second runs it.
function setUpRollback(base, message) {
  const table = document.getElementById("actions");
  if (!table) return;
  table.addEventListener("click", async (event) => {
    const button = event.target.closest("button.rollback");
    if (!button) return;
    if (button.dataset.armed !== "1") {
      button.dataset.armed = "1";
      button.textContent = "Confirm roll back";
      button.classList.add("danger");
      return;
    }
    button.disabled = true;
    try {
      const result = await post("/api/actions/" + encodeURIComponent(button.dataset.actionId) + "/rollback", {});
      say(message, `Rollback of ${result.action} on ${result.target}: ${result.status}. ${result.detail}`,
          !result.changed && result.status !== "rolled_back");
      await refreshActions(base);
    } catch (error) {
      button.disabled = false;
      say(message, "Rollback failed: " + error.message, true);
    }
  });
}

function setUpRespond(base) {
  const dryRun = document.getElementById("dry-run");
  if (!dryRun) return;
  const playbook = document.getElementById("playbook");
  const message = document.getElementById("respond-message");
  const box = document.getElementById("plan-box");
  const plan = document.getElementById("plan");
  const all = document.getElementById("plan-all");
  const review = document.getElementById("review");
  const confirm = document.getElementById("confirm");
  const question = document.getElementById("confirm-question");
  const list = document.getElementById("confirm-list");
  const go = document.getElementById("confirm-execute");
  const chosen = () => playbook.value.trim() || null;
  let planned = [];

  const boxes = () => Array.from(plan.querySelectorAll("tbody input[type=checkbox]"));
  const ticked = () => boxes().filter(b => b.checked).map(b => planned[Number(b.dataset.index)]);
  const update = () => {
    const n = ticked().length;
    review.disabled = n === 0;
    review.textContent = n ? `Review the ${n} ticked action${n === 1 ? "" : "s"}` : "Review the ticked actions";
    confirm.hidden = true;
  };

  dryRun.addEventListener("click", async () => {
    say(message, "Planning…");
    box.hidden = true;
    confirm.hidden = true;
    try {
      planned = await post(base + "/plan", { playbook: chosen() });
      const body = plan.tBodies[0];
      body.replaceChildren();
      planned.forEach((a, index) => {
        const row = body.insertRow();
        const tick = document.createElement("input");
        tick.type = "checkbox";
        tick.dataset.index = String(index);
        tick.disabled = !OPEN.has(a.status);
        tick.setAttribute("aria-label", `${a.action} ${a.target}`);
        row.insertCell().appendChild(tick);
        for (const value of [a.action, a.target, a.status + (a.approval_required ? ", needs approval" : ""),
                             a.description]) {
          cell(row, value);
        }
      });
      all.checked = false;
      update();
      box.hidden = planned.length === 0;
      say(message, planned.length ? `Dry run: ${planned.length} action(s) would be taken. Nothing was changed.`
                                  : "Dry run: no playbook action applies to this incident.");
    } catch (error) {
      say(message, "Dry run failed: " + error.message, true);
    }
  });

  plan.addEventListener("change", (event) => {
    if (event.target === all) {
      for (const b of boxes()) if (!b.disabled) b.checked = all.checked;
    }
    update();
  });

  review.addEventListener("click", () => {
    const picked = ticked();
    question.textContent = `Execute ${picked.length} of ${planned.length} action${planned.length === 1 ? "" : "s"}?`;
    list.replaceChildren();
    for (const a of picked) {
      const item = document.createElement("li");
      item.textContent = `${a.action} → ${a.target}` + (a.approval_required ? " (needs approval)" : "");
      list.appendChild(item);
    }
    go.textContent = picked.length === 1 ? "Execute this action" : `Execute these ${picked.length}`;
    confirm.hidden = false;
    go.focus();
  });

  document.getElementById("confirm-cancel").addEventListener("click", () => { confirm.hidden = true; });

  go.addEventListener("click", async () => {
    const picked = ticked();
    say(message, "Executing…");
    go.disabled = true;
    try {
      const results = await post(base + "/execute", { playbook: chosen(), approved: true,
                                                      action_ids: picked.map(a => a.action_id) });
      const counts = {};
      for (const r of results) counts[r.status] = (counts[r.status] || 0) + 1;
      box.hidden = true;
      confirm.hidden = true;
      say(message, `Executed ${results.length} of ${planned.length}: ` +
                   Object.entries(counts).map(([s, n]) => `${n} ${s}`).join(", ") +
                   ". The others were not run. Every action is in the audit log.");
      await refreshActions(base);
    } catch (error) {
      say(message, "Execution failed: " + error.message, true);
    } finally {
      go.disabled = false;
    }
  });

  setUpRollback(base, message);
}


function setUpFeedback(base) {
  const message = document.getElementById("feedback-message");
  for (const button of document.querySelectorAll("button[data-verdict]")) {
    button.addEventListener("click", async () => {
      const verdict = button.dataset.verdict;
      try {
        const result = await post(base + "/feedback", { verdict, note: document.getElementById("note").value });
        const suppressed = (result.suppressed || []).length;
        say(message, verdict === "false_positive"
          ? `Recorded as a false positive; ${suppressed} pattern(s) will be suppressed by the next detect.`
          : verdict === "benign" ? "Recorded as benign (real but expected)." : "Recorded as a true positive.");
        document.getElementById("status").textContent = "resolved";
      } catch (error) {
        say(message, "Could not record the verdict: " + error.message, true);
      }
    });
  }
}

// The case panel: each form posts its fields to /case/<action>, then the page is reloaded to show the
// new state, the comment and the history entry as the server rendered them.
const LISTS = { others: /[\s,]+/, alerts: /[\s,]+/, add: /,/, remove: /,/ };

function caseBody(form) {
  const body = {};
  for (const [name, value] of new FormData(form).entries()) {
    const text = String(value).trim();
    if (LISTS[name]) body[name] = text.split(LISTS[name]).map(v => v.trim()).filter(Boolean);
    else body[name] = text === "" && name !== "note" && name !== "text" ? null : text;
  }
  return body;
}

function setUpCase(base) {
  const message = document.getElementById("case-message");
  if (!message) return;
  for (const form of document.querySelectorAll("form.case-action")) {
    form.addEventListener("submit", async event => {
      event.preventDefault();
      try {
        await post(base + "/case/" + form.dataset.action, caseBody(form));
        window.location.reload();
      } catch (error) {
        say(message, "Not changed: " + error.message, true);
      }
    });
  }
  const attach = document.getElementById("case-attach");
  attach.addEventListener("submit", async event => {
    event.preventDefault();
    const file = attach.elements.file.files[0];
    if (!file) return say(message, "Choose a file first.", true);
    const response = await fetch(base + "/case/attachments?name=" + encodeURIComponent(file.name), {
      method: "POST", credentials: "same-origin", body: await file.arrayBuffer(),
      headers: { "Content-Type": "application/octet-stream", "X-Storewatch-CSRF": "1" } });
    if (response.ok) window.location.reload();
    else say(message, "Not attached: " + ((await response.json().catch(() => ({}))).detail || response.statusText), true);
  });
}

function setUpException(base) {
  const preview = document.getElementById("exception-preview");
  if (!preview) return;
  const save = document.getElementById("exception-save");
  const message = document.getElementById("exception-message");
  const form = () => ({
    condition: document.getElementById("exception-condition").value,
    scope: document.getElementById("exception-scope").value,
    reason: document.getElementById("exception-reason").value || "-",
    expires_days: Number(document.getElementById("exception-days").value || 0),
  });
  let previewed = null;
  for (const id of ["exception-condition", "exception-scope", "exception-reason", "exception-days"]) {
    document.getElementById(id).addEventListener("input", () => { save.hidden = true; previewed = null; });
  }
  preview.addEventListener("click", async () => {
    say(message, "Replaying the stored history…");
    save.hidden = true;
    try {
      const result = await post(base + "/exceptions/preview", form());
      previewed = JSON.stringify(form());
      say(message, "This exception " + result.text + ". Nothing saved yet.");
      save.hidden = false;
    } catch (error) {
      say(message, "Cannot preview: " + error.message, true);
    }
  });
  save.addEventListener("click", async () => {
    if (previewed !== JSON.stringify(form())) return;  // confirm only what was previewed
    try {
      const result = await post(base + "/exceptions", form());
      save.hidden = true;
      say(message, `Saved as ${result.saved}; it applies from the next detect. Replayed on the stored history, it ${result.text}.`);
    } catch (error) {
      say(message, "Cannot save: " + error.message, true);
    }
  });
}

document.addEventListener("DOMContentLoaded", () => {
  const incident = document.getElementById("incident");
  if (!incident) return;
  const base = "/api/incidents/" + encodeURIComponent(incident.dataset.incident);
  setUpRespond(base);
  setUpFeedback(base);
  setUpCase(base);
  setUpException(base);
});
