/* The map page: vector tiles of our own data as the basemap, the territory tree, search, and the
 * building panel with its plan, edits and history. Everything it loads comes from this server. */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("page-config").textContent);
  var W = cfg.words;
  var GCJ = cfg.basemap.crs === "gcj02";

  // ---- colours: one palette for every map product (layers/styles.py) ---------------------------
  var USE_COLOURS = cfg.colours.building_use;
  var PLATE_COLOURS = cfg.colours.plate_status;
  var KIND_COLOURS = cfg.colours.compound_kind;
  var ROOM_COLOURS = cfg.colours.room_use;
  var LEVEL_STYLE = {
    district: { color: "#23415a", width: 3, dash: undefined },
    street_office: { color: "#2f6f9f", width: 2, dash: [8, 6] },
    community: { color: "#5b8fb9", width: 1.5, dash: [4, 4] }
  };

  // ---- shared helpers (common.js) --------------------------------------------------------------
  var P = window.plategrid;
  var $ = P.$, h = P.h, toast = P.toast;
  var client = P.client(cfg.urls.api, W), api = client.api, ApiError = client.ApiError;
  function refused(err) { toast(err.message || String(err), true); }
  var C = P.coords(GCJ), toView = C.toView, fromView = C.fromView, readGeometry = C.readGeometry;
  function fitBbox(b, maxZoom) {
    var a = toView([b[0], b[1]]), c = toView([b[2], b[3]]);
    map.getView().fit([a[0], a[1], c[0], c[1]], { padding: [40, 40, 40, 40], maxZoom: maxZoom || 18, duration: 300 });
  }

  // ---- styles ---------------------------------------------------------------------------------
  var colourBy = "use";
  var cache = {};
  function fill(colour, alpha) {
    var key = colour + alpha;
    if (!cache[key]) {
      var c = ol.color.asArray(colour).slice(); c[3] = alpha;
      cache[key] = new ol.style.Fill({ color: c });
    }
    return cache[key];
  }
  function text(label, opts) {
    return new ol.style.Text(Object.assign({
      text: label, font: "13px 'Noto Sans CJK SC', sans-serif", overflow: false,
      fill: new ol.style.Fill({ color: "#1d2733" }), stroke: new ol.style.Stroke({ color: "#fff", width: 3 })
    }, opts || {}));
  }
  function boundaryStyle(f) {
    var s = LEVEL_STYLE[f.get("level")] || LEVEL_STYLE.community;
    return new ol.style.Style({ stroke: new ol.style.Stroke({ color: s.color, width: s.width, lineDash: s.dash }) });
  }
  function labelStyle(f, resolution) {
    var level = f.get("level"), z = map.getView().getZoomForResolution(resolution);
    if (level === "building") {  // a building's number, once (the footprint may span tiles)
      return layers.buildings.getVisible() && resolution < 1.2 ? new ol.style.Style({ text: text(f.get("name"), { font: "11px 'Noto Sans CJK SC', sans-serif" }) }) : null;
    }
    if (level === "compound") {
      return layers.compounds.getVisible() && z >= 15 ? new ol.style.Style({ text: text(f.get("name"), {
        font: "12px 'Noto Sans CJK SC', sans-serif", fill: new ol.style.Fill({ color: "#55606a" }) }) }) : null;
    }
    if (!layers.boundaries.getVisible() || (level === "community" && z < 12) || (level === "street_office" && z < 10)) return null;
    return new ol.style.Style({ text: text(f.get("name"), {
      font: (level === "district" ? "bold 16px" : level === "street_office" ? "bold 14px" : "13px") + " 'Noto Sans CJK SC', sans-serif",
      fill: new ol.style.Fill({ color: LEVEL_STYLE[level] ? LEVEL_STYLE[level].color : "#333" })
    }) });
  }
  var streetStroke = {};
  function streetStyle(f, resolution) {
    var kind = f.get("kind") || "other";
    var major = kind === "main" || kind === "arterial" || kind === "primary";
    var key = kind + (resolution < 2.5 ? "w" : "n");
    if (!streetStroke[key]) {
      streetStroke[key] = [
        new ol.style.Style({ stroke: new ol.style.Stroke({ color: "#b9c2cb", width: (major ? 7 : 4) * (resolution < 2.5 ? 1.5 : 1) }) }),
        new ol.style.Style({ stroke: new ol.style.Stroke({ color: "#ffffff", width: (major ? 5 : 2.5) * (resolution < 2.5 ? 1.5 : 1) }) })
      ];
    }
    var styles = streetStroke[key].slice();
    if (resolution < 5 && f.get("name")) {
      styles.push(new ol.style.Style({ text: text(f.get("name"), { placement: "line", font: "12px 'Noto Sans CJK SC', sans-serif" }) }));
    }
    return styles;
  }
  function compoundStyle(f) {  // its name comes once, from the label layer
    return new ol.style.Style({
      fill: fill(KIND_COLOURS[f.get("kind")] || "#e3e3e3", 0.55),
      stroke: new ol.style.Stroke({ color: "#9aa5ad", width: 1 })
    });
  }
  function buildingStyle(f) {
    var colour = colourBy === "use" ? USE_COLOURS[f.get("use")] : PLATE_COLOURS[f.get("plate")];
    var selected = selectedBuilding === f.get("id");
    return new ol.style.Style({  // its number comes once, from the label layer
      fill: fill(colour || "#ccc", 0.9),
      stroke: new ol.style.Stroke({ color: selected ? "#0b5394" : "#6b5a48", width: selected ? 3 : 0.8 })
    });
  }
  function plateStyle(f) {
    // A numbered building's own plate is its footprint's number already: no second mark on it.
    if (!f.get("label")) return null;
    return new ol.style.Style({
      // The dot never hides a label (a building's number sits right on its plate).
      image: new ol.style.Circle({ radius: 4, declutterMode: "none", fill: fill(f.get("population") ? PLATE_COLOURS.population : "#2f6f9f", 1), stroke: new ol.style.Stroke({ color: "#fff", width: 1.5 }) }),
      text: f.get("label") ? text(f.get("label"), { offsetY: -12, font: "11px 'Noto Sans CJK SC', sans-serif" }) : undefined
    });
  }

  // ---- layers ---------------------------------------------------------------------------------
  var tileVersion = 0;
  function tileUrl() { return cfg.urls.tiles + "?v=" + tileVersion; }
  // 256-px tiles: tile zoom = view zoom, so each layer appears at the zoom the server sends it.
  var tiles = new ol.source.VectorTile({
    format: new ol.format.MVT(), url: tileUrl(), maxZoom: 20, tileSize: 256, transition: 0
  });
  function tileLayer(name, style, extra) {
    return new ol.layer.VectorTile(Object.assign({
      source: tiles, renderMode: "hybrid",
      style: function (f, r) { return f.get("layer") === name ? style(f, r) : null; }
    }, extra || {}));
  }
  var layers = {
    // Decluttered layers share one collision tree per frame: labels never overprint each other.
    compounds: tileLayer("compound", compoundStyle, { minZoom: 13 }),
    streets: tileLayer("street", streetStyle, { minZoom: 12, declutter: true }),
    buildings: tileLayer("building", buildingStyle, { minZoom: 14 }),
    boundaries: tileLayer("boundary", boundaryStyle),
    plates: tileLayer("plate", plateStyle, { minZoom: 17, declutter: true }),
    labels: tileLayer("label", labelStyle, { declutter: true })
  };
  var baseLayers = [layers.compounds, layers.streets, layers.buildings, layers.boundaries, layers.plates, layers.labels];
  if (cfg.basemap.url) {
    layers.basemap = new ol.layer.Tile({
      source: new ol.source.XYZ({ url: cfg.basemap.url, maxZoom: cfg.basemap.max_zoom, attributions: cfg.basemap.attribution || undefined, crossOrigin: null })
    });
    baseLayers.unshift(layers.basemap);
  }
  var highlight = new ol.source.Vector();
  var highlightLayer = new ol.layer.Vector({
    source: highlight,
    style: new ol.style.Style({
      stroke: new ol.style.Stroke({ color: "#0b5394", width: 3 }),
      fill: new ol.style.Fill({ color: "rgba(11,83,148,0.12)" }),
      image: new ol.style.Circle({ radius: 8, stroke: new ol.style.Stroke({ color: "#0b5394", width: 3 }), fill: new ol.style.Fill({ color: "rgba(255,255,255,0.6)" }) })
    })
  });
  baseLayers.push(highlightLayer);

  var map = new ol.Map({
    target: "map",
    layers: baseLayers,
    // No centre until the address or the user's territory gives one (readHash, loadTree).
    view: new ol.View({ maxZoom: 21, constrainResolution: false }),
    controls: ol.control.defaults.defaults({ attributionOptions: { collapsible: true } }).extend([
      new ol.control.ScaleLine()
    ])
  });
  window.plategridMap = map;  // for the browser tests and the console

  function refreshTiles() {
    tileVersion += 1;
    tiles.setUrl(tileUrl());
  }

  // ---- layer switcher and legend ---------------------------------------------------------------
  function buildSwitcher() {
    var box = $("layer-switcher");
    var names = ["boundaries", "compounds", "buildings", "streets", "plates"];
    if (layers.basemap) names.unshift("basemap");
    names.forEach(function (name) {
      var input = h("input", { type: "checkbox", checked: "checked", "data-layer": name,
        onchange: function () { layers[name].setVisible(input.checked); layers.labels.changed(); } });
      box.appendChild(h("label", { "class": "check" }, [input, " " + W[name]]));
    });
    var select = h("select", { id: "colour-by", "aria-label": W.colour_by, onchange: function () {
      colourBy = select.value; layers.buildings.changed(); buildLegend();
    } }, [h("option", { value: "use", text: W.by_use }), h("option", { value: "plate", text: W.by_plate })]);
    box.appendChild(h("label", { "class": "field" }, [W.colour_by + " ", select]));
  }
  function swatches(title, colours, labels) {
    return h("div", { "class": "legend-group" }, [h("h3", { text: title })].concat(Object.keys(colours).map(function (k) {
      return h("div", { "class": "legend-item" }, [h("span", { "class": "swatch", style: "background:" + colours[k] }), labels[k] || k]);
    })));
  }
  function buildLegend() {
    var box = $("legend"); box.textContent = "";
    box.appendChild(colourBy === "use"
      ? swatches(W.buildings, USE_COLOURS, cfg.building_uses)
      : swatches(W.buildings, PLATE_COLOURS, { none: W.plate_none, plate: W.plate_plate, population: W.plate_population }));
    box.appendChild(swatches(W.compounds, KIND_COLOURS, cfg.compound_kinds));
    box.appendChild(h("div", { "class": "legend-group" }, [h("h3", { text: W.boundaries })].concat(Object.keys(LEVEL_STYLE).map(function (k) {
      var s = LEVEL_STYLE[k];
      return h("div", { "class": "legend-item" }, [h("span", { "class": "line", style: "border-top:" + s.width + "px " + (s.dash ? "dashed " : "solid ") + s.color }), W[k]]);
    }))));
  }

  // ---- territory tree --------------------------------------------------------------------------
  var treeNodes = [];
  function buildTree(nodes, parent) {
    nodes.forEach(function (node) {
      var li = h("li", { "data-code": node.code, "class": "level-" + node.level }, [
        h("button", { type: "button", onclick: function () { goToNode(node); } }, [
          h("span", { "class": "name", text: node.name }), h("span", { "class": "code", text: node.code })
        ])
      ]);
      treeNodes.push({ li: li, text: (node.name + " " + node.code).toLowerCase() });
      parent.appendChild(li);
      if (node.children && node.children.length) {
        var ul = h("ul"); li.appendChild(ul); buildTree(node.children, ul);
      }
    });
  }
  function goToNode(node) {
    if (node.bbox) fitBbox(node.bbox, 17);
    if (window.matchMedia("(max-width: 40rem)").matches) toggleDrawer(false);
  }
  function loadTree() {
    return api("GET", "territory/").then(function (data) {
      var ul = $("tree"); ul.textContent = ""; treeNodes = [];
      buildTree(data.nodes, ul);
      // Start on the user's own territory unless the address says where to look.
      if (!location.hash && data.nodes.length) {
        var node = data.nodes[0];
        while (node.children && node.children.length === 1) node = node.children[0];
        if (node.bbox) fitBbox(node.bbox, 16);
      }
    }).catch(refused);
  }
  $("tree-filter").addEventListener("input", function () {
    var q = this.value.trim().toLowerCase();
    treeNodes.forEach(function (n) { n.li.classList.toggle("no-match", !!q && n.text.indexOf(q) < 0); });
    $("tree").classList.toggle("filtering", !!q);
  });

  function toggleDrawer(open) {
    var drawer = $("drawer");
    drawer.hidden = open === undefined ? !drawer.hidden : !open;
    $("btn-drawer").setAttribute("aria-expanded", String(!drawer.hidden));
    map.updateSize();
  }
  $("btn-drawer").addEventListener("click", function () { toggleDrawer(); });

  // ---- search ---------------------------------------------------------------------------------
  var searchTimer = null, searchSeq = 0, results = [], active = -1;
  var box = $("search"), list = $("search-results");
  function showResults(items) {
    results = items; active = -1; list.textContent = "";
    if (!items.length) {
      list.appendChild(h("li", { "class": "empty", text: W.no_results }));
    }
    items.forEach(function (r, i) {
      list.appendChild(h("li", { role: "option", "data-kind": r.kind, id: "result-" + i,
        onmousedown: function (e) { e.preventDefault(); choose(i); } }, [
        h("span", { "class": "kind", text: W[r.kind] || r.kind }), h("span", { "class": "label", text: r.label }),
        r.detail ? h("small", { text: r.detail }) : null
      ]));
    });
    list.hidden = false;
  }
  function runSearch() {
    var q = box.value.trim();
    if (!q) { list.hidden = true; return; }
    var seq = ++searchSeq;
    api("GET", "search/?q=" + encodeURIComponent(q) + "&limit=20").then(function (data) {
      if (seq === searchSeq) showResults(data.results);
    }).catch(refused);
  }
  function choose(i) {
    var r = results[i];
    if (!r) return;
    list.hidden = true;
    box.value = r.label;
    highlight.clear();
    if (r.bbox) fitBbox(r.bbox, r.kind === "door_plate" || r.kind === "room" ? 19 : 18);
    else map.getView().animate({ center: toView([r.lon, r.lat]), zoom: 18, duration: 300 });
    highlight.addFeature(new ol.Feature(new ol.geom.Point(toView([r.lon, r.lat]))));
    if (r.building) openBuilding(r.building, r.room, true);
  }
  box.addEventListener("input", function () { clearTimeout(searchTimer); searchTimer = setTimeout(runSearch, 250); });
  box.addEventListener("keydown", function (e) {
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      if (!results.length) return;
      active = (active + (e.key === "ArrowDown" ? 1 : results.length - 1)) % results.length;
      Array.prototype.forEach.call(list.children, function (li, i) { li.classList.toggle("active", i === active); });
      box.setAttribute("aria-activedescendant", "result-" + active);
    } else if (e.key === "Enter") {
      e.preventDefault();
      if (active >= 0) choose(active);
      else if (!list.hidden && results.length) choose(0);
      else { clearTimeout(searchTimer); runSearch(); }
    } else if (e.key === "Escape") { list.hidden = true; }
  });
  box.addEventListener("blur", function () { setTimeout(function () { list.hidden = true; }, 150); });

  // ---- the building panel -----------------------------------------------------------------------
  var selectedBuilding = null, building = null, selectedRoom = null, mode = null;
  var panel = $("panel");

  function section(title, children, cls) {
    return h("section", { "class": cls || null }, [h("h3", { text: title })].concat(children));
  }
  function dl(pairs) {
    var node = h("dl");
    pairs.forEach(function (p) {
      if (p[1] === null || p[1] === undefined || p[1] === "") return;
      node.appendChild(h("dt", { text: p[0] })); node.appendChild(h("dd", { text: String(p[1]) }));
    });
    return node;
  }
  function closePanel() {
    panel.hidden = true; selectedBuilding = null; building = null; selectedRoom = null;
    highlight.clear(); layers.buildings.changed(); setHash(); map.updateSize();
  }
  function openBuilding(id, roomId, fit) {
    selectedBuilding = id; selectedRoom = roomId || null;
    layers.buildings.changed();
    return api("GET", "buildings/" + id + "/").then(function (data) {
      building = data;
      renderPanel(false);
      setHash();
      highlight.clear();
      var geom = data.geometry || data.footprint;
      if (geom) showFootprint(readGeometry(geom), fit);
    }, function (err) {
      building = null; selectedBuilding = null;
      panel.hidden = false; panel.textContent = "";
      panel.appendChild(h("div", { "class": "panel-head" }, [h("h2", { text: W.building }), h("button", { type: "button", "class": "close", onclick: closePanel, "aria-label": W.close, text: "×" })]));
      panel.appendChild(h("p", { "class": "error", text: err.message }));
    });
  }
  function showFootprint(shape, fit) {
    highlight.addFeature(new ol.Feature(shape));
    var view = map.getView(), size = map.getSize();
    // On a phone the panel is a sheet over the lower map: keep the building above it.
    var sheet = window.matchMedia("(max-width: 40rem)").matches ? panel.offsetHeight : 0;
    var padding = [60, 60, 60 + sheet, 60];
    var shown = view.getCenter() && !fit &&
      ol.extent.containsExtent(view.calculateExtent([size[0] - 120, Math.max(1, size[1] - 120 - sheet)]), shape.getExtent());
    if (!shown) {
      view.fit(shape.getExtent(), { padding: padding, maxZoom: Math.max(18, view.getZoom() || 0), duration: 300 });
    }
  }
  function props(data) { return data.properties || data; }
  function buildingTitle(p) {
    var plate = (p.door_plates || []).filter(function (d) { return !d.room; })[0];
    return plate ? plate.address : (p.name || W.building + " " + (p.id || ""));
  }
  function renderPanel(scroll) {
    var p = props(building);
    p.id = building.id !== undefined ? building.id : p.id;
    panel.hidden = false; panel.textContent = "";
    panel.appendChild(h("div", { "class": "panel-head" }, [
      h("h2", { text: buildingTitle(p) }),
      h("button", { type: "button", "class": "close", onclick: closePanel, "aria-label": W.close, text: "×" })
    ]));
    if (!p.can_edit) panel.appendChild(h("p", { "class": "note read-only", text: W.read_only }));
    panel.appendChild(dl([
      [W.community, p.community_name ? p.community_name + " (" + p.community_code + ")" : null],
      [W.compound, p.compound_name],
      [W.use, cfg.building_uses[p.use] || p.use],
      [W.floors, p.floors_below ? p.floors_above + " / B" + p.floors_below : p.floors_above],
      [W.landlords, (p.landlords || []).map(function (l) { return l.name + (l.phone_masked ? " " + l.phone_masked : ""); }).join("，")]
    ]));
    // The building's field pack (printed map sheet, register and plans: web/sheet_pages.py).
    if (cfg.urls.sheets && p.id) panel.appendChild(h("p", { "class": "print-pack" }, [h("a", { href: cfg.urls.sheets + "?building=" + p.id, text: W.print_pack })]));
    panel.appendChild(plateSection(p));
    panel.appendChild(planSection(p));
    var roomBox = h("div", { id: "room-detail" });
    panel.appendChild(roomBox);
    if (selectedRoom) showRoom(findRoom(selectedRoom), scroll);
    map.updateSize();
  }
  function findRoom(id) {
    var found = null;
    props(building).floors.forEach(function (f) { f.rooms.forEach(function (r) { if (r.id === id) found = r; }); });
    return found;
  }

  function plateSection(p) {
    var items = (p.door_plates || []).map(function (d) {
      var actions = p.can_edit ? [
        h("button", { type: "button", "class": "small", onclick: function () { startMovePlate(d); }, text: W.move_plate }),
        h("button", { type: "button", "class": "small", onclick: function (e) { fixAddress(d, e.target.closest("li")); }, text: W.fix_address })
      ] : [];
      actions.push(h("button", { type: "button", "class": "small secondary", onclick: function (e) { showHistory("door-plates", d.id, e.target.closest("li"), p.can_edit); }, text: W.history }));
      return h("li", { "data-plate": d.id }, [
        h("span", { text: d.address }), d.population_plate ? h("span", { "class": "badge", text: W.population_plate }) : null,
        h("div", { "class": "actions" }, actions)
      ]);
    });
    if (!items.length) items.push(h("li", { text: W.plate_none }));
    return section(W.plates, [h("ul", { "class": "plates" }, items)]);
  }

  function planSection(p) {
    var svg = window.plategridPlan.render(p.floors || [], {
      colours: ROOM_COLOURS, selected: selectedRoom,
      labels: { plan: W.plan, uses: cfg.room_uses, unit: W.unit_label },
      entrances: (p.entrances || []).reduce(function (m, e) { m[e.id] = e.number; return m; }, {}),
      onRoom: function (room) { selectedRoom = room.id; setHash(); showRoom(room); markRoom(); }
    });
    var children = [svg, swatches("", ROOM_COLOURS, cfg.room_uses), h("p", { "class": "note", text: W.plan_note })];
    if (p.can_edit) children.push(h("button", { type: "button", "class": "small", onclick: function (e) { addRoomForm(p, e.target); }, text: W.add_room }));
    return section(W.plan, children, "plan-section");
  }
  function markRoom() {
    Array.prototype.forEach.call(panel.querySelectorAll("g.room"), function (g) {
      g.classList.toggle("selected", Number(g.getAttribute("data-room")) === selectedRoom);
    });
  }

  function useSelect(value) {
    return h("select", { name: "use" }, Object.keys(cfg.room_uses).map(function (k) {
      return h("option", { value: k, selected: k === value ? "selected" : null, text: cfg.room_uses[k] });
    }));
  }
  function field(label, input) { return h("label", { "class": "field" }, [h("span", { text: label }), input]); }

  function showRoom(room, scroll) {
    var box = $("room-detail");
    if (!box) return;
    box.textContent = "";
    if (!room) return;
    var p = props(building);
    var landlord = (p.landlords || []).filter(function (l) { return l.id === room.landlord; })[0];
    var entrance = (p.entrances || []).filter(function (e) { return e.id === room.entrance; })[0];
    var children = [dl([
      [W.number, room.number], [W.floor, room.floor], [W.entrance, entrance ? entrance.number : null],
      [W.use, cfg.room_uses[room.use] || room.use], [W.area_m2, room.area_m2],
      [W.landlord, landlord ? landlord.name + (landlord.phone_masked ? " " + landlord.phone_masked : "") : null]
    ])];
    if (p.can_edit) {
      var number = h("input", { name: "number", value: room.number, required: "required", maxlength: 20 });
      var area = h("input", { name: "area_m2", type: "number", step: "0.01", min: "0", value: room.area_m2 || "" });
      var use = useSelect(room.use);
      var form = h("form", { "class": "edit", id: "room-form", onsubmit: function (e) {
        e.preventDefault();
        api("PATCH", "rooms/" + room.id + "/", { number: number.value.trim(), use: use.value, area_m2: area.value || null })
          .then(function () { toast(W.saved); afterEdit(room.id); }).catch(refused);
      } }, [field(W.number, number), field(W.use, use), field(W.area_m2, area),
        h("div", { "class": "actions" }, [
          h("button", { type: "submit", text: W.save }),
          h("button", { type: "button", "class": "secondary", onclick: function () { splitForm(room, box); }, text: W.split_room })
        ])]);
      children.push(form);
    }
    var historyBox = h("div", { "class": "history-box" });
    children.push(h("button", { type: "button", "class": "small secondary", onclick: function () { showHistory("rooms", room.id, historyBox, p.can_edit); }, text: W.history }));
    children.push(historyBox);
    box.appendChild(section(W.room + " " + room.number, children, "room"));
    if (scroll !== false) box.scrollIntoView({ block: "nearest" });
  }

  function afterEdit(roomId) {
    refreshTiles();
    return openBuilding(selectedBuilding, roomId === undefined ? selectedRoom : roomId);
  }

  function splitForm(room, box) {
    var a = h("input", { name: "first", value: room.number, required: "required", maxlength: 20 });
    var b = h("input", { name: "second", value: room.number + "-1", required: "required", maxlength: 20 });
    var form = h("form", { "class": "edit", id: "split-form", onsubmit: function (e) {
      e.preventDefault();
      api("POST", "rooms/" + room.id + "/split/", { numbers: [a.value.trim(), b.value.trim()] })
        .then(function () { toast(W.saved); afterEdit(room.id); }).catch(refused);
    } }, [h("p", { text: W.split_numbers }), field("1", a), field("2", b),
      h("div", { "class": "actions" }, [h("button", { type: "submit", text: W.split_room }),
        h("button", { type: "button", "class": "secondary", onclick: function () { form.remove(); }, text: W.cancel })])]);
    box.appendChild(form);
  }

  function addRoomForm(p, anchor) {
    var floors = (p.floors || []).map(function (f) { return f.floor; });
    var floor = h("select", { name: "floor" }, floors.map(function (f) { return h("option", { value: f, text: f }); }));
    var number = h("input", { name: "number", required: "required", maxlength: 20 });
    var use = useSelect("owner_occupied");
    var form = h("form", { "class": "edit", id: "add-room-form", onsubmit: function (e) {
      e.preventDefault();
      api("POST", "rooms/", { building: p.id, floor: Number(floor.value), number: number.value.trim(), use: use.value })
        .then(function (room) { toast(W.saved); afterEdit(room.id); }).catch(refused);
    } }, [field(W.floor, floor), field(W.number, number), field(W.use, use),
      h("div", { "class": "actions" }, [h("button", { type: "submit", text: W.save }),
        h("button", { type: "button", "class": "secondary", onclick: function () { form.remove(); }, text: W.cancel })])]);
    anchor.insertAdjacentElement("afterend", form);
    number.focus();
  }

  function fixAddress(plate, anchor) {
    api("GET", "door-plates/" + plate.id + "/").then(function (data) {
      var d = props(data);
      var road = h("input", { name: "road", value: d.road || "", maxlength: 50 });
      var number = h("input", { name: "number", value: d.number || "", maxlength: 20 });
      var bno = h("input", { name: "building_number", value: d.building_number || "", maxlength: 20 });
      var form = h("form", { "class": "edit", onsubmit: function (e) {
        e.preventDefault();
        api("PATCH", "door-plates/" + plate.id + "/", { road: road.value.trim(), number: number.value.trim(), building_number: bno.value.trim() })
          .then(function () { toast(W.saved); afterEdit(); }).catch(refused);
      } }, [field(W.road, road), field(W.door_number, number), field(W.building_number, bno),
        h("div", { "class": "actions" }, [h("button", { type: "submit", text: W.save }),
          h("button", { type: "button", "class": "secondary", onclick: function () { form.remove(); }, text: W.cancel })])]);
      anchor.appendChild(form);
    }).catch(refused);
  }

  function startMovePlate(plate) {
    mode = { kind: "move-plate", plate: plate };
    var hint = $("hint"); hint.textContent = W.move_hint; hint.hidden = false;
    $("map").classList.add("picking");
  }
  function stopMode() { mode = null; $("hint").hidden = true; $("map").classList.remove("picking"); }
  document.addEventListener("keydown", function (e) { if (e.key === "Escape" && mode) stopMode(); });

  function fieldLabel(name) { return W[name] || W[name.replace(/_id$/, "")] || name; }
  function value(v) {
    if (v === null || v === undefined || v === "") return "∅";
    var s = typeof v === "object" ? JSON.stringify(v) : String(v);
    return s.length > 40 ? s.slice(0, 38) + "…" : s;
  }
  function showHistory(kind, id, box, canEdit) {
    var target = box.querySelector ? (box.querySelector(":scope > .history") || h("div", { "class": "history" })) : box;
    box.appendChild(target);
    target.textContent = "…";
    api("GET", kind + "/" + id + "/history/").then(function (changes) {
      target.textContent = "";
      if (!changes.length) { target.appendChild(h("p", { "class": "note", text: W.no_history })); return; }
      var changeList = h("ol", { "class": "changes" });
      changes.slice().reverse().forEach(function (c) {
        var when = new Date(c.created_at).toLocaleString(document.documentElement.lang);
        var what = c.label === "insert" ? W.created : c.label === "delete" ? W.deleted : Object.keys(c.diff).map(function (k) {
          return fieldLabel(k) + ": " + value(c.diff[k][0]) + " → " + value(c.diff[k][1]);
        }).join("；");
        var item = h("li", { "data-event": c.event_id }, [
          h("div", { "class": "when", text: when + " · " + W.by + " " + (c.username || W.system) }),
          h("div", { "class": "what", text: what })
        ]);
        if (canEdit) item.appendChild(h("button", { type: "button", "class": "small secondary", text: W.undo, onclick: function () {
          api("POST", kind + "/" + id + "/history/" + c.event_id + "/undo/", {}).then(function () {
            toast(W.undone); afterEdit();
          }).catch(refused);
        } }));
        changeList.appendChild(item);
      });
      target.appendChild(changeList);
    }).catch(function (err) { target.textContent = err.message; });
  }

  // ---- map clicks -----------------------------------------------------------------------------
  map.on("singleclick", function (e) {
    if (mode && mode.kind === "move-plate") {
      var ll = fromView(e.coordinate), plate = mode.plate;
      stopMode();
      api("PATCH", "door-plates/" + plate.id + "/", { location: { type: "Point", coordinates: ll } })
        .then(function () { toast(W.saved); afterEdit(); }).catch(refused);
      return;
    }
    var hit = null;
    map.forEachFeatureAtPixel(e.pixel, function (f) {
      if (f.get("layer") === "building") { hit = f; return true; }
      return false;
    }, { layerFilter: function (l) { return l === layers.buildings; }, hitTolerance: 2 });
    if (hit) openBuilding(hit.get("id"));
  });
  map.on("pointermove", function (e) {
    if (e.dragging) return;
    var over = map.hasFeatureAtPixel(e.pixel, { layerFilter: function (l) { return l === layers.buildings; } });
    map.getTargetElement().style.cursor = over || mode ? "pointer" : "";
  });

  // ---- the address bar keeps the view and the open building -------------------------------------
  function setHash() {
    var v = map.getView(), parts = [];
    if (v.getCenter()) {
      var c = fromView(v.getCenter());
      parts.push("map=" + v.getZoom().toFixed(2) + "/" + c[0].toFixed(6) + "/" + c[1].toFixed(6));
    }
    if (selectedBuilding) parts.push("b=" + selectedBuilding);
    if (selectedRoom) parts.push("r=" + selectedRoom);
    history.replaceState(null, "", "#" + parts.join("&"));
  }
  function readHash() {
    var params = new URLSearchParams(location.hash.slice(1));
    var m = (params.get("map") || "").split("/").map(Number);
    if (m.length === 3 && m.every(isFinite)) {
      map.getView().setCenter(toView([m[1], m[2]])); map.getView().setZoom(m[0]);
    }
    // A link without a view fits the map on the building it names.
    if (params.get("b")) openBuilding(Number(params.get("b")), params.get("r") ? Number(params.get("r")) : null, m.length !== 3);
  }
  map.on("moveend", function () {
    setHash();
    var ext = map.getView().calculateExtent(map.getSize());
    var a = fromView([ext[0], ext[1]]), b = fromView([ext[2], ext[3]]);
    $("btn-export").href = cfg.urls.export + "?bbox=" + [a[0], a[1], b[0], b[1]].map(function (n) { return n.toFixed(6); }).join(",");
  });

  // The HTML map is fetched first so that a refusal (too many buildings) is shown, not saved.
  $("btn-export").addEventListener("click", function (e) {
    e.preventDefault();
    var link = this;
    fetch(link.href, { credentials: "same-origin" }).then(function (r) {
      if (r.ok) return r.blob().then(function (blob) {
        var a = h("a", { href: URL.createObjectURL(blob), download: "plategrid-map.html" });
        document.body.appendChild(a); a.click(); a.remove();
        setTimeout(function () { URL.revokeObjectURL(a.href); }, 10000);
      });
      return r.json().catch(function () { return null; }).then(function (body) { throw new ApiError(r.status, body); });
    }, function () { throw new ApiError(0, { detail: W.offline }); }).catch(refused);
  });
  // A link pasted into the address bar of an open map (replaceState above fires no event).
  window.addEventListener("hashchange", readHash);
  buildSwitcher();
  buildLegend();
  readHash();
  loadTree();
  window.plategridPage = { openBuilding: openBuilding, api: api, refreshTiles: refreshTiles, toast: toast };
})();
