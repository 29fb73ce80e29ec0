// The verification form: the device's position (and where the lead lies from there).
(function () {
  const form = document.getElementById("verify-form");
  const here = document.getElementById("here");
  document.getElementById("gps").addEventListener("click", () => {
    if (!navigator.geolocation) { return; }
    navigator.geolocation.getCurrentPosition(p => {
      form.lon.value = p.coords.longitude.toFixed(6); form.lat.value = p.coords.latitude.toFixed(6);
      if (window.LPGeo) {
        const d = LPGeo.inverse(p.coords.longitude, p.coords.latitude, Number(form.dataset.lon), Number(form.dataset.lat));
        here.textContent = LPGeo.distanceText(d.metres) + " · " + Math.round(d.bearing) + "°";
      }
    }, () => {}, {enableHighAccuracy: true, timeout: 15000});
  });
})();
