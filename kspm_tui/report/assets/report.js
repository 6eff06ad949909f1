// kspm-tui HTML report: the findings filter and the copy buttons. Without this script the page
// shows every finding (the filter form stays hidden) and commands can be selected by hand.
(function () {
  "use strict";
  var form = document.getElementById("filters");
  var items = Array.prototype.slice.call(document.querySelectorAll("article.finding"));
  var groups = Array.prototype.slice.call(document.querySelectorAll("#findings .workload, #findings .ns-group"));
  var shown = document.getElementById("shown");
  var texts = null;

  function apply() {
    if (!form) return;
    var sev = form.elements.sev.value, ns = form.elements.ns.value, rule = form.elements.rule.value;
    var q = form.elements.q.value.trim().toLowerCase();
    if (q && texts === null) texts = items.map(function (a) { return a.textContent.toLowerCase(); });
    var count = 0;
    items.forEach(function (a, i) {
      var ok = (!sev || a.dataset.sev === sev) && (!ns || a.dataset.ns === ns) &&
               (!rule || a.dataset.rule === rule) && (!q || texts[i].indexOf(q) >= 0);
      a.hidden = !ok;
      if (ok) count++;
    });
    groups.forEach(function (g) { g.hidden = !g.querySelector("article.finding:not([hidden])"); });
    shown.textContent = count === items.length ? "all " + count + " findings shown"
                                               : count + " of " + items.length + " findings shown";
  }

  function setFilter(el) {
    form.reset();
    if (el.dataset.filterSev) form.elements.sev.value = el.dataset.filterSev;
    if (el.dataset.filterNs !== undefined) form.elements.ns.value = el.dataset.filterNs;
    if (el.dataset.filterRule) form.elements.rule.value = el.dataset.filterRule;
    apply();
  }

  function copied(button, ok) {
    var label = button.textContent;
    button.textContent = ok ? "Copied" : "Select and copy";
    setTimeout(function () { button.textContent = label; }, 1500);
  }

  function copy(button) {
    var text = button.parentNode.querySelector("pre").textContent;
    function fallback() {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.style.position = "fixed";
      area.style.opacity = "0";
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      document.body.removeChild(area);
      copied(button, ok);
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { copied(button, true); }, fallback);
    } else {
      fallback();
    }
  }

  if (form) {
    form.hidden = false;
    form.addEventListener("input", apply);
    form.addEventListener("change", apply);
    form.addEventListener("submit", function (e) { e.preventDefault(); apply(); });
    form.addEventListener("reset", function () { setTimeout(apply, 0); });
  }
  document.addEventListener("click", function (e) {
    var target = e.target instanceof Element ? e.target : null;
    if (!target) return;
    var button = target.closest("button.copy");
    if (button) { copy(button); return; }
    var link = target.closest("[data-filter-sev],[data-filter-ns],[data-filter-rule]");
    if (link && form) setFilter(link);
  });
})();
