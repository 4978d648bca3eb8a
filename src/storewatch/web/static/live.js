// storewatch dashboard: new incidents appear on the open incident list without a reload.
// Polls /api/incidents/new and puts each new incident at the top of the table (or lists it in the banner when
// the page shows none). Values from logs go through textContent, never innerHTML.
"use strict";

const POLL_MS = 5000;

function liveCell(row, text, className) {
  const td = row.insertCell();
  td.textContent = text === null || text === undefined ? "" : String(text);
  if (className) td.className = className;
  return td;
}

function when(iso) {
  return iso ? iso.slice(0, 16).replace("T", " ") : "";
}

function liveRow(body, inc) {
  const row = body.insertRow(0);
  row.className = `${inc.status || ""} new`;
  row.dataset.incident = inc.id;
  liveCell(row, inc.risk_score, "num");
  const sev = document.createElement("span");
  sev.className = `sev ${inc.severity}`;
  sev.textContent = inc.severity;
  row.insertCell().append(sev);
  const link = document.createElement("a");
  link.href = `/incidents/${encodeURIComponent(inc.id)}`;
  link.textContent = inc.id;
  const idCell = row.insertCell();
  idCell.className = "mono";
  idCell.append(link);
  liveCell(row, inc.title);
  liveCell(row, inc.scenario);
  liveCell(row, when(inc.first_seen), "mono");
  liveCell(row, when(inc.last_seen), "mono");
  liveCell(row, inc.alerts, "num");
  liveCell(row, inc.status);
}

function bannerLink(banner, inc) {
  const link = document.createElement("a");
  link.href = `/incidents/${encodeURIComponent(inc.id)}`;
  link.textContent = `${inc.id} (${inc.severity}): ${inc.title}`;
  const item = document.createElement("li");
  item.append(link);
  let list = banner.querySelector("ul");
  if (!list) {
    list = document.createElement("ul");
    banner.append(list);
  }
  list.append(item);
}

function setUpLive() {
  const banner = document.getElementById("live");
  if (!banner) return;
  const table = document.querySelector("table.incidents");
  const heading = document.createElement("strong");
  banner.append(heading);
  let until = null;
  let seen = 0;

  async function poll() {
    const query = new URLSearchParams();
    if (until) query.set("after", until);
    if (banner.dataset.minSeverity) query.set("min_severity", banner.dataset.minSeverity);
    try {
      const response = await fetch(`/api/incidents/new?${query}`, { credentials: "same-origin" });
      if (!response.ok) return;
      const data = await response.json();
      if (until !== null) {
        for (const inc of data.incidents) {
          if (table) liveRow(table.tBodies[0], inc);
          else bannerLink(banner, inc);
          seen += 1;
        }
      }
      until = data.until || until || new Date(0).toISOString();
      if (seen) {
        heading.textContent = `${seen} new incident${seen === 1 ? "" : "s"} since this page opened`;
        banner.hidden = false;
      }
    } finally {
      window.setTimeout(poll, POLL_MS);
    }
  }
  poll();
}

document.addEventListener("DOMContentLoaded", setUpLive);
