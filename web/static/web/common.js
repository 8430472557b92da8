/* What every map page needs: building DOM nodes, the API client with its error shape, a toast,
 * and coordinates between the data (WGS84) and the screen (GCJ-02 when the basemap is GCJ-02).
 * Loaded after ol.js and gcj02.js; map.js and grids.js take what they use from window.plategrid. */
(function () {
  "use strict";

  function $(id) { return document.getElementById(id); }

  function h(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else if (k.slice(0, 2) === "on") node.addEventListener(k.slice(2), attrs[k]);
      else if (attrs[k] !== null && attrs[k] !== undefined && attrs[k] !== false) node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) node.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
    return node;
  }

  function cookie(name) {
    var m = document.cookie.match("(^|;)\\s*" + name + "=([^;]*)");
    return m ? decodeURIComponent(m[2]) : "";
  }

  // A message in the page's #toast element; refusals stay longer.
  var toastTimer = null;
  function toast(text, bad) {
    var t = $("toast");
    t.textContent = text; t.className = bad ? "bad" : ""; t.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { t.hidden = true; }, bad ? 8000 : 3000);
  }

  // The API client of a page: ``root`` is the API's URL, ``words`` the page's words for
  // not_found, error and offline. A refusal rejects with an ApiError carrying the whole body.
  function client(root, words) {
    function ApiError(status, body) {
      this.status = status;
      this.code = body && body.code;
      this.body = body;
      // The API's detail names the field and says what is wrong (web/api/errors.py).
      this.message = status === 404 ? words.not_found : (body && body.detail) || (words.error + " (" + status + ")");
    }
    function api(method, path, body) {
      var init = { method: method, credentials: "same-origin", headers: { Accept: "application/json" } };
      if (method !== "GET") init.headers["X-CSRFToken"] = cookie("csrftoken");
      if (body !== undefined) {
        init.headers["Content-Type"] = "application/json";
        init.body = JSON.stringify(body);
      }
      return fetch(root + path, init).then(function (r) {
        if (r.status === 204) return null;
        return r.json().catch(function () { return null; }).then(function (data) {
          if (!r.ok) throw new ApiError(r.status, data);
          return data;
        });
      }, function () { throw new ApiError(0, { detail: words.offline }); });
    }
    return { api: api, ApiError: ApiError };
  }

  // Coordinates: stored in WGS84, drawn in Web Mercator, shifted to GCJ-02 on screen when the
  // basemap is GCJ-02 (``gcj``). What the user draws is un-shifted before it is sent.
  function coords(gcj) {
    var G = window.plategridGcj02;
    var format = new ol.format.GeoJSON();
    function shift(ll) { return gcj ? G.toGcj(ll) : ll; }
    function unshift(ll) { return gcj ? G.toWgs(ll) : ll; }
    function each(geom, fn) {
      geom.applyTransform(function (input, output, stride) {
        for (var i = 0; i < input.length; i += stride) {
          var p = fn([input[i], input[i + 1]]);
          output[i] = p[0]; output[i + 1] = p[1];
        }
        return output;
      });
      return geom;
    }
    return {
      toView: function (ll) { return ol.proj.fromLonLat(shift(ll)); },
      fromView: function (xy) { return unshift(ol.proj.toLonLat(xy)); },
      // GeoJSON geometry in WGS84 -> an OpenLayers geometry in the view.
      readGeometry: function (g) {
        var geom = format.readGeometry(g, { dataProjection: "EPSG:4326", featureProjection: "EPSG:4326" });
        if (gcj) each(geom, shift);
        return geom.transform("EPSG:4326", "EPSG:3857");
      },
      // An OpenLayers geometry in the view -> GeoJSON geometry in WGS84 (7 decimals, ~1 cm).
      writeGeometry: function (geom) {
        var copy = geom.clone().transform("EPSG:3857", "EPSG:4326");
        if (gcj) each(copy, unshift);
        return format.writeGeometryObject(copy, { decimals: 7 });
      }
    };
  }

  window.plategrid = { $: $, h: h, cookie: cookie, toast: toast, client: client, coords: coords };
})();
