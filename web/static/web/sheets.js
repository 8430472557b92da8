/* The field-pack page (web/templates/web/sheets/index.html): what to print (a team's day or all
 * its days, a whole sweep, a zone, a building), the paper, submit through POST /api/sheets/, then
 * one row per pack with its progress bar, polled every second until the PDF and the GeoPackage
 * can be downloaded. The page's data (sweeps with teams and days, zones, the building of the query
 * string, the user's packs) comes in #page-config; refusals are shown in the server's words. */
(function () {
  "use strict";
  var P = window.plategrid, $ = P.$, h = P.h;
  var cfg = JSON.parse($("page-config").textContent);
  var W = cfg.words;
  var api = P.client(cfg.urls.api, W).api;
  var form = $("new-pack");
  var rows = {};     // job id -> its <li>
  var polling = {};  // job id -> true while a poll is pending
  var watched = {};  // job id -> true once seen running here

  function fmt(text, values) {
    return text.replace(/%\((\w+)\)s/g, function (_, k) { return values[k]; });
  }
  // A count with its word: ``forms`` is {one, other} (Chinese has one form, English two).
  function count(forms, n) { return fmt(n === 1 ? forms.one : forms.other, { n: n }); }
  function when(iso) {
    var d = new Date(iso);
    if (isNaN(d)) return "";
    function two(n) { return (n < 10 ? "0" : "") + n; }
    return d.getFullYear() + "-" + two(d.getMonth() + 1) + "-" + two(d.getDate()) + " " + two(d.getHours()) + ":" + two(d.getMinutes());
  }

  // ---- the list of packs ---------------------------------------------------------------------
  function describe(job) {
    if (job.title) return job.title;
    if (job.kind === "zone") return fmt(W.zone_of, { code: job.zone });
    if (job.kind === "building") return fmt(W.building_of, { id: job.building });
    return job.kind_label;
  }
  function drawRow(job) {
    var li = rows[job.id];
    if (!li) {
      li = h("li", { class: "pack", "data-job": job.id });
      rows[job.id] = li;
    }
    li.textContent = "";
    li.className = "pack status-" + job.status;
    li.appendChild(h("div", { class: "pack-head" }, [
      h("strong", { class: "pack-title", text: describe(job) }),
      h("span", { class: "status status-" + job.status, text: job.status_label })
    ]));
    li.appendChild(h("p", { class: "note", text: [job.kind_label, job.paper === "auto" ? W.paper_auto : job.paper.toUpperCase(), when(job.created_at)].filter(Boolean).join(" · ") }));
    // The bar runs while the job does, and stays (full, coloured by the outcome) on the rows
    // watched on this page.
    if (!job.finished) watched[job.id] = true;
    if (watched[job.id]) {
      li.appendChild(h("div", { class: "progress", role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": String(job.percent) }, [
        h("div", { class: "bar" + (job.finished ? " status-" + job.status : ""), style: "width: " + (job.finished ? 100 : job.percent) + "%" })
      ]));
    }
    if (job.error) li.appendChild(h("p", { class: "error", text: W.failed + ": " + job.error }));
    if (job.pdf) {
      li.appendChild(h("p", { class: "downloads" }, [
        h("a", { class: "button", href: job.pdf, download: "", "data-format": "pdf", text: W.pdf }),
        h("a", { class: "button secondary", href: job.gpkg, download: "", "data-format": "gpkg", text: W.gpkg }),
        h("span", { class: "note facts", text: [count(W.pages, job.pages), count(W.sheets, job.sheets), fmt(W.seconds, { s: job.seconds })].join(" · ") })
      ]));
    }
    return li;
  }
  function drawEmpty() {
    var list = $("packs"), empty = list.querySelector(".empty");
    if (Object.keys(rows).length) { if (empty) empty.remove(); }
    else if (!empty) list.appendChild(h("li", { class: "empty note", text: W.no_packs }));
  }
  function show(job, first) {
    var known = !!rows[job.id];
    var li = drawRow(job);
    if (!known) {
      var list = $("packs");
      if (first) list.insertBefore(li, list.firstChild); else list.appendChild(li);
    }
    drawEmpty();
    if (!job.finished) poll(job);
  }
  function poll(job) {
    if (polling[job.id]) return;
    polling[job.id] = true;
    setTimeout(function () {
      api("GET", "sheets/" + job.id + "/").then(function (next) {
        polling[job.id] = false;
        show(next);
      }).catch(function (err) {
        polling[job.id] = false;
        if (err.status === 404) return;
        setTimeout(function () { poll(job); }, 2000);
      });
    }, 1000);
  }

  cfg.packs.forEach(function (job) { show(job); });
  drawEmpty();
  if (!form) return;

  // ---- the form ------------------------------------------------------------------------------
  var prefill = cfg.prefill;
  var sweepSelect = $("pack-sweep"), teamSelect = $("pack-team"), daySelect = $("pack-day");
  var zoneSelect = $("pack-zone"), zoneFilter = $("zone-filter"), buildingInput = $("pack-building");

  function kind() { var c = form.querySelector("input[name=kind]:checked"); return c ? c.value : "team_day"; }
  function paper() { var c = form.querySelector("input[name=paper]:checked"); return c ? c.value : "auto"; }
  function toggle() {
    var k = kind();
    form.querySelectorAll("[data-for]").forEach(function (block) {
      block.hidden = block.dataset.for.split(" ").indexOf(k) < 0;
    });
    showError("");
  }
  function sweepOf(id) { return cfg.sweeps.filter(function (s) { return String(s.id) === String(id); })[0]; }

  function drawSweeps() {
    sweepSelect.textContent = "";
    if (!cfg.sweeps.length) sweepSelect.appendChild(h("option", { value: "", text: W.no_sweep }));
    cfg.sweeps.forEach(function (s) {
      var notes = [];
      if (!s.planned) notes.push(W.not_planned);
      if (s.closed) notes.push(W.closed);
      sweepSelect.appendChild(h("option", {
        value: s.id, selected: String(s.id) === String(prefill.sweep) ? "selected" : null,
        text: s.name + (notes.length ? " (" + notes.join(", ") + ")" : "")
      }));
    });
    drawTeams();
  }
  function drawTeams() {
    var sweep = sweepOf(sweepSelect.value);
    teamSelect.textContent = "";
    var teams = sweep ? sweep.teams : [];
    if (!teams.length) teamSelect.appendChild(h("option", { value: "", text: W.no_team }));
    teams.forEach(function (t) {
      teamSelect.appendChild(h("option", {
        value: t.id, selected: String(t.id) === String(prefill.team) ? "selected" : null,
        text: t.name + (t.days.length ? " · " + count(W.days, t.days.length) : "")
      }));
    });
    drawDays();
  }
  function drawDays() {
    var sweep = sweepOf(sweepSelect.value);
    var team = sweep && sweep.teams.filter(function (t) { return String(t.id) === teamSelect.value; })[0];
    daySelect.textContent = "";
    daySelect.appendChild(h("option", { value: "", text: W.all_days }));
    (team ? team.days : []).forEach(function (d) {
      daySelect.appendChild(h("option", { value: d, selected: String(d) === String(prefill.day) ? "selected" : null, text: fmt(W.day, { d: d }) }));
    });
  }
  function drawZones() {
    var filter = zoneFilter.value.trim();
    var was = zoneSelect.value || prefill.zone;
    zoneSelect.textContent = "";
    var shown = cfg.zones.filter(function (z) {
      return !filter || z.code === was || z.code.indexOf(filter) >= 0 || z.name.indexOf(filter) >= 0 || (z.community || "").indexOf(filter) >= 0;
    });
    if (!shown.length) zoneSelect.appendChild(h("option", { value: "", text: W.no_zone }));
    shown.forEach(function (z) {
      zoneSelect.appendChild(h("option", { value: z.code, selected: z.code === was ? "selected" : null, text: z.name + " · " + z.community + " · " + z.code }));
    });
  }

  function showError(text) {
    var p = $("form-error");
    p.textContent = text; p.hidden = !text;
  }
  function body() {
    var k = kind(), data = { kind: k, paper: paper() };
    if (k === "team_day" || k === "sweep") {
      if (!sweepSelect.value) throw new Error(W.pick_sweep);
      data.sweep = parseInt(sweepSelect.value, 10);
    }
    if (k === "team_day") {
      if (!teamSelect.value) throw new Error(W.pick_team);
      data.team = parseInt(teamSelect.value, 10);
      data.day = daySelect.value ? parseInt(daySelect.value, 10) : null;
    }
    if (k === "zone") {
      if (!zoneSelect.value) throw new Error(W.pick_zone);
      data.zone = zoneSelect.value;
    }
    if (k === "building") {
      if (!/^\d+$/.test(buildingInput.value.trim())) throw new Error(W.pick_building);
      data.building = parseInt(buildingInput.value.trim(), 10);
    }
    return data;
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    showError("");
    var data;
    try { data = body(); } catch (err) { showError(err.message); return; }
    var button = form.querySelector("button[type=submit]");
    button.disabled = true;
    api("POST", "sheets/", data).then(function (job) {
      button.disabled = false;
      P.toast(rows[job.id] ? W.same_job : W.submitted);
      show(job, true);
    }).catch(function (err) {
      button.disabled = false;
      showError(err.status === 403 ? W.refused : err.message);
    });
  });
  form.querySelectorAll("input[name=kind]").forEach(function (r) { r.addEventListener("change", toggle); });
  sweepSelect.addEventListener("change", drawTeams);
  teamSelect.addEventListener("change", drawDays);
  zoneFilter.addEventListener("input", drawZones);
  buildingInput.addEventListener("input", function () {
    // The address shown is the prefilled building's: another number is checked on submit.
    var note = $("building-address");
    if (cfg.building && buildingInput.value.trim() !== String(cfg.building.id)) note.hidden = true;
    else note.hidden = false;
  });

  drawSweeps();
  drawZones();
  toggle();
  if (prefill.zone && !cfg.zones.some(function (z) { return z.code === prefill.zone; })) {
    showError(fmt(W.zone_missing, { code: prefill.zone }));
  }
})();
