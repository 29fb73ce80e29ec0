// The lead's outline over the run's imagery (tiles when the run has them, else its overlays).
(function () {
  const el = document.getElementById("lead-map");
  if (!el || !window.L) { return; }
  const map = L.map("lead-map", {attributionControl: false});
  LPLayers(map, JSON.parse(document.getElementById("labels").textContent), el.dataset.basemap);
  const shape = L.geoJSON(JSON.parse(el.dataset.geojson),
                          {style: {color: "#ff2", weight: 2, fill: false}}).addTo(map);
  map.fitBounds(shape.getBounds(), {maxZoom: 17, padding: [60, 60]});
  const overlays = JSON.parse(document.getElementById("overlays").textContent);
  const labels = JSON.parse(document.getElementById("labels").textContent);
  LPImagery(map, overlays, document.getElementById("imagery"), labels);
  shape.bringToFront();
})();
