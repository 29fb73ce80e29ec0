// The lead page's map: the lead's outline over the run's before/after imagery.
(function () {
  const map = L.map("lead-map", {attributionControl: false});
  const shape = L.geoJSON(JSON.parse(document.getElementById("lead-map").dataset.geojson),
                          {style: {color: "#ff2", weight: 2, fill: false}}).addTo(map);
  map.fitBounds(shape.getBounds(), {maxZoom: 15, padding: [60, 60]});
  LPImagery(map, JSON.parse(document.getElementById("overlays").textContent),
            document.getElementById("imagery"), JSON.parse(document.getElementById("labels").textContent));
  shape.bringToFront();
})();
