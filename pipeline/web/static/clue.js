// Pick a clue's location on the map: a click sets longitude and latitude (and the marker).
(function () {
  const el = document.getElementById("clue-map");
  const lon = document.getElementById("clue-lon"), lat = document.getElementById("clue-lat");
  const map = LPOutlineMap("clue-map");
  let marker = null;
  function place(latlng) {
    if (marker) { marker.setLatLng(latlng); } else { marker = L.circleMarker(latlng, {radius: 8, color: "#d00"}).addTo(map); }
  }
  if (lon.value && lat.value) { place([Number(lat.value), Number(lon.value)]); }
  map.on("click", e => {
    lon.value = e.latlng.lng.toFixed(6); lat.value = e.latlng.lat.toFixed(6); place(e.latlng);
    el.dataset.picked = "1";
  });
})();
