/* Site-veto page: draw or upload a site, choose the land use, see and print the verdict. */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("veto-config").textContent);
  var lang = cfg.lang, t = cfg.t;
  var COLOURS = { VETO: "#c0392b", CONDITIONAL: "#e67e22", PASS: "#27ae60", OUTSIDE_COVERAGE: "#7f8c8d", ERROR: "#555" };

  var map = L.map("map", { minZoom: 5, maxZoom: 19 }).setView([39.95, 116.4], 10);
  if (cfg.basemap.url) { L.tileLayer(cfg.basemap.url, { maxZoom: 19 }).addTo(map); }

  var siteLayer = L.featureGroup().addTo(map);
  var resultLayer = L.featureGroup().addTo(map);
  var batchLayer = L.featureGroup().addTo(map);
  var page = { map: map, site: null, lastVerdict: null, lastBatch: null };
  window.vetoPage = page;

  function escapeHtml(v) {
    return String(v === null || v === undefined ? "—" : v).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  function pick(label) { return label ? (lang === "zh" ? label.zh : label.en) : "—"; }
  function metres(v) { return v === null || v === undefined ? "—" : Number(v).toFixed(1); }
  function message(text) { document.getElementById("message").textContent = text || ""; }

  // Zones (5th Ring, core, sub-centre) as outlines for orientation, when the layer exists.
  fetch("/api/v1/layers/zones/features?limit=100").then(function (r) { return r.ok ? r.json() : null; })
    .then(function (fc) {
      if (fc) {
        L.geoJSON(fc, { style: { color: "#8e44ad", weight: 1.5, fill: false, dashArray: "4 4" }, interactive: false })
          .addTo(map);
      }
    }).catch(function () { /* zones are optional decoration */ });

  var draw = new L.Control.Draw({
    position: "topleft",
    draw: { polyline: false, circle: false, circlemarker: false, rectangle: { showArea: false },
            polygon: { allowIntersection: false, showArea: false }, marker: true },
    edit: { featureGroup: siteLayer, remove: true }
  });
  map.addControl(draw);
  map.on(L.Draw.Event.CREATED, function (e) {
    siteLayer.clearLayers();
    siteLayer.addLayer(e.layer);
    page.site = e.layer.toGeoJSON().geometry;
  });
  map.on(L.Draw.Event.EDITED, function () {
    var layers = siteLayer.getLayers();
    page.site = layers.length ? layers[0].toGeoJSON().geometry : null;
  });
  map.on(L.Draw.Event.DELETED, function () { page.site = null; });

  page.setSite = function (geometry) {
    siteLayer.clearLayers();
    var layer = L.geoJSON(geometry, { pointToLayer: function (f, ll) { return L.marker(ll); } });
    layer.eachLayer(function (l) { siteLayer.addLayer(l); });
    page.site = geometry;
    map.fitBounds(siteLayer.getBounds(), { maxZoom: 16 });
  };

  function post(url, body) {
    return fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) })
      .then(function (r) {
        return r.json().then(function (data) {
          if (!r.ok) { throw new Error(data.error || r.statusText); }
          return data;
        });
      });
  }

  page.evaluate = function () {
    var body = { land_use: document.getElementById("land-use").value,
                 name: document.getElementById("site-name").value || null };
    var address = document.getElementById("address").value.trim();
    if (page.site) { body.geometry = page.site; } else if (address) { body.address = address; } else {
      message(t.no_site); return Promise.resolve(null);
    }
    message("");
    return post("/api/v1/veto", body).then(function (v) { render(v); return v; })
      .catch(function (err) { message(err.message); return null; });
  };

  function hazardLabel(h) { return (h.name || h.key) + (h.details && h.details.area_code ? " (" + h.details.area_code + ")" : ""); }

  function render(v) {
    page.lastVerdict = v;
    resultLayer.clearLayers();
    if (v.geocode && v.site) { page.setSite(v.site); }
    v.rules.forEach(function (r) {
      r.hits.forEach(function (h) {
        if (h.layer === "areas") { return; }
        var a = [h.site_point[1], h.site_point[0]], b = [h.hazard_point[1], h.hazard_point[0]];
        var colour = COLOURS[r.outcome];
        L.polyline([a, b], { color: colour, weight: 2.5, dashArray: "6 4" }).addTo(resultLayer)
          .bindTooltip(metres(h.distance_m) + " m", { permanent: true, direction: "center", className: "distance-label" });
        L.circleMarker(b, { radius: 6, color: "#333", weight: 1, fillColor: colour, fillOpacity: 0.9 })
          .addTo(resultLayer).bindPopup("<b>" + escapeHtml(hazardLabel(h)) + "</b><br>" + escapeHtml(r.rule_id) +
            ": " + metres(h.distance_m) + " m &lt; " + metres(h.required_m) + " m");
      });
    });
    var sheet = document.getElementById("sheet");
    sheet.hidden = false;
    document.getElementById("sheet-verdict").innerHTML =
      "<span class='verdict verdict-" + v.verdict + "'>" + escapeHtml(pick(v.label)) + "</span>";
    var pc = v.land_use.protection_class ? pick(cfg.protection_classes[v.land_use.protection_class]) : "—";
    var meta = [
      [t.site_name, v.name], [t.address, v.address ? v.address + (v.geocode ? " (" + v.geocode.precision + ")" : "") : null],
      [t.land_use, pick(v.land_use)], [t.protection_class, pc],
      [t.rule_set_version, v.rule_set_version],
      [t.data_stamp, Object.keys(v.data_versions).map(function (k) {
        var loaded = (v.data_loaded_at || {})[k];  // when the layer was last loaded, UTC
        return k + " v" + v.data_versions[k] + (loaded ? " (" + loaded + ")" : "");
      }).join(", ") + " · " + v.evaluated_at]
    ];
    document.getElementById("sheet-meta").innerHTML = meta.filter(function (m) { return m[1]; }).map(function (m) {
      return "<tr><td>" + escapeHtml(m[0]) + "</td><td>" + escapeHtml(m[1]) + "</td></tr>";
    }).join("");
    var hitRows = [];
    v.rules.filter(function (r) { return r.hit; }).forEach(function (r) {
      var hits = r.hits.length ? r.hits : [null];
      hits.forEach(function (h) {
        hitRows.push("<tr class='status-hit'><td>" + escapeHtml(r.rule_id) + " " + escapeHtml(pick(r.name)) + " (" +
          escapeHtml(r.outcome) + ")</td><td>" + escapeHtml(h ? hazardLabel(h) : "") + "</td><td>" +
          metres(h && h.distance_m) + "</td><td>" + metres(h && h.required_m) + "</td><td>" +
          escapeHtml(r.citation.text) + "</td></tr>");
      });
    });
    document.querySelector("#sheet-hits tbody").innerHTML = hitRows.join("");
    document.querySelector("#sheet-all tbody").innerHTML = v.rules.map(function (r) {
      var h = r.hits.length ? r.hits[0] : r.nearest;
      return "<tr class='status-" + r.status + "'><td>" + escapeHtml(r.rule_id) + " " + escapeHtml(pick(r.name)) +
        "</td><td>" + escapeHtml(t[r.status] || r.status) + "</td><td>" + metres(h && h.distance_m) + "</td><td>" +
        metres(h ? h.required_m : r.required_m) + "</td><td>" + escapeHtml(r.citation.text) + "</td></tr>";
    }).join("");
    document.getElementById("sheet-notice").hidden = !(v.synthetic || cfg.synthetic);
    if (resultLayer.getLayers().length) {
      map.fitBounds(L.featureGroup([siteLayer, resultLayer]).getBounds(), { maxZoom: 17, padding: [30, 30] });
    }
  }

  document.getElementById("veto-form").addEventListener("submit", function (e) { e.preventDefault(); page.evaluate(); });
  document.getElementById("print").addEventListener("click", function () { window.print(); });

  function batchRequest(format) {
    var input = document.getElementById("batch-file");
    if (!input.files.length) { message(t.upload); return null; }
    var data = new FormData();
    data.append("file", input.files[0]);
    data.append("land_use_column", document.getElementById("land-use-column").value);
    data.append("land_use", document.getElementById("land-use").value);
    return fetch("/api/v1/veto/batch?format=" + format + "&lang=" + lang, { method: "POST", body: data });
  }

  document.getElementById("batch-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var req = batchRequest("geojson");
    if (!req) { return; }
    message("");
    req.then(function (r) { return r.json().then(function (d) { if (!r.ok) { throw new Error(d.error); } return d; }); })
      .then(function (fc) {
        page.lastBatch = fc;
        batchLayer.clearLayers();
        var counts = {};
        var layer = L.geoJSON(fc, {
          style: function (f) { return { color: COLOURS[f.properties.verdict], weight: 2, fillOpacity: 0.35 }; },
          pointToLayer: function (f, ll) {
            return L.circleMarker(ll, { radius: 6, color: "#333", weight: 1, fillColor: COLOURS[f.properties.verdict], fillOpacity: 0.9 });
          },
          onEachFeature: function (f, l) {
            counts[f.properties.verdict] = (counts[f.properties.verdict] || 0) + 1;
            l.bindPopup("<b>" + escapeHtml(f.properties.parcel_id) + " " + escapeHtml(f.properties.name) + "</b><br>" +
              escapeHtml(f.properties.verdict_label) + "<br>" + escapeHtml(f.properties.summary || f.properties.error || ""));
          }
        });
        layer.eachLayer(function (l) { batchLayer.addLayer(l); });
        if (batchLayer.getLayers().length) { map.fitBounds(batchLayer.getBounds(), { maxZoom: 16 }); }
        message(Object.keys(counts).map(function (k) { return k + ": " + counts[k]; }).join(" · ") + " " + t.parcels);
        var links = document.getElementById("batch-downloads");
        links.innerHTML = "";
        ["xlsx", "csv", "geojson"].forEach(function (fmt) {
          var a = document.createElement("a");
          a.href = "#"; a.textContent = t.download + " " + fmt.toUpperCase();
          a.addEventListener("click", function (ev) {
            ev.preventDefault();
            var r2 = batchRequest(fmt);
            if (!r2) { return; }
            r2.then(function (r) { return r.blob(); }).then(function (blob) {
              var url = URL.createObjectURL(blob), tmp = document.createElement("a");
              tmp.href = url; tmp.download = "veto_verdicts." + fmt; tmp.click(); URL.revokeObjectURL(url);
            });
          });
          links.appendChild(a);
        });
      })
      .catch(function (err) { message(err.message); });
  });
}());
