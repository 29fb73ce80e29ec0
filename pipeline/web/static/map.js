// Leads over the run's own imagery (no internet tiles): GeoJSON from /api/leads with the page session.
(function () {
  const PRIORITY = {1: "#d7191c", 2: "#fd8d3c", 3: "#ffd84d", 4: "#2b83ba"};
  const DONE = {verified: "#7b3294", stopped: "#7b3294", reported: "#555", filed: "#555",
                rectified: "#1a9641", closed: "#999"};
  const labels = JSON.parse(document.getElementById("labels").textContent);
  const mapEl = document.getElementById("map");
  const map = L.map("map", {attributionControl: false}).setView([32.0, 118.8], 10);
  LPLayers(map, labels, mapEl.dataset.basemap);
  let layer = null, framed = false;
  function colour(p) { return DONE[p.status] || PRIORITY[p.priority] || "#d7191c"; }
  function esc(s) { const d = document.createElement("div"); d.textContent = s == null ? "" : String(s); return d.innerHTML; }
  function popup(p) {
    return '<b><a href="/leads/' + encodeURIComponent(p.code) + '">' + esc(p.code) + "</a></b> " +
      esc(labels.status[p.status] || p.status) + "<br>" + esc(labels.class[p.change_class] || p.change_class || "") +
      "<br>" + Number(p.area_mu || 0).toFixed(2) + " " + labels.mu + " · P" + esc(p.priority || "?") +
      (p.assignee ? "<br>" + esc(p.assignee) : "") +
      '<br><a href="/leads/' + encodeURIComponent(p.code) + '">' + esc(labels.open) + " →</a>";
  }
  async function load() {
    const params = new URLSearchParams();
    for (const [k, v] of new FormData(document.getElementById("filters"))) { if (v) params.set(k, v); }
    const resp = await fetch("/api/leads?" + params.toString(), {credentials: "same-origin"});
    if (!resp.ok) { document.getElementById("count").textContent = resp.status; return; }
    const data = await resp.json();
    if (layer) { map.removeLayer(layer); }
    layer = L.geoJSON(data, {
      style: f => ({color: colour(f.properties), weight: 2, fillOpacity: 0.35}),
      onEachFeature: (f, l) => l.bindPopup(popup(f.properties))
    }).addTo(map);
    document.getElementById("count").textContent = data.features.length;
    mapEl.dataset.features = data.features.length;
    if (data.features.length && !framed) { map.fitBounds(layer.getBounds(), {padding: [20, 20]}); framed = true; }
  }
  async function imagery() {
    const resp = await fetch("/imagery.json", {credentials: "same-origin"});
    const overlays = resp.ok ? await resp.json() : [];
    const shown = LPImagery(map, overlays, document.getElementById("imagery"), labels);
    mapEl.dataset.imagery = overlays.length;
    if (shown && !framed) { map.fitBounds(shown.bounds); }
  }
  document.getElementById("filters").addEventListener("submit", e => { e.preventDefault(); framed = false; load(); });
  document.querySelectorAll("#filters select, #filters input").forEach(el =>
    el.addEventListener("change", () => { load(); }));
  imagery().then(load);
})();
