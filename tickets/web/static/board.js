// The planners' dispatch board: open tickets by status with their SLA state, the ones the
// engine could not assign (with its reasons), and for any ticket the engine's candidates
// with each factor's score; a planner assigns or reassigns by hand from there.
import {
  api,
  ApiError,
  token,
  registerServiceWorker,
  signOut,
  LiveStream,
  h,
  fill,
  STATUS_LABEL,
  SLA_LABEL,
  nextDeadline,
  countdown,
  tickCountdowns,
  toast,
} from "./common.js";

const COLUMNS = ["new", "declined", "assigned", "accepted", "en_route", "on_site", "on_hold"];
const LIST_PATH = `/tickets?${COLUMNS.map((s) => `status=${s}`).join("&")}&limit=500`;
const REFRESH_MS = 30000;
const CANDIDATES_SHOWN = 5;

const state = { me: null, tickets: [], engineers: [], live: "off" };
const $ = (id) => document.getElementById(id);

const live = new LiveStream({
  onEvent: () => loadSoon(), // any notification may move a card
  onState: (value) => ((state.live = value), renderNet()),
  onAuthLost: () => showSignIn("Your token is no longer valid."),
});

async function boot() {
  registerServiceWorker();
  $("sign-in-form").addEventListener("submit", onSignIn);
  $("sign-out").addEventListener("click", async () => {
    live.stop();
    await signOut();
    showSignIn();
  });
  $("refresh").addEventListener("click", load);
  window.addEventListener("online", renderNet);
  window.addEventListener("offline", renderNet);
  tickCountdowns();
  setInterval(() => state.me && load(), REFRESH_MS); // SLA states move with the clock
  if (token.get()) await start();
  else showSignIn();
}

async function start() {
  try {
    state.me = await api("/me");
  } catch (error) {
    return showSignIn(error instanceof ApiError ? error.message : "Cannot reach the server.");
  }
  $("sign-in").hidden = true;
  $("sign-out").hidden = false;
  if (!["planner", "admin"].includes(state.me.role)) {
    $("not-planner").hidden = false;
    return;
  }
  $("board").hidden = false;
  live.start();
  await load();
  state.engineers = await api("/engineers").catch(() => []);
}

async function onSignIn(event) {
  event.preventDefault();
  token.set($("token").value.trim());
  try {
    await api("/me");
  } catch (error) {
    token.clear();
    $("sign-in-error").textContent = error instanceof ApiError ? error.message : "No connection.";
    return;
  }
  $("token").value = "";
  await start();
}

function showSignIn(message = "") {
  state.me = null;
  for (const id of ["board", "not-planner"]) $(id).hidden = true;
  $("sign-in").hidden = false;
  $("sign-out").hidden = true;
  $("sign-in-error").textContent = message;
}

let timer = null;
function loadSoon() {
  clearTimeout(timer);
  timer = setTimeout(load, 500);
}

async function load() {
  try {
    state.tickets = (await api(LIST_PATH)).items;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return showSignIn("Sign in again.");
    return toast("Could not load the tickets.");
  }
  render();
}

// ---- rendering ----

function renderNet() {
  const text = { live: "live", connecting: "connecting…", off: "not live" }[state.live];
  $("net").textContent = navigator.onLine ? `Online · ${text}` : "Offline";
  $("net").className = `pill ${navigator.onLine && state.live === "live" ? "ok" : "warn"}`;
}

function needsPerson(t) {
  return Boolean(t.unassignable_reasons?.length) || t.flags.includes("unassignable");
}

function render() {
  renderNet();
  const stuck = state.tickets.filter(needsPerson);
  $("unassignable-count").textContent = `(${stuck.length})`;
  fill($("unassignable-list"), ...stuck.map((t) => h("li", {}, card(t, true))));
  const columns = COLUMNS.map((status) => {
    const tickets = state.tickets.filter((t) => t.status === status && !needsPerson(t));
    return h(
      "section",
      { class: "column", "aria-labelledby": `col-${status}`, dataset: { status } },
      h("h2", { id: `col-${status}` }, `${STATUS_LABEL[status]} (${tickets.length})`),
      h("ul", { class: "cards" }, tickets.map((t) => h("li", {}, card(t, false)))),
    );
  });
  fill($("columns"), ...columns);
}

