// The farm's read-only page. Everything shown comes from the farm's JSON and goes into the page
// as text (textContent), never as HTML: build names, stage names and logs are written by build
// authors, who may be hostile. The token lives in sessionStorage and travels only in the
// Authorization header, never in a URL.
"use strict";

const TOKEN_KEY = "stagefarm.token";
const POLL_MS = 1000;
let selected = null;
let timer = null;

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

function row(cells) {
  const tr = document.createElement("tr");
  for (const c of cells) tr.appendChild(c instanceof Node ? wrap(c) : el("td", c));
  return tr;
}

function wrap(node) {
  const td = document.createElement("td");
  td.appendChild(node);
  return td;
}

function fill(tableId, rows, empty) {
  const body = document.querySelector("#" + tableId + " tbody");
  body.replaceChildren(...rows);
  if (rows.length === 0) {
    const tr = document.createElement("tr");
    const td = el("td", empty, "hint");
    td.colSpan = 8;
    tr.appendChild(td);
    body.appendChild(tr);
  }
}

async function api(path) {
  const headers = {};
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers["Authorization"] = "Bearer " + token;
  const res = await fetch(path, { headers, cache: "no-store", credentials: "omit" });
  let body = {};
  try { body = await res.json(); } catch (e) { /* not JSON */ }
  return { status: res.status, body };
}

function bytes(n) {
  n = Number(n || 0);
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i === 0 ? n : n.toFixed(1)) + " " + units[i];
}

function age(iso) {
  if (!iso) return "";
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (s < 60) return s + "s";
  if (s < 3600) return Math.floor(s / 60) + "m" + (s % 60) + "s";
  return Math.floor(s / 3600) + "h" + Math.floor((s % 3600) / 60) + "m";
}

function showSignIn(why) {
  document.getElementById("farm").hidden = true;
  document.getElementById("signin").hidden = false;
  document.getElementById("signout").hidden = true;
  document.getElementById("signin-why").textContent = why || "";
  document.getElementById("viewer").textContent = "";
}

function renderWorkers(workers) {
  fill("workers", workers.map(w => {
    const used = Number(w.localDiskUsedBytes || 0);
    const budget = Number(w.localDiskBudgetBytes || 0);
    const disk = used || budget ? bytes(used) + (budget ? " of " + bytes(budget) : "") : "";
    const warnings = w.warnings || [];
    const warn = el("span", warnings.length ? warnings.length + " warning" + (warnings.length > 1 ? "s" : "") : "");
    warn.title = warnings.join("\n");
    return row([w.name, el("span", w.state, "state s-" + w.state),
      (w.runningJobs || 0) + " busy / " + (w.slots || 0), disk, warn]);
  }), "no worker connected");
}

function renderQueue(queue, others) {
  fill("queue", queue.map(q => row([q.buildId, q.team, q.stage, age(q.queuedAt)])), "nothing queued");
  const text = (others || []).filter(t => t.queued || t.running || t.queuedStages || t.runningStages)
    .map(t => "team " + t.team + ": " + (t.running || 0) + " running, " + (t.queued || 0) + " queued builds ("
      + (t.runningStages || 0) + " stages running, " + (t.queuedStages || 0) + " queued)");
  document.getElementById("others").textContent = text.length ? "Other teams: " + text.join("; ") : "";
}

function renderBuilds(builds) {
  fill("builds", builds.map(b => {
    const tr = row([b.buildId, b.team, el("span", b.state, "state s-" + b.state),
      (b.stepsDone || 0) + "/" + (b.stepsTotal || 0) + " steps, " + (b.stagesDone || 0) + "/" + (b.stagesTotal || 0) + " stages",
      age(b.submittedAt), (b.workers || []).join(", ")]);
    tr.className = "build" + (b.buildId === selected ? " selected" : "");
    tr.dataset.id = b.buildId;
    tr.addEventListener("click", () => { selected = b.buildId; renderDetail(); });
    return tr;
  }), "no build yet");
}

