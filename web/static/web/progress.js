// Polls a running job's status and moves its progress bar; reloads the page when it ends.
(function () {
  var block = document.getElementById("progress");
  if (!block || block.dataset.finished === "1") return;
  var bar = block.querySelector(".bar");
  var meter = block.querySelector("[role=progressbar]");
  function poll() {
    fetch(block.dataset.url, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (s) {
        bar.style.width = s.percent + "%";
        meter.setAttribute("aria-valuenow", s.percent);
        block.querySelector("[data-field=status_label]").textContent = s.status_label;
        block.querySelector("[data-field=count]").textContent = s.total ? s.done + " / " + s.total : "";
        if (s.finished) window.location.reload();
        else window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 500);
})();
