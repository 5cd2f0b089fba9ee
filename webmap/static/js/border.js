/* Cross-border analyst page: border zones by side, profile chart + coloured segments,
   crossing lines, mutual aid on click.  Data from /api/v1/border*, /api/v1/mutual-aid. */
(function () {
  "use strict";
  var base = window.riskmapBase, cfg = base.config(), t = cfg.t, esc = base.escapeHtml, getJSON = base.getJSON;
  // On a GCJ-02 basemap, what is drawn is shifted to it and a clicked incident back to WGS-84.
  var view = base.createMap({ center: [39.6, 116.9], zoom: 8, map: { preferCanvas: true, maxZoom: 19 } });
  var map = view.map, display = view.display;
  function here(lat, lng) { return display.toMap(lat, lng); }  // data (WGS-84) -> map position
  var segmentLayer = L.layerGroup().addTo(map);
  var lineLayer = L.layerGroup().addTo(map);
  var aidLayer = L.layerGroup().addTo(map);
  var pilotLayer = L.layerGroup().addTo(map);
  var chart = null;
  var lastAid = null;

  function $(id) { return document.getElementById(id); }
  // Level headings in their colours, set here: a style attribute in the page would need 'unsafe-inline'.
  document.querySelectorAll("th[data-colour]").forEach(function (th) { th.style.color = th.dataset.colour; });
  function params() {
    return { pair: $("pair").value, km: $("km").value, segment_km: $("segment-km").value,
             corridor_m: $("corridor-m").value };
  }
  function query(obj) {
    return Object.keys(obj).map(function (k) { return k + "=" + encodeURIComponent(obj[k]); }).join("&");
  }
  function exportLinks(el, endpoint, q) {
    el.innerHTML = t.export + ": " + ["csv", "xlsx", "geojson"].map(function (f) {
      return "<a href='/api/v1/" + endpoint + "?" + q + "&format=" + f + "' download>" + f.toUpperCase() + "</a>";
    }).join("");
  }
  // Styles of what the page draws: its overlays (layers/overlays.py), by what they draw.
  var overlays = cfg.overlays, style = {};
  Object.keys(overlays).forEach(function (k) { style[k] = base.styleFor(overlays[k]); });
  function segmentStyle(score, max) {  // coloured by the segment's share of the highest score
    return style.segments({ share: base.valueOfRatio(overlays.segments, max > 0 ? score / max : 0) });
  }
  var drawn = [["segments", segmentLayer], ["lines", lineLayer], ["crossings", lineLayer], ["aid", aidLayer],
               ["pilot", pilotLayer]];
  base.addLegend(map, function () {
    return drawn.filter(function (d) { return d[1].getLayers().length; }).map(function (d) { return overlays[d[0]]; });
  });

  function showZone(body) {
    var rows = body.by_side.map(function (s) {
      var cells = [esc(s.side === "other" ? t.other : s.name + " " + s.side), s.risk_sources];
      cfg.levels.forEach(function (lv) { cells.push(s["risk_" + lv.code]); });
      cells.push(s.hazchem_sites, s.hidden_hazards_open, s.protection_targets);
      return "<tr><td>" + cells.join("</td><td>") + "</td></tr>";
    });
    $("sides").querySelector("tbody").innerHTML = rows.join("");
    var sideNames = {};  // a side is a province code: shown by its name
    body.by_side.forEach(function (s) { sideNames[s.side] = s.name; });
    $("county-pairs").querySelector("tbody").innerHTML = body.by_county_pair.map(function (r) {
      return "<tr><td>" + esc((r.county_a_name || r.county_a || "?") + "—" + (r.county_b_name || r.county_b || "?")) +
        "</td><td>" + esc(sideNames[r.side] || r.side) + "</td><td>" + r.risk_sources + "</td><td>" +
        r.hazchem_sites + "</td><td>" +
        r.hidden_hazards_open + "</td><td>" + r.protection_targets + "</td></tr>";
    }).join("");
  }

  function showProfile(body) {
    var feats = body.segments.features;
    var max = Math.max.apply(null, feats.map(function (f) { return f.properties.score; }).concat([0]));
    segmentLayer.clearLayers();
    var bounds = [];
    feats.forEach(function (f) {
      var p = f.properties;
      var layer = L.geoJSON(f, display.geoJSONOptions({ style: segmentStyle(p.score, max) }))
        .bindTooltip(p.start_km + "–" + p.end_km + " km · " + t.score + " " + p.score);
      segmentLayer.addLayer(layer);
      bounds.push(layer.getBounds());
    });
    if (bounds.length) {
      var all = bounds[0];
      bounds.forEach(function (b) { all.extend(b); });
      map.fitBounds(all, { padding: [20, 20] });
    }
    var data = feats.map(function (f) { return { x: (f.properties.start_km + f.properties.end_km) / 2, y: f.properties.score }; });
    if (chart) { chart.destroy(); }
    chart = new Chart($("profile-chart"), {
      type: "bar",
      data: { datasets: [{ label: t.score, data: data,
                           backgroundColor: data.map(function (d) { return segmentStyle(d.y, max).color; }) }] },
      options: { animation: false, parsing: true, plugins: { legend: { display: false } },
                 scales: { x: { type: "linear", title: { display: true, text: t.along } },
                           y: { beginAtZero: true, title: { display: true, text: t.score } } } }
    });
    $("hottest").querySelector("tbody").innerHTML = body.hottest.map(function (h) {
      return "<tr><td>#" + h.index + "</td><td>" + h.start_km + "–" + h.end_km + "</td><td>" + h.score + "</td></tr>";
    }).join("");
  }

  function showCrossings(body) {
    lineLayer.clearLayers();
    $("crossings").querySelector("tbody").innerHTML = body.lines.map(function (l) {
      L.geoJSON(l.geometry, display.geoJSONOptions({ style: style.lines() }))
        .bindTooltip(esc(l.name || l.line_code)).addTo(lineLayer);
      l.crossings.forEach(function (c) {
        c.points.forEach(function (pt) { L.circleMarker(here(pt[1], pt[0]), style.crossings()).addTo(lineLayer); });
      });
      var lengths = Object.keys(l.length_by_province_m).filter(function (k) {
        return k !== "outside" && l.length_by_province_m[k] > 0;
      }).map(function (k) {
        return esc((l.province_names[k] || k) + " " + (l.length_by_province_m[k] / 1000).toFixed(1));
      }).join("<br>");
      var n = l.crossings.reduce(function (a, c) { return a + c.points.length; }, 0);
      return "<tr><td>" + esc(l.name || l.line_code) + "<br><small>" + esc(base.label(l.line_type)) +
        "</small></td><td>" + lengths +
        "</td><td>" + n + "</td><td>" + l.corridor.risk_sources + "</td><td>" + l.corridor.protection_targets + "</td></tr>";
    }).join("");
  }

  function run(ev) {
    if (ev) { ev.preventDefault(); }
    var p = params();
    $("message").textContent = t.loading;
    var zq = query({ pair: p.pair, km: p.km });
    var pq = query({ pair: p.pair, km: p.km, segment_km: p.segment_km });
    var cq = query({ pair: p.pair, corridor_m: p.corridor_m });
    exportLinks(document.querySelector("[data-endpoint='border']"), "border", zq);
    exportLinks(document.querySelector("[data-endpoint='border/profile']"), "border/profile", pq);
    exportLinks(document.querySelector("[data-endpoint='border/crossings']"), "border/crossings", cq);
    return Promise.all([
      getJSON("/api/v1/border?" + zq).then(showZone),
      getJSON("/api/v1/border/profile?" + pq).then(showProfile),
      getJSON("/api/v1/border/crossings?" + cq).then(showCrossings)
    ]).then(function () { $("message").textContent = ""; $("sides").setAttribute("data-query", zq); })
      .catch(base.showFailure);
  }

  function mutualAid(lon, lat) {
    var q = query({ lon: Number(lon).toFixed(6), lat: Number(lat).toFixed(6), k: 3 });
    lastAid = q;
    $("aid-point").value = Number(lon).toFixed(5) + "," + Number(lat).toFixed(5);
    exportLinks($("aid-exports"), "mutual-aid", q);
    getJSON("/api/v1/mutual-aid?" + q).then(function (body) {
      if (lastAid !== q) { return; }
      aidLayer.clearLayers();
      L.marker(here(body.incident.lat, body.incident.lon)).addTo(aidLayer);
      $("aid").querySelector("tbody").innerHTML = body.resources.map(function (r) {
        L.circleMarker(here(r.lat, r.lon), style.aid({ across: String(r.across_border) }))
          .bindTooltip(esc(r.name)).addTo(aidLayer);
        return "<tr class='" + (r.across_border ? "across" : "") + "'><td>" + esc(r.name) + " <small>" +
          esc(base.label(r.resource_type)) + "</small></td><td>" + esc(r.province_name) +
          (r.across_border ? " (" + t.across + ")" : "") + "</td><td>" + (r.distance_m / 1000).toFixed(2) +
          "</td><td>" + r.eta_min + "</td></tr>";
      }).join("");
      $("aid").setAttribute("data-incident", q);
    }).catch(base.showFailure);
  }

  map.on("click", function (e) { var w = display.fromMap(e.latlng); mutualAid(w.lng, w.lat); });
  $("aid-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var parts = $("aid-point").value.split(/[,，\s]+/).filter(function (x) { return x; }).map(Number);
    if (parts.length !== 2 || parts.some(isNaN)) { $("message").textContent = t.error + ": " + t.point_hint; return; }
    mutualAid(parts[0], parts[1]);
  });

  function pilot() {
    return getJSON("/api/v1/border/pilot").then(function (p) {
      map.fitBounds([here(p.bbox[1], p.bbox[0]), here(p.bbox[3], p.bbox[2])]);
      pilotLayer.clearLayers();
      if (p.geometry) {
        L.geoJSON(p.geometry, display.geoJSONOptions({ style: style.pilot(), interactive: false })).addTo(pilotLayer);
      }
      $("pilot-areas").textContent = p.name[cfg.lang] + ": " + p.areas.map(function (a) { return a.name; }).join("、");
    });
  }

  function showOverview(body) {
    $("overview").querySelector("tbody").innerHTML = body.pairs.map(function (p) {
      var sides = p.by_side.filter(function (s) { return s.side !== "other"; }).map(function (s) {
        return esc(s.name) + " " + s.risk_sources;
      }).join(" / ");
      return "<tr><td>" + esc(cfg.lang === "zh" ? p.pair.zh : p.pair.en) + "</td><td>" +
        (p.border_length_m / 1000).toFixed(0) + "</td><td>" + sides + "</td><td>" +
        (p.hottest ? p.hottest.start_km + "–" + p.hottest.end_km + " (" + p.hottest.score + ")" : "") +
        "</td><td>" + p.crossing_lines + "</td></tr>";
    }).join("");
  }

  $("pilot").addEventListener("click", pilot);
  $("controls").addEventListener("submit", run);
  window.borderPage = { map: map, ready: false, mutualAid: mutualAid,
                        layers: { segments: segmentLayer, lines: lineLayer, aid: aidLayer, pilot: pilotLayer } };
  var first = getJSON("/api/v1/border/all?" + query({ km: $("km").value, corridor_m: $("corridor-m").value }))
    .then(showOverview).catch(base.showFailure)
    .then(function () { return run(); });
  if (cfg.view === "pilot") { first = first.then(pilot); }
  first.then(function () { window.borderPage.ready = true; });
})();