// A lane per worker (and one for the queue and one for the cache), a bar per stage run.
function renderTimeline(b) {
  const start = Date.parse(b.submittedAt);
  const end = b.finishedAt ? Date.parse(b.finishedAt) : Date.now();
  const span = Math.max(1, end - start);
  const lanes = new Map();
  const lane = name => { if (!lanes.has(name)) lanes.set(name, []); return lanes.get(name); };
  for (const s of b.stages || []) {
    const label = s.name + " (" + (s.stepsDone || 0) + "/" + (s.stepsTotal || 0) + ")";
    if (s.runs && s.runs.length) {
      s.runs.forEach((r, i) => {
        const last = i === s.runs.length - 1;
        lane(r.worker).push({ label, state: last ? s.state : "FAILED", from: r.startedAt, to: r.finishedAt });
      });
    } else if (s.state === "CACHED") {
      lane("(cache)").push({ label, state: s.state, from: s.startedAt, to: s.finishedAt });
    } else if (s.state === "QUEUED") {
      lane("(queue)").push({ label, state: s.state, from: s.queuedAt, to: null });
    }
  }
  const box = document.getElementById("timeline");
  const rows = [];
  for (const [name, bars] of lanes) {
    const l = el("div", null, "lane");
    l.dataset.worker = name;
    l.appendChild(el("div", name, "lane-name"));
    const track = el("div", null, "lane-track");
    for (const bar of bars) {
      const from = bar.from ? Date.parse(bar.from) : start;
      const to = bar.to ? Date.parse(bar.to) : end;
      const d = el("div", bar.label, "bar " + bar.state);
      d.title = bar.label + " " + bar.state;
      d.style.left = (100 * (from - start) / span).toFixed(2) + "%";
      d.style.width = Math.max(0.3, 100 * (to - from) / span).toFixed(2) + "%";
      track.appendChild(d);
    }
    l.appendChild(track);
    rows.push(l);
  }
  if (rows.length === 0) {
    rows.push(el("p", "no stage has started yet", "hint"));
  } else {
    const axis = el("div", null, "lane axis");
    axis.appendChild(el("div", "", "lane-name"));
    const scale = el("div", null, "lane-track scale");
    scale.appendChild(el("span", "0s", "tick-start"));
    scale.appendChild(el("span", Math.round(span / 1000) + "s" + (b.finishedAt ? "" : " (running)"), "tick-end"));
    axis.appendChild(scale);
    rows.push(axis);
  }
  box.replaceChildren(...rows);
}

function renderLog(events) {
  const lines = [];
  for (const e of events || []) {
    if (e.step) {
      const s = e.step;
      lines.push("=> " + s.description + (s.worker ? " (on " + s.worker + ")" : "") + " " + s.status);
    } else if (e.log) {
      lines.push("   " + e.log.text);
    } else if (e.error) {
      lines.push("ERROR " + e.error.message);
    } else if (e.result) {
      lines.push("DONE");
    }
  }
  const pre = document.getElementById("log");
  const atEnd = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
  pre.textContent = lines.join("\n");
  if (atEnd) pre.scrollTop = pre.scrollHeight;
}

async function renderDetail() {
  const box = document.getElementById("detail");
  if (!selected) { box.hidden = true; return; }
  const { status, body } = await api("/api/builds/" + encodeURIComponent(selected));
  if (status !== 200) { box.hidden = true; selected = null; return; }
  box.hidden = false;
  document.getElementById("detail-id").textContent = body.buildId;
  const st = document.getElementById("detail-state");
  st.textContent = body.state;
  st.className = "state s-" + body.state;
  document.getElementById("detail-error").textContent = body.error || "";
  renderTimeline(body);
  renderLog(body.log);
}

async function refresh() {
  let res;
  try {
    res = await api("/api/farm");
  } catch (e) {
    document.getElementById("status").textContent = "coordinator unreachable: " + e;
    return true;
  }
  if (res.status === 401 || res.status === 403) {
    sessionStorage.removeItem(TOKEN_KEY);
    showSignIn(res.body.error);
    return false;
  }
  if (res.status !== 200) {
    document.getElementById("status").textContent = "error: " + (res.body.error || res.status);
    return true;
  }
  const f = res.body;
  document.getElementById("signin").hidden = true;
  document.getElementById("farm").hidden = false;
  document.getElementById("signout").hidden = f.viewer.open;
  document.getElementById("viewer").textContent = f.viewer.open
    ? "open farm (no tokens): every build"
    : "signed in as " + f.viewer.name + " (team " + f.viewer.team + (f.viewer.seesAll ? ", every team" : "") + ")";
  renderWorkers(f.workers);
  renderQueue(f.queue, f.otherTeams);
  renderBuilds(f.builds);
  if (!selected && f.builds.length) selected = f.builds[0].buildId;
  await renderDetail();
  document.getElementById("status").textContent = "updated " + new Date().toLocaleTimeString();
  return true;
}

function loop() {
  clearTimeout(timer);
  // polls while the farm is shown; the sign-in form starts it again
  refresh().then(more => { if (more) timer = setTimeout(loop, POLL_MS); },
    () => { timer = setTimeout(loop, POLL_MS); });
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("signin-form").addEventListener("submit", ev => {
    ev.preventDefault();
    const input = document.getElementById("token");
    sessionStorage.setItem(TOKEN_KEY, input.value.trim());
    input.value = "";
    loop();
  });
  document.getElementById("signout").addEventListener("click", () => {
    sessionStorage.removeItem(TOKEN_KEY);
    clearTimeout(timer);
    selected = null;
    showSignIn("signed out");
  });
  loop();
});
