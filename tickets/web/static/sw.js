// The service worker of the engineer app and the dispatch board (scope /app).
// The app shell is precached and served cache-first: it opens with no signal at all. API
// reads go network-first and fall back to the last answer saved here, marked with
// `X-Toir-From-Cache: 1`, so the engineer's open tickets stay readable offline. Writes
// (POST) are never touched: the page queues them itself (queue.js). `__VERSION__` is a
// hash of the static files put in by the server (tickets/web/pages.py): any change to them
// makes a new worker, which replaces the old shell cache.
const VERSION = "__VERSION__";
const SHELL_CACHE = `toir-shell-${VERSION}`;
const DATA_CACHE = "toir-data";
const NETWORK_TIMEOUT_MS = 6000; // patchy signal: answer from the cache rather than hang
const SHELL = [
  "/app",
  "/app/board",
  "/app/manifest.webmanifest",
  "/app/static/app.css",
  "/app/static/common.js",
  "/app/static/queue.js",
  "/app/static/detail.js",
  "/app/static/conflicts.js",
  "/app/static/engineer.js",
  "/app/static/board.js",
  "/app/static/icon.svg",
];

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(SHELL_CACHE)
      .then((cache) => cache.addAll(SHELL))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith("toir-shell-") && name !== SHELL_CACHE) await caches.delete(name);
      }
      await self.clients.claim();
    })(),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname === "/api/v1/live") return; // a stream: straight to the network
  if (url.pathname.startsWith("/api/")) event.respondWith(networkFirst(request));
  else if (url.pathname === "/app" || url.pathname.startsWith("/app/")) {
    event.respondWith(cacheFirst(request));
  }
});

async function cacheFirst(request) {
  const cached = await caches.match(request, { cacheName: SHELL_CACHE, ignoreSearch: true });
  return cached || fetch(request);
}

async function networkFirst(request) {
  const cache = await caches.open(DATA_CACHE);
  const network = fetch(request).then(async (response) => {
    // Saved before the page sees it: a reload right after (offline) finds this copy.
    if (response.ok) await cache.put(request, response.clone());
    return response;
  });
  const timeout = new Promise((resolve) => setTimeout(resolve, NETWORK_TIMEOUT_MS, null));
  const first = await Promise.race([network.catch(() => null), timeout]);
  if (first) return first;
  const cached = await cache.match(request);
  if (cached) return markedFromCache(cached);
  return network.catch(() => offline());
}

async function markedFromCache(response) {
  const headers = new Headers(response.headers);
  headers.set("X-Toir-From-Cache", "1");
  return new Response(await response.blob(), { status: response.status, headers });
}

function offline() {
  const body = JSON.stringify({ message: "offline, and not saved on this device" });
  const headers = { "Content-Type": "application/json", "X-Toir-From-Cache": "1" };
  return new Response(body, { status: 503, headers });
}
