/* The "new sweep" form of /sweeps/: communities to sweep, dates, target, teams and their members.
 * Creates the sweep through POST /api/sweeps/, submits its first planning job and opens the
 * sweep's page, where the plan's progress bar runs. Refusals are shown in the server's words. */
(function () {
  "use strict";
  var P = window.plategrid, $ = P.$, h = P.h;
  var config = JSON.parse($("page-config").textContent);
  var words = config.words;
  var api = P.client(config.urls.api, words).api;
  var form = $("new-sweep");
  var chosen = {};

  function fmt(text, values) {
    return text.replace(/%\((\w+)\)s/g, function (_, k) { return values[k]; });
  }

  function drawCommunities() {
    var filter = $("community-filter").value.trim();
    var list = $("community-list");
    list.textContent = "";
    config.communities.forEach(function (c) {
      if (filter && c.name.indexOf(filter) < 0 && c.code.indexOf(filter) < 0 && !chosen[c.code]) return;
      var box = h("input", { type: "checkbox", value: c.code, checked: chosen[c.code] ? "checked" : null,
        onchange: function () { if (box.checked) chosen[c.code] = true; else delete chosen[c.code]; drawTeams(); } });
      list.appendChild(h("label", {}, [box, " " + c.name + " ", h("small", { class: "note", text: c.code })]));
    });
  }

  // One row per team: its name and a multiple choice of the staff of the chosen communities.
  function drawTeams() {
    var rows = $("team-rows");
    var kept = Array.prototype.map.call(rows.querySelectorAll("select"), function (s) {
      return Array.prototype.filter.call(s.options, function (o) { return o.selected; }).map(function (o) { return o.value; });
    });
    var n = Math.max(1, Math.min(50, parseInt(form.elements.teams.value, 10) || 1));
    var codes = Object.keys(chosen);
    var staff = config.staff.filter(function (s) { return !codes.length || codes.indexOf(s.community) >= 0; });
    rows.textContent = "";
    for (var i = 0; i < n; i++) {
      var select = h("select", { multiple: "multiple", "aria-label": fmt(words.team, { n: i + 1 }) },
        staff.map(function (s) {
          return h("option", { value: s.id, selected: (kept[i] || []).indexOf(String(s.id)) >= 0 ? "selected" : null, text: s.name });
        }));
      rows.appendChild(h("label", { class: "team-row" }, [h("span", { text: fmt(words.team, { n: i + 1 }) }), select]));
    }
  }

  function showError(text) {
    var p = $("form-error");
    p.textContent = text; p.hidden = !text;
  }

  function body() {
    var e = form.elements;
    var codes = Object.keys(chosen).sort();
    var first = config.communities.filter(function (c) { return c.code === codes[0]; })[0];
    var teams = Array.prototype.map.call($("team-rows").querySelectorAll("select"), function (s, i) {
      return {
        name: fmt(words.team, { n: i + 1 }),
        members: Array.prototype.filter.call(s.options, function (o) { return o.selected; }).map(function (o) { return parseInt(o.value, 10); }),
        start: { type: "Point", coordinates: first.point },
        start_name: first.name
      };
    });
    var data = {
      name: e.name.value.trim(), starts_on: e.starts_on.value, ends_on: e.ends_on.value,
      target: e.target.value, area_codes: codes,
      minutes_per_room: parseFloat(e.minutes_per_room.value), day_minutes: parseInt(e.day_minutes.value, 10),
      teams: teams
    };
    if (data.target === "not_visited") data.not_visited_days = parseInt(e.not_visited_days.value, 10);
    return data;
  }

  function toggleDays() {
    form.querySelector("[data-for-target=not_visited]").hidden = form.elements.target.value !== "not_visited";
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    showError("");
    if (!Object.keys(chosen).length) { showError(words.pick_community); return; }
    var button = form.querySelector("button[type=submit]");
    button.disabled = true;
    api("POST", "sweeps/", body()).then(function (sweep) {
      return api("POST", "sweeps/" + sweep.id + "/plan-jobs/", { kind: "plan" }).then(function (job) {
        P.toast(words.created);
        window.location.href = config.urls.sweeps + sweep.id + "/#job=" + job.id;
      });
    }).catch(function (err) { showError(err.message); button.disabled = false; });
  });

  var today = new Date();
  form.elements.starts_on.valueAsDate = today;
  form.elements.ends_on.valueAsDate = new Date(today.getTime() + 13 * 86400000);
  form.elements.target.addEventListener("change", toggleDays);
  form.elements.teams.addEventListener("input", drawTeams);
  $("community-filter").addEventListener("input", drawCommunities);
  toggleDays();
  drawCommunities();
  drawTeams();
})();
