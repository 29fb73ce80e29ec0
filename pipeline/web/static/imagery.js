// The run's own imagery under a Leaflet map: before/after overlays (EPSG:3857 PNGs with
// lat/lon bounds), a before/after toggle and an opacity slider. Used by the map and lead pages.
window.LPImagery = function (map, overlays, box, labels) {
  if (!overlays || !overlays.length) { box.hidden = true; return null; }
  let current = overlays[0], which = "after", layer = null;
  const runSel = box.querySelector("select[name=run]");
  const opacity = box.querySelector("input[name=opacity]");
  const buttons = box.querySelectorAll("button[data-which]");
  function draw() {
    if (layer) { map.removeLayer(layer); }
    layer = L.imageOverlay(current[which + "_url"], current.bounds,
                           {opacity: Number(opacity.value) / 100, interactive: false}).addTo(map);
    layer.bringToBack();
    buttons.forEach(b => {
      b.classList.toggle("on", b.dataset.which === which);
      b.textContent = labels[b.dataset.which] + " " + (current[b.dataset.which + "_date"] || "");
    });
    box.dataset.showing = which;
  }
  if (runSel) {
    overlays.forEach((o, i) => runSel.add(new Option((o.before_date || "?") + " → " + (o.after_date || "?"), i)));
    runSel.hidden = overlays.length < 2;
    runSel.addEventListener("change", () => { current = overlays[Number(runSel.value)]; draw(); });
  }
  buttons.forEach(b => b.addEventListener("click", e => { e.preventDefault(); which = b.dataset.which; draw(); }));
  opacity.addEventListener("input", () => layer && layer.setOpacity(Number(opacity.value) / 100));
  draw();
  return current;
};
