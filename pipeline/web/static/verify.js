// Fill time and position of a field photo from the device.
(function () {
  const form = document.getElementById("verify-form");
  const now = new Date(); now.setMinutes(now.getMinutes() - now.getTimezoneOffset());
  if (!form.taken_at.value) { form.taken_at.value = now.toISOString().slice(0, 16); }
  document.getElementById("gps").addEventListener("click", () => {
    if (!navigator.geolocation) { return; }
    navigator.geolocation.getCurrentPosition(p => {
      form.lon.value = p.coords.longitude.toFixed(6); form.lat.value = p.coords.latitude.toFixed(6);
    });
  });
})();
