/* Site-veto page: draw or upload a site, choose the land use, see and print the verdict.
   What is drawn (the orientation layers, the verdict's lines and hazards, batch parcels) takes its
   style from the page config: catalog layers (layers/catalog.py) and overlays (layers/overlays.py). */
(function () {
  "use strict";
  var base = window.riskmapBase, cfg = base.config(), lang = cfg.lang, t = cfg.t;
  var esc = base.escapeHtml, pick = base.pick, overlays = cfg.overlays;

  // On a GCJ-02 basemap the site drawn is shifted back to WGS-84 before it is sent (page.site is WGS-84).
  var view = base.createMap({ center: [39.95, 116.4], zoom: 10, map: { minZoom: 5, maxZoom: 19 } });
  var map = view.map, display = view.display;

  var contextLayers = {};  // catalog layer id -> its features on the map
  var siteLayer = L.featureGroup().addTo(map);
  var resultLayer = L.featureGroup().addTo(map);
  var batchLayer = L.featureGroup().addTo(map);
  var page = { map: map, display: display, site: null, lastVerdict: null, lastBatch: null };
  window.vetoPage = page;

  function metres(v) { return v === null || v === undefined ? "—" : Number(v).toFixed(1); }
  var message = base.showMessage;

  // The legend: the orientation layers, then the verdict's overlays while they are drawn.
  var drawn = [[overlays.hits, resultLayer], [overlays.parcels, batchLayer]];
  base.addLegend(map, function () {
    return cfg.context_layers.filter(function (l) {
      return contextLayers[l.id] && map.hasLayer(contextLayers[l.id]);
    })
      .concat(drawn.filter(function (d) { return d[1].getLayers().length; }).map(function (d) { return d[0]; }));
  });

  // Orientation layers from the catalog (5th Ring, core, sub-centre) under the site, when they have data.
  cfg.context_layers.forEach(function (layer) {
    base.getJSON(base.featuresUrl(layer, "limit=100")).then(function (fc) {
      var style = base.styleFor(layer);
      contextLayers[layer.id] = L.geoJSON(fc, display.geoJSONOptions({
        style: function (f) { return style(f.properties); }, interactive: false })).addTo(map);
    }).catch(function () { /* orientation only: the page works without it */ });
  });

  var draw = new L.Control.Draw({
    position: "topleft",
    draw: { polyline: false, circle: false, circlemarker: false, rectangle: { showArea: false },
            polygon: { allowIntersection: false, showArea: false }, marker: true },
    edit: { featureGroup: siteLayer, remove: true }
  });
  map.addControl(draw);
  function drawnSite(layer) { return display.geometryFromMap(layer.toGeoJSON().geometry); }
  map.on(L.Draw.Event.CREATED, function (e) {
    siteLayer.clearLayers();
    siteLayer.addLayer(e.layer);
    page.site = drawnSite(e.layer);
  });
  map.on(L.Draw.Event.EDITED, function () {
    var layers = siteLayer.getLayers();
    page.site = layers.length ? drawnSite(layers[0]) : null;
  });
  map.on(L.Draw.Event.DELETED, function () { page.site = null; });

  /* Show and keep `geometry` (GeoJSON, WGS-84) as the site. */
  page.setSite = function (geometry) {
    siteLayer.clearLayers();
    var layer = L.geoJSON(geometry, display.geoJSONOptions({
      pointToLayer: function (f, ll) { return L.marker(ll); } }));
    layer.eachLayer(function (l) { siteLayer.addLayer(l); });
    page.site = geometry;
    map.fitBounds(siteLayer.getBounds(), { maxZoom: 16 });
  };

  page.evaluate = function () {
    var body = { land_use: document.getElementById("land-use").value,
                 name: document.getElementById("site-name").value || null };
    var address = document.getElementById("address").value.trim();
    if (page.site) { body.geometry = page.site; } else if (address) { body.address = address; } else {
      message(t.no_site); return Promise.resolve(null);
    }
    message("");
    return base.postJSON("/api/v1/veto", body).then(function (v) { render(v); return v; })
      .catch(function (err) { base.showFailure(err); return null; });
  };

  function hazardLabel(h) {
    if (h.withheld) { return t.withheld; }  // outside the user's region scope: counted, not named
    return (h.name || h.key) + (h.details && h.details.area_code ? " (" + h.details.area_code + ")" : "");
  }

  function drawHits(v) {
    resultLayer.clearLayers();
    var line = base.styleFor(overlays.hits), marker = base.styleFor(overlays.hazards);
    v.rules.forEach(function (r) {
      r.hits.forEach(function (h) {
        if (h.layer === "areas") { return; }
        var a = display.toMap(h.site_point[1], h.site_point[0]);
        var b = display.toMap(h.hazard_point[1], h.hazard_point[0]);
        var props = { outcome: r.outcome };
        L.polyline([a, b], line(props)).addTo(resultLayer)
          .bindTooltip(metres(h.distance_m) + " m",
                       { permanent: true, direction: "center", className: "distance-label" });
        L.circleMarker(b, marker(props))
          .addTo(resultLayer).bindPopup("<b>" + esc(hazardLabel(h)) + "</b><br>" + esc(r.rule_id) +
            ": " + metres(h.distance_m) + " m &lt; " + metres(h.required_m) + " m");
      });
    });
  }

  function dataStamp(v) {  // each layer's data version and when it was last loaded (UTC), then the evaluation time
    return Object.keys(v.data_versions).map(function (k) {
      var loaded = (v.data_loaded_at || {})[k];
      return base.label(k) + " v" + v.data_versions[k] + (loaded ? " (" + loaded + ")" : "");
    }).join(", ") + " · " + v.evaluated_at;
  }

  function renderMeta(v) {
    var pc = v.land_use.protection_class ? pick(cfg.protection_classes[v.land_use.protection_class]) : "—";
    var located = v.geocode ? " (" + base.label(v.geocode.precision) + ")" : "";
    var meta = [
      [t.site_name, v.name], [t.address, v.address ? v.address + located : null],
      [t.land_use, pick(v.land_use)], [t.protection_class, pc],
      [t.rule_set_version, v.rule_set_version], [t.data_stamp, dataStamp(v)]
    ];
    document.getElementById("sheet-meta").innerHTML = meta.filter(function (m) { return m[1]; }).map(function (m) {
      return "<tr><td>" + esc(m[0]) + "</td><td>" + esc(m[1]) + "</td></tr>";
    }).join("");
  }

  function renderRules(v) {
    var hitRows = [];
    v.rules.filter(function (r) { return r.hit; }).forEach(function (r) {
      var hits = r.hits.length ? r.hits : [null];
      hits.forEach(function (h) {
        hitRows.push("<tr class='status-hit'><td>" + esc(r.rule_id) + " " + esc(pick(r.name)) + " (" +
          esc(pick(cfg.verdicts[r.outcome])) + ")</td><td>" + esc(h ? hazardLabel(h) : "") + "</td><td>" +
          metres(h && h.distance_m) + "</td><td>" + metres(h && h.required_m) + "</td><td>" +
          esc(r.citation.text) + "</td></tr>");
      });
    });
    document.querySelector("#sheet-hits tbody").innerHTML = hitRows.join("");
    document.querySelector("#sheet-all tbody").innerHTML = v.rules.map(function (r) {
      var h = r.hits.length ? r.hits[0] : r.nearest;
      return "<tr class='status-" + r.status + "'><td>" + esc(r.rule_id) + " " + esc(pick(r.name)) +
        "</td><td>" + esc(t[r.status] || r.status) + "</td><td>" + metres(h && h.distance_m) + "</td><td>" +
        metres(h ? h.required_m : r.required_m) + "</td><td>" + esc(r.citation.text) + "</td></tr>";
    }).join("");
  }

  function render(v) {
    page.lastVerdict = v;
    if (v.geocode && v.site) { page.setSite(v.site); }
    drawHits(v);
    document.getElementById("sheet").hidden = false;
    var colour = overlays.parcels.style.colors[v.verdict] || overlays.parcels.style.color;
    var badge = document.createElement("span");  // coloured through the DOM: no style attribute (CSP)
    badge.className = "verdict verdict-" + v.verdict;
    badge.style.background = colour;
    badge.textContent = pick(v.label);
    document.getElementById("sheet-verdict").replaceChildren(badge);
    renderMeta(v);
    renderRules(v);
    document.getElementById("sheet-notice").hidden = !(v.synthetic || cfg.synthetic);
    if (resultLayer.getLayers().length) {
      map.fitBounds(L.featureGroup([siteLayer, resultLayer]).getBounds(), { maxZoom: 17, padding: [30, 30] });
    }
  }

  document.getElementById("veto-form").addEventListener("submit", function (e) {
    e.preventDefault();
    page.evaluate();
  });
  document.getElementById("print").addEventListener("click", function () { window.print(); });

  // ---- batch: a parcel file judged row by row, drawn by verdict, downloadable --------------------
  function batchRequest(format) {
    var input = document.getElementById("batch-file");
    if (!input.files.length) { message(t.upload); return null; }
    var data = new FormData();
    data.append("file", input.files[0]);
    data.append("land_use_column", document.getElementById("land-use-column").value);
    data.append("land_use", document.getElementById("land-use").value);
    return { url: "/api/v1/veto/batch?format=" + format + "&lang=" + lang, options: { method: "POST", body: data } };
  }

  function drawBatch(fc) {
    batchLayer.clearLayers();
    var counts = {}, style = base.styleFor(overlays.parcels);
    var point = base.styleFor({ geometry: "point", style: overlays.parcels.style });
    var layer = L.geoJSON(fc, display.geoJSONOptions({
      style: function (f) { return style(f.properties); },
      pointToLayer: function (f, ll) { return L.circleMarker(ll, point(f.properties)); },
      onEachFeature: function (f, l) {
        var word = f.properties.verdict_label;  // in the page's language (the request says which)
        counts[word] = (counts[word] || 0) + 1;
        l.bindPopup("<b>" + esc(f.properties.parcel_id, "—") + " " + esc(f.properties.name, "—") + "</b><br>" +
          esc(f.properties.verdict_label, "—") + "<br>" + esc(f.properties.summary || f.properties.error || ""));
      }
    }));
    layer.eachLayer(function (l) { batchLayer.addLayer(l); });
    if (batchLayer.getLayers().length) { map.fitBounds(batchLayer.getBounds(), { maxZoom: 16 }); }
    return counts;
  }

  function downloadLinks() {
    var links = document.getElementById("batch-downloads");
    links.innerHTML = "";
    ["xlsx", "csv", "geojson"].forEach(function (fmt) {
      var a = document.createElement("a");
      a.href = "#"; a.textContent = t.download + " " + fmt.toUpperCase();
      a.addEventListener("click", function (ev) {
        ev.preventDefault();
        var req = batchRequest(fmt);
        if (!req) { return; }
        fetch(req.url, base.withCsrf(req.options)).then(function (r) { return r.blob(); }).then(function (blob) {
          var url = URL.createObjectURL(blob), tmp = document.createElement("a");
          tmp.href = url; tmp.download = "veto_verdicts." + fmt; tmp.click(); URL.revokeObjectURL(url);
        });
      });
      links.appendChild(a);
    });
  }

  document.getElementById("batch-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var req = batchRequest("geojson");
    if (!req) { return; }
    message("");
    base.getJSON(req.url, req.options).then(function (fc) {
      page.lastBatch = fc;
      var counts = drawBatch(fc);
      message(Object.keys(counts).map(function (k) { return k + ": " + counts[k]; }).join(" · ") +
              " " + t.parcels);
      downloadLinks();
    }).catch(base.showFailure);
  });
}());
