// The engineer app: my tickets by urgency, a ticket's detail and its actions. Every action
// goes through the offline queue (queue.js); the list is re-read whenever the live stream
// says something changed, so the server stays the source of truth.
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
  PRIORITY_RANK,
  nextDeadline,
  countdown,
  tickCountdowns,
  toast,
} from "./common.js";
import { ActionQueue, TARGET_STATUS } from "./queue.js";
import { conflictItem } from "./conflicts.js";
import {
  checklistPanel,
  completeForm,
  detectedPanel,
  loadContext,
  loadHistory,
  slaPanel,
} from "./detail.js";

const OPEN_STATUSES = ["assigned", "accepted", "en_route", "on_site", "on_hold"];
const LIST_PATH = `/tickets?${OPEN_STATUSES.map((s) => `status=${s}`).join("&")}&limit=200`;
const ACTIONS_BY_STATUS = {
  assigned: ["accept", "decline"],
  accepted: ["depart", "arrive", "decline"],
  en_route: ["arrive"],
  on_site: ["complete"],
};
const ACTION_LABEL = {
  accept: "Accept",
  decline: "Decline…",
  depart: "Depart",
  arrive: "Arrived on site",
  complete: "Complete…",
};
const EVENT_TEXT = {
  assigned: "New ticket",
  reassigned: "New ticket",
  unassigned: "Reassigned to someone else",
  cancelled: "Ticket cancelled",
  sla_warning: "SLA deadline close",
};
const REFRESH_MS = 60000;

const state = { me: null, tickets: new Map(), entries: [], live: "off", fromCache: false };
const $ = (id) => document.getElementById(id);

const queue = new ActionQueue({
  send: (entry) =>
    fetch(`/api/v1/tickets/${entry.ticketId}/actions/${entry.action}`, {
      method: "POST",
      headers: {
        Authorization: `Bearer ${token.get()}`,
        "Content-Type": "application/json",
        "Idempotency-Key": entry.key,
      },
      body: entry.body,
    }),
  onChange: refreshQueue,
  onApplied: (entry, ticket) => {
    if (ticket && ticket.id) state.tickets.set(ticket.id, ticket);
    toast(`Sent: ${entry.action} on #${entry.ticketId}`);
    loadTickets(); // at once: it also refreshes the copy saved for offline use
  },
  onAuthLost: () => showSignIn("Your token is no longer valid. Unsent actions are kept."),
});

const live = new LiveStream({
  onEvent: onLiveEvent,
  onState: (value) => {
    state.live = value;
    renderNet();
  },
  onAuthLost: () => showSignIn("Your token is no longer valid: sign in again."),
});

// ---- start, sign in, sign out ----

async function boot() {
  registerServiceWorker();
  window.addEventListener("hashchange", render);
  window.addEventListener("online", () => (renderNet(), loadTickets()));
  window.addEventListener("offline", renderNet);
  $("sign-in-form").addEventListener("submit", onSignIn);
  $("sign-out").addEventListener("click", onSignOut);
  $("enable-notifications").addEventListener("click", askNotifications);
  tickCountdowns();
  setInterval(() => navigator.onLine && state.me && loadTickets(), REFRESH_MS);
  if (token.get()) await start();
  else showSignIn();
}

async function start() {
  try {
    state.me = await api("/me");
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      token.clear(); // revoked or expired: queued actions stay, for after signing in again
      return showSignIn("Sign in again.");
    }
    return showSignIn("Cannot reach the server, and this phone has no saved session.");
  }
  $("sign-out").hidden = false;
  $("sign-in").hidden = true;
  if (state.me.role !== "engineer") {
    $("role").textContent = state.me.role;
    $("not-engineer").hidden = false;
    return;
  }
  await refreshQueue();
  live.start();
  await loadTickets();
  queue.flush();
}

async function onSignIn(event) {
  event.preventDefault();
  askNotifications(); // while the click still counts as the user's gesture
  token.set($("token").value.trim());
  $("sign-in-error").textContent = "";
  try {
    await api("/me");
  } catch (error) {
    token.clear();
    $("sign-in-error").textContent =
      error instanceof ApiError ? error.message : "Cannot reach the server.";
    return;
  }
  $("token").value = "";
  await start();
}

async function onSignOut() {
  const pending = state.entries.filter((e) => e.state === "pending").length;
  if (pending && !confirm(`${pending} action(s) are not sent yet and will be lost. Sign out?`)) {
    return;
  }
  live.stop();
  await queue.clear();
  await signOut();
  state.me = null;
  state.tickets.clear();
  location.hash = "";
  showSignIn();
}

function showSignIn(message = "") {
  for (const id of ["list", "detail", "not-engineer"]) $(id).hidden = true;
  $("sign-in").hidden = false;
  $("sign-out").hidden = true;
  $("sign-in-error").textContent = message;
  renderNet();
}

