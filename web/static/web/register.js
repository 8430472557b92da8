// The people register's pages (web/register_pages.py): the reveal of a person's identity number
// and phone (POST with a reason; the clear values live only in this page's memory and are hidden
// again after the configured seconds), and the move form's menus that refine on change.
(function () {
  "use strict";
  const configNode = document.getElementById("page-config");
  const config = configNode ? JSON.parse(configNode.textContent) : {};
  const words = config.words || {};

  document.querySelectorAll("select[data-autosubmit]").forEach((select) => {
    select.addEventListener("change", () => select.form.submit());
  });

  // An identity number typed into the name search goes to the logged search instead: it is
  // never sent in a URL.
  const nameSearch = document.getElementById("name-search");
  const idSearch = document.querySelector(".reg-idsearch");
  if (nameSearch && idSearch) {
    nameSearch.addEventListener("submit", (event) => {
      const box = nameSearch.elements.q;
      if (/^[0-9０-９]{4,}[0-9０-９xXＸｘ]*$/.test(box.value.trim())) {
        event.preventDefault();
        idSearch.open = true;
        document.getElementById("id-search-number").value = box.value.trim();
        box.value = "";
        document.getElementById("id-search-reason").focus();
      }
    });
  }

  const form = document.getElementById("reveal");
  if (!form) return;
  const status = document.getElementById("reveal-status");
  const errorBox = document.getElementById("reveal-error");
  const fields = ["id-number", "phone"].map((id) => document.getElementById(id));
  let timer = null;
  let ticker = null;

  function hide() {
    fields.forEach((el) => {
      el.textContent = el.dataset.masked;
      el.classList.remove("revealed");
      el.classList.add("masked");
    });
    clearTimeout(timer);
    clearInterval(ticker);
    status.textContent = words.hidden || "";
  }

  function showError(body) {
    errorBox.replaceChildren();
    const box = document.createElement("span");
    box.className = "field-error";
    box.setAttribute("role", "alert");
    for (const [lang, text] of [["zh-Hans", body.detail_zh], ["en", body.detail_en]]) {
      const part = document.createElement("span");
      part.lang = lang;
      part.textContent = text || body.detail || words.failed;
      box.append(part, " ");
    }
    errorBox.append(box);
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    errorBox.replaceChildren();
    let response;
    try {
      response = await fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        cache: "no-store",
      });
    } catch (err) {
      showError({ detail: words.failed });
      return;
    }
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      showError(body);
      return;
    }
    const clear = [body.id_number, body.phone];
    fields.forEach((el, i) => {
      el.textContent = clear[i] || "—";
      el.classList.add("revealed");
      el.classList.remove("masked");
    });
    form.reset();
    let left = body.hide_after || config.hide_after || 60;
    const say = () => {
      status.textContent = (words.shown || "").replace("%(s)s", String(left));
    };
    say();
    clearTimeout(timer);
    clearInterval(ticker);
    ticker = setInterval(() => {
      left -= 1;
      say();
    }, 1000);
    timer = setTimeout(hide, left * 1000);
  });
})();
