// The field page's service worker (scope /ui/link/): keeps the page and its files so it reopens without a network.
// Network first (the page shows the call as it is now); the cached copy when there is no network.
"use strict";
const CACHE = "cabinet-field-v1";
const ASSETS = ["/ui/static/style.css", "/ui/static/field.js", "/ui/static/htmx.min.js", "/ui/static/favicon.svg"];

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