function askNotifications() {
  if ("Notification" in window && Notification.permission === "default") {
    Notification.requestPermission().then(renderNotificationsButton);
  }
}

// ---- data ----

let loading = null;
let loadAgain = false;
let reloadTimer = null;

function loadTicketsSoon() {
  clearTimeout(reloadTimer);
  reloadTimer = setTimeout(loadTickets, 300);
}

/** Re-read my open tickets. One read at a time; a call during a read makes it read once
 *  more when it ends, since the running read may have started before the change. */
function loadTickets() {
  if (!state.me) return Promise.resolve();
  if (loading) {
    loadAgain = true;
    return loading;
  }
  loading = (async () => {
    do {
      loadAgain = false;
      await readTickets();
    } while (loadAgain);
  })().finally(() => (loading = null));
  return loading;
}

async function readTickets() {
  try {
    const page = await api(LIST_PATH);
    state.tickets = new Map(page.items.map((t) => [t.id, t]));
    state.fromCache = page.fromCache;
    render();
    if (!page.fromCache) prefetch(page.items);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) showSignIn("Sign in again.");
    else state.fromCache = true;
    renderNet();
  }
}

const prefetched = new Map(); // ticket id -> updated_at of the copy saved for offline

/** Warm the service worker's cache with what the detail screen reads, for offline use;
 *  only for tickets that changed since their copy was saved. */
async function prefetch(tickets) {
  for (const ticket of tickets) {
    if (prefetched.get(ticket.id) === ticket.updated_at) continue;
    prefetched.set(ticket.id, ticket.updated_at);
    for (const part of ["history", "context"]) {
      await api(`/tickets/${ticket.id}/${part}`).catch(() => null);
    }
  }
}

async function refreshQueue() {
  state.entries = await queue.all();
  render();
}

function onLiveEvent(name, data) {
  if (name === "ticket") {
    const text = EVENT_TEXT[data.event];
    if (text) notify(text, `#${data.ticket.id} ${data.ticket.title}`, `ticket-${data.ticket.id}`);
  }
  loadTicketsSoon(); // hello, resync, ticket: the list is the truth
}

async function notify(title, body, tag) {
  toast(`${title}: ${body}`);
  if (!("Notification" in window) || Notification.permission !== "granted") return;
  // Through the service worker: Android's Chrome has no page-level `new Notification`.
  const registration = await navigator.serviceWorker?.getRegistration("/app");
  const options = { body, tag, icon: "/app/static/icon.svg" };
  if (registration) registration.showNotification(title, options);
  else new Notification(title, options);
}

// ---- what the engineer sees: the ticket as it will be once queued actions are sent ----

function withQueued(ticket) {
  const queued = state.entries.filter((e) => e.ticketId === ticket.id && e.state === "pending");
  const shownStatus = queued.reduce((s, e) => TARGET_STATUS[e.action] || s, ticket.status);
  return { ...ticket, shownStatus, queued };
}

function byUrgency(a, b) {
  const at = (t) => Date.parse(nextDeadline(t)?.at || "9999-12-31T00:00:00Z");
  return at(a) - at(b) || PRIORITY_RANK[a.priority] - PRIORITY_RANK[b.priority] || a.id - b.id;
}

// ---- rendering ----

