/* The commander's map: layers from /api/v1/layers drawn as vector tiles. */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("map-config").textContent);
  var lang = cfg.lang, t = cfg.t;

  var map = L.map("map", { preferCanvas: true, minZoom: 5, maxZoom: 18, zoomControl: false })
    .setView([40.1, 116.4], 8);
  L.control.zoom({ zoomInTitle: t.zoom_in, zoomOutTitle: t.zoom_out }).addTo(map);
  map.on("popupopen", function (e) {  // Leaflet names its close button in English only
    var close = e.popup.getElement().querySelector(".leaflet-popup-close-button");
    if (close) { close.setAttribute("aria-label", t.close); close.title = t.close; }
  });
  // On a GCJ-02 basemap, data is shifted for display (tiles server-side, the rest here).
  var display = window.riskmapDatum(cfg.basemap.datum);
  window.riskmap = { map: map, layers: {}, display: display };
  map.attributionControl.addAttribution(t.attribution);
  map.attributionControl.setPrefix(String(map.attributionControl.options.prefix)
    .replace("A JavaScript library for interactive maps", escapeHtml(t.leaflet_title)));

  if (cfg.basemap.url) {
    L.tileLayer(cfg.basemap.url, { maxZoom: 18 }).addTo(map);
  }

  function title(layer) { return lang === "zh" ? layer.zh : layer.en; }

  function clusterColour(layer, props) {
    for (var i = 0; i < layer.cluster_values.length; i++) {
      var v = layer.cluster_values[i];
      if (props["n_" + v] > 0) { return layer.style.colors[v] || layer.style.color; }
    }
    return layer.style.color;
  }

  function clusterRadius(count) { return Math.min(4 + 2.2 * Math.log2(count + 1), 22); }

  function isCluster(props) { return props.count !== undefined && String(props.key).indexOf("cluster:") === 0; }

  // Leaflet path options of a feature; the legend draws its symbols from the same options.
  function styleFor(layer) {
    var s = layer.style;
    return function (props) {
      if (isCluster(props)) {
        return { radius: clusterRadius(props.count), color: "#fff", weight: 1,
                 fill: true, fillColor: clusterColour(layer, props), fillOpacity: 0.75 };
      }
      var colour = (s.by && s.colors[props[s.by]]) || s.color;
      if (layer.geometry === "point") {
        return { radius: s.radius, color: "#333", weight: 0.6, fill: true, fillColor: colour,
                 fillOpacity: 0.9 };
      }
      if (layer.geometry === "line") {
        return { color: colour, weight: s.weight, opacity: 0.9, dashArray: s.dash || null };
      }
      return { color: colour, weight: s.weight, fill: true, fillColor: s.fill_color || colour,
               fillOpacity: s.fill_opacity, dashArray: s.dash || null };
    };
  }

  function escapeHtml(v) {
    return String(v).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  // Labels come from the layer catalog (layers/catalog.py): field names and coded values in zh / en.
  var words = cfg.display.values;
  // Fields whose codes are unambiguous enough to label a bare value (resource types, kinds, ...).
  var BARE_VALUE_FIELDS = ["resource_type", "site_type", "target_type", "level", "kind", "geocode_precision",
                           "area_type", "line_type", "status"];

  function label(value) {
    var key = String(value);
    for (var i = 0; i < BARE_VALUE_FIELDS.length; i++) {
      var w = words[BARE_VALUE_FIELDS[i]];
      if (w && w[key]) { return w[key][lang]; }
    }
    return cfg.labels[key] !== undefined ? cfg.labels[key] : key;
  }

  function fieldLabel(layer, field) {
    var own = layer && layer.popup_labels && layer.popup_labels[field];
    if (own && own[lang]) { return own[lang]; }
    var any = cfg.display.fields[field];
    return any ? any[lang] : field;
  }

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
      fetch("/api/v1/layers/" + layer.id + "/features?limit=20&bbox=" + bbox)
        .then(function (r) { return r.json(); })
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
  // A symbol is an SVG of the Leaflet path options the map draws with (Leaflet's defaults where unset):
  // a circle marker for points (in a square of side `box` px if given), a stroke for lines, a filled box
  // for polygons.
  function svgSymbol(geometry, o, box) {
    var weight = o.weight === undefined ? 3 : o.weight;
    var colour = o.color || "#3388ff";
    var fill = o.fill === undefined ? geometry !== "line" : o.fill;
    var stroke = weight > 0 && o.stroke !== false ? " stroke='" + colour + "' stroke-width='" + weight +
      "' stroke-opacity='" + (o.opacity === undefined ? 1 : o.opacity) + "'" +
      (o.dashArray ? " stroke-dasharray='" + escapeHtml(o.dashArray) + "'" : "") : " stroke='none'";
    var paint = fill ? " fill='" + (o.fillColor || colour) + "' fill-opacity='" +
      (o.fillOpacity === undefined ? 0.2 : o.fillOpacity) + "'" : " fill='none'";
    var w, h, shape;
    if (geometry === "point") {
      w = h = box || Math.max(14, Math.ceil(2 * o.radius + weight + 2));
      shape = "<circle cx='" + w / 2 + "' cy='" + h / 2 + "' r='" + o.radius + "'" + paint + stroke + "/>";
    } else if (geometry === "line") {
      w = 28; h = 14;
      shape = "<line x1='1' y1='7' x2='27' y2='7'" + stroke + "/>";
    } else {
      w = 24; h = 14;
      shape = "<rect x='1.5' y='1.5' width='21' height='11'" + paint + stroke + "/>";
    }
    return "<svg class='legend-symbol' width='" + w + "' height='" + h + "' viewBox='0 0 " + w + " " + h +
      "' aria-hidden='true'>" + shape + "</svg>";
  }

  function legendItem(symbol, text) {
    return "<span class='legend-item'>" + symbol + "<span>" + escapeHtml(text) + "</span></span>";
  }

  function clusterLegend(layer) {
    var sizes = [1, 10, 100], maxR = clusterRadius(sizes[sizes.length - 1]);
    var circles = sizes.map(function (n) {
      var o = styleFor(layer)({ key: "cluster:legend", count: n });
      o.color = "#555"; o.fillColor = "#bbb";  // sizes only: the colour is each class's, listed above
      return legendItem(svgSymbol("point", o, Math.ceil(2 * maxR + 2)), String(n));
    }).join("");
    var field = layer.cluster_column ? fieldLabel(layer, layer.cluster_column) : "";
    var text = t.legend_clusters.replace("{zoom}", layer.cluster_below)
      .replace("{field}", lang === "en" ? field.toLowerCase() : field);
    return "<div class='legend-note'>" + escapeHtml(text) + "</div><div class='legend-items'>" + circles + "</div>";
  }

  function layerLegend(layer, zoom) {
    var style = styleFor(layer), legend = layer.legend;
    var shown = zoom >= layer.min_zoom;
    var head = "<div class='legend-title'>" + (legend.classes.length ? "" : svgSymbol(layer.geometry, style({}))) +
      "<span>" + escapeHtml(title(layer)) + (legend.by ? " <span class='legend-by'>· " +
      escapeHtml(legend.by[lang]) + "</span>" : "") + "</span></div>";
    var items = legend.classes.map(function (c) {
      var props = {};
      if (c.value !== null) { props[layer.style.by] = c.value; }
      return legendItem(svgSymbol(layer.geometry, style(props)), c[lang]);
    }).join("");
    return "<div class='legend-layer" + (shown ? "" : " legend-inactive") + "' data-layer='" + layer.id + "'>" +
      head + (items ? "<div class='legend-items'>" + items + "</div>" : "") +
      (shown ? "" : "<div class='legend-note'>" + escapeHtml(t.legend_from_zoom.replace("{zoom}", layer.min_zoom)) +
                    "</div>") +
      (layer.cluster_below && zoom < layer.cluster_below && shown ? clusterLegend(layer) : "") + "</div>";
  }

  // Overlays drawn outside the catalog (heat map, coverage, incident) add their own entries here.
  var legendExtras = {};
  var legendDiv = null, legendPending = false;
  function renderLegend() {
    legendPending = false;
    if (!legendDiv) { return; }
    var zoom = map.getZoom();
    var parts = cfg.layers.filter(function (l) { return map.hasLayer(window.riskmap.layers[l.id]); })
      .map(function (l) { return layerLegend(l, zoom); });
    Object.keys(legendExtras).forEach(function (id) {
      parts.push("<div class='legend-layer' data-layer='" + escapeHtml(id) + "'>" + legendExtras[id] + "</div>");
    });
    legendDiv.querySelector(".legend-body").innerHTML = parts.length ? parts.join("") :
      "<div class='legend-note'>" + escapeHtml(t.legend_empty) + "</div>";
  }
  function updateLegend() {  // once per frame, however many layers were just added or removed
    if (!legendPending) { legendPending = true; window.requestAnimationFrame(renderLegend); }
  }

  var legend = L.control({ position: "bottomright" });
  legend.onAdd = function () {
    var div = L.DomUtil.create("div", "panel");
    div.id = "legend";
    div.innerHTML = "<button type='button' class='legend-toggle' aria-expanded='true' aria-controls='legend-body' " +
      "title='" + escapeHtml(t.legend_hide) + "'>" + escapeHtml(t.legend) + "</button>" +
      "<div class='legend-body' id='legend-body'></div>";
    var toggle = div.querySelector(".legend-toggle");
    L.DomEvent.on(toggle, "click", function () {
      var collapsed = div.classList.toggle("collapsed");
      toggle.setAttribute("aria-expanded", String(!collapsed));
      toggle.title = collapsed ? t.legend_show : t.legend_hide;
    });
    L.DomEvent.disableClickPropagation(div);
    L.DomEvent.disableScrollPropagation(div);
    legendDiv = div;
    return div;
  };
  legend.addTo(map);
  renderLegend();
  map.on("layeradd layerremove zoomend", updateLegend);

  L.control.scale({ metric: true, imperial: false }).addTo(map);

  // Coordinate readout.
  var readout = L.control({ position: "bottomleft" });
  readout.onAdd = function () {
    var div = L.DomUtil.create("div", "panel");
    div.innerHTML = escapeHtml(t.coords) + ": <span id='coords'>—</span>";
    return div;
  };
  readout.addTo(map);
  map.on("mousemove", function (e) {
    var w = display.fromMap(e.latlng);  // the readout is always WGS-84
    document.getElementById("coords").textContent = w.lng.toFixed(5) + ", " + w.lat.toFixed(5);
  });
  window.riskmap.escapeHtml = escapeHtml;
  window.riskmap.popupHtml = popupHtml;
  window.riskmap.label = label;
  window.riskmap.fieldLabel = fieldLabel;
  window.riskmap.valueText = valueText;
  window.riskmap.cfg = cfg;
  window.riskmap.svgSymbol = svgSymbol;
  window.riskmap.renderLegend = renderLegend;
  // setLegendEntry(id, html) shows an overlay's entry (html from svgSymbol and escaped words);
  // setLegendEntry(id, null) removes it.
  window.riskmap.setLegendEntry = function (id, html) {
    if (html === null) { delete legendExtras[id]; } else { legendExtras[id] = html; }
    renderLegend();
  };
  window.riskmap.switcher = document.getElementById("layer-switcher");
  window.riskmap.ready = true;
})();
