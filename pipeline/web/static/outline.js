// A Leaflet map framed on the outline in the element's data-outline (GeoJSON), with a scale bar.
window.LPOutlineMap = function (id) {
  const el = document.getElementById(id);
  const map = L.map(id, {attributionControl: false});
  L.control.scale({imperial: false}).addTo(map);
  const outline = JSON.parse(el.dataset.outline || "null");
  if (outline) {
    const z = L.geoJSON(outline, {style: {color: "#06c", weight: 2, fill: false, dashArray: "6 4"}}).addTo(map);
    map.fitBounds(z.getBounds());
  } else { map.setView([32.0, 118.8], 11); }
  return map;
};
