/* A sweep's page (web/templates/web/sweeps/detail.html): the plan on the map and in tables.
 *
 * The plan in force (or an older version, read-only) comes from GET /api/sweeps/{id}/plan/: a
 * stop per building (team, day, order) and a route line per team and day, drawn in the team's
 * colour. Plan / Re-balance / Re-plan submit a background job (POST …/plan-jobs/) whose progress
 * bar runs until the new version is drawn. A stop can be moved to another team, or earlier or later
 * in its team's walk: each edit is saved at once as the next version (POST …/plan/edits/).
 * Coverage per team and area and the gap lists come from …/coverage/ and …/gaps/. */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("page-config").textContent);
  var W = cfg.words, ID = cfg.sweep.id, BASE = "sweeps/" + ID + "/";
  var P = window.plategrid, $ = P.$, h = P.h, toast = P.toast;
  var api = P.client(cfg.urls.api, W).api;
  var C = P.coords(cfg.basemap.crs === "gcj02");
  function refused(err) { toast(err.message || String(err), true); }
  function fmt(template, values) { return template.replace(/%\((\w+)\)s/g, function (_, k) { return values[k]; }); }
  function pct(share) { return share === null || share === undefined ? "—" : (share * 100).toFixed(1) + "%"; }
  function num(v, d) { return v === null || v === undefined ? "—" : Number(v).toFixed(d || 0); }

  var state = { detail: null, plan: null, teamIndex: {}, version: null, gapPage: 1, selected: null };
  function colour(teamId) {
    var i = state.teamIndex[teamId] || 0;
    return cfg.team_colours[i % cfg.team_colours.length];
  }
  function darker(hex) {
    var c = ol.color.asArray(hex);
    return "rgb(" + [c[0], c[1], c[2]].map(function (v) { return Math.round(v * 0.55); }).join(",") + ")";
  }
  function writable() { return cfg.can_edit && state.version === null; }

  // ---- the map ----------------------------------------------------------------------------------
  var tiles = new ol.source.VectorTile({ format: new ol.format.MVT(), url: cfg.urls.tiles, maxZoom: 20, tileSize: 256 });
  var areaSource = new ol.source.Vector(), routeSource = new ol.source.Vector();
  var stopSource = new ol.source.Vector(), startSource = new ol.source.Vector();
  function baseStyle(f) {
    var layer = f.get("layer");
    if (layer === "street") return new ol.style.Style({ stroke: new ol.style.Stroke({ color: "#ffffff", width: 4 }) });
    if (layer === "building") return new ol.style.Style({ fill: new ol.style.Fill({ color: "rgba(150,140,130,0.35)" }) });
    return null;
  }
  function routeStyle(f) {
    var chosenDay = state.selected && state.selected.team === f.get("team") && state.selected.day === f.get("day");
    return new ol.style.Style({ stroke: new ol.style.Stroke({ color: darker(colour(f.get("team"))), width: chosenDay ? 5 : 2.5, lineDash: f.get("day") % 2 ? undefined : [8, 4] }) });
  }
  function stopStyle(f) {
    var chosen = state.selected && state.selected.building === f.get("building");
    return new ol.style.Style({
      image: new ol.style.Circle({ radius: chosen ? 9 : 6, fill: new ol.style.Fill({ color: colour(f.get("team")) }), stroke: new ol.style.Stroke({ color: chosen ? "#0b2a44" : darker(colour(f.get("team"))), width: chosen ? 3 : 1.5 }) })
    });
  }
  // The stops' order numbers, on a layer of their own that drops labels that would overlap.
  function seqStyle(f) {
    return new ol.style.Style({ text: new ol.style.Text({ text: String(f.get("seq")), offsetY: -13, font: "bold 12px 'Noto Sans CJK SC', sans-serif", fill: new ol.style.Fill({ color: "#1d2733" }), stroke: new ol.style.Stroke({ color: "#fff", width: 3 }) }) });
  }
  function startStyle(f) {
    return new ol.style.Style({
      image: new ol.style.RegularShape({ points: 4, radius: 11, angle: Math.PI / 4, fill: new ol.style.Fill({ color: colour(f.get("team")) }), stroke: new ol.style.Stroke({ color: "#0b2a44", width: 2 }) }),
      text: new ol.style.Text({ text: f.get("name"), offsetY: 20, font: "bold 12px 'Noto Sans CJK SC', sans-serif", fill: new ol.style.Fill({ color: "#0b2a44" }), stroke: new ol.style.Stroke({ color: "#fff", width: 3 }) })
    });
  }
  var layers = [
    new ol.layer.VectorTile({ source: tiles, style: baseStyle }),
    new ol.layer.Vector({ source: areaSource, style: new ol.style.Style({ stroke: new ol.style.Stroke({ color: "#23415a", width: 3, lineDash: [10, 6] }) }) }),
    new ol.layer.Vector({ source: routeSource, style: routeStyle }),
    new ol.layer.Vector({ source: stopSource, style: stopStyle }),
    new ol.layer.Vector({ source: stopSource, style: seqStyle, declutter: true, minZoom: 16 }),
    new ol.layer.Vector({ source: startSource, style: startStyle, declutter: true })
  ];
  if (cfg.basemap.url) {
    layers.unshift(new ol.layer.Tile({ source: new ol.source.XYZ({ url: cfg.basemap.url, maxZoom: cfg.basemap.max_zoom, attributions: cfg.basemap.attribution || undefined }) }));
  }
  var map = new ol.Map({
    target: "map", layers: layers, view: new ol.View({ maxZoom: 21 }),
    controls: ol.control.defaults.defaults({ attributionOptions: { collapsible: true } }).extend([new ol.control.ScaleLine()])
  });
  function redraw() { routeSource.changed(); stopSource.changed(); }
  map.on("click", function (ev) {
    var hit = map.forEachFeatureAtPixel(ev.pixel, function (f) { return f.get("kind") === "stop" ? f : null; }, { hitTolerance: 5 });
    if (hit) select(hit.getProperties());
  });

  // ---- loading -------------------------------------------------------------------------------
  function load() {
    return api("GET", BASE).then(function (detail) {
      state.detail = detail;
      detail.teams.forEach(function (t, i) { state.teamIndex[t.id] = i; });
      if (!areaSource.getFeatures().length && detail.area) {
        areaSource.addFeature(new ol.Feature(C.readGeometry(detail.area)));
        map.getView().fit(areaSource.getExtent(), { padding: [30, 30, 30, 30], maxZoom: 18 });
      }
      startSource.clear();
      detail.teams.forEach(function (t) {
        var f = new ol.Feature(C.readGeometry(t.start)); f.setProperties({ team: t.id, name: t.name }); startSource.addFeature(f);
      });
      if (!detail.plan) { state.plan = null; drawAll(); return null; }
      return Promise.all([
        api("GET", BASE + "plan/" + (state.version ? "?version=" + state.version : "")),
        api("GET", BASE + "plans/"),
        api("GET", BASE + "coverage/").catch(function () { return null; })
      ]).then(function (r) { state.plan = r[0]; state.versions = r[1]; state.coverage = r[2]; drawAll(); });
    }).catch(refused);
  }

  function drawAll() {
    routeSource.clear(); stopSource.clear();
    if (state.plan) {
      state.plan.features.forEach(function (feature) {
        if (!feature.geometry) return;
        var f = new ol.Feature(C.readGeometry(feature.geometry));
        f.setProperties(feature.properties);
        (feature.properties.kind === "stop" ? stopSource : routeSource).addFeature(f);
      });
    }
    drawSummary(); drawVersions(); drawTeams(); drawDays(); drawAreas(); drawGapTeams();
    document.querySelectorAll("[data-edit]").forEach(function (b) { b.disabled = !writable(); });
    document.querySelector("[data-kind=plan]").disabled = !writable() || !!state.plan;
    document.querySelector("[data-kind=rebalance]").disabled = !writable() || !state.plan;
    document.querySelector("[data-kind=replan]").disabled = !writable() || !state.plan;
  }

  function drawSummary() {
    var box = $("summary"); box.textContent = "";
    if (cfg.sweep.closed) box.appendChild(h("p", { class: "note", text: W.closed }));
    if (!state.plan) { box.appendChild(h("p", { text: W.no_plan })); return; }
    var p = state.plan.plan, s = p.summary || {};
    box.appendChild(h("h2", { text: W.version + " " + p.version + " · " + (cfg.reasons[p.reason] || p.reason) }));
    if (state.version) box.appendChild(h("p", { class: "note", text: W.old_version }));
    var totals = state.coverage ? state.coverage.totals : null;
    var facts = [
      [W.balance, num(s.max_mean, 3)], [W.walk_km, num(s.walk_km, 1)], [W.hours, num(s.hours, 1)],
      [W.fallback, pct(s.fallback_share)]
    ];
    if (totals) facts.push([W.visited, totals.visited + " / " + totals.targets + " (" + pct(totals.share) + ")"]);
    var window_days = state.detail ? Math.round((Date.parse(state.detail.ends_on) - Date.parse(state.detail.starts_on)) / 86400000) + 1 : 0;
    box.appendChild(h("dl", { class: "facts" }, facts.reduce(function (out, kv) {
      return out.concat([h("dt", { text: kv[0] }), h("dd", { text: kv[1] })]);
    }, [])));
    if (s.days > window_days) box.appendChild(h("p", { class: "warning", text: fmt(W.too_long, { days: s.days, window: window_days }) }));
  }

  function drawVersions() {
    var select = $("version"); select.textContent = "";
    (state.versions || []).forEach(function (v, i) {
      select.appendChild(h("option", { value: i === 0 ? "" : v.version, selected: (state.version || "") === (i === 0 ? "" : v.version) ? "selected" : null, text: "v" + v.version + " · " + (cfg.reasons[v.reason] || v.reason) }));
    });
  }
  $("version").addEventListener("change", function () { state.version = this.value ? parseInt(this.value, 10) : null; load(); });

  function teamSummary(teamId) {
    return ((state.plan && state.plan.plan.summary.teams) || []).filter(function (t) { return t.team === teamId; })[0] || {};
  }
  function teamCoverage(teamId) {
    return ((state.coverage && state.coverage.teams) || []).filter(function (t) { return t.id === teamId; })[0] || null;
  }
  function drawTeams() {
    var table = $("teams"); table.textContent = "";
    table.appendChild(h("thead", {}, [h("tr", {}, [W.team, W.members, W.buildings, W.rooms, W.days, W.km, W.hours, W.visited, W.to_95].map(function (t) { return h("th", { text: t }); }))]));
    var body = h("tbody");
    state.detail.teams.forEach(function (t) {
      var s = teamSummary(t.id), c = teamCoverage(t.id);
      var to95 = c && c.to_95 ? c.to_95.rooms + (c.to_95.days === null ? " · " + W.no_rate : " · " + c.to_95.days + " " + W.days) : "—";
      body.appendChild(h("tr", {}, [
        h("td", {}, [h("span", { class: "swatch", style: "background:" + colour(t.id) }), " " + t.name]),
        h("td", { text: t.members.map(function (m) { return m.name; }).join("、") || "—" }),
        h("td", { text: num(s.buildings) }), h("td", { text: num(s.rooms) }), h("td", { text: num(s.days) }),
        h("td", { text: num(s.walk_km, 1) }), h("td", { text: num(s.hours, 1) }),
        h("td", { text: c ? pct(c.share) : "—" }), h("td", { text: to95 })
      ]));
    });
    table.appendChild(body);
  }

  // Stops of a team and day, in order, from the plan's GeoJSON.
  function stopsOf(teamId, day) {
    return state.plan.features.filter(function (f) { return f.properties.kind === "stop" && f.properties.team === teamId && f.properties.day === day; })
      .map(function (f) { return f.properties; }).sort(function (a, b) { return a.seq - b.seq; });
  }
  // The field pack (printed map sheets) of a team's day, or of all its days (web/sheet_pages.py).
  function packUrl(teamId, day) {
    return cfg.urls.sheets + "?sweep=" + ID + "&team=" + teamId + (day ? "&day=" + day : "");
  }
  // One fold per team, holding one fold per day with its buildings in walking order.
  function drawDays() {
    var box = $("days"); box.textContent = "";
    if (!state.plan) return;
    state.plan.teams.forEach(function (team) {
      var s = teamSummary(team.id);
      var fold = h("details", { class: "team-days", "data-team": team.id }, [
        h("summary", {}, [h("span", { class: "swatch", style: "background:" + colour(team.id) }),
          " " + team.name + " · " + team.days.length + " " + W.days + " · " + num(s.walk_km, 1) + " " + W.km + " · " + num(s.hours, 1) + " " + W.hours]),
        h("p", { class: "print-pack" }, [h("a", { href: packUrl(team.id), text: W.print_team })])
      ]);
      team.days.forEach(function (d) {
        var details = h("details", { class: "day", "data-team": team.id, "data-day": d.day }, [
          h("summary", {}, [fmt(W.day, { d: d.day }) + " · " + d.stops + " " + W.buildings + " · " + d.rooms + " " + W.rooms + " · " + num(d.walk_km, 1) + " " + W.km + " · " + num(d.hours, 1) + " " + W.hours])
        ]);
        details.addEventListener("toggle", function () {
          if (details.open) { state.selected = { team: team.id, day: d.day }; redraw(); }
          if (!details.open || details.querySelector("ol")) return;
          details.appendChild(h("p", { class: "print-pack" }, [h("a", { href: packUrl(team.id, d.day), text: W.print_day })]));
          details.appendChild(h("ol", { class: "stops" }, stopsOf(team.id, d.day).map(function (stop) {
            return h("li", {}, [h("button", { type: "button", class: "link", onclick: function () { select(stop); } }, [stop.seq + ". " + stop.address]), " · " + stop.rooms + " " + W.rooms]);
          })));
        });
        fold.appendChild(details);
      });
      box.appendChild(fold);
    });
  }

  // ---- a chosen stop: details and hand edits -------------------------------------------------
  function select(stop) {
    state.selected = stop; redraw();
    var box = $("selected"); box.textContent = ""; box.hidden = false;
    var team = state.detail.teams.filter(function (t) { return t.id === stop.team; })[0];
    box.appendChild(h("h2", { text: stop.address }));
    box.appendChild(h("p", { text: (team ? team.name : "") + " · " + fmt(W.day, { d: stop.day }) + " · #" + stop.seq + " · " + stop.rooms + " " + W.rooms + " · " + num(stop.walk_m) + " m" }));
    if (stop.door_plates && stop.door_plates.length > 1) box.appendChild(h("p", { class: "note", text: stop.door_plates.join("；") }));
    var f = stopSource.getFeatures().filter(function (x) { return x.get("building") === stop.building; })[0];
    if (f) map.getView().animate({ center: f.getGeometry().getCoordinates(), duration: 250 });
    if (!writable()) return;
    var target = h("select", { "aria-label": W.move_to }, state.detail.teams.filter(function (t) { return t.id !== stop.team; }).map(function (t) { return h("option", { value: t.id, text: t.name }); }));
    box.appendChild(h("div", { class: "row" }, [
      h("button", { type: "button", onclick: function () { shift(stop, -1); } }, [W.up]),
      h("button", { type: "button", onclick: function () { shift(stop, 1); } }, [W.down]),
      target.options.length ? h("label", {}, [W.move_to + " ", target]) : null,
      target.options.length ? h("button", { type: "button", id: "move", onclick: function () { edit({ action: "move", buildings: [stop.building], team: parseInt(target.value, 10) }); } }, [W.move]) : null
    ]));
  }
  // Earlier or later in the team's whole walk (across days): a reorder of the team's buildings.
  function shift(stop, by) {
    var all = state.plan.features.filter(function (f) { return f.properties.kind === "stop" && f.properties.team === stop.team; })
      .map(function (f) { return f.properties; }).sort(function (a, b) { return a.seq - b.seq; })
      .map(function (s) { return s.building; });
    var i = all.indexOf(stop.building), j = i + by;
    if (i < 0 || j < 0 || j >= all.length) return;
    all.splice(i, 1); all.splice(j, 0, stop.building);
    edit({ action: "reorder", team: stop.team, buildings: all });
  }
  function edit(body) {
    api("POST", BASE + "plan/edits/", body).then(function (v) {
      toast(fmt(W.edited, { v: v.version })); state.selected = null; $("selected").hidden = true; load();
    }).catch(refused);
  }

  // ---- planning jobs with their progress bar --------------------------------------------------
  document.querySelectorAll("[data-kind]").forEach(function (button) {
    button.addEventListener("click", function () {
      api("POST", BASE + "plan-jobs/", { kind: button.dataset.kind }).then(function (job) { poll(job.id); }).catch(refused);
    });
  });
  function poll(jobId) {
    var box = $("job"); box.hidden = false;
    api("GET", "sweep-plan-jobs/" + jobId + "/").then(function (s) {
      box.querySelector(".bar").style.width = s.percent + "%";
      box.querySelector("[role=progressbar]").setAttribute("aria-valuenow", s.percent);
      $("job-status").textContent = s.status_label + (s.total ? " · " + s.done + " / " + s.total : "");
      if (!s.finished) { setTimeout(function () { poll(jobId); }, 1000); return; }
      box.hidden = true;
      if (s.error) { refused({ message: s.error }); return; }
      state.version = null;
      if (s.plan) toast(fmt(W.planned, { v: s.plan.version }));
      load();
    }).catch(function () { setTimeout(function () { poll(jobId); }, 3000); });
  }
  function pendingJob() {
    // The first planning job, submitted by the new-sweep form, comes as #job=<id>: follow it.
    var m = window.location.hash.match(/job=([0-9a-f-]{36})/);
    if (m) { history.replaceState(null, "", window.location.pathname); poll(m[1]); }
  }

  // ---- coverage per area and the gap lists ----------------------------------------------------
  function drawAreas() {
    var table = $("areas"); table.textContent = "";
    if (!state.coverage) return;
    table.appendChild(h("thead", {}, [h("tr", {}, [W.area, W.rooms, W.visited, W.revisits, W.flagged].map(function (t) { return h("th", { text: t }); }))]));
    table.appendChild(h("tbody", {}, state.coverage.areas.map(function (a) {
      return h("tr", {}, [h("td", {}, [a.name || a.code, h("br"), h("small", { class: "note", text: a.code })]), h("td", { text: a.targets }), h("td", { text: a.visited + " (" + pct(a.share) + ")" }), h("td", { text: a.revisits }), h("td", { text: a.flagged })]);
    })));
  }
  var kinds = ["unvisited_rooms", "unvisited_buildings", "revisits", "flagged"];
  kinds.forEach(function (k) { $("gap-kind").appendChild(h("option", { value: k, text: W[k] })); });
  function drawGapTeams() {
    var select = $("gap-team"), was = select.value; select.textContent = "";
    select.appendChild(h("option", { value: "", text: W.all_teams }));
    state.detail.teams.forEach(function (t) { select.appendChild(h("option", { value: t.id, selected: String(t.id) === was ? "selected" : null, text: t.name })); });
    loadGaps(true);
  }
  function loadGaps(fresh) {
    if (fresh) { state.gapPage = 1; $("gaps").textContent = ""; }
    var team = $("gap-team").value;
    api("GET", BASE + "gaps/?kind=" + $("gap-kind").value + (team ? "&team=" + team : "") + "&page=" + state.gapPage).then(function (data) {
      var list = $("gaps");
      (data.results || []).forEach(function (row) {
        var where = row.door_plate || ((row.address || "") + (row.room_number ? " " + row.room_number : ""));
        var extra = [row.team_name, row.rooms ? row.rooms + " " + W.rooms : "", row.last_outcome ? cfg.outcomes[row.last_outcome] || row.last_outcome : ""];
        list.appendChild(h("li", {}, [where, h("small", { class: "note", text: " " + extra.filter(Boolean).join(" · ") })]));
      });
      if (!list.children.length) list.appendChild(h("li", { class: "note", text: W.none_left }));
      $("gaps-more").hidden = !data.next;
    }).catch(refused);
  }
  $("gap-kind").addEventListener("change", function () { loadGaps(true); });
  $("gap-team").addEventListener("change", function () { loadGaps(true); });
  $("gaps-more").addEventListener("click", function () { state.gapPage += 1; loadGaps(false); });

  load().then(pendingJob);
})();
