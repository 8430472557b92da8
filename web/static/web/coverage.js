/* The coverage map: the choropleth of a node's areas by share of rooms seen, drill down and up,
 * the window (7/30/90 days, ever, a sweep, rented only), the classes, the week-by-week replay,
 * the gap heatmap (vector tiles) and the gap layers. The whole view lives in the query string,
 * so every view is a link. Everything comes from this server. */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("page-config").textContent);
  var W = cfg.words;
  var P = window.plategrid;
  var $ = P.$, h = P.h, toast = P.toast;
  var api = P.client(cfg.urls.api, W).api;
  var C = P.coords(cfg.basemap.crs === "gcj02");

  function fmt(text, values) {
    return text.replace(/%\((\w+)\)s/g, function (_, k) { return values[k]; });
  }
  function percent(share) { return share === null || share === undefined ? "–" : (share * 100).toFixed(1) + "%"; }

  // ---- the view's state: the query string -----------------------------------------------------
  var KEYS = ["code", "level", "days", "sweep", "rented", "scheme", "at", "heat", "gaps"];
  function readState() {
    var q = new URLSearchParams(location.search);
    var s = {};
    KEYS.forEach(function (k) { s[k] = q.get(k) || ""; });
    s.code = s.code || cfg.home;
    s.days = s.days || "30";
    s.gaps = s.gaps ? s.gaps.split(",") : [];
    return s;
  }
  var state = readState();
  function query(extra) {
    var q = new URLSearchParams();
    ["code", "level", "sweep", "at"].forEach(function (k) { if (state[k]) q.set(k, state[k]); });
    if (!state.sweep) q.set("days", state.days);
    if (state.rented) q.set("rented", "1");
    if (state.scheme && state.scheme !== "targets") q.set("scheme", state.scheme);
    Object.keys(extra || {}).forEach(function (k) { if (extra[k]) q.set(k, extra[k]); });
    return q;
  }
  function pushState() {
    var q = query({ heat: state.heat, gaps: state.gaps.join(",") });
    history.replaceState(null, "", "?" + q.toString());
    $("export-html").href = cfg.urls.export_html + "?" + query().toString();
    $("export-png").href = cfg.urls.export_png + "?" + query().toString();
    $("btn-dashboard").href = cfg.urls.dashboard + "?code=" + encodeURIComponent(state.code);
  }

  // ---- the map --------------------------------------------------------------------------------
  var base = new ol.layer.VectorTile({
    source: new ol.source.VectorTile({ format: new ol.format.MVT(), url: cfg.urls.tiles, maxZoom: 20, transition: 0 }),
    renderMode: "hybrid",
    style: baseStyle
  });
  var light = {
    street: new ol.style.Style({ stroke: new ol.style.Stroke({ color: "#ffffff", width: 2 }) }),
    building: new ol.style.Style({ fill: new ol.style.Fill({ color: "#dcd6cc" }) }),
    boundary: new ol.style.Style({ stroke: new ol.style.Stroke({ color: "#8a9aa8", width: 0.8 }) })
  };
  function baseStyle(f) { return light[f.get("layer")] || null; }

  var areas = new ol.source.Vector();
  var fills = {};
  function areaStyle(f, resolution) {
    var colour = f.get("colour");
    var hovered = f.get("code") === hoverCode;
    if (!fills[colour]) {
      var c = ol.color.asArray(colour).slice(); c[3] = 0.62;
      fills[colour] = new ol.style.Fill({ color: c });
    }
    var styles = [new ol.style.Style({
      fill: heatOn() ? null : fills[colour],
      stroke: new ol.style.Stroke({ color: hovered ? "#0b5394" : "#34495e", width: hovered ? 3 : 1.2 }),
      zIndex: hovered ? 2 : 1
    })];
    styles.push(new ol.style.Style({
      text: new ol.style.Text({
        text: f.get("name") + "\n" + percent(f.get("share")),
        font: "13px 'Noto Sans CJK SC', sans-serif", overflow: false,
        fill: new ol.style.Fill({ color: "#1d2733" }),
        stroke: new ol.style.Stroke({ color: "rgba(255,255,255,.9)", width: 3 })
      })
    }));
    return styles;
  }
  var areaLayer = new ol.layer.Vector({ source: areas, style: areaStyle, declutter: true });

  // The gap heatmap: hexagons of rooms not seen below zoom 14, buildings from 14.
  var HEAT = ["#fff5eb", "#fdd0a2", "#fd8d3c", "#d94801", "#7f2704"];
  var heatFills = HEAT.map(function (c) { var a = ol.color.asArray(c).slice(); a[3] = 0.78; return new ol.style.Fill({ color: a }); });
  function heatStyle(f) {
    var layer = f.get("layer");
    if (layer === "gap_cells") {
      var gaps = f.get("gaps") || 0, rooms = f.get("rooms") || 1;
      var i = Math.min(4, Math.floor((gaps / rooms) * 5));
      return new ol.style.Style({ fill: heatFills[i], stroke: new ol.style.Stroke({ color: "rgba(127,39,4,.25)", width: 0.5 }) });
    }
    if (layer === "buildings") {
      var share = f.get("share");
      // Too few rooms to show their figures (one or two households): the outline alone.
      if (share === null || share === undefined) return outlineOnly;
      var j = share === null || share === undefined ? 0 : Math.min(4, Math.floor((1 - share) * 5));
      return new ol.style.Style({ fill: heatFills[j], stroke: new ol.style.Stroke({ color: f.get("never_visited") ? "#7f2704" : "#a0522d", width: f.get("never_visited") ? 2 : 0.6 }) });
    }
    return null;
  }
  var outlineOnly = new ol.style.Style({ stroke: new ol.style.Stroke({ color: "#a0522d", width: 0.6, lineDash: [3, 3] }) });
  var heatSource = null;
  var heatLayer = new ol.layer.VectorTile({ style: heatStyle, renderMode: "hybrid", visible: false });
  function heatOn() { return state.heat === "1"; }
  function refreshHeat() {
    heatLayer.setVisible(heatOn());
    $("heat-legend").hidden = !heatOn();
    if (!heatOn()) return;
    var q = new URLSearchParams();
    q.set("days", state.sweep ? "30" : state.days);
    if (state.rented) q.set("rented", "1");
    var url = cfg.urls.heat + "?" + q.toString();
    if (!heatSource || heatSource.getUrls()[0] !== url) {
      heatSource = new ol.source.VectorTile({ format: new ol.format.MVT(), url: url, maxZoom: 20, transition: 0 });
      heatLayer.setSource(heatSource);
    }
  }

  var gapSource = new ol.source.Vector();
  var gapStyles = {};
  var GAP_COLOURS = {
    never_visited_buildings: "#7f2704", unseen_buildings: "#d94801", no_plate_buildings: "#6a3d9a",
    zones_without_responsible: "#e31a1c", overdue_rooms: "#1f78b4",
    rented_rooms_without_occupant: "#33a02c"
  };
  function gapStyle(f) {
    var kind = f.get("kind");
    if (!gapStyles[kind]) {
      var colour = GAP_COLOURS[kind] || "#333";
      gapStyles[kind] = new ol.style.Style({
        image: new ol.style.Circle({ radius: 5, fill: new ol.style.Fill({ color: colour }), stroke: new ol.style.Stroke({ color: "#fff", width: 1.5 }) }),
        stroke: new ol.style.Stroke({ color: colour, width: 3, lineDash: [6, 4] })
      });
    }
    return gapStyles[kind];
  }
  var gapLayer = new ol.layer.Vector({ source: gapSource, style: gapStyle, zIndex: 5 });

  var map = new ol.Map({
    target: "map",
    layers: [base, heatLayer, areaLayer, gapLayer],
    view: new ol.View({ center: C.toView([112.14, 32.04]), zoom: 11, maxZoom: 20 }),
    controls: ol.control.defaults.defaults({ attribution: false }).extend([new ol.control.ScaleLine()])
  });
  function fitBbox(b) {
    if (!b) return;
    var a = C.toView([b[0], b[1]]), c = C.toView([b[2], b[3]]);
    map.getView().fit([a[0], a[1], c[0], c[1]], { padding: [30, 30, 30, 30], maxZoom: 17, duration: 250 });
  }

  // ---- hover and click ------------------------------------------------------------------------
  var hoverCode = null;
  var tooltip = $("tooltip");
  map.on("pointermove", function (e) {
    if (e.dragging) return;
    var found = null;
    map.forEachFeatureAtPixel(e.pixel, function (f) { found = f; return true; }, { layerFilter: function (l) { return l === areaLayer || l === gapLayer; } });
    var code = found && found.get("code") && !found.get("kind") ? found.get("code") : null;
    if (code !== hoverCode) { hoverCode = code; areaLayer.changed(); }
    if (!found) { tooltip.hidden = true; return; }
    tooltip.hidden = false;
    tooltip.style.left = e.pixel[0] + 12 + "px"; tooltip.style.top = e.pixel[1] + 12 + "px";
    if (found.get("kind")) {
      tooltip.textContent = (W["gap_" + found.get("kind")] || "") + " · " + (found.get("address") || found.get("name") || "");
    } else {
      tooltip.textContent = found.get("name") + " · " + percent(found.get("share")) + " (" + found.get("seen") + " / " + found.get("rooms") + " " + W.rooms + ")";
    }
    map.getTargetElement().style.cursor = code ? "pointer" : "";
  });
  map.on("singleclick", function (e) {
    var hit = null;
    map.forEachFeatureAtPixel(e.pixel, function (f) { hit = f; return true; }, { layerFilter: function (l) { return l === areaLayer; } });
    if (hit && hit.get("code") !== state.code) drill(hit.get("code"));
  });
  function drill(code) {
    state.code = code; state.level = ""; load(true);
  }

  // ---- controls -------------------------------------------------------------------------------
  function segmented() {
    var box = $("windows");
    box.textContent = "";
    ["7", "30", "90", "all"].forEach(function (d) {
      box.appendChild(h("button", {
        type: "button", text: W["days_" + d], "aria-pressed": String(!state.sweep && state.days === d),
        onclick: function () { state.days = d; state.sweep = ""; load(false); }
      }));
    });
  }
  function fillSelects() {
    var sweep = $("sweep");
    sweep.textContent = "";
    sweep.appendChild(h("option", { value: "", text: "—" }));
    cfg.sweeps.forEach(function (s) { sweep.appendChild(h("option", { value: String(s.id), text: s.name })); });
    sweep.value = state.sweep;
    var scheme = $("scheme");
    scheme.textContent = "";
    cfg.schemes.forEach(function (s) { scheme.appendChild(h("option", { value: s, text: W["scheme_" + s] })); });
    scheme.value = state.scheme || "targets";
    $("rented").checked = state.rented === "1";
    $("heat").checked = heatOn();
    var kinds = $("gap-kinds");
    kinds.textContent = "";
    cfg.gap_kinds.forEach(function (kind) {
      var box = h("input", { type: "checkbox", value: kind });
      box.checked = state.gaps.indexOf(kind) >= 0;
      box.addEventListener("change", function () {
        state.gaps = cfg.gap_kinds.filter(function (k) { return kinds.querySelector("input[value=" + k + "]").checked; });
        pushState(); loadGaps();
      });
      kinds.appendChild(h("label", { "class": "check" }, [box, h("span", { "class": "swatch", style: "background:" + GAP_COLOURS[kind] }), " " + W["gap_" + kind]]));
    });
  }
  function fillLevels(nodeLevel) {
    var select = $("level");
    select.textContent = "";
    var min = cfg.levels[nodeLevel];
    Object.keys(cfg.levels).forEach(function (name) {
      if (cfg.levels[name] > min || (name === "zone" && min === 15)) select.appendChild(h("option", { value: name, text: W[name] }));
    });
    select.value = state.level || select.options[0] && select.options[0].value;
  }
  $("sweep").addEventListener("change", function (e) { state.sweep = e.target.value; if (state.sweep) state.at = ""; load(false); });
  $("rented").addEventListener("change", function (e) { state.rented = e.target.checked ? "1" : ""; load(false); refreshHeat(); });
  $("scheme").addEventListener("change", function (e) { state.scheme = e.target.value; load(false); });
  $("level").addEventListener("change", function (e) { state.level = e.target.value; load(true); });
  $("heat").addEventListener("change", function (e) { state.heat = e.target.checked ? "1" : ""; pushState(); refreshHeat(); areaLayer.changed(); });
  $("btn-drawer").addEventListener("click", function () {
    var d = $("drawer"); d.hidden = !d.hidden;
    $("btn-drawer").setAttribute("aria-expanded", String(!d.hidden));
  });
  if (window.matchMedia("(max-width: 40rem)").matches) $("drawer").hidden = true;

  // The replay: the snapshot Sundays of the last weeks, then "now".
  var replayDays = [];
  var playing = null;
  function fillSlider(days) {
    replayDays = days.slice();
    var slider = $("slider");
    slider.max = String(replayDays.length);
    slider.value = String(state.at ? Math.max(0, replayDays.indexOf(state.at)) : replayDays.length);
    slider.disabled = !!state.sweep || replayDays.length === 0;
    $("play").disabled = slider.disabled;
    sliderLabel();
  }
  function sliderLabel() {
    $("slider-label").textContent = state.at ? fmt(W.as_of, { day: state.at }) : W.now;
  }
  $("slider").addEventListener("input", function (e) {
    var i = Number(e.target.value);
    state.at = i >= replayDays.length ? "" : replayDays[i];
    sliderLabel();
    load(false);
  });
  $("play").addEventListener("click", function () {
    if (playing) { stop(); return; }
    $("play").textContent = W.pause;
    var slider = $("slider");
    if (Number(slider.value) >= replayDays.length) slider.value = "0";
    function step() {
      var i = Number(slider.value);
      state.at = i >= replayDays.length ? "" : replayDays[i];
      sliderLabel();
      load(false).then(function () {
        if (!playing) return;
        if (i >= replayDays.length) { stop(); return; }
        slider.value = String(i + 1);
        playing = setTimeout(step, 900);
      });
    }
    playing = setTimeout(step, 0);
  });
  function stop() { clearTimeout(playing); playing = null; $("play").textContent = W.play; }

  // ---- loading --------------------------------------------------------------------------------
  var loading = 0;
  function load(fit) {
    var ticket = ++loading;
    pushState();
    segmented();
    document.body.classList.add("busy");
    return api("GET", "coverage/map/?" + query().toString()).then(function (data) {
      if (ticket !== loading) return;
      document.body.classList.remove("busy");
      render(data, fit);
    }, function (err) {
      document.body.classList.remove("busy");
      toast(err.message || String(err), true);
    });
  }

  function render(data, fit) {
    areas.clear();
    data.features.forEach(function (f) {
      var feature = new ol.Feature(Object.assign({ geometry: C.readGeometry(f.geometry) }, f.properties));
      areas.addFeature(feature);
    });
    state.level = data.level;
    fillLevels(data.node.level);
    $("level").value = data.level;
    fillSlider(data.replay || []);
    crumbs(data.node);
    summary(data);
    legend(data.legend);
    children(data);
    if (fit) fitBbox(data.node.bbox);
    loadGaps();
  }

  function crumbs(node) {
    var box = $("crumbs");
    box.textContent = "";
    node.path.forEach(function (step, i) {
      if (i) box.appendChild(document.createTextNode(" › "));
      if (step.code === node.code) box.appendChild(h("strong", { text: step.name || step.code }));
      else box.appendChild(h("a", { href: "#", text: step.name || step.code, onclick: function (e) { e.preventDefault(); drill(step.code); } }));
    });
  }

  function windowText(win) {
    if (win.sweep) return fmt(W.of_sweep, { name: win.sweep.name });
    if (win.days === null) return fmt(W.ever, { until: win.until });
    return fmt(W.last_days, { days: win.days, until: win.until });
  }

  function summary(data) {
    var node = data.node;
    var box = $("summary");
    box.textContent = "";
    box.appendChild(h("h2", { text: node.name || node.code }));
    box.appendChild(h("div", { "class": "big" + (node.share !== null && node.share < 0.85 ? " low" : ""), text: percent(node.share) }));
    box.appendChild(h("div", { "class": "muted", text: node.seen + " / " + node.rooms + " " + W.rooms + " · " + windowText(data.window) + (data.window.rented ? " · " + W.rented : "") }));
  }

  function legend(lg) {
    var box = $("legend");
    box.textContent = "";
    box.appendChild(h("div", { "class": "muted", text: lg.title }));
    lg.classes.forEach(function (c) {
      box.appendChild(h("div", { "class": "legend-item" }, [h("span", { "class": "swatch", style: "background:" + c.colour }), c.label + " (" + c.count + ")"]));
    });
    box.appendChild(h("div", { "class": "legend-item" }, [h("span", { "class": "swatch", style: "background:" + lg.no_data.colour }), lg.no_data.label]));
  }

  function children(data) {
    $("children-title").textContent = W.children;
    var list = $("children");
    list.textContent = "";
    var rows = data.features.map(function (f) { return f.properties; });
    rows.sort(function (a, b) { return (a.share === null ? 2 : a.share) - (b.share === null ? 2 : b.share); });
    rows.forEach(function (p) {
      var bar = h("span", { "class": "bar" }, [h("span", { style: "width:" + Math.round((p.share || 0) * 100) + "%;background:" + p.colour })]);
      var name = p.code !== data.node.code
        ? h("a", { href: "#", "data-code": p.code, text: p.name, onclick: function (e) { e.preventDefault(); drill(p.code); } })
        : h("span", { text: p.name });
      list.appendChild(h("li", {}, [name, bar, h("span", { "class": "pct", text: percent(p.share) }), h("small", { text: p.seen + " / " + p.rooms })]));
    });
  }

  // ---- gap layers -----------------------------------------------------------------------------
  var gapTicket = 0;
  function loadGaps() {
    var ticket = ++gapTicket;
    gapSource.clear();
    var lists = $("gap-lists");
    lists.textContent = "";
    if (!state.gaps.length) return;
    state.gaps.forEach(function (kind) {
      var q = new URLSearchParams({ code: state.code, kind: kind, format: "geojson", days: state.sweep ? "30" : state.days });
      api("GET", "coverage/gaps/?" + q.toString()).then(function (data) {
        if (ticket !== gapTicket) return;
        var features = data.features || [];
        features.forEach(function (f) {
          if (!f.geometry) return;
          gapSource.addFeature(new ol.Feature(Object.assign({ geometry: C.readGeometry(f.geometry), kind: kind }, f.properties)));
        });
        var count = data.count === undefined ? features.length : data.count;
        var listUrl = cfg.urls.gaps + "?" + new URLSearchParams({ code: state.code, kind: kind, days: state.sweep ? "30" : state.days, format: "xlsx" }).toString();
        lists.appendChild(h("div", { "class": "gap-row" }, [
          h("span", { "class": "swatch", style: "background:" + GAP_COLOURS[kind] }),
          h("span", { text: W["gap_" + kind] + ": " + count }),
          h("a", { href: listUrl, text: "XLSX", download: "" })
        ]));
        if (count > features.length) lists.appendChild(h("div", { "class": "muted", text: fmt(W.gap_more, { shown: features.length, count: count }) }));
      }, function (err) { toast(err.message || String(err), true); });
    });
  }

  fillSelects();
  refreshHeat();
  load(true);
})();
