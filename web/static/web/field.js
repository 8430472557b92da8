/* The phone page for field staff (web/field.py): the signed-in user's open sweeps, a team's route
 * for a day, the rooms of a building with outcome buttons, and the queue of visits.
 *
 * Every visit gets its UUID the moment its button is pressed and goes into a queue kept in
 * localStorage (per user), so nothing is lost when the network or the page goes. A sync loop
 * posts the queue in batches to /api/visits/; the server is idempotent on the UUID, so a retry
 * after a lost answer never adds a second row. The last route fetched is kept too, and the
 * service worker (field-sw.js) keeps the page itself: the page opens and works with no network. */
(function () {
  "use strict";

  var P = window.plategrid, $ = P.$, h = P.h;
  var config = JSON.parse($("page-config").textContent);
  var W = config.words;
  var client = P.client(config.urls.api, W);
  var api = client.api;
  var EN = (config.lang || "").slice(0, 2) === "en";
  var KEY = "plategrid.field." + config.user.id + ".";
  var BATCH = 100;             // visits per POST (the API takes up to 500)
  var DOUBLE_TAP_MS = 60000;   // the same room and outcome again within this: a double tap
  var MAX_BACKOFF_MS = 60000;
  var OUTCOME_LABEL = {};
  config.outcomes.forEach(function (o) { OUTCOME_LABEL[o.value] = o.label; });

  function fmt(text, vars) {
    return text.replace(/%\((\w+)\)s/g, function (m, k) { return vars[k] === undefined ? m : vars[k]; });
  }

  // --- Storage: one JSON value per key, per user --------------------------------------------
  function load(name, fallback) {
    try {
      var v = window.localStorage.getItem(KEY + name);
      return v === null ? fallback : JSON.parse(v);
    } catch (e) { return fallback; }
  }
  function store(name, value) {
    try { window.localStorage.setItem(KEY + name, JSON.stringify(value)); return true; }
    catch (e) { P.toast(W.error + ": " + e.name, true); return false; }
  }

  function uuid() {
    var c = window.crypto;
    if (c && typeof c.randomUUID === "function") return c.randomUUID();
    var b = new Uint8Array(16);
    if (c && c.getRandomValues) c.getRandomValues(b);
    else for (var i = 0; i < 16; i++) b[i] = Math.floor(Math.random() * 256);
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;  // version 4, RFC 4122 variant
    var hex = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20);
  }

  // ISO 8601 in the phone's own time with its offset (2024-05-01T09:30:05.120+08:00).
  function isoNow(d) {
    d = d || new Date();
    function p(n, w) { n = String(n); while (n.length < (w || 2)) n = "0" + n; return n; }
    var off = -d.getTimezoneOffset(), a = Math.abs(off);
    return d.getFullYear() + "-" + p(d.getMonth() + 1) + "-" + p(d.getDate()) + "T" + p(d.getHours()) + ":" +
      p(d.getMinutes()) + ":" + p(d.getSeconds()) + "." + p(d.getMilliseconds(), 3) +
      (off >= 0 ? "+" : "-") + p(Math.floor(a / 60)) + ":" + p(a % 60);
  }
  function today() { return isoNow().slice(0, 10); }

  // --- State -----------------------------------------------------------------------------------
  var mine = load("mine", null);          // [{sweep, team, day, days}] as last fetched
  var choice = load("choice", null);      // {sweep, team, day|null}
  var route = null, routeAt = null, routeFresh = false;
  var queue = load("queue", []);          // visits not yet accepted by the server
  var done = load("done", {});            // room id -> {outcome, at, sweep, day}: recorded here
  var notices = load("notices", []);      // conflicts to show until read
  var problem = null;                     // why the last sync failed as a whole
  var openStop = null;                    // building id of the open building
  var gps = null, gpsWatch = null;
  var mineError = null;                   // why the list of sweeps could not be fetched

  // Recorded today here, or still waiting to be sent: the room is done for the page.
  (function prune() {
    var queued = {};
    queue.forEach(function (v) { if (v.room) queued[v.room] = true; });
    Object.keys(done).forEach(function (room) {
      if (!queued[room] && done[room].day !== today()) delete done[room];
    });
    store("done", done);
  })();

  function routeKey() { return "route:" + choice.sweep + ":" + choice.team + ":" + (choice.day || "auto"); }

  function roomState(room) {
    var local = done[room.id];
    if (local && (!choice || local.sweep === choice.sweep)) {
      return { done: true, outcome: local.outcome, revisit: config.failed_outcomes.indexOf(local.outcome) >= 0, flagged: room.flagged };
    }
    return { done: !!room.visited, outcome: room.last_outcome, revisit: !!room.revisit, flagged: !!room.flagged };
  }
  function roomsLeft(stop) { return stop.rooms.filter(function (r) { return !roomState(r).done; }).length; }
  function nextStop() {
    if (!route) return null;
    for (var i = 0; i < route.stops.length; i++) if (roomsLeft(route.stops[i]) > 0) return route.stops[i];
    return null;
  }
  function stopById(id) {
    if (!route) return null;
    for (var i = 0; i < route.stops.length; i++) if (String(route.stops[i].building) === String(id)) return route.stops[i];
    return null;
  }

  // --- Views -------------------------------------------------------------------------------------
  function show(id) {
    ["picker", "route", "building"].forEach(function (s) { $(s).hidden = s !== id; });
    $("field-loading").hidden = true;
    window.scrollTo(0, 0);
  }

  function renderPicker() {
    var list = $("sweep-list");
    list.textContent = "";
    if (mine === null) { list.appendChild(h("li", { class: "note", text: mineError || W.loading })); }
    else if (!mine.length) { list.appendChild(h("li", { class: "note", text: W.no_sweeps })); }
    (mine || []).forEach(function (m) {
      list.appendChild(h("li", {}, [h("button", {
        type: "button", class: "pick", "data-sweep": m.sweep.id, "data-team": m.team.id,
        onclick: function () { choose(m); }
      }, [
        h("strong", { text: m.sweep.name }),
        h("span", { text: W.team + ": " + m.team.name }),
        h("small", { text: (m.days ? fmt(W.day_of, { day: m.day, days: m.days }) : W.no_plan) + " · " + m.sweep.starts_on + " – " + m.sweep.ends_on })
      ])]));
    });
    show("picker");
  }

  function choose(m) {
    choice = { sweep: m.sweep.id, team: m.team.id, day: null };
    store("choice", choice);
    route = null;
    location.hash = "";
    loadRoute();
  }

  function plates(stop) { return stop.door_plates && stop.door_plates.length ? stop.door_plates.join("、") : W.no_plates; }

  function renderRoute() {
    if (!route) { $("next-stop").textContent = W.loading; show("route"); return; }
    $("route-title").textContent = route.sweep.name;
    $("route-team").textContent = W.team + ": " + route.team.name + (route.team.start_name ? " · " + route.team.start_name : "");
    $("day-label").textContent = fmt(W.day_of, { day: route.day, days: route.days });
    $("day-prev").disabled = route.day <= 1;
    $("day-next").disabled = route.day >= route.days;
    var total = 0, finished = 0;
    route.stops.forEach(function (s) {
      total += s.rooms.length;
      finished += s.rooms.length - roomsLeft(s);
    });
    var pct = total ? Math.round(100 * finished / total) : 0;
    var bar = $("progress");
    bar.querySelector(".bar").style.width = pct + "%";
    bar.querySelector("span").textContent = fmt(W.progress, { done: finished, total: total });
    bar.dataset.done = finished; bar.dataset.total = total;
    var cached = $("route-cached");
    cached.hidden = routeFresh || !routeAt;
    if (routeAt) cached.textContent = fmt(W.cached, { when: new Date(routeAt).toLocaleString(document.documentElement.lang) });

    var next = nextStop(), box = $("next-stop");
    box.textContent = "";
    if (!route.stops.length) box.appendChild(h("p", { class: "note", text: W.no_route }));
    else if (!next) {
      box.appendChild(h("div", { class: "all-done" }, [h("p", { text: W.all_done }),
        route.day < route.days ? h("button", { type: "button", text: W.next_day + " ›", onclick: function () { switchDay(1); } }) : null]));
    }
    else {
      box.appendChild(h("button", { type: "button", class: "next", "data-building": next.building, onclick: function () { openBuilding(next.building); } }, [
        h("small", { text: W.next_building + " · " + next.seq }),
        h("strong", { text: next.address }),
        h("span", { class: "plates", text: plates(next) }),
        h("span", { class: "facts" }, [
          h("b", { text: fmt(W.rooms_left, { count: roomsLeft(next) }) }),
          " · " + fmt(W.walk_m, { m: Math.round(next.walk_m) })
        ])
      ]));
    }
    var list = $("stops");
    list.textContent = "";
    route.stops.forEach(function (s) {
      var left = roomsLeft(s);
      list.appendChild(h("li", { class: (left ? "" : "done") + (next && s === next ? " next" : "") }, [
        h("button", { type: "button", "data-building": s.building, onclick: function () { openBuilding(s.building); } }, [
          h("span", { class: "seq", text: String(s.seq) }),
          h("span", { class: "what" }, [h("strong", { text: s.address }), h("small", { text: plates(s) })]),
          h("span", { class: "left", text: left ? fmt(W.rooms_left, { count: left }) : "✓ " + W.done }),
          h("small", { class: "walk", text: fmt(W.walk_m, { m: Math.round(s.walk_m) }) })
        ])
      ]));
    });
    show("route");
  }

  function openBuilding(id) { location.hash = "b=" + id; }

  function renderBuilding(stop) {
    openStop = stop.building;
    $("building-title").textContent = stop.seq + ". " + stop.address;
    $("building-plates").textContent = plates(stop) + " · " + fmt(W.rooms_left, { count: roomsLeft(stop) });
    var list = $("rooms");
    var ticked = {};
    list.querySelectorAll("input:checked").forEach(function (i) { ticked[i.value] = true; });
    list.textContent = "";
    stop.rooms.forEach(function (r) {
      var st = roomState(r);
      var where = [r.floor !== null && r.floor !== undefined ? fmt(W.floor, { floor: r.floor }) : "",
        r.entrance ? fmt(W.entrance, { entrance: r.entrance }) : ""].filter(Boolean).join(" · ");
      var badges = [];
      if (st.done) badges.push(h("span", { class: "badge ok", text: "✓ " + (OUTCOME_LABEL[st.outcome] || W.done) }));
      if (st.revisit) badges.push(h("span", { class: "badge warn", text: W.revisit }));
      if (st.flagged) badges.push(h("span", { class: "badge bad", text: W.flagged }));
      list.appendChild(h("li", { class: st.done ? "done" : "", "data-room": r.id }, [
        h("label", {}, [
          h("input", { type: "checkbox", value: r.id, checked: ticked[r.id] ? "checked" : null }),
          h("span", { class: "num", text: r.number }),
          h("small", { text: where }),
          h("span", { class: "badges" }, badges)
        ])
      ]));
    });
    show("building");
  }

  function renderOutcomes() {
    var box = $("outcomes");
    config.outcomes.forEach(function (o) {
      if (o.value === "new_room") return;
      box.appendChild(h("button", { type: "button", "data-outcome": o.value, class: "outcome-" + o.value, text: o.label, onclick: onOutcome }));
    });
  }

  function dispatch() {
    var m = /^#b=(\d+)$/.exec(location.hash);
    if (m && choice) {
      var stop = stopById(m[1]);
      if (stop) { renderBuilding(stop); return; }
    }
    openStop = null;
    if (location.hash === "#pick" || !choice) { renderPicker(); return; }
    renderRoute();
  }

  // --- Recording ---------------------------------------------------------------------------------
  function label(stop, room) { return stop.address + (room ? " " + room.number : ""); }

  function isDoubleTap(room, building, outcome, number) {
    var now = Date.now();
    return queue.some(function (v) {
      return v.outcome === outcome && (room ? v.room === room : v.building === building && v.new_room_number === number) &&
        now - v._t < DOUBLE_TAP_MS;
    }) || (room && done[room] && done[room].outcome === outcome && now - done[room].t < DOUBLE_TAP_MS);
  }

  function visit(stop, room, outcome, extra) {
    var v = {
      id: uuid(), outcome: outcome, visited_at: isoNow(), sweep: choice.sweep, building: stop.building,
      _t: Date.now(), _label: label(stop, room), status: "pending", tries: 0
    };
    if (room) v.room = room.id;
    var note = $("visit-note").value.trim();
    if (note) v.note = note;
    if (gps && Date.now() - gps.t < 120000) v.location = { type: "Point", coordinates: [gps.lon, gps.lat] };
    Object.keys(extra || {}).forEach(function (k) { v[k] = extra[k]; });
    return v;
  }

  function record(visits) {
    if (!visits.length) return;
    queue = queue.concat(visits);
    visits.forEach(function (v) { if (v.room) done[v.room] = { outcome: v.outcome, t: v._t, day: today(), sweep: v.sweep }; });
    store("queue", queue); store("done", done);
    $("visit-note").value = "";
    P.toast(fmt(W.recorded, { count: visits.length }));
    redraw();
    sync();
  }

  function hold(button) {  // a moment's pause against a second tap
    button.disabled = true;
    setTimeout(function () { button.disabled = false; }, 900);
  }

  function onOutcome(ev) {
    var button = ev.currentTarget, outcome = button.dataset.outcome;
    var stop = stopById(openStop);
    if (!stop || button.disabled) return;
    hold(button);
    var ids = {};
    $("rooms").querySelectorAll("input:checked").forEach(function (i) { ids[i.value] = true; });
    var rooms = stop.rooms.filter(function (r) { return ids[r.id]; });
    if (!rooms.length) { P.toast(W.select_rooms, true); return; }
    var visits = rooms.filter(function (r) { return !isDoubleTap(r.id, null, outcome); })
      .map(function (r) { return visit(stop, r, outcome); });
    $("rooms").querySelectorAll("input:checked").forEach(function (i) { i.checked = false; });
    record(visits);
  }

  function onNewRoom(ev) {
    ev.preventDefault();
    var stop = stopById(openStop), input = $("new-room-number"), number = input.value.trim();
    var button = ev.target.querySelector("button");
    if (!stop || button.disabled) return;
    if (!number) { input.focus(); P.toast(W.new_room_number, true); return; }
    hold(button);
    if (isDoubleTap(null, stop.building, "new_room", number)) return;
    var v = visit(stop, null, "new_room", { new_room_number: number });
    v._label = label(stop) + " " + number;
    input.value = "";
    record([v]);
  }

  // --- GPS: used when the user allows it, never waited for -----------------------------------
  function gpsToggle(on) {
    store("gps", on);
    var state = $("gps-state");
    if (gpsWatch !== null) { navigator.geolocation.clearWatch(gpsWatch); gpsWatch = null; }
    gps = null; state.textContent = "";
    if (!on) return;
    if (!navigator.geolocation) { state.textContent = W.gps_off; return; }
    gpsWatch = navigator.geolocation.watchPosition(function (p) {
      gps = { lon: +p.coords.longitude.toFixed(7), lat: +p.coords.latitude.toFixed(7), t: Date.now() };
      state.textContent = fmt(W.gps_on, { m: Math.round(p.coords.accuracy) });
    }, function () { state.textContent = W.gps_off; }, { enableHighAccuracy: true, maximumAge: 60000, timeout: 30000 });
  }

  // --- Sync ----------------------------------------------------------------------------------------
  var syncing = false, backoff = 0, retryTimer = null;

  function pending() { return queue.filter(function (v) { return v.status === "pending"; }); }

  function payload(v) {
    var out = {};
    Object.keys(v).forEach(function (k) { if (k.charAt(0) !== "_" && k !== "status" && k !== "tries" && k !== "error") out[k] = v[k]; });
    return out;
  }

  function later() {
    clearTimeout(retryTimer);
    var delay = Math.min(MAX_BACKOFF_MS, 2000 * Math.pow(2, backoff));
    backoff += 1;
    retryTimer = setTimeout(sync, delay);
  }

  function applyResults(results) {
    var byId = {};
    results.forEach(function (r) { byId[r.id] = r; });
    var kept = [], removed = 0;
    queue.forEach(function (v) {
      var r = byId[v.id];
      if (!r) { kept.push(v); return; }
      if (r.status === "error") {
        v.status = "error"; v.error = r.error || { zh: W.refused, en: W.refused };
        if (v.room && done[v.room] && done[v.room].t === v._t) delete done[v.room];
        kept.push(v);
        return;
      }
      removed += 1;
      if (r.status === "conflict") notices.push({ id: v.id, label: v._label, outcome: v.outcome, t: Date.now() });
      if (r.far) P.toast(v._label + ": " + W.far);
    });
    queue = kept;
    store("queue", queue); store("done", done); store("notices", notices);
    return removed;
  }

  function sync() {
    if (syncing) return;
    var batch = pending().slice(0, BATCH);
    // Known to be offline: wait for the "online" event rather than fail a request.
    if (!batch.length || navigator.onLine === false) { renderStatus(); return; }
    syncing = true;
    clearTimeout(retryTimer);
    renderStatus();
    batch.forEach(function (v) { v.tries += 1; });
    var more = false;
    // The queue is this account's (config.user): the server refuses it under another's session.
    api("POST", "visits/", { visits: batch.map(payload), user: config.user.id }).then(function (data) {
      // Signed out: the login page answered instead of the API.
      if (!data || !Array.isArray(data.results)) throw new client.ApiError(401, { detail: W.sign_in_again });
      problem = null; backoff = 0;
      var removed = applyResults(data.results);
      more = pending().length > 0;
      if (removed && navigator.onLine !== false) refreshRoute();
    }).catch(function (err) {
      var status = err && err.status;
      if (status === 400 && err.body && Array.isArray(err.body.results)) { applyResults(err.body.results); more = pending().length > 0; return; }
      var code = err.body && err.body.code;
      if (status === 401 || (status === 403 && (code === "not_authenticated" || code === "authentication_failed" || code === "other_user"))) {
        problem = { text: code === "other_user" ? err.message : W.sign_in_again, login: true };
      }
      else if (status === 403) problem = { text: (err.body && err.body.detail) || W.error };
      else if (status === 0) problem = null;  // the network: just try again later
      else problem = { text: err.message || W.error };
      store("queue", queue);
      later();
    }).then(function () {
      syncing = false;
      redraw();
      if (more) sync();
    });
  }

  function renderStatus() {
    var n = pending().length, s = $("sync-status"), offline = navigator.onLine === false;
    var text = offline ? W.offline_status : syncing ? W.syncing : n ? fmt(W.waiting, { count: n }) : W.synced;
    if (offline && n) text += " · " + fmt(W.waiting, { count: n });
    var refused = queue.length - n;
    if (refused) text += " · " + fmt(W.refused_count, { count: refused });
    s.textContent = text;
    s.dataset.waiting = n;
    s.dataset.refused = refused;
    s.className = "sync " + (offline ? "offline" : n ? "waiting" : refused ? "bad" : "ok");
  }

  var waitingOpen = false;
  function renderProblems() {
    var box = $("queue-problems");
    box.textContent = "";
    if (problem) {
      box.appendChild(h("p", { class: "problem" }, [problem.text + " ",
        problem.login ? h("a", { href: config.urls.login, text: W.sign_in_again }) : null]));
    }
    var waitingNow = pending();
    if (waitingNow.length) {
      box.appendChild(h("details", { class: "waiting-list", open: waitingOpen ? "open" : null,
        ontoggle: function (e) { waitingOpen = e.target.open; } }, [
        h("summary", { text: fmt(W.waiting, { count: waitingNow.length }) }),
        h("ul", {}, waitingNow.map(function (v) {
          return h("li", { "data-id": v.id, text: v._label + " · " + (OUTCOME_LABEL[v.outcome] || v.outcome) + " · " + v.visited_at.slice(11, 16) });
        }))
      ]));
    }
    queue.filter(function (v) { return v.status === "error"; }).forEach(function (v) {
      var msg = v.error ? (EN ? v.error.en : v.error.zh) || v.error.en || v.error.code : W.refused;
      box.appendChild(h("div", { class: "problem error-item", "data-id": v.id }, [
        h("p", {}, [h("strong", { text: v._label + " · " + (OUTCOME_LABEL[v.outcome] || v.outcome) }), h("br"), W.refused + ": " + msg]),
        h("button", { type: "button", class: "secondary", text: W.discard, onclick: function () {
          if (!window.confirm(W.discard_confirm)) return;
          queue = queue.filter(function (x) { return x.id !== v.id; });
          store("queue", queue); redraw();
        } })
      ]));
    });
    notices.forEach(function (n) {
      box.appendChild(h("div", { class: "problem conflict-item", "data-id": n.id }, [
        h("p", {}, [h("strong", { text: n.label + " · " + (OUTCOME_LABEL[n.outcome] || n.outcome) }), h("br"), W.conflict]),
        h("button", { type: "button", class: "secondary", text: W.dismiss, onclick: function () {
          notices = notices.filter(function (x) { return x.id !== n.id; });
          store("notices", notices); redraw();
        } })
      ]));
    });
    box.hidden = !box.childNodes.length;
  }

  function redraw() {
    renderStatus();
    renderProblems();
    if (!choice) return;
    if (openStop !== null) { var s = stopById(openStop); if (s) { renderBuilding(s); return; } }
    if (!$("route").hidden) renderRoute();
  }

  // --- Loading -------------------------------------------------------------------------------------
  function loadMine() {
    return api("GET", "sweeps/mine/").then(function (data) {
      if (!Array.isArray(data)) return;
      mine = data; store("mine", mine);
      var still = choice && mine.some(function (m) { return m.sweep.id === choice.sweep && m.team.id === choice.team; });
      if (choice && !still) { choice = null; store("choice", null); route = null; }
      if (!choice) renderPicker();
    }, function (err) {
      if (mine === null) mineError = err.message;
      if (!choice) renderPicker();
    });
  }

  function refreshRoute() {
    if (!choice) return Promise.resolve();
    var asked = routeKey();
    var query = choice.day ? "?day=" + choice.day : "";
    return api("GET", "sweeps/" + choice.sweep + "/teams/" + choice.team + "/route/" + query).then(function (data) {
      if (!data || !data.stops || routeKey() !== asked) return;
      route = data; routeAt = Date.now(); routeFresh = true;
      store(asked, { at: routeAt, data: data });
      dispatch();
      prefetchDays(data);
    }, function (err) {
      routeFresh = false;
      if (!route) { $("next-stop").textContent = err.message; }
      if (err.status === 404) { choice = null; store("choice", null); renderPicker(); }
      else redraw();
    });
  }

  // The team's other days too, once per page and team: a day switched to offline still shows.
  var prefetched = {};
  function prefetchDays(data) {
    var team = choice.sweep + ":" + choice.team;
    if (prefetched[team]) return;
    prefetched[team] = true;
    for (var d = 1; d <= data.days; d++) {
      if (d === data.day) { store("route:" + team + ":" + d, { at: routeAt, data: data }); continue; }
      (function (day) {
        api("GET", "sweeps/" + choice.sweep + "/teams/" + choice.team + "/route/?day=" + day).then(function (other) {
          if (other && other.stops) store("route:" + team + ":" + day, { at: Date.now(), data: other });
        }, function () { prefetched[team] = false; });
      })(d);
    }
  }

  function loadRoute() {
    var cached = load(routeKey(), null);
    route = cached ? cached.data : null;
    routeAt = cached ? cached.at : null;
    routeFresh = false;
    dispatch();
    return refreshRoute();
  }

  function switchDay(delta) {
    if (!route) return;
    var day = route.day + delta;
    if (day < 1 || day > route.days) return;
    choice.day = day; store("choice", choice);
    loadRoute();
  }

  // --- Start ---------------------------------------------------------------------------------------
  renderOutcomes();
  $("btn-change").addEventListener("click", function () { location.hash = "pick"; });
  $("btn-back").addEventListener("click", function () { location.hash = ""; });
  $("btn-all").addEventListener("click", function () {
    $("rooms").querySelectorAll("li:not(.done) input").forEach(function (i) { i.checked = true; });
  });
  $("day-prev").addEventListener("click", function () { switchDay(-1); });
  $("day-next").addEventListener("click", function () { switchDay(1); });
  $("new-room").addEventListener("submit", onNewRoom);
  $("sync-status").addEventListener("click", function () { backoff = 0; sync(); });
  $("use-gps").checked = !!load("gps", false);
  $("use-gps").addEventListener("change", function (e) { gpsToggle(e.target.checked); });
  if ($("use-gps").checked) gpsToggle(true);
  window.addEventListener("hashchange", dispatch);
  window.addEventListener("online", function () { backoff = 0; problem = null; sync(); if (choice) refreshRoute(); loadMine(); });
  window.addEventListener("offline", renderStatus);
  // Another tab of the page recorded or sent something.
  window.addEventListener("storage", function (e) {
    if (e.key === KEY + "queue") { queue = load("queue", []); done = load("done", {}); redraw(); }
  });
  setInterval(function () { if (pending().length && !syncing && navigator.onLine !== false) sync(); }, 30000);

  if (choice) loadRoute(); else renderPicker();
  renderStatus(); renderProblems();
  loadMine();
  sync();

  if ("serviceWorker" in navigator && config.urls.sw) {
    navigator.serviceWorker.register(config.urls.sw, { scope: config.urls.page }).catch(function () { /* no offline reload */ });
  }

  // For the tests and for a look from the console.
  window.plategridField = {
    queue: function () { return queue; },
    sync: sync,
    route: function () { return route; }
  };
})();
