/* The commander's map: layers from /api/v1/layers drawn as vector tiles. */
(function () {
  "use strict";
  var base = window.riskmapBase, cfg = base.config(), lang = cfg.lang, t = cfg.t;
  var escapeHtml = base.escapeHtml, styleFor = base.styleFor, fieldLabel = base.fieldLabel;

  // On a GCJ-02 basemap, data is shifted for display (tiles server-side, the rest here).
  var view = base.createMap({ center: [40.1, 116.4], zoom: 8,
                              map: { preferCanvas: true, minZoom: 5, maxZoom: 18 } });
  var map = view.map, display = view.display;
  window.riskmap = { map: map, layers: {}, display: display };

  var title = base.pick;  // a catalog layer's title: its zh / en

  // Labels come from the layer catalog (layers/catalog.py): field names and coded values in zh / en.
  var words = cfg.display.values;
  var label = base.label;

  function chemicalsText(value) {  // stored as a JSON list of {name, tonnes}
    try {
      var list = typeof value === "string" ? JSON.parse(value) : value;
      if (!Array.isArray(list)) { return String(value); }
      return list.map(function (c) {
        return c.name + (c.tonnes !== undefined && c.tonnes !== null ? " " + c.tonnes + " t" : "");
      }).join("; ");
    } catch (err) {
      return String(value);
    }
  }

  function valueText(field, value) {
    if (value === undefined || value === null || value === "") { return "—"; }
    if (field === "chemicals") { return chemicalsText(value); }
    var key = String(value), w = words[field];
    if (w && w[key]) { return w[key][lang]; }
    return key;
  }

  function popupHtml(layer, props) {
    var rows = layer.popup.map(function (field) {
      return "<tr><td>" + escapeHtml(fieldLabel(layer, field)) + "</td><td>" +
             escapeHtml(valueText(field, props[field])) + "</td></tr>";
    });
    var note = props.synthetic ? "<div class='badge'>" + escapeHtml(t.synthetic) + "</div>" : "";
    return "<b>" + escapeHtml(title(layer)) + "</b>" + note + "<table class='popup-table'>" + rows.join("") +
           "</table>";
  }

  // Tiles of 512 pixels one zoom up (a z7 tile drawn at z8): a quarter of the requests and canvases of
  // 256-pixel tiles for the same view, which is what the first render waits for. A layer that starts
  // at a zoom (min_zoom > 0) keeps 256-pixel tiles: the server draws nothing below min_zoom.
  function tileGeometry(layer) {
    return layer.min_zoom > 0 ? { size: 256, offset: 0 } : { size: 512, offset: -1 };
  }

  function makeLayer(layer) {
    var styles = {};
    styles[layer.id] = styleFor(layer);
    var g = tileGeometry(layer);
    var vg = L.vectorGrid.protobuf(layer.tile_url.replace("{z}", "{tz}") + display.tileQuery, {
      rendererFactory: L.canvas.tile,
      vectorTileLayerStyles: styles,
      interactive: false,  // clicks are answered by the feature API (see identify below)
      tileSize: g.size,
      tz: function (data) { return data.z + g.offset; },  // the tile's zoom in the URL
      minZoom: layer.min_zoom,
      maxZoom: 18,
      maxNativeZoom: 16 - g.offset,  // URLs up to z16
      getFeatureId: function (f) { return f.properties.key; }
    });
    return vg;
  }

  // Identify: VectorGrid 1.3's own click events break on Leaflet 1.9, so a click asks the
  // feature API for what lies within a few pixels, points first, and opens a popup.
  var ORDER = { point: 0, line: 1, polygon: 2 };
  function identify(e) {
    if (window.riskmap.incidentOn) { return; }  // incident mode answers clicks itself
    var tol = 6;
    var p = map.latLngToContainerPoint(e.latlng);
    var sw = display.fromMap(map.containerPointToLatLng([p.x - tol, p.y + tol]));
    var ne = display.fromMap(map.containerPointToLatLng([p.x + tol, p.y - tol]));
    var at = display.fromMap(e.latlng);
    var bbox = [sw.lng, sw.lat, ne.lng, ne.lat].map(function (v) { return v.toFixed(6); }).join(",");
    var visible = cfg.layers.filter(function (l) {
      return map.hasLayer(window.riskmap.layers[l.id]) && map.getZoom() >= l.min_zoom;
    }).sort(function (a, b) { return ORDER[a.geometry] - ORDER[b.geometry]; });
    (function next(i) {
      if (i >= visible.length) { return; }
      var layer = visible[i];
      base.getJSON(base.featuresUrl(layer, "limit=20&bbox=" + bbox))
        .then(function (fc) {
          if (!fc.features || !fc.features.length) { next(i + 1); return; }
          var best = fc.features[0];
          if (layer.geometry === "point") {
            best = fc.features.reduce(function (a, b) {
              var da = at.distanceTo(L.latLng(a.geometry.coordinates[1], a.geometry.coordinates[0]));
              var db = at.distanceTo(L.latLng(b.geometry.coordinates[1], b.geometry.coordinates[0]));
              return db < da ? b : a;
            });
          }
          L.popup().setLatLng(e.latlng).setContent(popupHtml(layer, best.properties)).openOn(map);
        })
        .catch(function () { next(i + 1); });  // a layer that cannot answer: ask the next one
    })(0);
  }
  map.on("click", identify);

  // Grouped layer switcher.
  var switcher = L.control({ position: "topright" });
  switcher.onAdd = function () {
    var div = L.DomUtil.create("div", "panel");
    div.id = "layer-switcher";
    div.innerHTML = "<h3>" + escapeHtml(t.layers) + "</h3>";
    var groups = {};
    cfg.layers.forEach(function (layer) {
      var vg = makeLayer(layer);
      window.riskmap.layers[layer.id] = vg;
      if (layer.default_on) { vg.addTo(map); }
      var group = lang === "zh" ? layer.group_zh : layer.group_en;
      if (!groups[group]) {
        groups[group] = L.DomUtil.create("fieldset", "", div);
        groups[group].innerHTML = "<legend>" + escapeHtml(group) + "</legend>";
      }
      var label = L.DomUtil.create("label", "", groups[group]);
      var box = L.DomUtil.create("input", "", label);
      box.type = "checkbox";
      box.checked = layer.default_on;
      box.dataset.layer = layer.id;
      label.appendChild(document.createTextNode(" " + title(layer)));
      L.DomEvent.on(box, "change", function () {
        if (box.checked) { vg.addTo(map); } else { map.removeLayer(vg); }
      });
    });
    L.DomEvent.disableClickPropagation(div);
    L.DomEvent.disableScrollPropagation(div);
    return div;
  };
  switcher.addTo(map);

  // ---- legend: what every visible layer draws, from the catalog's styles --------------------------
  // Overlays drawn outside the catalog (heat map, coverage, incident) add their own entries (setEntry).
  var legend = base.addLegend(map, function () {
    return cfg.layers.filter(function (l) { return map.hasLayer(window.riskmap.layers[l.id]); });
  });

  window.riskmap.escapeHtml = escapeHtml;
  window.riskmap.popupHtml = popupHtml;
  window.riskmap.label = label;
  window.riskmap.fieldLabel = fieldLabel;
  window.riskmap.valueText = valueText;
  window.riskmap.cfg = cfg;
  window.riskmap.svgSymbol = base.svgSymbol;
  window.riskmap.renderLegend = legend.render;
  // setLegendEntry(id, html) shows an overlay's entry (html from svgSymbol and escaped words);
  // setLegendEntry(id, null) removes it.
  window.riskmap.setLegendEntry = legend.setEntry;
  window.riskmap.switcher = document.getElementById("layer-switcher");
  window.riskmap.ready = true;
})();
