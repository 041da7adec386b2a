// Shared by the engineer app and the dispatch board: the token, API calls, the live stream,
// safe DOM building and time formatting. Plain ES modules: no build step.

const TOKEN_KEY = "toir.token";
export const API = "/api/v1";
export const DATA_CACHE = "toir-data"; // the service worker's cache of API answers (sw.js)

export const token = {
  get: () => localStorage.getItem(TOKEN_KEY),
  set: (value) => localStorage.setItem(TOKEN_KEY, value),
  clear: () => localStorage.removeItem(TOKEN_KEY),
};

/** A failed API answer: the status and the server's message (JSON `{message}`). */
export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

/** Call the API with the stored token. Throws ApiError for an HTTP error, and lets a
 *  network failure (TypeError) through: callers tell "refused" from "not reached". */
export async function api(path, { method = "GET", body, headers = {} } = {}) {
  const init = { method, headers: { Accept: "application/json", ...headers } };
  const bearer = token.get();
  if (bearer) init.headers.Authorization = `Bearer ${bearer}`;
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = typeof body === "string" ? body : JSON.stringify(body);
  }
  const response = await fetch(`${API}${path}`, init);
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) throw new ApiError(response.status, data);
  // The service worker marks answers it gave from its cache while the network was out.
  if (data && typeof data === "object") {
    Object.defineProperty(data, "fromCache", {
      value: response.headers.get("X-Toir-From-Cache") === "1",
    });
  }
  return data;
}

/** Register the service worker for the whole app (/app and /app/board). */
export async function registerServiceWorker() {
  if (!("serviceWorker" in navigator)) return null;
  try {
    return await navigator.serviceWorker.register("/app/sw.js", { scope: "/app" });
  } catch (error) {
    console.warn("service worker not registered", error);
    return null;
  }
}

/** Forget the user on this device: token and cached answers (the queue is the caller's). */
export async function signOut() {
  token.clear();
  if ("caches" in window) await caches.delete(DATA_CACHE);
}

/**
 * The live stream (GET /api/v1/live, Server-Sent Events) read with fetch rather than
 * EventSource, because EventSource cannot send the Authorization header and a token in the
 * URL would end up in access logs. Reconnects by itself: at once after the server ends a
 * stream (it does every few minutes), with growing pauses after failures, and at once when
 * the browser comes back online. `onEvent(name, data)`; `onState("live"|"connecting"|"off")`.
 */
export class LiveStream {
  constructor({ onEvent, onState, onAuthLost }) {
    Object.assign(this, { onEvent, onState, onAuthLost });
    this.failures = 0;
    this.stopped = true;
    this.controller = null;
    this.timer = null;
    window.addEventListener("online", () => this.reconnectNow());
    window.addEventListener("offline", () => this.controller?.abort());
  }

  start() {
    this.stopped = false;
    this.reconnectNow();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    this.controller?.abort();
    this.onState("off");
  }

  reconnectNow() {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.controller?.abort();
    this.run();
  }

  async run() {
    const controller = new AbortController();
    this.controller = controller;
    this.onState("connecting");
    let retryMs = 1000;
    try {
      const response = await fetch(`${API}/live`, {
        headers: { Authorization: `Bearer ${token.get()}`, Accept: "text/event-stream" },
        cache: "no-store",
        signal: controller.signal,
      });
      if (response.status === 401) {
        this.stopped = true;
        this.onAuthLost();
        return;
      }
      if (!response.ok) throw new Error(`live stream: HTTP ${response.status}`);
      retryMs = await this.read(response.body.getReader(), controller);
      this.failures = 0;
    } catch (error) {
      if (controller.signal.aborted && this.controller !== controller) return; // replaced
      this.failures += 1;
      retryMs = Math.min(30000, 1000 * 2 ** Math.min(this.failures, 5));
    }
    if (this.controller !== controller || this.stopped) return;
    this.onState(navigator.onLine ? "connecting" : "off");
    this.timer = setTimeout(() => this.run(), retryMs);
  }

  /** Parse the event stream (blank-line separated blocks of `field: value` lines). */
  async read(reader, controller) {
    const decoder = new TextDecoder();
    let buffer = "";
    let retryMs = 500;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return retryMs;
      buffer += decoder.decode(value, { stream: true });
      let end;
      while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, "");
        const event = { name: "message", data: "" };
        for (const line of block.split(/\r?\n/)) {
          if (!line || line.startsWith(":")) continue; // a comment: the heartbeat
          const colon = line.indexOf(":");
          const field = colon < 0 ? line : line.slice(0, colon);
          const text = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
          if (field === "event") event.name = text;
          else if (field === "data") event.data += (event.data ? "\n" : "") + text;
          else if (field === "retry") retryMs = Number(text) || retryMs;
        }
        if (!event.data) continue;
        if (event.name === "hello") {
          this.failures = 0;
          this.onState("live");
        }
        if (this.controller === controller) this.onEvent(event.name, JSON.parse(event.data));
      }
    }
  }
}

/** Build an element: h("p", {class: "x"}, "text", child). Text is always text, never HTML. */
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Replace a node's children, skipping null, undefined and false (replaceChildren would
 *  show them as text). */
export function fill(node, ...children) {
  node.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

export const STATUS_LABEL = {
  new: "New",
  assigned: "Assigned",
  accepted: "Accepted",
  en_route: "En route",
  on_site: "On site",
  completed: "Completed",
  closed: "Closed",
  declined: "Declined",
  on_hold: "On hold",
  cancelled: "Cancelled",
};
export const SLA_LABEL = { ok: "SLA ok", at_risk: "SLA at risk", breached: "SLA breached" };
export const PRIORITY_RANK = { critical: 0, high: 1, normal: 2, low: 3 };

/** The deadline that matters now: accept, then arrive, then resolve. */
export function nextDeadline(ticket) {
  const { sla } = ticket;
  if (!ticket.accepted_at && sla.accept_by) return { what: "Accept", at: sla.accept_by };
  if (!ticket.arrived_at && sla.arrive_by) return { what: "Arrive", at: sla.arrive_by };
  return sla.resolve_by ? { what: "Resolve", at: sla.resolve_by } : null;
}

/** "Arrive in 1 h 05 min", "Accept overdue by 3 min". */
export function countdown(deadline, now = Date.now()) {
  if (!deadline) return "";
  const ms = new Date(deadline.at).getTime() - now;
  const span = duration(Math.abs(ms));
  return ms >= 0 ? `${deadline.what} in ${span}` : `${deadline.what} overdue by ${span}`;
}

function duration(ms) {
  const minutes = Math.floor(ms / 60000);
  if (minutes < 1) return `${Math.floor(ms / 1000)} s`;
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${String(minutes % 60).padStart(2, "0")} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

export function formatTime(iso) {
  return iso ? new Date(iso).toLocaleString([], { dateStyle: "short", timeStyle: "short" }) : "";
}

/** Refresh every `[data-deadline]` countdown once a second. */
export function tickCountdowns(root = document) {
  const tick = () => {
    for (const node of root.querySelectorAll("[data-deadline]")) {
      const deadline = JSON.parse(node.dataset.deadline);
      node.textContent = countdown(deadline);
      node.classList.toggle("overdue", new Date(deadline.at).getTime() < Date.now());
    }
  };
  tick();
  return setInterval(tick, 1000);
}

/** A short message read out by screen readers and shown for a few seconds. */
export function toast(text) {
  const box = document.getElementById("toast");
  if (!box) return;
  box.textContent = text;
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (box.hidden = true), 6000);
}
