// A patrol's route: points clicked on the map or tracked from the phone, kept as JSON [[lon, lat], ...].
(function () {
  const field = document.getElementById("route");
  let points = [];
  try { points = field.value ? JSON.parse(field.value) : []; } catch (e) { points = []; }
  const map = LPOutlineMap("route-map");
  const line = L.polyline([], {color: "#d33", weight: 3}).addTo(map);
  function draw() {
    line.setLatLngs(points.map(p => [p[1], p[0]]));
    field.value = points.length ? JSON.stringify(points) : "";
    document.getElementById("route-points").textContent = points.length;
  }
  map.on("click", e => { points.push([+e.latlng.lng.toFixed(6), +e.latlng.lat.toFixed(6)]); draw(); });
  document.getElementById("route-clear").addEventListener("click", () => { points = []; draw(); });
  let watch = null;
  document.getElementById("track").addEventListener("click", () => {
    if (!navigator.geolocation) { return; }
    if (watch !== null) { navigator.geolocation.clearWatch(watch); watch = null; return; }
    watch = navigator.geolocation.watchPosition(p => {
      points.push([+p.coords.longitude.toFixed(6), +p.coords.latitude.toFixed(6)]); draw();
    }, () => {}, {enableHighAccuracy: true});
  });
  draw();
})();
