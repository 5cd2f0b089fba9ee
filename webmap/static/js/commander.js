/* Commander tools on the map: search, incident mode, statistics, coverage gaps. */
(function () {
  "use strict";
  var base = window.riskmapBase, rm = window.riskmap, map = rm.map, cfg = base.config(), t = cfg.t;
  var esc = base.escapeHtml, label = base.label, fieldLabel = base.fieldLabel, valueText = rm.valueText;
  var display = rm.display, getJSON = base.getJSON;
  function here(lat, lng) { return display.toMap(lat, lng); }  // data (WGS-84) -> map position
  var panel = document.getElementById("side-panel"), content = document.getElementById("side-content");

  // API errors name the bad value in English (a code-like message); the lead-in is in the page's language.
  function failure(err) { return "<p>" + esc(base.failureText(err)) + "</p>"; }

  function showPanel(html) {
    content.innerHTML = html;
    panel.hidden = false;
  }
  document.getElementById("close-panel").addEventListener("click", function () { panel.hidden = true; });
  document.getElementById("print-button").addEventListener("click", function () { window.print(); });

  function metres(d) { return d >= 1000 ? (d / 1000).toFixed(2) + " km" : Math.round(d) + " m"; }

  // ---- search ----------------------------------------------------------------------------------
  var form = document.getElementById("search-form"), input = document.getElementById("search-input");
  var list = document.getElementById("search-results");
  var KIND_LAYER = { units: null, hazchem_sites: "hazchem_sites", risk_sources: "risk_sources",
                     resources: null, protection_targets: "protection_targets", areas: "districts" };

  function flyTo(result) {
    list.hidden = true;
    var zoom = result.kind === "areas" ? 11 : (result.precision === "district" ? 12 : 16);
    map.flyTo(here(result.lat, result.lon), zoom, { duration: 0.6 });
    var rows = ["name", "credit_code", "unit_name", "level", "site_type", "resource_type", "target_type",
                "area_type", "district"].filter(function (f) { return result[f] !== undefined && result[f] !== null; })
      .map(function (f) {
        return "<tr><td>" + esc(fieldLabel(null, f)) + "</td><td>" + esc(valueText(f, result[f])) + "</td></tr>";
      });
    if (result.kind === "address") {
      rows.push("<tr><td>" + esc(t.precision) + "</td><td>" + esc(label(result.precision)) + "</td></tr>");
    }
    var note = result.synthetic ? "<div class='badge'>" + esc(t.synthetic) + "</div>" : "";
    L.popup().setLatLng(here(result.lat, result.lon))
      .setContent("<b>" + esc(result.name || "") + "</b>" + note + "<table class='popup-table'>" + rows.join("") +
                  "</table>")
      .openOn(map);
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var q = input.value.trim();
    if (!q) { return; }
    getJSON("/api/v1/search?q=" + encodeURIComponent(q)).then(function (body) {
      list.innerHTML = "";
      if (!body.results.length) {
        list.innerHTML = "<div>" + esc(t.no_results) + "</div>";
      }
      body.results.forEach(function (r) {
        var div = document.createElement("div");
        div.className = "result";
        div.innerHTML = esc(r.name || r.key) + " <small>" + esc(label(r.kind)) +
          (r.precision && r.precision !== "feature" ? " · " + esc(t.precision) + ": " + esc(label(r.precision)) : "") +
          (r.district ? " · " + esc(r.district) : "") + "</small>";
        div.addEventListener("click", function () { flyTo(r); });
        list.appendChild(div);
      });
      list.hidden = false;
      if (body.results.length === 1) { flyTo(body.results[0]); }
    }).catch(function (err) { list.innerHTML = failure(err); list.hidden = false; });
  });

  // ---- incident mode ----------------------------------------------------------------------------
  var incidentButton = document.getElementById("incident-button");
  var incidentLayer = L.layerGroup().addTo(map);
  rm.incidentLayer = incidentLayer;
  var incidentOn = false;
  rm.incidentRadius = 1000;
  // The briefing's drawing and the coverage gaps take their styles from the page's overlays (layers/overlays.py).
  function overlayStyle(part) { return base.styleFor(cfg.overlays[part])({}); }
  var INCIDENT_STYLE = { ring: overlayStyle("ring"), half_ring: overlayStyle("half_ring"),
                         point: overlayStyle("incident"), link: overlayStyle("link"),
                         resource: overlayStyle("resource") };
  function incidentLegend() {
    var sym = base.svgSymbol;
    return "<div class='legend-title'><span>" + esc(t.briefing) + "</span></div><div class='legend-items'>" +
      "<span class='legend-item'>" + sym("point", INCIDENT_STYLE.point) + esc(t.legend_incident) + "</span>" +
      "<span class='legend-item'>" + sym("line", INCIDENT_STYLE.ring) + sym("line", INCIDENT_STYLE.half_ring) +
      esc(t.legend_rings) + "</span>" +
      "<span class='legend-item'>" + sym("point", INCIDENT_STYLE.resource) + sym("line", INCIDENT_STYLE.link) +
      esc(t.legend_nearest) + "</span></div>";
  }

  incidentButton.addEventListener("click", function () {
    incidentOn = !incidentOn;
    rm.incidentOn = incidentOn;
    incidentButton.setAttribute("aria-pressed", String(incidentOn));
    map.getContainer().style.cursor = incidentOn ? "crosshair" : "";
    if (incidentOn) {
      showPanel("<p>" + esc(t.incident_hint) + "</p>" + radiusInput());
    } else {  // leaving incident mode takes its rings, links and legend entry off the map
      incidentLayer.clearLayers();
      rm.setLegendEntry("incident", null);
    }
  });

  function radiusInput() {
    return "<label>" + esc(t.radius) + " <input id='incident-radius' type='number' min='100' max='50000' step='100' " +
      "value='" + rm.incidentRadius + "'></label>";
  }

  function resourceTable(items) {
    if (!items.length) { return "<p class='note'>—</p>"; }
    return "<table><tr><th>" + esc(t.resources) + "</th><th>" + esc(t.distance) + "</th><th>" + esc(t.eta) +
      "</th></tr>" + items.map(function (r) {
        var extra = r.speciality ? " (" + esc(r.speciality) + ")" : (r.item_count ? " [" + r.item_count + "]" : "");
        return "<tr><td>" + esc(r.name) + extra + "</td><td>" + metres(r.distance_m) + "</td><td>" + r.eta_min +
          " " + esc(t.minutes) + "</td></tr>";
      }).join("") + "</table>";
  }

  function renderIncident(body) {
    var inc = body.incident, rs = body.risk_sources, tg = body.protection_targets;
    var travel = t.travel_note.replace("{detour}", body.travel.detour_factor).replace("{speed}", body.travel.speed_kmh);
    var html = "<h2>" + esc(t.briefing) + "</h2>" +
      "<p class='note'>" + inc.lon.toFixed(5) + ", " + inc.lat.toFixed(5) + " · " + esc(t.within) + " " +
      metres(inc.radius_m) + "</p>" + radiusInput() +
      (cfg.synthetic ? "<div class='badge'>" + esc(t.synthetic) + "</div>" : "") +
      "<h3>" + esc(t.risk_sources) + ": " + rs.count + "</h3><p>" + cfg.levels.map(function (l) {
        return "<span class='level-" + l.code + "'>" + esc(cfg.lang === "zh" ? l.zh : l.en) + " " +
          rs.by_level[l.code] + "</span>";
      }).join(" · ") + "</p>" +
      "<h3>" + esc(t.hazchem_sites) + ": " + body.hazchem_sites.count + "</h3>" +
      "<table>" + body.hazchem_sites.items.slice(0, 15).map(function (h) {
        return "<tr><td>" + esc(h.name) + "</td><td>" + esc(label(h.site_type)) + "</td><td>" +
          metres(h.distance_m) + "</td></tr>";
      }).join("") + "</table>" +
      "<h3>" + esc(t.protection_targets) + ": " + tg.count + "</h3><p>" + Object.keys(tg.by_type).map(function (k) {
        return esc(label(k)) + " " + tg.by_type[k];
      }).join(" · ") + "</p><table id='incident-targets'>" + tg.items.slice(0, 25).map(function (p) {
        return "<tr><td>" + esc(p.name || "—") + "</td><td>" + esc(label(p.target_type)) + "</td><td>" +
          metres(p.distance_m) + "</td></tr>";
      }).join("") + "</table>" +
      "<h3>" + esc(t.nearest_resources) + "</h3><p class='note'>" + esc(travel) + "</p>" +
      Object.keys(body.resources).map(function (type) {
        return "<h3>" + esc(label(type)) + "</h3>" + resourceTable(body.resources[type]);
      }).join("");
    showPanel(html);
    incidentLayer.clearLayers();
    var centre = here(inc.lat, inc.lon);
    L.circle(centre, L.extend({ radius: inc.radius_m }, INCIDENT_STYLE.ring)).addTo(incidentLayer);
    L.circle(centre, L.extend({ radius: inc.radius_m / 2 }, INCIDENT_STYLE.half_ring)).addTo(incidentLayer);
    L.circleMarker(centre, INCIDENT_STYLE.point).addTo(incidentLayer);
    rm.setLegendEntry("incident", incidentLegend());
    Object.keys(body.resources).forEach(function (type) {
      body.resources[type].forEach(function (r) {
        L.polyline([centre, here(r.lat, r.lon)], INCIDENT_STYLE.link).addTo(incidentLayer);
        L.circleMarker(here(r.lat, r.lon), INCIDENT_STYLE.resource)
          .bindTooltip(esc(r.name) + " · " + metres(r.distance_m) + " · " + r.eta_min + " " + esc(t.minutes))
          .addTo(incidentLayer);
      });
    });
  }

  rm.runIncident = function (lat, lon) {
    var radiusBox = document.getElementById("incident-radius");
    if (radiusBox) { rm.incidentRadius = Number(radiusBox.value) || rm.incidentRadius; }
    return getJSON("/api/v1/incident?lon=" + lon.toFixed(6) + "&lat=" + lat.toFixed(6) + "&radius=" +
                   rm.incidentRadius).then(renderIncident)
      .catch(function (err) { showPanel(failure(err)); });
  };

  map.on("click", function (e) {
    if (incidentOn) {
      var w = display.fromMap(e.latlng);
      rm.runIncident(w.lat, w.lng);
    }
  });

  // ---- statistics -------------------------------------------------------------------------------
  var chart = null, chartLibrary = null;
  // Chart.js (200 KB) is loaded on the first click, not with the map: the first view waits for less.
  function loadChartLibrary() {
    if (!chartLibrary) {
      chartLibrary = new Promise(function (resolve, reject) {
        var script = document.createElement("script");
        script.src = cfg.chart_js;
        script.onload = resolve;
        script.onerror = function () { chartLibrary = null; reject(new Error("Chart.js: " + cfg.chart_js)); };
        document.head.appendChild(script);
      });
    }
    return chartLibrary;
  }
  document.getElementById("stats-button").addEventListener("click", function () {
    Promise.all([getJSON("/api/v1/stats/districts"), loadChartLibrary()]).then(function (loaded) {
      var body = loaded[0];
      var levels = cfg.levels;
      var rows = body.districts.map(function (d) {
        var total = 0;
        Object.keys(d.resources).forEach(function (k) { total += d.resources[k]; });
        return "<tr><td>" + esc(d.name) + (d.approximate ? "*" : "") + "</td>" + levels.map(function (l) {
          return "<td class='level-" + l.code + "'>" + d.risk_sources[l.code] + "</td>";
        }).join("") + "<td>" + d.open_hidden_hazards + "</td><td>" + total + "</td></tr>";
      });
      showPanel("<h2>" + esc(t.statistics) + "</h2>" +
        (cfg.synthetic ? "<div class='badge'>" + esc(t.synthetic) + "</div>" : "") +
        "<canvas id='stats-chart' height='420'></canvas><table id='stats-table'><tr><th>" + esc(t.district) +
        "</th>" + levels.map(function (l) { return "<th>" + esc(cfg.lang === "zh" ? l.zh : l.en) + "</th>"; }).join("") +
        "<th>" + esc(t.open_hazards) + "</th><th>" + esc(t.resources) + "</th></tr>" + rows.join("") + "</table>" +
        "<p class='note'>* " + esc(t.approximate) + "</p>");
      if (chart) { chart.destroy(); }
      chart = new Chart(document.getElementById("stats-chart"), {
        type: "bar",
        data: {
          labels: body.districts.map(function (d) { return d.name; }),
          datasets: levels.map(function (l) {
            return { label: cfg.lang === "zh" ? l.zh : l.en, backgroundColor: l.color,
                     data: body.districts.map(function (d) { return d.risk_sources[l.code]; }) };
          })
        },
        options: { animation: false, indexAxis: "y", scales: { x: { stacked: true }, y: { stacked: true } } }
      });
    }).catch(function (err) { showPanel(failure(err)); });
  });

  // ---- coverage gaps (an analysis overlay in the layer switcher) ---------------------------------
  var coverageLayer = null;
  var fieldset = L.DomUtil.create("fieldset", "", rm.switcher);
  fieldset.innerHTML = "<legend>" + esc(t.analysis) + "</legend>" +
    "<label><input type='checkbox' id='heatmap-toggle'> " + esc(t.heatmap) + "</label>" +
    "<label><input type='checkbox' id='coverage-toggle'> " + esc(t.coverage) + "</label>" +
    "<div id='coverage-note' class='note'></div>";

  var COVERAGE_STYLE = overlayStyle("coverage");
  function number(v) { return v >= 100 ? Math.round(v).toLocaleString() : v.toPrecision(2); }
  function heatLegend(body) {  // the image's classes: colours low -> high and their lower bounds
    var ramp = body.colours.map(function (c, i) {
      return "<span class='legend-item'>" + base.svgSymbol("polygon", { color: c, weight: 0, fillColor: c,
        fillOpacity: 0.55 }) + "≥ " + esc(number(body.breaks[i])) + "</span>";  // 0.7 × the PNG's alpha 200
    }).join("");
    return "<div class='legend-title'><span>" + esc(t.heatmap) + "</span></div><div class='legend-note'>" +
      esc(t.legend_heatmap) + "</div><div class='legend-items'>" + ramp + "</div>";
  }

  function analysisFailed(box, err) {  // the overlay is not drawn: say why under the switch
    box.checked = false;
    document.getElementById("coverage-note").innerHTML = failure(err);
  }

  var heatLayer = null;
  document.getElementById("heatmap-toggle").addEventListener("change", function (e) {
    if (!e.target.checked) {
      if (heatLayer) { map.removeLayer(heatLayer); }
      rm.setLegendEntry("heatmap", null);
      return;
    }
    getJSON("/api/v1/heatmap").then(function (body) {
      var b = body.bounds;  // corners shifted (the GCJ-02 offset varies little across Beijing)
      heatLayer = L.imageOverlay(body.png, [here(b[0][0], b[0][1]), here(b[1][0], b[1][1])],
                                 { opacity: 0.7, interactive: false }).addTo(map);
      rm.setLegendEntry("heatmap", heatLegend(body));
    }).catch(function (err) { analysisFailed(e.target, err); });
  });
  document.getElementById("coverage-toggle").addEventListener("change", function (e) {
    if (!e.target.checked) {
      if (coverageLayer) { map.removeLayer(coverageLayer); }
      rm.setLegendEntry("coverage", null);
      document.getElementById("coverage-note").textContent = "";
      return;
    }
    getJSON("/api/v1/coverage").then(function (body) {
      var s = body.summary;
      coverageLayer = L.geoJSON(body.uncovered, display.geoJSONOptions({
        style: COVERAGE_STYLE, interactive: false })).addTo(map);
      rm.setLegendEntry("coverage", "<div class='legend-title'>" + base.svgSymbol("polygon", COVERAGE_STYLE) +
                        "<span>" + esc(t.coverage) + "</span></div>");
      document.getElementById("coverage-note").textContent = t.coverage_note
        .replace("{km2}", s.uncovered_km2).replace("{pop}", s.uncovered_population).replace("{n}", s.stations);
    }).catch(function (err) { analysisFailed(e.target, err); });
  });

  rm.commanderReady = true;
})();
