// Offline field work: the service worker, an IndexedDB outbox for verifications, photos and
// patrol records made without signal, and their sync (each with its submission key, so the
// ledger records it once; a step someone else took first is shown, never overwritten).
window.LPOffline = (function () {
  const DB = "lp-field", STORE = "outbox", CACHE = "lp-field-v1";
  const log = document.getElementById("sync-log"), badge = document.getElementById("outbox");
  const text = JSON.parse((document.getElementById("offline-text") || {}).textContent || "{}");
  let syncing = null;
  function db() {
    return new Promise((ok, fail) => {
      const r = indexedDB.open(DB, 1);
      r.onupgradeneeded = () => r.result.createObjectStore(STORE, {keyPath: "id", autoIncrement: true});
      r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error);
    });
  }
  function tx(mode, fn) {
    return db().then(d => new Promise((ok, fail) => {
      const t = d.transaction(STORE, mode), out = fn(t.objectStore(STORE));
      t.oncomplete = () => ok(out && out.result); t.onerror = () => fail(t.error);
    }));
  }
  const all = () => tx("readonly", s => s.getAll());
  function show() {
    return all().then(items => {
      document.body.dataset.pending = items.length;
      if (badge) { badge.hidden = !items.length; badge.textContent = (text.pending || "") + " " + items.length; }
    });
  }
  function note(msg, cls) {
    if (!log) { return; }
    const p = document.createElement("p"); p.className = cls; p.textContent = msg; log.appendChild(p);
  }
  function key() {
    return self.crypto && crypto.randomUUID ? crypto.randomUUID()
      : Date.now().toString(36) + Math.random().toString(36).slice(2);
  }
  function queue(form) {
    const fields = [];
    for (const [k, v] of new FormData(form)) { if (!(v instanceof File) || v.size) { fields.push([k, v]); } }
    return tx("readwrite", s => s.add({url: form.action, fields: fields, label: form.dataset.label || "",
                                       queued_at: new Date().toISOString()})).then(show);
  }
  function sendOne(item) {
    const body = new FormData();
    item.fields.forEach(([k, v]) => v instanceof Blob ? body.append(k, v, v.name || "photo.jpg") : body.append(k, v));
    return fetch(item.url, {method: "POST", body: body, headers: {"X-Sync": "1"}, credentials: "same-origin"})
      .then(resp => resp.json().catch(() => ({})).then(data => {
        if (resp.ok) { note((item.label ? item.label + ": " : "") + (text.synced || "ok"), "ok"); }
        else if (resp.status === 409 || resp.status === 422) { note((item.label ? item.label + ": " : "") + (data.error || resp.status), "error"); }
        else { throw new Error("HTTP " + resp.status); }  // kept for the next try
        return tx("readwrite", s => s.delete(item.id));
      }));
  }
  function sync() {
    if (syncing) { return syncing; }
    syncing = all().then(items => items.reduce((p, item) => p.then(() => sendOne(item)), Promise.resolve()))
      .catch(() => {}).then(show).then(() => { syncing = null; });
    return syncing;
  }
  function precache() {  // the day's targets: lead pages, chips, the tiles around each
    const rows = Array.from(document.querySelectorAll("table.targets tr[data-code]"));
    if (!rows.length || !window.caches) { return Promise.resolve(0); }
    return fetch("/tiles.json", {credentials: "same-origin"}).then(r => r.ok ? r.json() : []).catch(() => []).then(runs => {
      const urls = [];
      rows.forEach(r => {
        const code = encodeURIComponent(r.dataset.code), lon = Number(r.dataset.lon), lat = Number(r.dataset.lat);
        urls.push("/leads/" + code, "/leads/" + code + "/chip.png");
        runs.filter(t => t.bounds[0] <= lon && lon <= t.bounds[2] && t.bounds[1] <= lat && lat <= t.bounds[3]).forEach(t => {
          for (let z = Math.max(t.minzoom, t.maxzoom - 2); z <= t.maxzoom; z++) {
            const n = 2 ** z, x = Math.floor((lon + 180) / 360 * n);
            const y = Math.floor((1 - Math.asinh(Math.tan(lat * Math.PI / 180)) / Math.PI) / 2 * n);
            t.layers.filter(l => l !== "score").forEach(l => {
              for (let dx = -1; dx <= 1; dx++) { for (let dy = -1; dy <= 1; dy++) {
                urls.push(t.urls[l].replace("{z}", z).replace("{x}", x + dx).replace("{y}", y + dy));
              } }
            });
          }
        });
      });
      return caches.open(CACHE).then(c => Promise.all(urls.map(u =>
        fetch(u, {credentials: "same-origin"}).then(resp => resp.ok ? c.put(u, resp).then(() => 1) : 0).catch(() => 0))))
        .then(done => { const n = done.reduce((a, b) => a + b, 0); document.body.dataset.cached = n; return n; });
    });
  }
  function reachable() {  // navigator.onLine is not to be trusted: ask the server itself
    if (!navigator.onLine) { return Promise.resolve(false); }
    const ctl = new AbortController(), timer = setTimeout(() => ctl.abort(), 8000);
    return fetch("/healthz", {cache: "no-store", signal: ctl.signal}).then(r => r.ok, () => false)
      .finally(() => clearTimeout(timer));
  }
  document.querySelectorAll("form[data-offline]").forEach(form => {
    form.addEventListener("submit", e => {
      e.preventDefault();
      if (form.submission_key && !form.submission_key.value) { form.submission_key.value = key(); }
      reachable().then(up => {
        if (up) { HTMLFormElement.prototype.submit.call(form); return; }
        queue(form).then(() => {
          const q = form.querySelector(".queued"); if (q) { q.hidden = false; }
          form.reset(); if (form.submission_key) { form.submission_key.value = ""; }
        });
      });
    });
  });
  window.addEventListener("online", sync);
  setInterval(() => all().then(items => items.length && sync()), 4000);  // "online" is not always told
  const ready = ("serviceWorker" in navigator)
    ? navigator.serviceWorker.register("/sw.js").then(() => navigator.serviceWorker.ready).catch(() => null)
    : Promise.resolve(null);
  ready.then(() => { document.body.dataset.sw = "1"; return navigator.onLine ? precache() : 0; })
    .then(() => navigator.onLine ? sync() : show());
  return {sync: sync, queue: queue, pending: () => all().then(i => i.length), precache: precache};
})();
