/* Service worker: read lessons already visited without a connection.
   Pages (HTML): network first, the cached copy when offline, else the offline page.
   Versioned static files (?v=) and course images: cache first.
   Only public reading pages are kept (home, course list, courses, lessons): never personal
   pages, answers or the API. Served from the LMS's root, so the scope is the LMS itself. */
"use strict";

const VERSION = "v1";
const PAGES = "lms-pages-" + VERSION;
const ASSETS = "lms-assets-" + VERSION;
const SCOPE = new URL(self.registration.scope);
const BASE = SCOPE.pathname; // "/" on the LMS's own site, "/hoc/" when mounted
const OFFLINE = BASE + "offline";

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(PAGES).then((cache) => cache.add(new Request(OFFLINE, {credentials: "same-origin"})))
    .then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((names) => Promise.all(names.filter((n) => n.startsWith("lms-") && n !== PAGES && n !== ASSETS)
      .map((n) => caches.delete(n))))
    .then(() => self.clients.claim()));
});

function keepsPage(path) {
  const rest = path.slice(BASE.length);
  return rest === "" || rest === "courses" || rest === "offline" ||
    /^courses\/[^/]+$/.test(rest) || /^lessons\/[^/]+$/.test(rest);
}

function isAsset(url) {
  const rest = url.pathname.slice(BASE.length);
  return (rest.startsWith("static/") && url.searchParams.has("v")) || /^courses\/[^/]+\/assets\//.test(rest);
}

async function pageFromNetwork(request, url) {
  try {
    const response = await fetch(request);
    if (response.ok && !response.redirected && keepsPage(url.pathname)) {
      const copy = response.clone();
      caches.open(PAGES).then((cache) => cache.put(url.pathname, copy));
    }
    return response;
  } catch (error) {
    const cached = await caches.match(url.pathname, {cacheName: PAGES});
    return cached || (await caches.match(OFFLINE, {cacheName: PAGES})) || Response.error();
  }
}

async function assetFromCache(request) {
  const cached = await caches.match(request, {cacheName: ASSETS});
  if (cached) {
    return cached;
  }
  const response = await fetch(request);
  if (response.ok) {
    const copy = response.clone();
    caches.open(ASSETS).then((cache) => cache.put(request, copy));
  }
  return response;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== SCOPE.origin || !url.pathname.startsWith(BASE)) {
    return;
  }
  const rest = url.pathname.slice(BASE.length);
  if (request.method === "POST" && rest === "logout") {
    // The next person on a shared phone must not read the last one's pages.
    event.waitUntil(caches.delete(PAGES).then(() => caches.open(PAGES))
      .then((cache) => cache.add(new Request(OFFLINE, {credentials: "same-origin"}))).catch(() => undefined));
    return;
  }
  if (request.method !== "GET" || rest.startsWith("api/") || rest === "sw.js") {
    return;
  }
  if (isAsset(url)) {
    event.respondWith(assetFromCache(request));
  } else if (request.mode === "navigate" || (request.headers.get("Accept") || "").includes("text/html")) {
    event.respondWith(pageFromNetwork(request, url));
  }
});
