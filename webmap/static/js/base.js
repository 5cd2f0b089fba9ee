/* What every page (map, veto, border) shares: its config, HTML escaping, JSON requests with their errors
   shown, the Leaflet map with the optional basemap and its datum, catalog styles as Leaflet options and
   the legend.  Page scripts load after this one and find it as window.riskmapBase. */
(function () {
  "use strict";

  // ---- datum: WGS-84 <-> GCJ-02 for a GCJ-02 basemap (Amap/Tencent) ---------------------------------
  // Same formula as geo/coords.py; the inverse iterates to < 1e-9 degree.  Outside China: unchanged.
  var A = 6378245.0, EE = 0.00669342162296594323;

  function outOfChina(lng, lat) { return lng < 72.004 || lng > 137.8347 || lat < 0.8293 || lat > 55.8271; }

  function tLat(x, y) {
    var r = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
    r += (20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2 / 3;
    r += (20 * Math.sin(y * Math.PI) + 40 * Math.sin(y / 3 * Math.PI)) * 2 / 3;
    r += (160 * Math.sin(y / 12 * Math.PI) + 320 * Math.sin(y * Math.PI / 30)) * 2 / 3;
    return r;
  }

  function tLng(x, y) {
    var r = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
    r += (20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2 / 3;
    r += (20 * Math.sin(x * Math.PI) + 40 * Math.sin(x / 3 * Math.PI)) * 2 / 3;
    r += (150 * Math.sin(x / 12 * Math.PI) + 300 * Math.sin(x / 30 * Math.PI)) * 2 / 3;
    return r;
  }

  function wgsToGcj(lat, lng) {
    if (outOfChina(lng, lat)) { return [lat, lng]; }
    var dLat = tLat(lng - 105, lat - 35), dLng = tLng(lng - 105, lat - 35);
    var rad = lat / 180 * Math.PI, magic = 1 - EE * Math.sin(rad) * Math.sin(rad), sq = Math.sqrt(magic);
    dLat = (dLat * 180) / ((A * (1 - EE)) / (magic * sq) * Math.PI);
    dLng = (dLng * 180) / (A / sq * Math.cos(rad) * Math.PI);
    return [lat + dLat, lng + dLng];
  }

  function gcjToWgs(lat, lng) {
    var wLat = lat, wLng = lng;
    for (var i = 0; i < 30; i++) {
      var g = wgsToGcj(wLat, wLng), eLat = g[0] - lat, eLng = g[1] - lng;
      wLat -= eLat; wLng -= eLng;
      if (Math.abs(eLat) < 1e-9 && Math.abs(eLng) < 1e-9) { break; }
    }
    return [wLat, wLng];
  }

  // GeoJSON coordinates (any nesting) with each [lon, lat] position passed through `shift`.
  function shiftCoordinates(coords, shift) {
    if (typeof coords[0] === "number") { return shift(coords); }
    return coords.map(function (c) { return shiftCoordinates(c, shift); });
  }

  /* The map's datum.  Data and the API are always WGS-84; on a GCJ-02 basemap what is drawn is shifted
     to GCJ-02 (toMap, geoJSONOptions; vector tiles server-side with tileQuery) and whatever the user
     draws or clicks is shifted back to WGS-84 (fromMap, geometryFromMap) before it is sent. */
  function datum(name) {
    var shifted = name === "gcj02";
    return {
      datum: shifted ? "gcj02" : "wgs84",
      /* data (WGS-84) -> map position [lat, lng] */
      toMap: function (lat, lng) { return shifted ? wgsToGcj(lat, lng) : [lat, lng]; },
      /* map position (L.LatLng) -> data (WGS-84) */
      fromMap: function (latlng) {
        if (!shifted) { return latlng; }
        var w = gcjToWgs(latlng.lat, latlng.lng);
        return L.latLng(w[0], w[1]);
      },
      /* a GeoJSON geometry drawn on the map -> the same geometry in WGS-84 */
      geometryFromMap: function (geometry) {
        if (!shifted || !geometry) { return geometry; }
        return { type: geometry.type, coordinates: shiftCoordinates(geometry.coordinates, function (c) {
          var w = gcjToWgs(c[1], c[0]);
          return [w[1], w[0]];
        }) };
      },
      /* L.geoJSON options that draw WGS-84 GeoJSON at its map position */
      geoJSONOptions: function (options) {
        options = options || {};
        if (!shifted) { return options; }
        options.coordsToLatLng = function (c) { var p = wgsToGcj(c[1], c[0]); return L.latLng(p[0], p[1]); };
        return options;
      },
      tileQuery: shifted ? "?datum=gcj02" : ""
    };
  }

  // ---- words and HTML ----------------------------------------------------------------------------
  /* `v` as HTML text; null and undefined as `missing` (default: nothing). */
  function escapeHtml(v, missing) {
    if (v === null || v === undefined) { v = missing === undefined ? "" : missing; }
    return String(v).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  var cfg = null;
  /* The page's config (the <script id="…-config"> JSON the page module renders), read once. */
  function config() {
    if (!cfg) {
      cfg = JSON.parse(document.querySelector("script[id$='-config'][type='application/json']").textContent);
    }
    return cfg;
  }

  /* The page language's word of a {zh, en} pair; "—" for none. */
  function pick(words) { return words ? words[config().lang] : "—"; }

  /* Words for a coded value shown without its field (layers/catalog.py VALUE_LABELS); else the value. */
  function label(value) {
    var key = String(value), labels = config().labels || {};
    return labels[key] !== undefined ? labels[key] : key;
  }

  // ---- JSON requests -----------------------------------------------------------------------------
  /* `options` for fetch() with the session's CSRF token (config.csrf) in the X-CSRF-Token header when
     the method changes something (anything but GET and HEAD): the server refuses such a request
     without it (webmap/auth.py). */
  function withCsrf(options) {
    var out = L.extend({}, options || {}), method = (out.method || "GET").toUpperCase();
    if (method !== "GET" && method !== "HEAD") {
      var headers = new Headers(out.headers || {});
      headers.set("X-CSRF-Token", config().csrf || "");
      out.headers = headers;
    }
    out.credentials = "same-origin";
    return out;
  }

  /* The login page, coming back here after signing in (the session ended while the page was open). */
  function signInAgain() {
    window.location.assign("/login?ended=session&next=" +
      encodeURIComponent(window.location.pathname + window.location.search));
  }

  /* fetch(url, options) -> the JSON body; a 4xx/5xx answer is an Error with the API's message, a 401
     (the session ended) goes to the login page. */
  function getJSON(url, options) {
    return fetch(url, withCsrf(options)).then(function (r) {
      if (r.status === 401) { signInAgain(); }
      return r.json().catch(function () { return {}; }).then(function (body) {
        if (!r.ok) { throw new Error(body.error || r.statusText || String(r.status)); }
        return body;
      });
    });
  }

  function postJSON(url, body) {
    return getJSON(url, { method: "POST", headers: { "Content-Type": "application/json" },
                          body: JSON.stringify(body) });
  }

  /* The words of a failed request: the lead-in in the page's language, the API's message as it came
     (it names the bad value, in English). */
  function failureText(err) { return config().t.request_failed + " " + err.message; }

  /* Show `text` in the page's #message line (nothing: clear it). */
  function showMessage(text) {
    var el = document.getElementById("message");
    if (el) { el.textContent = text || ""; }
  }

  function showFailure(err) { showMessage(failureText(err)); }

  // ---- catalog styles as Leaflet path options ----------------------------------------------------
  function clusterRadius(count) { return Math.min(4 + 2.2 * Math.log2(count + 1), 22); }

  function isCluster(props) { return props.count !== undefined && String(props.key).indexOf("cluster:") === 0; }

  function clusterColour(layer, props) {
    for (var i = 0; i < layer.cluster_values.length; i++) {
      var v = layer.cluster_values[i];
      if (props["n_" + v] > 0) { return layer.style.colors[v] || layer.style.color; }
    }
    return layer.style.color;
  }

  /* Leaflet path options of a feature of `layer` (a catalog layer or overlay: geometry and style), from
     its properties; the legend draws its symbols from the same options. */
  function styleFor(layer) {
    var s = layer.style;
    return function (props) {
      props = props || {};
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
        return { color: colour, weight: s.weight, opacity: 0.9, dashArray: s.dash || null, fill: false };
      }
      return { color: colour, weight: s.weight, fill: true, fillColor: s.fill_color || colour,
               fillOpacity: s.fill_opacity, dashArray: s.dash || null };
    };
  }

  /* The coloured value of an overlay with breaks (layers/overlays.py) for `ratio` (0..1): the first whose
     lower bound the ratio exceeds; null (the fixed colour) for none. */
  function valueOfRatio(overlay, ratio) {
    var values = Object.keys(overlay.style.colors);
    for (var i = 0; i < overlay.breaks.length; i++) {
      if (ratio > overlay.breaks[i]) { return values[i]; }
    }
    return null;
  }

  // ---- legend ------------------------------------------------------------------------------------
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

  /* The field label of a catalog layer's attribute (the layer's own popup label, else the generic one). */
  function fieldLabel(layer, field) {
    var c = config(), own = layer && layer.popup_labels && layer.popup_labels[field];
    if (own && own[c.lang]) { return own[c.lang]; }
    var any = c.display && c.display.fields[field];
    return any ? any[c.lang] : field;
  }

  function clusterLegend(layer) {
    var c = config(), t = c.t;
    var sizes = [1, 10, 100], maxR = clusterRadius(sizes[sizes.length - 1]);
    var circles = sizes.map(function (n) {
      var o = styleFor(layer)({ key: "cluster:legend", count: n });
      o.color = "#555"; o.fillColor = "#bbb";  // sizes only: the colour is each class's, listed above
      return legendItem(svgSymbol("point", o, Math.ceil(2 * maxR + 2)), String(n));
    }).join("");
    var field = layer.cluster_column ? fieldLabel(layer, layer.cluster_column) : "";
    var text = t.legend_clusters.replace("{zoom}", layer.cluster_below)
      .replace("{field}", c.lang === "en" ? field.toLowerCase() : field);
    return "<div class='legend-note'>" + escapeHtml(text) + "</div><div class='legend-items'>" + circles + "</div>";
  }

  /* The legend entry of a catalog layer or overlay at map zoom `zoom`: its title, the classes of its
     style (layer.legend), from which zoom it is drawn, its clusters. */
  function layerLegend(layer, zoom) {
    var c = config(), style = styleFor(layer), legend = layer.legend;
    var minZoom = layer.min_zoom || 0, shown = zoom >= minZoom;
    var head = "<div class='legend-title'>" + (legend.classes.length ? "" : svgSymbol(layer.geometry, style({}))) +
      "<span>" + escapeHtml(pick(layer)) + (legend.by ? " <span class='legend-by'>· " +
      escapeHtml(pick(legend.by)) + "</span>" : "") + "</span></div>";
    var items = legend.classes.map(function (k) {
      var props = {};
      if (k.value !== null) { props[layer.style.by] = k.value; }
      return legendItem(svgSymbol(layer.geometry, style(props)), k[c.lang]);
    }).join("");
    return "<div class='legend-layer" + (shown ? "" : " legend-inactive") + "' data-layer='" +
      escapeHtml(layer.id) + "'>" + head + (items ? "<div class='legend-items'>" + items + "</div>" : "") +
      (shown ? "" : "<div class='legend-note'>" + escapeHtml(c.t.legend_from_zoom.replace("{zoom}", minZoom)) +
                    "</div>") +
      (layer.cluster_below && zoom < layer.cluster_below && shown ? clusterLegend(layer) : "") + "</div>";
  }

  /* A collapsible legend control (bottom right) on `map`.  `shownLayers()` gives the catalog layers and
     overlays drawn now, in order; entries set with setEntry(id, html) follow them (null removes one).
     Redrawn once per frame after layers are added or removed and on zoom. */
  function addLegend(map, shownLayers) {
    var t = config().t, extras = {}, div = null, pending = false;
    function render() {
      pending = false;
      if (!div) { return; }
      var zoom = map.getZoom();
      var parts = shownLayers().map(function (l) { return layerLegend(l, zoom); });
      Object.keys(extras).forEach(function (id) {
        parts.push("<div class='legend-layer' data-layer='" + escapeHtml(id) + "'>" + extras[id] + "</div>");
      });
      div.querySelector(".legend-body").innerHTML = parts.length ? parts.join("") :
        "<div class='legend-note'>" + escapeHtml(t.legend_empty) + "</div>";
    }
    function update() {  // once per frame, however many layers were just added or removed
      if (!pending) { pending = true; window.requestAnimationFrame(render); }
    }
    var control = L.control({ position: "bottomright" });
    control.onAdd = function () {
      div = L.DomUtil.create("div", "panel");
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
      return div;
    };
    control.addTo(map);
    render();
    map.on("layeradd layerremove zoomend", update);
    return {
      render: render,
      setEntry: function (id, html) {
        if (html === null) { delete extras[id]; } else { extras[id] = html; }
        render();
      }
    };
  }

  // ---- the map -----------------------------------------------------------------------------------
  /* The page's Leaflet map in element `options.id` (default "map"), at `options.center` / `options.zoom`,
     with Leaflet options `options.map`: zoom buttons and popups in the page's language, the data's
     attribution, the basemap of the settings (config.basemap: url, datum) and its datum stated, a metric
     scale and a WGS-84 coordinate readout.  Returns {map, display}: display is the datum (see datum()). */
  function createMap(options) {
    var c = config(), t = c.t, basemap = c.basemap || {};
    var map = L.map(options.id || "map", L.extend({ zoomControl: false }, options.map))
      .setView(options.center, options.zoom);
    L.control.zoom({ zoomInTitle: t.zoom_in, zoomOutTitle: t.zoom_out }).addTo(map);
    map.on("popupopen", function (e) {  // Leaflet names its close button in English only
      var close = e.popup.getElement().querySelector(".leaflet-popup-close-button");
      if (close) { close.setAttribute("aria-label", t.close); close.title = t.close; }
    });
    var display = datum(basemap.datum);
    map.attributionControl.addAttribution(escapeHtml(t.attribution));
    map.attributionControl.setPrefix(String(map.attributionControl.options.prefix)
      .replace("A JavaScript library for interactive maps", escapeHtml(t.leaflet_title)));
    if (basemap.url) {
      L.tileLayer(basemap.url, { maxZoom: map.getMaxZoom() }).addTo(map);
    }
    if (display.datum === "gcj02") {  // the page says what it does with the basemap's datum
      map.attributionControl.addAttribution("<span id='datum-note'>" + escapeHtml(t.datum_gcj02) + "</span>");
    }
    L.control.scale({ metric: true, imperial: false }).addTo(map);
    var readout = L.control({ position: "bottomleft" });
    readout.onAdd = function () {
      var div = L.DomUtil.create("div", "panel coords-readout");
      div.innerHTML = escapeHtml(t.coords) + ": <span id='coords'>—</span>";
      return div;
    };
    readout.addTo(map);
    map.on("mousemove", function (e) {
      var w = display.fromMap(e.latlng);  // the readout is always WGS-84
      document.getElementById("coords").textContent = w.lng.toFixed(5) + ", " + w.lat.toFixed(5);
    });
    return { map: map, display: display };
  }

  /* The feature API's URL of a catalog layer. */
  function featuresUrl(layer, query) { return "/api/v1/layers/" + layer.id + "/features" + (query ? "?" + query : ""); }

  window.riskmapBase = {
    config: config, pick: pick, label: label, escapeHtml: escapeHtml, fieldLabel: fieldLabel,
    getJSON: getJSON, postJSON: postJSON, withCsrf: withCsrf, failureText: failureText, showMessage: showMessage,
    showFailure: showFailure,
    datum: datum, createMap: createMap, featuresUrl: featuresUrl,
    styleFor: styleFor, valueOfRatio: valueOfRatio, svgSymbol: svgSymbol, legendItem: legendItem,
    layerLegend: layerLegend,
    addLegend: addLegend
  };
})();
