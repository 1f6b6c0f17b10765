// The service worker of stocksite (served by stocksite.app.service_worker at /sw.js).
// It keeps the app shell and shows the offline page when a page cannot be fetched. It never
// caches pages, prices, results, the API or account pages: every other request goes to the
// network untouched.
"use strict";
const CACHE = {{ cache_name|safe }};
const OFFLINE_URL = {{ offline_url|safe }};
const SHELL = {{ shell_json|safe }};

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(CACHE).then(function (cache) {
      return cache.addAll(SHELL.map(function (url) { return new Request(url, { cache: "reload" }); }));
    }).then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (name) {
        return name.startsWith("stocksite-shell-") && name !== CACHE;
      }).map(function (name) { return caches.delete(name); }));
    }).then(function () { return self.clients.claim(); })
  );
});

self.addEventListener("fetch", function (event) {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate") {
    // Always the network; only when it fails, the offline page. Pages are never stored.
    event.respondWith(
      fetch(request).catch(function () {
        return caches.match(OFFLINE_URL, { cacheName: CACHE });
      })
    );
    return;
  }
  if (SHELL.indexOf(url.pathname) !== -1) {
    event.respondWith(
      caches.match(request, { cacheName: CACHE }).then(function (cached) {
        return cached || fetch(request);
      })
    );
  }
});
