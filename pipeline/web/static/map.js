// Leads over a plain background (no internet tiles): GeoJSON from /api/leads with the page session.
(function () {
  const PRIORITY = {1: "#d7191c", 2: "#fdae61", 3: "#ffd84d", 4: "#2b83ba"};
  const DONE = {verified: "#7b3294", stopped: "#7b3294", reported: "#555", filed: "#555",
                rectified: "#1a9641", closed: "#999"};
  const map = L.map("map", {attributionControl: false}).setView([32.0, 118.8], 10);
  let layer = null;
  function colour(p) { return DONE[p.status] || PRIORITY[p.priority] || "#d7191c"; }
  async function load() {
    const params = new URLSearchParams();
    for (const [k, v] of new FormData(document.getElementById("filters"))) { if (v) params.set(k, v); }
    const resp = await fetch("/api/leads?" + params.toString(), {credentials: "same-origin"});
    if (!resp.ok) { document.getElementById("count").textContent = resp.status; return; }
    const data = await resp.json();
    if (layer) { map.removeLayer(layer); }
    layer = L.geoJSON(data, {
      style: f => ({color: colour(f.properties), weight: 2, fillOpacity: 0.4}),
      onEachFeature: (f, l) => l.bindPopup('<a href="/leads/' + encodeURIComponent(f.properties.code) + '">' +
        f.properties.code + "</a><br>" + (f.properties.change_class || "") + " " +
        Number(f.properties.area_mu || 0).toFixed(2) + " 亩 · " + f.properties.status)
    }).addTo(map);
    document.getElementById("count").textContent = data.features.length;
    document.getElementById("map").dataset.features = data.features.length;
    if (data.features.length) { map.fitBounds(layer.getBounds(), {padding: [20, 20]}); }
  }
  document.getElementById("filters").addEventListener("submit", e => { e.preventDefault(); load(); });
  load();
})();
