// Progressive enhancement for the intake form. The page works without this file.
(function () {
  "use strict";

  function form() { return document.getElementById("intake-form"); }

  // After htmx fills the error containers (out-of-band), mark their inputs invalid or valid again.
  function syncFieldErrors() {
    var f = form();
    if (!f) return;
    f.querySelectorAll("[data-error-for]").forEach(function (box) {
      var hasError = box.textContent.trim() !== "";
      box.classList.toggle("d-block", hasError);
      f.querySelectorAll('[name="' + box.dataset.errorFor + '"]').forEach(function (input) {
        input.classList.toggle("is-invalid", hasError);
        if (hasError) {
          input.setAttribute("aria-invalid", "true");
        } else {
          input.removeAttribute("aria-invalid");
        }
        var ids = (input.getAttribute("aria-describedby") || "").split(/\s+/).filter(Boolean);
        ids = ids.filter(function (id) { return id !== box.id; });
        if (hasError) ids.push(box.id);
        if (ids.length) { input.setAttribute("aria-describedby", ids.join(" ")); } else { input.removeAttribute("aria-describedby"); }
      });
    });
  }

  // "Print summary" and "Download PDF" post the same answers natively (new tab / download), not through htmx.
  function nativeSubmit(event) {
    var button = event.currentTarget;
    var f = form();
    event.preventDefault();
    var action = f.getAttribute("action");
    var target = f.getAttribute("target");
    f.setAttribute("action", button.getAttribute("formaction"));
    if (button.getAttribute("formtarget")) { f.setAttribute("target", button.getAttribute("formtarget")); }
    HTMLFormElement.prototype.submit.call(f);
    f.setAttribute("action", action);
    if (target === null) { f.removeAttribute("target"); } else { f.setAttribute("target", target); }
  }

  // Type-ahead over catalogue names (a datalist); "Add" appends to the medication list.
  function addMedication() {
    var search = document.getElementById("medication-search-input");
    var list = document.getElementById("id_medications");
    var name = search.value.trim();
    if (!name) { search.focus(); return; }
    var current = list.value.trim();
    list.value = current ? current + "\n" + name : name;
    search.value = "";
    list.dispatchEvent(new Event("input", { bubbles: true }));
    search.focus();
  }

  // A link with the answers after "#" (the CDS Hooks cards link here with the record's values): fill the
  // form and assess. The fragment never reaches a server or its logs, and is removed from the address.
  function fillFromFragment(f) {
    var hash = window.location.hash.slice(1);
    if (hash.indexOf("=") < 0) return;
    var params = new URLSearchParams(hash);
    var filled = false;
    params.forEach(function (value, name) {
      f.querySelectorAll('[name="' + CSS.escape(name) + '"]').forEach(function (input) {
        if (input.type === "checkbox" || input.type === "radio") {
          if (input.value === value) { input.checked = true; filled = true; }
        } else if (input.type !== "hidden" && input.type !== "submit") {
          input.value = value;
          filled = true;
        }
      });
    });
    history.replaceState(null, "", window.location.pathname + window.location.search);
    if (!filled) return;
    // Say where the answers came from: a link can carry any values.
    var notice = document.createElement("p");
    notice.className = "alert alert-info";
    notice.setAttribute("role", "status");
    notice.id = "filled-from-link";
    notice.textContent = "These answers were filled in from a link (an EHR card). Check them against the record.";
    f.insertBefore(notice, f.firstChild);
    htmx.trigger(f, "submit");
  }

  document.addEventListener("DOMContentLoaded", function () {
    var f = form();
    if (!f) return;
    fillFromFragment(f);
    f.querySelectorAll("[data-native-submit]").forEach(function (b) { b.addEventListener("click", nativeSubmit); });
    var search = document.getElementById("medication-search");
    if (search) {
      search.hidden = false;
      document.getElementById("medication-add").addEventListener("click", addMedication);
      document.getElementById("medication-search-input").addEventListener("keydown", function (e) {
        if (e.key === "Enter") { e.preventDefault(); addMedication(); }
      });
    }
    syncFieldErrors();
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    syncFieldErrors();
    // After an explicit submit (button or Enter), move focus to the results; never while typing.
    var trigger = event.detail && event.detail.requestConfig && event.detail.requestConfig.triggeringEvent;
    if (trigger && trigger.type === "submit" && event.detail.target && event.detail.target.id === "results") {
      event.detail.target.focus();
    }
  });
})();
