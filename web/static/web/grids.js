/* The zone editor of one community (web/templates/web/grids/edit.html).
 *
 * Zones are edited in the page and saved together: every change (a drawn zone, a moved vertex —
 * shared vertices of neighbours move together —, a cut, a merge, a retired zone) is checked by the
 * server at once as a dry run of POST /api/zones/changes/, whose errors and coverage are drawn on
 * the map; Save sends the same changes for real, all or nothing. The automatic split runs as a
 * background job (POST /api/partitions/) whose proposal is shown before it replaces the zones.
 * The chain of people is assigned per saved zone (/api/staff/, /api/assignments/). */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("page-config").textContent);
  var W = cfg.words, CODE = cfg.community.code;
  var P = window.plategrid, $ = P.$, h = P.h, toast = P.toast;
  var client = P.client(cfg.urls.api, W), api = client.api;
  var C = P.coords(cfg.basemap.crs === "gcj02");
  function refused(err) { toast(err.message || String(err), true); }
  function fmt(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_, k) { return values[k]; });
  }
  function today() { return new Date().toISOString().slice(0, 10); }

  // ---- styles ---------------------------------------------------------------------------------
  // The network map's zone colours (layers/styles.py), taken in the order of the code's sequence.
  var ZONE_COLOURS = cfg.zone_colours;
  function rgba(hex, a) {
    var c = ol.color.asArray(hex).slice(); c[3] = a; return c;
  }
  function zoneColour(f) {
    var seq = parseInt((f.get("code") || "").slice(-3), 10);
    var n = isNaN(seq) ? f.get("index") || 0 : seq - 1;
    return ZONE_COLOURS[((n % ZONE_COLOURS.length) + ZONE_COLOURS.length) % ZONE_COLOURS.length];
  }
  function label(f) {
    var code = f.get("code");
    return (code ? code.slice(-3) + " " : "＋ ") + (f.get("name") || "");
  }
  function textStyle(value, bold) {
    return new ol.style.Text({
      text: value, font: (bold ? "bold " : "") + "13px 'Noto Sans CJK SC', sans-serif", overflow: true,
      fill: new ol.style.Fill({ color: "#1d2733" }), stroke: new ol.style.Stroke({ color: "#fff", width: 3 })
    });
  }
  function zoneStyle(f) {
    var colour = zoneColour(f), chosen = selected.indexOf(f) >= 0;
    return new ol.style.Style({
      fill: new ol.style.Fill({ color: rgba(colour, chosen ? 0.75 : 0.5) }),
      stroke: new ol.style.Stroke({ color: chosen ? "#0b2a44" : "#3d5368", width: chosen ? 3.5 : 1.5, lineDash: f.get("dirty") ? [6, 4] : undefined }),
      text: textStyle(label(f), chosen)
    });
  }
  function proposalStyle(f) {
    var colour = ZONE_COLOURS[f.get("index") % ZONE_COLOURS.length];
    return new ol.style.Style({
      fill: new ol.style.Fill({ color: rgba(colour, 0.6) }),
      stroke: new ol.style.Stroke({ color: "#3d5368", width: 2, lineDash: [8, 5] }),
      text: textStyle(String(f.get("index") + 1) + " · " + Math.round(f.get("workload")), true)
    });
  }
  var problemStyle = new ol.style.Style({
    fill: new ol.style.Fill({ color: "rgba(200,30,30,0.35)" }),
    stroke: new ol.style.Stroke({ color: "#b71c1c", width: 3 })
  });
  var uncoveredStyle = new ol.style.Style({
    fill: new ol.style.Fill({ color: "rgba(230,126,34,0.35)" }),
    stroke: new ol.style.Stroke({ color: "#d35400", width: 1.5, lineDash: [4, 3] })
  });
  var badBuildings = {};
  function buildingStyle(f) {
    var bad = badBuildings[f.get("id") || f.getId()];
    return new ol.style.Style({
      fill: new ol.style.Fill({ color: bad ? "#c62828" : "rgba(120,110,100,0.55)" }),
      stroke: new ol.style.Stroke({ color: bad ? "#7f0000" : "#6b5a48", width: bad ? 2 : 0.6 })
    });
  }
  function streetStyle(f, resolution) {
    var styles = [new ol.style.Style({ stroke: new ol.style.Stroke({ color: "#ffffff", width: 4 }) })];
    if (resolution < 5 && f.get("name")) {
      styles.push(new ol.style.Style({ text: new ol.style.Text({ text: f.get("name"), placement: "line", font: "11px 'Noto Sans CJK SC', sans-serif", fill: new ol.style.Fill({ color: "#52606d" }) }) }));
    }
    return styles;
  }

  // ---- layers ---------------------------------------------------------------------------------
  // The streets come from our vector tiles; the community, its buildings and zones as GeoJSON,
  // which the snapping needs.
  var tiles = new ol.source.VectorTile({ format: new ol.format.MVT(), url: cfg.urls.tiles, maxZoom: 20, tileSize: 256 });
  var communitySource = new ol.source.Vector();
  var buildingSource = new ol.source.Vector();
  var zoneSource = new ol.source.Vector();
  var problemSource = new ol.source.Vector();
  var uncoveredSource = new ol.source.Vector();
  var proposalSource = new ol.source.Vector();
  var layers = [
    new ol.layer.VectorTile({ source: tiles, declutter: true, style: function (f, r) { return f.get("layer") === "street" ? streetStyle(f, r) : null; } }),
    new ol.layer.Vector({ source: communitySource, style: new ol.style.Style({ stroke: new ol.style.Stroke({ color: "#23415a", width: 3, lineDash: [10, 6] }) }) }),
    new ol.layer.Vector({ source: uncoveredSource, style: uncoveredStyle }),
    new ol.layer.Vector({ source: zoneSource, style: zoneStyle, declutter: true }),
    new ol.layer.Vector({ source: buildingSource, style: buildingStyle, minZoom: 14 }),
    new ol.layer.Vector({ source: proposalSource, style: proposalStyle, declutter: true }),
    new ol.layer.Vector({ source: problemSource, style: problemStyle })
  ];
  if (cfg.basemap.url) {
    layers.unshift(new ol.layer.Tile({ source: new ol.source.XYZ({ url: cfg.basemap.url, maxZoom: cfg.basemap.max_zoom, attributions: cfg.basemap.attribution || undefined }) }));
  }
  var map = new ol.Map({
    target: "map", layers: layers,
    view: new ol.View({ maxZoom: 21 }),
    controls: ol.control.defaults.defaults({ attributionOptions: { collapsible: true } }).extend([new ol.control.ScaleLine()])
  });
  // On a phone the panel is a sheet over the bottom of the map: fit above it.
  function padding() {
    var panel = $("panel"), style = getComputedStyle(panel);
    var sheet = style.position === "fixed" ? Math.max(panel.offsetHeight, parseFloat(style.maxHeight) || 0) : 0;
    return [30, 30, 30 + sheet, 30];
  }
  function fitGeometry(geom, duration) {
    map.getView().fit(geom.getExtent(), { padding: padding(), maxZoom: 19, duration: duration === undefined ? 250 : duration });
  }

  // ---- the zones and what is not saved yet -----------------------------------------------------
  var selected = [];    // chosen zone features
  var retired = [];     // ids of saved zones retired in the page
  var newCount = 0;
  function zoneFeature(props, geometry) {
    var f = new ol.Feature(C.readGeometry(geometry));
    f.setProperties({ zid: props.id || null, code: props.code || "", name: props.name || "", kind: props.kind || "resident_group", dirty: false });
    return f;
  }
  function loadZones() {
    return api("GET", "zones/?community=" + CODE + "&page_size=1000").then(function (data) {
      zoneSource.clear(); selected = []; retired = [];
      data.features.forEach(function (feature) {
        zoneSource.addFeature(zoneFeature(Object.assign({ id: feature.id }, feature.properties), feature.geometry));
      });
      changed(false);
    });
  }
  function pendingChanges() {
    var changes = [];
    zoneSource.getFeatures().forEach(function (f) {
      if (!f.get("dirty")) return;
      var change = { geom: C.writeGeometry(f.getGeometry()), name: f.get("name"), kind: f.get("kind") };
      if (f.get("zid")) change.id = f.get("zid");
      changes.push(change);
    });
    retired.forEach(function (id) { changes.push({ id: id, retire: true }); });
    return changes;
  }
  function markDirty(f) {
    f.set("dirty", true);
    if (!f.get("zid") && !f.get("name")) f.set("name", W.new_zone + " " + (++newCount));
  }
  // After every change: the toolbar, the list, and a dry-run check a moment later.
  var checkTimer = null, checkSeq = 0;
  function changed(check) {
    var count = pendingChanges().length;
    $("btn-save").disabled = !count || !cfg.can_edit;
    $("btn-discard").disabled = !count;
    $("btn-save").textContent = count ? fmt(W.pending, { count: count }) : $("btn-save").dataset.label;
    renderList();
    renderSelected();
    if (check === false) { runCheck(); return; }
    clearTimeout(checkTimer);
    checkSeq += 1;  // a check still on its way describes an older state: it is not shown
    $("check").classList.add("busy");
    checkTimer = setTimeout(runCheck, 400);
  }
  $("btn-save").dataset.label = $("btn-save").textContent;
  // Leaving with unsaved zones asks first (the browser words the question).
  window.addEventListener("beforeunload", function (e) {
    if (pendingChanges().length) { e.preventDefault(); e.returnValue = ""; }
  });

  // ---- the check: the server's dry run of the pending changes -----------------------------------
  // With nothing pending, the saved zones' coverage check says the same about what is stored.
  function savedCheck() {
    return api("GET", "zones/coverage/?code=" + CODE).then(function (report) {
      var cov = report.communities[0];
      return { coverage: cov, errors: cov.overlaps.map(function (o) {
        return { detail: fmt(W.overlap, { zones: o.zones.join("、"), area: Math.round(o.area_m2) }), geometry: o.geometry };
      }) };
    });
  }
  function runCheck() {
    var seq = ++checkSeq, box = $("check"), changes = pendingChanges();
    box.className = "check-status busy"; box.textContent = W.checking;
    var check = changes.length
      ? api("POST", "zones/changes/", { community: CODE, dry_run: true, changes: changes })
      : savedCheck();
    return check
      .then(function (result) { if (seq === checkSeq) showCheck(result); return result; })
      .catch(function (err) {
        if (seq !== checkSeq) return;
        if (err.body && err.body.errors) { showCheck(err.body); return; }
        box.className = "check-status bad"; box.textContent = err.message;
      });
  }
  function showCheck(result) {
    var box = $("check"); box.textContent = "";
    problemSource.clear(); uncoveredSource.clear(); badBuildings = {};
    var items = [];
    (result.errors || []).forEach(function (e) {
      var geom = e.geometry ? C.readGeometry(e.geometry) : null;
      if (geom) problemSource.addFeature(new ol.Feature(geom));
      items.push(h("li", { "class": "bad" }, [
        h("button", { type: "button", "class": "link", disabled: !geom, onclick: function () { if (geom) fitGeometry(geom); } }, [e.detail])
      ]));
    });
    var cov = result.coverage;
    if (cov) {
      if (cov.uncovered_geometry) {
        var hole = C.readGeometry(cov.uncovered_geometry);
        uncoveredSource.addFeature(new ol.Feature(hole));
        items.push(h("li", { "class": "warn" }, [h("button", { type: "button", "class": "link", onclick: function () { fitGeometry(hole); } },
          [fmt(W.uncovered, { area: Math.round(cov.uncovered_m2).toLocaleString() })])]));
      }
      [["buildings_in_no_zone", W.no_zone], ["buildings_cut", W.cut]].forEach(function (pair) {
        var list = cov[pair[0]] || [];
        list.forEach(function (b) { badBuildings[b.id] = true; });
        var names = list.map(function (b) { return b.name; }).filter(Boolean);
        var shown = names.length ? "（" + names.slice(0, 8).join("、") + (names.length > 8 ? "…" : "") + "）" : "";
        if (list.length) items.push(h("li", { "class": "warn" }, [fmt(pair[1], { count: list.length }) + shown]));
      });
    }
    buildingSource.changed();
    box.className = "check-status " + (result.errors && result.errors.length ? "bad" : items.length ? "warn" : "ok");
    box.appendChild(h("h2", { text: W.check }));
    if (!items.length) box.appendChild(h("p", { text: W.check_ok }));
    else box.appendChild(h("ul", {}, items));
  }

  // ---- tools -----------------------------------------------------------------------------------
  var modify = new ol.interaction.Modify({ source: zoneSource });
  modify.on("modifyend", function (e) { e.features.forEach(markDirty); changed(); });
  var draw = new ol.interaction.Draw({ source: zoneSource, type: "Polygon" });
  draw.on("drawend", function (e) {
    markDirty(e.feature);
    setTimeout(function () { selected = [e.feature]; setTool("select"); changed(); }, 0);
  });
  var cutLine = new ol.interaction.Draw({ type: "LineString" });
  cutLine.on("drawend", function (e) { cutAlong(e.feature.getGeometry()); setTimeout(function () { setTool("select"); }, 0); });
  [modify, draw, cutLine].forEach(function (i) { i.setActive(false); map.addInteraction(i); });
  // Snapping last, so that it sees the pointer before the drawing does: to the other zones'
  // vertices and edges, the community boundary and the building footprints.
  [zoneSource, communitySource, buildingSource].forEach(function (source) {
    map.addInteraction(new ol.interaction.Snap({ source: source, pixelTolerance: 8 }));
  });

  var tool = "select";
  function setTool(name) {
    tool = name;
    modify.setActive(name === "select" && cfg.can_edit);
    draw.setActive(name === "draw");
    cutLine.setActive(name === "cut");
    document.querySelectorAll("[data-tool]").forEach(function (b) { b.setAttribute("aria-pressed", String(b.dataset.tool === name)); });
    $("btn-merge").setAttribute("aria-pressed", String(name === "merge"));
    var hint = $("hint");
    hint.textContent = { draw: W.draw_hint, cut: W.cut_hint, merge: W.merge_hint }[name] || "";
    hint.hidden = !hint.textContent;
  }
  document.querySelectorAll("[data-tool]").forEach(function (b) {
    b.addEventListener("click", function () {
      if (b.dataset.tool === "cut" && selected.length !== 1) { toast(W.select_first, true); return; }
      setTool(b.dataset.tool);
    });
  });
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape" && tool !== "select") { draw.abortDrawing(); cutLine.abortDrawing(); setTool("select"); }
  });

  function cutAlong(line) {
    var zone = selected[0];
    if (!zone) { toast(W.select_first, true); return; }
    api("POST", "zones/cut/", { geom: C.writeGeometry(zone.getGeometry()), line: C.writeGeometry(line) }).then(function (result) {
      var pieces = result.pieces.map(C.readGeometry);
      zone.setGeometry(pieces[0]); markDirty(zone);
      selected = [zone];
      pieces.slice(1).forEach(function (piece, i) {
        var f = new ol.Feature(piece);
        f.setProperties({ zid: null, code: "", name: zone.get("name") + "-" + (i + 2), kind: zone.get("kind") });
        markDirty(f); zoneSource.addFeature(f); selected.push(f);
      });
      changed();
    }).catch(refused);
  }
  // Merge: with two or more zones chosen it merges them; otherwise each tap adds a zone first.
  $("btn-merge").addEventListener("click", function () {
    if (selected.length < 2) { setTool(tool === "merge" ? "select" : "merge"); return; }
    setTool("select");
    var keep = selected.filter(function (f) { return f.get("zid"); })[0] || selected[0];
    api("POST", "zones/merge/", { geoms: selected.map(function (f) { return C.writeGeometry(f.getGeometry()); }) }).then(function (result) {
      selected.forEach(function (f) { if (f !== keep) removeZone(f); });
      keep.setGeometry(C.readGeometry(result.geom)); markDirty(keep);
      selected = [keep]; changed();
    }).catch(function (err) {
      if (err.body && err.body.geometry) { problemSource.clear(); problemSource.addFeature(new ol.Feature(C.readGeometry(err.body.geometry))); }
      refused(err);
    });
  });
  function removeZone(f) {
    if (f.get("zid")) retired.push(f.get("zid"));
    zoneSource.removeFeature(f);
  }
  $("btn-retire").addEventListener("click", function () {
    if (!selected.length) { toast(W.select_first, true); return; }
    var names = selected.map(function (f) { return f.get("code") || f.get("name"); }).join("、");
    if (!window.confirm(fmt(W.retire_confirm, { zone: names }))) return;
    selected.forEach(removeZone); selected = []; changed();
  });
  // Codes 001, 002, … west → east, then north → south, for the saved zones.
  $("btn-renumber").addEventListener("click", function () {
    if (pendingChanges().length) { toast(W.save_before_renumber, true); return; }
    if (!window.confirm(W.renumber_confirm)) return;
    api("POST", "zones/renumber/", { community: CODE }).then(function (result) {
      return loadZones().then(function () { toast(fmt(W.renumbered, { count: Object.keys(result.codes).length })); });
    }).catch(refused);
  });
  $("btn-discard").addEventListener("click", function () {
    if (window.confirm(W.discard_confirm)) loadZones().catch(refused);
  });
  $("btn-save").addEventListener("click", function () {
    var button = this; button.disabled = true;
    api("POST", "zones/changes/", { community: CODE, dry_run: false, changes: pendingChanges() })
      .then(loadZones).then(function () { toast(W.saved); })
      .catch(function (err) {
        button.disabled = false;
        if (err.body && err.body.errors) showCheck(err.body);
        refused(err);
      });
  });

  // ---- choosing zones ----------------------------------------------------------------------------
  map.on("singleclick", function (e) {
    if (tool !== "select" && tool !== "merge") return;
    var hit = null;
    map.forEachFeatureAtPixel(e.pixel, function (f) { hit = f; return true; }, { layerFilter: function (l) { return l.getSource() === zoneSource; } });
    var multi = tool === "merge" || e.originalEvent.shiftKey || e.originalEvent.ctrlKey || e.originalEvent.metaKey;
    if (!hit) { if (!multi) selected = []; }
    else if (multi) { var at = selected.indexOf(hit); if (at >= 0) selected.splice(at, 1); else selected.push(hit); }
    else selected = [hit];
    zoneSource.changed(); renderList(); renderSelected();
  });
  function choose(f) { selected = [f]; zoneSource.changed(); renderList(); renderSelected(); fitGeometry(f.getGeometry()); }

  function renderList() {
    var ul = $("zone-list"); ul.textContent = "";
    var features = zoneSource.getFeatures().slice().sort(function (a, b) {
      return (a.get("code") || "~" + a.get("name")).localeCompare(b.get("code") || "~" + b.get("name"));
    });
    features.forEach(function (f) {
      ul.appendChild(h("li", { "class": selected.indexOf(f) >= 0 ? "chosen" : "" }, [
        h("span", { "class": "swatch", style: "background:" + zoneColour(f) }),
        h("button", { type: "button", "class": "link", onclick: function () { choose(f); } }, [label(f)]),
        f.get("dirty") ? h("span", { "class": "badge dirty", text: "*" }) : null
      ]));
    });
  }

  // ---- the selected zone: name, kind and its chain of people --------------------------------------
  function renderSelected() {
    var box = $("selected"); box.textContent = "";
    if (selected.length !== 1) { box.hidden = true; return; }
    var f = selected[0]; box.hidden = false;
    box.appendChild(h("h2", { text: (f.get("code") || W.new_zone) }));
    // A saved zone's field pack (printed map sheets, web/sheet_pages.py).
    if (f.get("code") && f.get("zid") && !f.get("dirty")) {
      box.appendChild(h("p", { "class": "print-pack" }, [h("a", { href: cfg.urls.sheets + "?zone=" + f.get("code"), text: W.print_pack })]));
    }
    var name = h("input", { value: f.get("name"), maxlength: "100", disabled: !cfg.can_edit, "aria-label": W.name });
    var kind = h("select", { disabled: !cfg.can_edit, "aria-label": W.kind }, Object.keys(cfg.zone_kinds).map(function (k) {
      return h("option", { value: k, text: cfg.zone_kinds[k], selected: k === f.get("kind") ? "selected" : null });
    }));
    function edit() { f.set("name", name.value.trim()); f.set("kind", kind.value); markDirty(f); changed(); }
    name.addEventListener("change", edit); kind.addEventListener("change", edit);
    box.appendChild(h("label", { "class": "field" }, [W.name, name]));
    box.appendChild(h("label", { "class": "field" }, [W.kind, kind]));
    var chain = h("div", { id: "chain" });
    box.appendChild(h("h3", { text: W.chain })); box.appendChild(chain);
    if (!f.get("zid") || f.get("dirty")) { chain.appendChild(h("p", { "class": "note", text: W.save_zone_first })); return; }
    loadChain(f.get("zid"), chain);
  }
  var staffList = null;
  function loadStaff() {
    if (!staffList) staffList = api("GET", "staff/?community=" + CODE + "&active=1");
    return staffList;
  }
  function loadChain(zid, box) {
    api("GET", "assignments/?zone=" + zid + "&current=1").then(function (data) {
      var rows = data.results || data;
      return loadStaff().then(function (staff) {
        var people = {};
        (staff.results || staff).forEach(function (s) { people[s.id] = s; });
        box.textContent = "";
        var responsible = rows.some(function (a) { return a.role === "responsible"; });
        if (!responsible) box.appendChild(h("p", { "class": "warn-text", text: W.no_responsible }));
        var ul = h("ul", { "class": "chain" });
        cfg.chain_roles.forEach(function (role) {
          rows.filter(function (a) { return a.role === role; }).forEach(function (a) {
            var person = people[a.staff] || {};
            ul.appendChild(h("li", {}, [
              h("span", { "class": "role", text: cfg.roles[role] }),
              h("span", { text: (person.name || "#" + a.staff) + " " + (person.phone_masked || "") }),
              h("small", { text: W.since + " " + a.starts_on }),
              cfg.can_edit ? h("button", { type: "button", "class": "small secondary", onclick: function () {
                api("PATCH", "assignments/" + a.id + "/", { ends_on: today() }).then(function () { loadChain(zid, box); }).catch(refused);
              } }, [W.end]) : null
            ]));
          });
        });
        box.appendChild(ul);
        if (cfg.can_edit) box.appendChild(assignForm(zid, box, staff.results || staff));
      });
    }).catch(function (err) { box.textContent = err.message; });
  }
  function assignForm(zid, box, staff) {
    var who = h("select", { "aria-label": W.staff, name: "staff" }, staff.map(function (s) {
      return h("option", { value: s.id, text: s.name + " " + s.phone_masked });
    }));
    var role = h("select", { "aria-label": W.role, name: "role" }, cfg.chain_roles.map(function (r) { return h("option", { value: r, text: cfg.roles[r] }); }));
    var since = h("input", { type: "date", value: today(), "aria-label": W.since, name: "starts_on" });
    var newName = h("input", { placeholder: W.name, maxlength: "50", name: "new_name", "aria-label": W.new_staff + " " + W.name });
    var newPhone = h("input", { placeholder: W.phone, maxlength: "20", inputmode: "tel", name: "new_phone", "aria-label": W.new_staff + " " + W.phone });
    var form = h("form", { "class": "edit assign" }, [
      h("label", { "class": "field" }, [W.staff, who]),
      h("details", {}, [h("summary", { text: W.new_staff }), newName, newPhone,
        h("button", { type: "button", "class": "small secondary", onclick: function () {
          api("POST", "staff/", { name: newName.value.trim(), phone: newPhone.value.trim(), community: cfg.community.id }).then(function (s) {
            staffList = null; staff.push(s);
            who.appendChild(h("option", { value: s.id, text: s.name + " " + s.phone_masked, selected: "selected" }));
            newName.value = newPhone.value = "";
          }).catch(refused);
        } }, [W.add])]),
      h("label", { "class": "field" }, [W.role, role]),
      h("label", { "class": "field" }, [W.since, since]),
      h("button", { type: "submit" }, [W.assign])
    ]);
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      api("POST", "assignments/", { staff: Number(who.value), zone: zid, role: role.value, starts_on: since.value })
        .then(function () { toast(W.saved); loadChain(zid, box); }).catch(refused);
    });
    return form;
  }

  // ---- automatic split: a background job with a progress bar, then a proposal ------------------
  var job = null;
  $("btn-partition").addEventListener("click", function () {
    var box = $("partition");
    box.hidden = !box.hidden;
    if (!box.hidden) partitionForm(box);
  });
  function partitionForm(box) {
    box.textContent = "";
    proposalSource.clear();
    var mode = h("select", { name: "mode", "aria-label": W.partition_into }, [
      h("option", { value: "zones", text: W.by_count }), h("option", { value: "target_workload", text: W.by_workload })
    ]);
    var amount = h("input", { type: "number", min: "1", step: "1", value: "6", name: "amount", required: "required", "aria-label": W.zone_count });
    var measure = h("select", { name: "workload", "aria-label": W.workload }, Object.keys(cfg.workloads).map(function (k) { return h("option", { value: k, text: cfg.workloads[k] }); }));
    mode.addEventListener("change", function () {
      amount.value = mode.value === "zones" ? "6" : "300";
      amount.setAttribute("aria-label", mode.value === "zones" ? W.zone_count : W.per_zone);
    });
    var form = h("form", { "class": "edit" }, [
      h("label", { "class": "field" }, [W.partition_into, mode]),
      h("label", { "class": "field" }, [W.zone_count + " / " + W.per_zone, amount]),
      h("label", { "class": "field" }, [W.workload, measure]),
      h("div", { "class": "actions" }, [h("button", { type: "submit" }, [W.start]),
        h("button", { type: "button", "class": "secondary", onclick: function () { box.hidden = true; proposalSource.clear(); } }, [W.close])])
    ]);
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var body = { community: CODE, workload: measure.value };
      body[mode.value] = Number(amount.value);
      api("POST", "partitions/", body).then(function (created) { job = created.id; pollJob(box); }).catch(refused);
    });
    box.appendChild(h("h2", { text: W.partition }));
    box.appendChild(form);
  }
  function progressBar(percent, text) {
    return h("div", { "class": "progress", role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": String(percent) }, [
      h("div", { "class": "bar", style: "width:" + percent + "%" }), h("span", { text: text })
    ]);
  }
  function pollJob(box) {
    api("GET", "partitions/" + job + "/").then(function (s) {
      box.textContent = "";
      box.appendChild(h("h2", { text: W.partition }));
      box.appendChild(progressBar(s.percent, s.status === "queued" ? W.queued : s.status_label + (s.total ? " " + s.done + " / " + s.total : "")));
      if (!s.finished) { setTimeout(function () { pollJob(box); }, 800); return; }
      if (s.error) { box.appendChild(h("p", { "class": "error", text: s.error })); return; }
      showProposal(box, s);
    }).catch(function (err) { box.appendChild(h("p", { "class": "error", text: err.message })); });
  }
  function showProposal(box, s) {
    proposalSource.clear();
    s.zones.features.forEach(function (feature) {
      var f = new ol.Feature(C.readGeometry(feature.geometry));
      f.setProperties(feature.properties);
      proposalSource.addFeature(f);
    });
    if (proposalSource.getFeatures().length) fitGeometry(ol.geom.Polygon.fromExtent(proposalSource.getExtent()));
    var r = s.report;
    box.appendChild(h("h3", { text: W.proposal }));
    box.appendChild(h("dl", {}, [
      h("dt", { text: W.zones }), h("dd", { text: String(r.zones) }),
      h("dt", { text: W.max_mean }), h("dd", { text: r.max_mean.toFixed(3) }),
      h("dt", { text: W.pp_median }), h("dd", { text: r.pp_median.toFixed(3) }),
      h("dt", { text: W.buildings_cut }), h("dd", { text: String(r.buildings_cut) })
    ]));
    box.appendChild(h("div", { "class": "actions" }, [
      h("button", { type: "button", id: "btn-apply", onclick: function () {
        if (!window.confirm(W.apply_confirm)) return;
        api("POST", "partitions/" + job + "/apply/").then(function () {
          proposalSource.clear(); box.hidden = true; toast(W.saved); return loadZones();
        }).catch(refused);
      } }, [W.apply]),
      h("button", { type: "button", "class": "secondary", onclick: function () { proposalSource.clear(); partitionForm(box); } }, [W.discard])
    ]));
  }

  // ---- start ----------------------------------------------------------------------------------
  if (!cfg.can_edit) {
    document.querySelectorAll("[data-edit]").forEach(function (b) { b.hidden = true; });
    $("check").before(h("p", { "class": "read-only", text: W.read_only }));
  }
  setTool("select");
  api("GET", "communities/?code=" + CODE).then(function (data) {
    var feature = data.features[0];
    var geom = C.readGeometry(feature.geometry);
    communitySource.addFeature(new ol.Feature(geom));
    fitGeometry(geom, 0);
    var ll = C.fromView([geom.getExtent()[0], geom.getExtent()[1]]), ur = C.fromView([geom.getExtent()[2], geom.getExtent()[3]]);
    return api("GET", "buildings/?page_size=5000&bbox=" + [ll[0], ll[1], ur[0], ur[1]].map(function (n) { return n.toFixed(6); }).join(","));
  }).then(function (data) {
    data.features.forEach(function (feature) {
      var f = new ol.Feature(C.readGeometry(feature.geometry));
      f.setId(feature.id); f.set("id", feature.id); f.set("name", feature.properties.name || "");
      buildingSource.addFeature(f);
    });
    return loadZones();
  }).catch(refused);
  window.plategridGrid = { map: map, zones: zoneSource, proposal: proposalSource, pending: pendingChanges, check: runCheck, select: function (fs) { selected = fs; zoneSource.changed(); renderSelected(); renderList(); } };
})();
