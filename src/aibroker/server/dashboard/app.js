// aibroker dashboard: services, run history (attempts side by side) and live runs.
// Plain DOM and fetch; the bearer token (if the server needs one) is kept in localStorage.
"use strict";

const $ = (selector) => document.querySelector(selector);
const tokenInput = $("#token");
tokenInput.value = localStorage.getItem("aibroker-token") || "";
tokenInput.addEventListener("change", () => {
  localStorage.setItem("aibroker-token", tokenInput.value);
  refresh();
});

function headers(extra = {}) {
  const token = tokenInput.value.trim();
  return token ? { ...extra, Authorization: `Bearer ${token}` } : extra;
}

async function api(path, options = {}) {
  const response = await fetch(path, { ...options, headers: headers(options.headers || {}) });
  if (!response.ok) {
    let detail = response.statusText;
    try { detail = (await response.json()).detail; } catch (_) { /* keep statusText */ }
    throw new Error(`${response.status}: ${detail}`);
  }
  return response;
}

function cell(text, className) {
  const td = document.createElement("td");
  td.textContent = text == null ? "" : String(text);
  if (className) td.className = className;
  return td;
}

function showError(target, error) {
  target.innerHTML = "";
  const row = document.createElement("tr");
  const td = cell(String(error), "status-error");
  td.colSpan = 8;
  row.appendChild(td);
  target.appendChild(row);
}

// ---------------------------------------------------------------- services
let currentService = null;

async function loadServices() {
  const body = $("#services-table tbody");
  try {
    const services = await (await api("/services")).json();
    body.innerHTML = "";
    if (!services.length) showError(body, "No services registered yet (aibroker discover).");
    for (const service of services) {
      const row = document.createElement("tr");
      row.append(cell(service.name), cell(service.status, `status-${service.status}`),
        cell(service.version || "-"), cell(service.methods), cell(service.endpoint),
        cell(service.summary));
      row.addEventListener("click", () => showService(service.name, "interface"));
      body.appendChild(row);
    }
  } catch (error) { showError(body, error); }
}

async function showService(name, view) {
  currentService = name;
  $("#service-viewer").hidden = false;
  $("#service-name").textContent = `${name} · ${view}`;
  try {
    $("#service-source").textContent = await (await api(`/services/${name}/${view}`)).text();
  } catch (error) { $("#service-source").textContent = String(error); }
}

document.querySelectorAll("[data-view]").forEach((button) =>
  button.addEventListener("click", () => currentService && showService(currentService, button.dataset.view)));

// ---------------------------------------------------------------- runs
async function loadRuns() {
  const body = $("#runs-table tbody");
  try {
    const runs = await (await api("/runs?limit=100")).json();
    body.innerHTML = "";
    if (!runs.length) showError(body, "No runs yet.");
    for (const run of runs) {
      const row = document.createElement("tr");
      row.append(cell(run.created_at.slice(0, 19).replace("T", " ")),
        cell(run.status, `status-${run.status}`), cell(run.outcome, `status-${run.outcome}`),
        cell(run.intent), cell(run.services.join(", ")), cell(run.attempts.length),
        cell(`${run.tokens.input}/${run.tokens.output}`),
        cell(run.duration_s == null ? "" : run.duration_s.toFixed(2)));
      row.addEventListener("click", () => { location.hash = `runs/${run.run_id}`; });
      body.appendChild(row);
    }
    const wanted = location.hash.match(/^#runs\/(.+)$/);
    const selected = wanted && runs.find((run) => run.run_id === wanted[1]);
    if (selected) showRun(selected);
  } catch (error) { showError(body, error); }
}

function showRun(run) {
  $("#run-detail").hidden = false;
  $("#run-title").textContent = `${run.intent} — ${run.status}${run.outcome ? " / " + run.outcome : ""}`;
  $("#run-answer").textContent = run.error || run.answer || "";
  const grid = $("#attempts");
  grid.innerHTML = "";
  for (const attempt of run.attempts) {
    const box = document.createElement("div");
    box.className = "attempt";
    const title = document.createElement("h3");
    title.textContent = `attempt ${attempt.attempt} · ${attempt.kind} · check ${attempt.check} · exit ${attempt.exit_code ?? "-"}`;
    const code = document.createElement("pre");
    code.textContent = attempt.code;
    box.append(title, code);
    if (attempt.error) {
      const error = document.createElement("div");
      error.className = "error";
      error.textContent = `${attempt.error.kind || "error"}: ${attempt.error.message || JSON.stringify(attempt.error)}`;
      box.appendChild(error);
    }
    if (attempt.stdout_tail) {
      const out = document.createElement("pre");
      out.textContent = attempt.stdout_tail;
      box.appendChild(out);
    }
    grid.appendChild(box);
  }
}

// ---------------------------------------------------------------- live run
$("#ask-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const list = $("#live-events");
  list.innerHTML = "";
  $("#live-answer").textContent = "";
  const add = (text) => { const li = document.createElement("li"); li.textContent = text; list.appendChild(li); };
  try {
    const response = await api("/runs/stream", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ input: { intent: $("#intent").value }, stream_mode: ["updates", "values"] }),
    });
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true }).replace(/\r\n/g, "\n");
      let split;
      while ((split = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, split);
        buffer = buffer.slice(split + 2);
        const name = (block.match(/^event: ?(.*)$/m) || [])[1];
        const data = block.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.replace(/^data: ?/, "")).join("\n");
        if (!name || !data) continue;
        const payload = JSON.parse(data);
        if (name === "updates") add(`node ${Object.keys(payload).join(", ")}`);
        else if (name === "values") $("#live-answer").textContent = payload.answer || "";
        else if (name === "error") add(`error: ${payload.message}`);
        else if (name === "end") add(`end: ${payload.status}`);
        else if (name === "metadata") add(`run ${payload.run_id}`);
      }
    }
  } catch (error) { add(String(error)); }
  loadRuns();
});

// ---------------------------------------------------------------- tabs
function selectTab() {
  const tab = (location.hash || "#services").slice(1).split("/")[0];
  for (const name of ["services", "runs", "ask"]) $(`#tab-${name}`).hidden = name !== tab;
  document.querySelectorAll("nav a").forEach((a) => a.classList.toggle("active", a.dataset.tab === tab));
}
function refresh() { loadServices(); loadRuns(); }
window.addEventListener("hashchange", () => { selectTab(); if (location.hash.startsWith("#runs/")) loadRuns(); });
selectTab();
refresh();
