// storewatch dashboard: the playbook dry run / approval and the verdict buttons on an incident page.
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
          : "Recorded as a true positive.");
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

document.addEventListener("DOMContentLoaded", () => {
  const incident = document.getElementById("incident");
  if (!incident) return;
  const base = "/api/incidents/" + encodeURIComponent(incident.dataset.incident);
  setUpRespond(base);
  setUpFeedback(base);
  setUpCase(base);
});
