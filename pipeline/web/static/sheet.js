// Today's sheet: zone switch, print, and where the next target is from here (distance, bearing).
(function () {
  const sel = document.getElementById("zone-select");
  if (sel) { sel.addEventListener("change", () => sel.form.submit()); }
  const print = document.getElementById("print");
  if (print) { print.addEventListener("click", () => window.print()); }
  const first = document.querySelector("table.targets tr[data-code]");
  const box = document.getElementById("next-target");
  if (!first || !box || !navigator.geolocation || !window.LPGeo) { return; }
  navigator.geolocation.getCurrentPosition(p => {
    const lon = Number(first.dataset.lon), lat = Number(first.dataset.lat);
    const d = LPGeo.inverse(p.coords.longitude, p.coords.latitude, lon, lat);
    box.textContent = first.dataset.code + ": " + LPGeo.distanceText(d.metres) + " · " + Math.round(d.bearing) + "°";
    box.hidden = false;
  }, () => {}, {enableHighAccuracy: true, timeout: 10000});
})();
