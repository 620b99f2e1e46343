// The field page's service worker (scope /ui/link/): keeps the page and its files so it reopens without a network
// (network first: the page shows the call as it is now; the cached copy when there is no network), and sends the
// outbox on Background Sync when the network returns, even with the page closed.
"use strict";
importScripts("/ui/static/field-outbox.js");
const CACHE = "cabinet-field-v1";
const ASSETS = [
  "/ui/static/style.css", "/ui/static/field.js", "/ui/static/field-outbox.js", "/ui/static/htmx.min.js",
  "/ui/static/favicon.svg",
];

// Each answer is told to the open field pages, which update what they say is on the phone and at the office.
function tell(outcome, item, answer) {
  return self.clients.matchAll({ type: "window" }).then((pages) => {
    for (const page of pages) {
      page.postMessage({ type: "cabinet-outbox", outcome: outcome, kind: item.kind, token: item.token, answer: answer });
    }
  });
}

// The browser fires "sync" once the network is back; a rejection asks it to try again later (with its own
// back-off). The page's own sending (on "online" or a visit) stays as the fallback.
self.addEventListener("sync", (event) => {
  if (event.tag !== self.cabinetOutbox.SYNC_TAG) return;
  event.waitUntil(self.cabinetOutbox.drain(null, tell).then((empty) => {
    if (!empty) throw new Error("the office is not reachable yet");
  }));
});

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(ASSETS)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(names.filter((n) => n.startsWith("cabinet-field-") && n !== CACHE).map((n) => caches.delete(n))))
      .then(() => self.clients.claim())
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  const page = url.pathname.startsWith("/ui/link/") && !url.pathname.includes("/tasks/");
  if (!page && !ASSETS.includes(url.pathname)) return;
  event.respondWith(
    fetch(request)
      .then((response) => {
        if (response.ok) {
          const copy = response.clone();
          caches.open(CACHE).then((cache) => cache.put(url.pathname, copy));
        }
        return response;
      })
      .catch(() => caches.open(CACHE).then((cache) => cache.match(url.pathname)).then((hit) => hit || Response.error()))
  );
});
