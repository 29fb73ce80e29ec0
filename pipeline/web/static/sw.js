// The field app's service worker: pages network first (the cached copy when offline), static
// assets, chips and imagery tiles cache first. Posts are never cached: the pages queue them.
const CACHE = "lp-field-v1";
const SHELL = ["/static/app.css", "/static/geo.js", "/static/offline.js", "/static/verify.js",
  "/static/sheet.js", "/static/lead.js", "/static/imagery.js", "/static/outline.js",
  "/static/patrol.js", "/static/vendor/leaflet/leaflet.js", "/static/vendor/leaflet/leaflet.css",
  "/manifest.webmanifest"];

self.addEventListener("install", e => {
  e.waitUntil(caches.open(CACHE).then(c => c.addAll(SHELL)).then(() => self.skipWaiting()));
});
self.addEventListener("activate", e => {
  e.waitUntil(caches.keys().then(keys => Promise.all(keys.filter(k => k !== CACHE).map(k => caches.delete(k))))
    .then(() => self.clients.claim()));
});

function cacheFirst(req) {
  return caches.match(req).then(hit => hit || fetch(req).then(resp => {
    if (resp.ok) { const copy = resp.clone(); caches.open(CACHE).then(c => c.put(req, copy)); }
    return resp;
  }));
}
function networkFirst(req) {
  return fetch(req).then(resp => {
    if (resp.ok && !resp.redirected) { const copy = resp.clone(); caches.open(CACHE).then(c => c.put(req, copy)); }
    return resp;
  }).catch(() => caches.match(req, {ignoreSearch: req.mode !== "navigate"}).then(hit => hit ||
    caches.match(new URL(req.url).pathname)).then(hit => hit || new Response("offline", {status: 503})));
}
self.addEventListener("fetch", e => {
  const req = e.request, url = new URL(req.url);
  if (req.method !== "GET" || url.origin !== self.location.origin) { return; }
  if (url.pathname.startsWith("/static/") || url.pathname.startsWith("/tiles/") ||
      url.pathname.endsWith("/chip.png") || url.pathname.includes("/attachments/")) {
    e.respondWith(cacheFirst(req));
  } else if (!["/login", "/sw.js", "/healthz"].includes(url.pathname)) {
    e.respondWith(networkFirst(req));
  }
});
