// storewatch dashboard: the playbook dry run / approval, the verdict buttons and the exception form on an incident page.
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

function fillRows(table, rows, columns) {
  const body = table.tBodies[0];
  body.replaceChildren();
  for (const item of rows) {
    const row = body.insertRow();
    for (const column of columns) cell(row, column(item));
  }
}

const ACTION_COLUMNS = [a => a.action, a => a.target, a => a.status, a => a.expires_at, a => a.detail];

function setUpRespond(base) {
  const dryRun = document.getElementById("dry-run");
  if (!dryRun) return;
  const approve = document.getElementById("approve");
  const playbook = document.getElementById("playbook");
  const message = document.getElementById("respond-message");
  const plan = document.getElementById("plan");
  const chosen = () => playbook.value.trim() || null;

  dryRun.addEventListener("click", async () => {
    say(message, "Planning…");
    approve.hidden = true;
    try {
      const actions = await post(base + "/plan", { playbook: chosen() });
      fillRows(plan, actions, [a => a.playbook, a => a.action, a => a.target, a => a.adapter,
                               a => (a.approval_required ? "required" : "no"), a => a.expires_at, a => a.description]);
      plan.hidden = actions.length === 0;
      approve.hidden = actions.length === 0;
      say(message, actions.length ? `Dry run: ${actions.length} action(s) would be taken. Nothing was changed.`
                                  : "Dry run: no playbook action applies to this incident.");
    } catch (error) {
      say(message, "Dry run failed: " + error.message, true);
    }
  });

  approve.addEventListener("click", async () => {
    say(message, "Executing…");
    try {
      const results = await post(base + "/execute", { playbook: chosen(), approved: true });
      const counts = {};
      for (const r of results) counts[r.status] = (counts[r.status] || 0) + 1;
      approve.hidden = true;
      plan.hidden = true;
      say(message, "Executed: " + Object.entries(counts).map(([s, n]) => `${n} ${s}`).join(", ") +
                   ". Every action is in the audit log.");
      const response = await fetch(base + "/actions", { credentials: "same-origin" });
      if (response.ok) {
        fillRows(document.getElementById("actions"), await response.json(), ACTION_COLUMNS);
      }
    } catch (error) {
      say(message, "Execution failed: " + error.message, true);
    }
  });
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
