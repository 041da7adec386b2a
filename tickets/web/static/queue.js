// The offline action queue: every action the engineer takes goes through here, online or
// not, so there is one path to the server and one set of guarantees.
//
// Guarantees, and how:
// - Nothing is lost: an action is written to IndexedDB before anything is sent, and leaves
//   it only when the server has answered 2xx. Closing the app, a reload or a dead battery
//   keeps it; it is sent on the next start.
// - Never applied twice: each entry gets its Idempotency-Key (a random UUID) when it is
//   queued, and keeps it for every attempt. When a request reached the server but the answer
//   was lost (the signal dropped), the retry carries the same key and the server answers
//   with the first result instead of acting again (tickets/idempotency.py).
// - In order: entries are sent one at a time in the order they were taken (IndexedDB's
//   auto-increment key), and a transient failure (no network, 5xx, 429) stops the replay,
//   so "arrive" is never sent before the "accept" that precedes it. Other tabs of the app
//   take the same Web Lock before replaying, so two tabs never interleave.
// - Conflicts are shown, not dropped: a refusal (403 the ticket was reassigned, 409 its
//   status changed, 404, 422) marks the entry "refused" with the server's message and keeps
//   it, with its body (the completion record the engineer typed), until the engineer
//   dismisses or retries it. Later entries for the same ticket are refused with it unsent:
//   they built on the refused one.

const DB_NAME = "toir-app";
const STORE = "actions";
const LOCK_NAME = "toir-action-queue";
const RETRY_MS = [2000, 5000, 10000, 30000];

function openDb() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => {
      request.result.createObjectStore(STORE, { keyPath: "seq", autoIncrement: true });
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

/** Run `work(store)` in one IndexedDB transaction and resolve with its result. */
async function withStore(mode, work) {
  const db = await openDb();
  try {
    return await new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      let result;
      Promise.resolve(work(tx.objectStore(STORE))).then((value) => (result = value), reject);
      tx.oncomplete = () => resolve(result);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}

const asPromise = (request) =>
  new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });

/** Statuses an action leads to, for showing the ticket as it will be once synced. */
export const TARGET_STATUS = {
  accept: "accepted",
  decline: "declined",
  depart: "en_route",
  arrive: "on_site",
  complete: "completed",
};

export class ActionQueue {
  /**
   * send(entry) -> fetch Response (throws TypeError when the network is unreachable);
   * onChange() after any change; onApplied(entry, ticket) after a 2xx;
   * onAuthLost() on 401 (the replay stops until the engineer signs in again).
   */
  constructor({ send, onChange, onApplied, onAuthLost }) {
    Object.assign(this, { send, onChange, onApplied, onAuthLost });
    this.running = null;
    this.again = false;
    this.retryTimer = null;
    this.failures = 0;
    window.addEventListener("online", () => this.flush());
  }

  /** Queue an action (keyed now, once) and start sending. */
  async enqueue(ticketId, action, body) {
    const entry = {
      ticketId,
      action,
      body: JSON.stringify(body || {}),
      key: crypto.randomUUID(),
      takenAt: new Date().toISOString(),
      state: "pending",
    };
    entry.seq = await withStore("readwrite", (store) => asPromise(store.add(entry)));
    this.onChange();
    this.flush();
    return entry;
  }

  /** Every entry in the order taken: pending ones, then the refused ones kept for the user. */
  all() {
    return withStore("readonly", (store) => asPromise(store.getAll()));
  }

  async dismiss(seq) {
    await withStore("readwrite", (store) => asPromise(store.delete(seq)));
    this.onChange();
  }

  /** Send a refused entry again, in its original place in the order. */
  async retry(seq) {
    // Retried deliberately: it goes even if taken before another refusal on its ticket.
    const retriedAt = new Date().toISOString();
    await this.update(seq, { state: "pending", status: undefined, message: undefined, retriedAt });
    this.flush();
  }

  async clear() {
    await withStore("readwrite", (store) => asPromise(store.clear()));
    this.onChange();
  }

  async update(seq, changes) {
    await withStore("readwrite", async (store) => {
      const entry = await asPromise(store.get(seq));
      if (entry) await asPromise(store.put({ ...entry, ...changes }));
    });
    this.onChange();
  }

  /**
   * Replay pending entries in order. Safe to call any time and often: a call while a
   * replay runs makes that replay look again when it ends, so nothing queued meanwhile
   * waits for the next trigger.
   */
  flush() {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.withLock(() => this.replay());
      } while (this.again);
    })().finally(() => (this.running = null));
    return this.running;
  }

  withLock(work) {
    if (navigator.locks) return navigator.locks.request(LOCK_NAME, work);
    return work();
  }

  async replay() {
    clearTimeout(this.retryTimer);
    const refused = new Map(); // ticketId -> its latest refused entry
    for (const entry of await this.all()) {
      if (entry.state === "refused") {
        refused.set(entry.ticketId, entry);
        continue;
      }
      // Taken before an earlier action on its ticket was refused: it built on that one.
      // (Taken after, the engineer had seen the refusal: it goes.)
      const earlier = refused.get(entry.ticketId);
      if (earlier && (entry.retriedAt || entry.takenAt) < earlier.refusedAt) {
        const message = `not sent: "${earlier.action}" on this ticket was refused before it`;
        const changes = { state: "refused", status: 0, message, refusedAt: earlier.refusedAt };
        await this.update(entry.seq, changes);
        continue;
      }
      const outcome = await this.sendOne(entry);
      if (outcome === "stop") return;
      if (outcome !== "sent") refused.set(entry.ticketId, outcome);
    }
    this.failures = 0;
  }

  /** Send one entry: "sent", "stop" (retry later) or the entry as refused (kept for the user). */
  async sendOne(entry) {
    let response;
    try {
      response = await this.send(entry);
    } catch (networkError) {
      this.scheduleRetry(); // not reached: the same key goes again later
      return "stop";
    }
    const data = await response.json().catch(() => null);
    if (response.ok) {
      await withStore("readwrite", (store) => asPromise(store.delete(entry.seq)));
      this.onChange();
      this.onApplied(entry, data);
      return "sent";
    }
    if (response.status === 401) {
      this.onAuthLost();
      return "stop";
    }
    if (response.status >= 500 || response.status === 429 || response.status === 408) {
      this.scheduleRetry();
      return "stop";
    }
    const changes = {
      state: "refused",
      status: response.status,
      message: (data && data.message) || `HTTP ${response.status}`,
      refusedAt: new Date().toISOString(),
    };
    await this.update(entry.seq, changes);
    return { ...entry, ...changes };
  }

  scheduleRetry() {
    const delay = RETRY_MS[Math.min(this.failures, RETRY_MS.length - 1)];
    this.failures += 1;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.flush(), delay);
  }
}
