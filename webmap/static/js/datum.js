/* WGS-84 <-> GCJ-02 for display on a GCJ-02 basemap (Amap/Tencent).  Same formula as
   geo/coords.py; the inverse iterates to < 1e-9 degree.  Outside China: unchanged. */
(function () {
  "use strict";
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

  window.riskmapDatum = function (datum) {
    var shifted = datum === "gcj02";
    return {
      datum: shifted ? "gcj02" : "wgs84",
      /* data (WGS-84) -> map position */
      toMap: function (lat, lng) { return shifted ? wgsToGcj(lat, lng) : [lat, lng]; },
      /* map position -> data (WGS-84) */
      fromMap: function (latlng) {
        if (!shifted) { return latlng; }
        var w = gcjToWgs(latlng.lat, latlng.lng);
        return L.latLng(w[0], w[1]);
      },
      geoJSONOptions: function (options) {
        if (!shifted) { return options; }
        options.coordsToLatLng = function (c) { var p = wgsToGcj(c[1], c[0]); return L.latLng(p[0], p[1]); };
        return options;
      },
      tileQuery: shifted ? "?datum=gcj02" : ""
    };
  };
})();