function render() {
  renderNet();
  renderConflicts();
  if (!state.me || state.me.role !== "engineer") return;
  const match = location.hash.match(/^#\/ticket\/(\d+)$/);
  $("list").hidden = Boolean(match);
  $("detail").hidden = !match;
  if (match) renderDetail(Number(match[1]));
  else renderList();
}

function renderNet() {
  const online = navigator.onLine;
  const pending = state.entries.filter((e) => e.state === "pending").length;
  const liveText = { live: "live", connecting: "connecting…", off: "not live" }[state.live];
  $("net").textContent = online ? `Online · ${liveText}` : "Offline";
  $("net").className = `pill ${online ? (state.live === "live" ? "ok" : "warn") : "off"}`;
  $("pending").hidden = pending === 0;
  $("pending").textContent = `${pending} to sync`;
  $("stale").hidden = !(state.fromCache || !online);
  renderNotificationsButton();
}

function renderNotificationsButton() {
  const button = $("enable-notifications");
  button.hidden = !("Notification" in window) || Notification.permission !== "default";
}

function renderList() {
  const tickets = [...state.tickets.values()].map(withQueued).sort(byUrgency);
  fill($("tickets"), ...tickets.map(ticketCard));
  $("empty").hidden = tickets.length > 0;
}

function ticketCard(t) {
  const deadline = nextDeadline(t);
  const place = [t.equipment_id, t.site_id].filter(Boolean).join(" · ");
  return h(
    "li",
    {},
    h(
      "a",
      { class: `card sla-${t.sla_state}`, href: `#/ticket/${t.id}`, dataset: { ticket: t.id } },
      h("span", { class: "card-title" }, t.title),
      h("span", { class: "meta" }, `#${t.id} · ${t.priority} · ${STATUS_LABEL[t.shownStatus]}`),
      place ? h("span", { class: "meta" }, place) : null,
      h(
        "span",
        { class: "row" },
        h("span", { class: `badge sla-${t.sla_state}` }, SLA_LABEL[t.sla_state]),
        deadline ? countdownNode(deadline) : null,
        t.queued.length ? h("span", { class: "pill pending" }, `${t.queued.length} to sync`) : null,
      ),
    ),
  );
}

function countdownNode(deadline) {
  return h(
    "span",
    { class: "countdown", dataset: { deadline: JSON.stringify(deadline) } },
    countdown(deadline),
  );
}

function renderConflicts() {
  const refused = state.entries.filter((e) => e.state === "refused");
  $("conflicts").hidden = refused.length === 0;
  fill($("conflict-list"), ...refused.map((entry) => conflictItem(entry, queue)));
}

function renderDetail(id) {
  const section = $("detail");
  const ticket = state.tickets.get(id);
  if (!ticket) {
    fill(
      section,
      h("h1", { id: "detail-title" }, `Ticket #${id}`),
      h("p", {}, "This ticket is no longer open for you: completed, reassigned or cancelled."),
      h("a", { href: "#/", class: "button" }, "Back to my tickets"),
    );
    return;
  }
  const t = withQueued(ticket);
  const previous = section.dataset.ticket;
  if (previous === String(id) && section.querySelector("form")) {
    // A form is being filled in: a live update must not wipe what the engineer typed.
    $("detail-status").textContent = STATUS_LABEL[t.shownStatus];
    return;
  }
  const version = `${t.updated_at} ${t.shownStatus} ${t.queued.length}`;
  if (previous === String(id) && section.dataset.version === version) return; // unchanged
  section.dataset.ticket = String(id);
  section.dataset.version = version;
  fill(
    section,
    h("a", { href: "#/", class: "back" }, "← My tickets"),
    h("h1", { id: "detail-title", tabindex: "-1" }, t.title),
    h(
      "p",
      { class: "meta" },
      `#${t.id} · ${t.kind} · ${t.priority} · `,
      h("strong", { id: "detail-status" }, STATUS_LABEL[t.shownStatus]),
      t.queued.length ? h("span", { class: "pill pending" }, `${t.queued.length} to sync`) : null,
    ),
    actionsPanel(t),
    slaPanel(t),
    h("section", { id: "context", "aria-label": "Equipment and site" }, h("p", {}, "Loading…")),
    detectedPanel(t),
    checklistPanel(t),
    h("section", { id: "history", "aria-label": "History" }, h("h2", {}, "History")),
  );
  if (previous !== String(id)) $("detail-title").focus();
  loadContext(t);
  loadHistory(t);
}

function actionsPanel(t) {
  const actions = ACTIONS_BY_STATUS[t.shownStatus] || [];
  const panel = h("section", { class: "actions", "aria-label": "Actions" });
  if (!actions.length) {
    const text = t.shownStatus === "on_hold" ? "On hold: wait for the planner." : "No action needed.";
    panel.append(h("p", { class: "hint" }, text));
  }
  for (const action of actions) {
    const primary = action !== "decline";
    panel.append(
      h(
        "button",
        {
          type: "button",
          class: primary ? "primary" : "",
          dataset: { action },
          onclick: () => onAction(t, action, panel),
        },
        ACTION_LABEL[action],
      ),
    );
  }
  return panel;
}

function onAction(t, action, panel) {
  if (action === "decline") return fill(panel, declineForm(t));
  if (action === "complete") {
    return fill(panel, completeForm(t, (body) => take(t, "complete", body)));
  }
  take(t, action, {});
}

/** Queue an action with the moment the engineer took it (the server records that time). */
async function take(t, action, body) {
  $("detail").querySelector("form")?.remove();
  await queue.enqueue(t.id, action, { ...body, at: new Date().toISOString() });
  toast(navigator.onLine ? `Sending: ${action}` : `Saved offline: ${action}, sent when online`);
}

function declineForm(t) {
  const form = h(
    "form",
    { class: "stack", id: "decline-form" },
    h("label", { for: "decline-reason" }, "Why do you decline?"),
    h("textarea", { id: "decline-reason", required: true, rows: 3 }),
    h("button", { type: "submit", class: "danger" }, "Decline ticket"),
    h("button", { type: "button", onclick: render }, "Cancel"),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    take(t, "decline", { reason: $("decline-reason").value.trim() });
  });
  return form;
}

boot();
