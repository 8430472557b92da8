/* The department exchange page: upload a file, follow its job, read the report by outcome and
 * decide each row (accept / register as new / pick a candidate / reject with a note). Everything
 * comes from /api/exchange/ (scoped, identity numbers masked); the words come translated in the
 * page's config. */
(function () {
  "use strict";
  var P = window.plategrid, $ = P.$, h = P.h;
  var config = JSON.parse($("exchange-config").textContent);
  var W = config.words;
  var client = P.client("", W);
  var current = null; // the open file's detail URL
  var outcome = "";
  var next = null;
  var pollTimer = null;

  function fill(text, params) {
    return text.replace(/%\((\w+)\)s/g, function (_m, k) { return params[k] === undefined ? "" : params[k]; });
  }

  function failed(error) { P.toast(error.message || W.error, true); }

  // -- the list of files

  function loadFiles() {
    client.api("GET", config.urls.files).then(function (data) {
      var list = $("ex-files");
      list.textContent = "";
      if (!data.results.length) list.appendChild(h("li", { class: "note", text: W.no_files }));
      data.results.forEach(function (f) {
        var counts = f.counts || {};
        list.appendChild(h("li", {}, [
          h("button", { type: "button", class: "link", onclick: function () { open(f.url); } }, [f.file_name]),
          h("span", { class: "note", text: " · " + f.submitted_at.slice(0, 16).replace("T", " ") +
            (f.submitted_by ? " · " + W.submitted_by + " " + f.submitted_by : "") +
            " · " + f.status_label + (counts.total !== undefined ? " · " + counts.undecided + " " + W.undecided + " / " + counts.total : "") +
            (f.file_kept ? "" : " · " + W.file_removed) })
        ]));
      });
    }, failed);
  }

  // -- upload

  var form = $("ex-upload");
  if (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var input = $("ex-file"), box = $("ex-upload-error");
      box.hidden = true;
      if (!input.files.length) { box.textContent = W.choose_file; box.hidden = false; return; }
      var body = new FormData();
      body.append("file", input.files[0]);
      var button = form.querySelector("button");
      button.disabled = true; button.textContent = W.uploading;
      fetch(config.urls.files, {
        method: "POST", body: body, credentials: "same-origin",
        headers: { "X-CSRFToken": P.cookie("csrftoken"), Accept: "application/json" }
      }).then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (data) {
          if (!r.ok) {
            // Both languages: the page's first, then the other.
            var other = data.detail === data.detail_zh ? data.detail_en : data.detail_zh;
            box.textContent = (data.detail || W.error) + (other && other !== data.detail ? " / " + other : "");
            box.hidden = false;
            return;
          }
          form.reset();
          loadFiles();
          open(data.url);
        });
      }, function () { box.textContent = W.offline; box.hidden = false; })
        .then(function () { button.disabled = false; button.textContent = W.upload; });
    });
  }

  // -- the report

  function open(url) {
    current = url; outcome = "";
    $("ex-report").hidden = false;
    refresh(true);
  }

  function refresh(withRows) {
    clearTimeout(pollTimer);
    client.api("GET", current).then(function (f) {
      $("ex-report-title").textContent = W.report + " · " + f.file_name;
      var bar = $("ex-progress");
      bar.setAttribute("aria-valuenow", f.percent);
      bar.querySelector(".bar").style.width = f.percent + "%";
      bar.querySelector(".bar").className = "bar status-" + f.status;
      $("ex-status").textContent = W.status + ": " + f.status_label + (f.total ? " · " + f.done + " / " + f.total : "");
      var err = $("ex-error");
      err.hidden = !f.error_en;
      err.textContent = f.error_zh + (f.error_en ? " / " + f.error_en : "");
      counts(f);
      if (!f.finished) { pollTimer = setTimeout(function () { refresh(true); }, 1000); return; }
      if (withRows) rows(f.rows_url, true);
    }, failed);
  }

  function counts(f) {
    var nav = $("ex-counts");
    nav.textContent = "";
    var all = h("button", { type: "button", "aria-pressed": outcome === "" ? "true" : "false",
      onclick: function () { outcome = ""; counts(f); rows(f.rows_url, true); } }, [W.all + " " + (f.counts.total || 0)]);
    nav.appendChild(all);
    config.outcomes.forEach(function (o) {
      nav.appendChild(h("button", { type: "button", class: "o-" + o, "aria-pressed": outcome === o ? "true" : "false",
        onclick: function () { outcome = o; counts(f); rows(f.rows_url, true); } },
        [W.outcomes[o] + " " + (f.counts[o] || 0)]));
    });
  }

  function rows(url, fresh) {
    var list = $("ex-rows");
    if (fresh) {
      list.textContent = "";
      url = url + (outcome ? "?outcome=" + encodeURIComponent(outcome) : "");
    }
    client.api("GET", url).then(function (page) {
      page.results.forEach(function (r) { list.appendChild(rowItem(r)); });
      next = page.next;
      $("ex-more").hidden = !next;
    }, failed);
  }
  $("ex-more").addEventListener("click", function () { if (next) rows(next, false); });

  function proposal(r) {
    var p = r.proposed || {}, parts = [];
    var changes = p.changes || {};
    if (changes.name) parts.push(fill(W.change_name, { name: changes.name }));
    if (changes.id_number) parts.push(fill(W.change_id_number, { masked: changes.id_number }));
    if (p.action === "register") parts.push(fill(p.household ? W.action_register_household : W.action_register, p));
    else if (p.action) parts.push(fill(W["action_" + p.action] || p.action, { on: p.on, spouse: p.spouse_masked }));
    return parts.length ? parts.join("; ") : W.no_change;
  }

  function rowItem(r) {
    var item = h("li", { class: "ex-row o-" + r.outcome, id: "ex-row-" + r.id });
    item.appendChild(h("p", { class: "ex-head" }, [
      h("strong", { text: W.row + " " + r.row }), " · ",
      h("span", { class: "badge o-" + r.outcome, text: r.outcome_label }), " · ",
      (r.event_label || "—") + " · " + (r.event_date || "")
    ]));
    item.appendChild(h("p", {}, [
      r.name || "—", " ", h("span", { class: "mono", text: r.id_number_masked || "" }),
      " · " + (r.birth_date || "") + (r.address ? " · " + r.address : "") +
      (r.other_name || r.other_id_number_masked ? " · " + r.other_name + " " + r.other_id_number_masked : "") +
      (r.note ? " · " + r.note : "")
    ]));
    var reason = document.documentElement.lang.indexOf("zh") === 0 ? r.reason_zh : r.reason_en;
    if (reason) item.appendChild(h("p", { class: "note", text: reason }));
    if (r.score !== null && r.score !== undefined) item.appendChild(h("p", { class: "note", text: W.score + " " + r.score.toFixed(2) }));
    if (r.outcome !== "invalid") item.appendChild(h("p", {}, [h("span", { class: "label", text: W.proposed + ": " }), proposal(r)]));
    if (r.candidates.length) {
      var cands = h("ul", { class: "ex-cands", "aria-label": W.candidates });
      r.candidates.forEach(function (c) {
        // Only candidates inside the territory come: nothing is said of the others.
        var text = c.name + " " + (c.id_number_masked || "") + " · " + W.score + " " + c.score.toFixed(2);
        var li = h("li", {}, [text]);
        if (r.actions.indexOf("pick") >= 0) {
          li.appendChild(h("button", { type: "button", onclick: function () { decide(r, "pick", c.id); } }, [W.pick]));
        }
        cands.appendChild(li);
      });
      item.appendChild(cands);
    }
    if (r.decision) {
      item.appendChild(h("p", { class: "decided", text: W.decided + ": " + r.decision_label + " · " + W.by + " " +
        (r.decided_by || "") + " · " + (r.decided_at || "").slice(0, 16).replace("T", " ") + (r.decision_note ? " · " + r.decision_note : "") }));
      return item;
    }
    var bar = h("div", { class: "ex-actions" });
    if (r.actions.indexOf("accept") >= 0) bar.appendChild(h("button", { type: "button", onclick: function () { decide(r, "accept"); } }, [W.accept]));
    if (r.actions.indexOf("register") >= 0) bar.appendChild(h("button", { type: "button", onclick: function () { decide(r, "register"); } }, [W.register]));
    var note = h("input", { type: "text", maxlength: "200", placeholder: W.note, "aria-label": W.note });
    bar.appendChild(note);
    bar.appendChild(h("button", { type: "button", class: "reject", onclick: function () {
      if (note.value.trim().length < 4) { P.toast(W.note_required, true); note.focus(); return; }
      decide(r, "reject", null, note.value);
    } }, [W.reject]));
    item.appendChild(bar);
    return item;
  }

  function decide(r, action, candidate, note) {
    var body = { action: action };
    if (candidate) body.candidate = candidate;
    if (note) body.note = note;
    client.api("POST", config.urls.decide.replace("{id}", r.id), body).then(function (row) {
      var old = $("ex-row-" + r.id);
      old.parentNode.replaceChild(rowItem(row), old);
      P.toast(W.saved);
      refresh(false);
    }, failed);
  }

  loadFiles();
})();