function card(t, withReasons) {
  const deadline = nextDeadline(t);
  return h(
    "button",
    {
      type: "button",
      class: `card sla-${t.sla_state}`,
      dataset: { ticket: t.id },
      onclick: () => openPanel(t),
    },
    h("span", { class: "card-title" }, t.title),
    h("span", { class: "meta" }, `#${t.id} · ${t.priority} · ${t.assignee_id || "unassigned"}`),
    h(
      "span",
      { class: "row" },
      h("span", { class: `badge sla-${t.sla_state}` }, SLA_LABEL[t.sla_state]),
      deadline
        ? h("span", { class: "countdown", dataset: { deadline: JSON.stringify(deadline) } }, countdown(deadline))
        : null,
    ),
    withReasons
      ? h("ul", { class: "reasons" }, (t.unassignable_reasons || []).map((r) => h("li", {}, r)))
      : null,
  );
}

// ---- one ticket: candidates and manual assignment ----

function openPanel(t) {
  const panel = $("panel");
  fill(
    panel,
    h(
      "div",
      { class: "row" },
      h("h2", { id: "panel-title" }, `#${t.id} ${t.title}`),
      h("button", { type: "button", class: "quiet", onclick: () => panel.close() }, "Close"),
    ),
    h(
      "p",
      { class: "meta" },
      `${STATUS_LABEL[t.status]} · ${t.priority} · ${SLA_LABEL[t.sla_state]} · `,
      `assigned to ${t.assignee_id || "nobody"}`,
    ),
    needsPerson(t)
      ? h("ul", { class: "reasons" }, (t.unassignable_reasons || []).map((r) => h("li", {}, r)))
      : null,
    h("section", { id: "candidates", "aria-label": "Candidates" }, h("p", {}, "Ranking…")),
    manualAssign(t),
    h("p", { id: "panel-error", class: "error", role: "alert" }),
  );
  if (!panel.open) panel.showModal();
  loadCandidates(t);
}

async function loadCandidates(t) {
  const section = $("candidates");
  let preview;
  try {
    preview = await api(`/tickets/${t.id}/candidates?limit=${CANDIDATES_SHOWN}`);
  } catch (error) {
    fill(section, h("h3", {}, "Candidates"), h("p", { class: "hint" }, error.message));
    return;
  }
  const excluded = Object.entries(preview.excluded_by_reason);
  fill(
    section,
    h("h3", {}, `Candidates (rule ${preview.rule_id}, ${preview.eligible} eligible)`),
    h("ol", { class: "candidates" }, preview.candidates.map((c) => candidateItem(t, c, preview))),
    excluded.length
      ? h(
          "details",
          {},
          h("summary", {}, "Excluded, by reason"),
          h(
            "ul",
            {},
            excluded.map(([reason, ids]) =>
              h("li", {}, `${reason}: ${ids.join(", ")} (${preview.excluded_counts[reason]})`),
            ),
          ),
        )
      : null,
  );
}

function candidateItem(t, c, preview) {
  const factors = Object.entries(c.factors);
  return h(
    "li",
    { class: "candidate", dataset: { engineer: c.engineer_id } },
    h("strong", {}, c.engineer_id),
    ` · score ${c.total.toFixed(1)} · ${Math.round(c.travel_min)} min away`,
    h(
      "dl",
      { class: "factors" },
      factors.flatMap(([name, score]) => [
        h("dt", {}, `${name} (weight ${preview.weights_pct[name] ?? 0} %)`),
        h(
          "dd",
          {},
          h("meter", { min: 0, max: 100, value: score, "aria-label": `${name} ${score}` }),
          ` ${Math.round(score)}`,
        ),
      ]),
    ),
    h(
      "button",
      { type: "button", class: "primary", onclick: () => assign(t, c.engineer_id, "") },
      `Assign to ${c.engineer_id}`,
    ),
  );
}

function manualAssign(t) {
  const options = state.engineers.map((e) =>
    h("option", { value: e.id }, `${e.name} (${e.id}, ${e.status})`),
  );
  const form = h(
    "form",
    { class: "stack", id: "manual-assign" },
    h("h3", {}, "Assign by hand"),
    h("label", { for: "assignee" }, "Engineer"),
    options.length
      ? h("select", { id: "assignee", required: true }, options)
      : h("input", { id: "assignee", required: true }),
    h("label", { for: "assign-reason" }, "Reason (kept in the history)"),
    h("input", { id: "assign-reason" }),
    h("button", { type: "submit", class: "primary" }, "Assign"),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    assign(t, $("assignee").value.trim(), $("assign-reason").value.trim());
  });
  return form;
}

async function assign(t, engineerId, reason) {
  try {
    await api(`/tickets/${t.id}/actions/assign`, {
      method: "POST",
      body: { assignee_id: engineerId, reason: reason || "assigned from the dispatch board" },
      headers: { "Idempotency-Key": crypto.randomUUID() },
    });
  } catch (error) {
    $("panel-error").textContent = error.message;
    return;
  }
  $("panel").close();
  toast(`#${t.id} assigned to ${engineerId}`);
  await load();
}

boot();
