/* WGS84 <-> GCJ-02 for display only (the same formulas as gis/coords.py).
 *
 * When the configured basemap is in GCJ-02, the server shifts the vector tiles; this shifts what
 * the page draws itself (selections, search results) and un-shifts what the user clicks (a plate's
 * new position) so that storage stays in WGS84. */
(function (root) {
  "use strict";
  var A = 6378245.0;
  var EE = 0.00669342162296594323;
  var BOX = [72.004, 0.8293, 137.8347, 55.8271];

  function inChina(lon, lat) {
    return lon >= BOX[0] && lon <= BOX[2] && lat >= BOX[1] && lat <= BOX[3];
  }

  function offset(lon, lat) {
    if (!inChina(lon, lat)) return [0, 0];
    var x = lon - 105.0, y = lat - 35.0, PI = Math.PI;
    var common = (20.0 * Math.sin(6.0 * x * PI) + 20.0 * Math.sin(2.0 * x * PI)) * 2.0 / 3.0;
    var dLat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
    dLat += common;
    dLat += (20.0 * Math.sin(y * PI) + 40.0 * Math.sin(y / 3.0 * PI)) * 2.0 / 3.0;
    dLat += (160.0 * Math.sin(y / 12.0 * PI) + 320.0 * Math.sin(y * PI / 30.0)) * 2.0 / 3.0;
    var dLon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
    dLon += common;
    dLon += (20.0 * Math.sin(x * PI) + 40.0 * Math.sin(x / 3.0 * PI)) * 2.0 / 3.0;
    dLon += (150.0 * Math.sin(x / 12.0 * PI) + 300.0 * Math.sin(x / 30.0 * PI)) * 2.0 / 3.0;
    var radLat = lat / 180.0 * PI;
    var magic = 1.0 - EE * Math.pow(Math.sin(radLat), 2);
    var sqrtMagic = Math.sqrt(magic);
    dLat = dLat * 180.0 / ((A * (1.0 - EE)) / (magic * sqrtMagic) * PI);
    dLon = dLon * 180.0 / (A / sqrtMagic * Math.cos(radLat) * PI);
    return [dLon, dLat];
  }

  function toGcj(lonLat) {
    var d = offset(lonLat[0], lonLat[1]);
    return [lonLat[0] + d[0], lonLat[1] + d[1]];
  }

  function toWgs(lonLat) {
    // No closed form: iterate the forward formula until the round trip is below ~1 cm.
    var x = lonLat[0], y = lonLat[1];
    for (var i = 0; i < 30; i++) {
      var f = toGcj([x, y]);
      var ex = f[0] - lonLat[0], ey = f[1] - lonLat[1];
      x -= ex; y -= ey;
      if (Math.abs(ex) < 1e-10 && Math.abs(ey) < 1e-10) break;
    }
    return [x, y];
  }

  root.plategridGcj02 = { toGcj: toGcj, toWgs: toWgs };
})(window);
