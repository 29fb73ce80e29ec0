// The run's own imagery under a Leaflet map: full-resolution XYZ tiles from the run's COGs
// (before, after, change score) where the run has them, else its before/after overlays
// (EPSG:3857 PNGs with lat/lon bounds); a run selector, layer buttons and an opacity slider.
window.LPImagery = function (map, overlays, box, labels) {
  if (!overlays || !overlays.length) { box.hidden = true; return null; }
  let current = overlays[0], which = "after", layer = null;
  const runSel = box.querySelector("select[name=run]");
  const opacity = box.querySelector("input[name=opacity]");
  const buttons = box.querySelectorAll("button[data-which]");
  function make() {
    const t = current.tiles, o = Number(opacity.value) / 100;
    if (t && t.layers.indexOf(which) >= 0) {
      const b = t.bounds;
      return L.tileLayer(t.urls[which], {opacity: o, minZoom: 0, maxNativeZoom: t.maxzoom,
        maxZoom: t.maxzoom + 3, bounds: [[b[1], b[0]], [b[3], b[2]]], className: "lp-tiles lp-" + which});
    }
    return L.imageOverlay(current[which + "_url"], current.bounds, {opacity: o, interactive: false});
  }
  function draw() {
    if (layer) { map.removeLayer(layer); }
    if (which === "score" && !(current.tiles && current.tiles.layers.indexOf("score") >= 0)) { which = "after"; }
    layer = make().addTo(map);
    layer.bringToBack();
    buttons.forEach(b => {
      const has = b.dataset.which !== "score" || (current.tiles && current.tiles.layers.indexOf("score") >= 0);
      b.hidden = !has;
      b.classList.toggle("on", b.dataset.which === which);
      b.textContent = labels[b.dataset.which] + " " + (current[b.dataset.which + "_date"] || "");
    });
    box.dataset.showing = which;
    box.dataset.tiled = current.tiles ? "1" : "0";
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

// An intranet basemap (none by default) and the outline layers with a legend and a scale bar.
window.LPLayers = function (map, labels, basemap) {
  L.control.scale({imperial: false}).addTo(map);
  if (basemap) { L.tileLayer(basemap, {maxZoom: 20, className: "lp-basemap"}).addTo(map).bringToBack(); }
  const styles = {
    patrol_zones: {color: "#0057b8", weight: 2, fill: false, dashArray: "6 4"},
    zones: {color: "#1a9641", weight: 1.5, fill: false},
    approvals: {color: "#00b4d8", weight: 1.5, fillOpacity: 0.08}
  };
  return fetch("/layers.json", {credentials: "same-origin"}).then(r => r.ok ? r.json() : {}).then(data => {
    const over = {};
    Object.keys(styles).forEach(k => {
      if (!data[k]) { return; }
      const g = L.geoJSON(data[k], {style: styles[k], interactive: false});
      if (k !== "approvals") { g.addTo(map); }
      over['<i class="line sw-' + k + '"></i>' + labels[k] + " (" + data[k].features.length + ")"] = g;
    });
    L.control.layers(null, over, {collapsed: false}).addTo(map);
    map.getContainer().dataset.layers = Object.keys(over).length;
    return data;
  });
};
