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
  var filledFromLink = false;
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
    filledFromLink = true;
    // Say where the answers came from: a link can carry any values.
    var notice = document.createElement("p");
    notice.className = "alert alert-info";
    notice.setAttribute("role", "status");
    notice.id = "filled-from-link";
    notice.textContent = "These answers were filled in from a link (an EHR card). Check them against the record.";
    f.insertBefore(notice, f.firstChild);
    htmx.trigger(f, "submit");
  }

  // ---------------------------------------------------------------- results state
  // The results are "current", "updating" (a request is on its way) or "stale" (the last update failed
  // or an answer needs correcting): stale results stay readable but never look current.
  function column() { return document.getElementById("results-column"); }

  function setState(state, reason) {
    var col = column();
    if (!col) return;
    col.dataset.state = state;
    var results = document.getElementById("results");
    if (results) { results.setAttribute("aria-busy", state === "updating" ? "true" : "false"); }
    var entries = document.getElementById("medication-entries");
    if (entries) { entries.classList.toggle("is-stale", state === "stale"); }
    var box = document.getElementById("results-state");
    if (!box) return;
    if (state === "stale") {
      box.textContent = "Out of date: " + reason + ". The results below are for earlier answers.";
      var status = document.getElementById("results-status");
      if (status) { status.textContent = ""; }  // the state box above says it (one announcement)
    } else if (state === "updating") {
      box.textContent = "Updating…";
    } else {
      box.textContent = "";
    }
    measureAnswerBar();
  }

  function failureReason(xhr) {
    var status = xhr ? xhr.status : 0;
    if (!status) return "no answer from the server (connection lost)";
    if (status === 403) return "the page has expired (" + status + "); reload it";
    if (status === 429) return "too many updates just now (" + status + "); wait a moment and press Assess";
    if (status === 503) return "the service is unavailable just now (" + status + ")";
    if (status >= 500) return "the server had an error (" + status + ")";
    return "the server could not use the answers (" + status + ")";
  }

  function fromIntake(event) {
    var elt = event.detail && event.detail.elt;
    return !!(elt && elt.id === "intake-form");
  }

  // ---------------------------------------------------------------- the field under the cursor
  // An update can add or remove messages above the field being typed in; the page scrolls by the same
  // amount so that the field stays where it was under the cursor.
  var anchor = null;
  // Instant, not smooth (Bootstrap sets smooth scrolling): the field must not drift under the cursor.
  function scrollByNow(dy) { window.scrollBy({ top: dy, left: 0, behavior: "instant" }); }
  function rememberFocus() {
    var el = document.activeElement;
    anchor = (el && el.closest && el.closest("#intake-form")) ? { el: el, top: el.getBoundingClientRect().top } : null;
  }
  function restoreFocusPosition() {
    if (!anchor || !document.body.contains(anchor.el)) return;
    var shift = anchor.el.getBoundingClientRect().top - anchor.top;
    if (Math.abs(shift) >= 1) { scrollByNow(shift); }
  }

  // A focused element is never left under the sticky action bar or the pinned answer bar (WCAG 2.4.11):
  // the page scrolls it clear. (scroll-padding in app.css does the same where the browser honours it.)
  function keepClearOfBars(el) {
    if (!el || !el.getBoundingClientRect || el.closest(".form-actions") || el.closest("#answer-bar")) return;
    var r = el.getBoundingClientRect();
    var actions = document.querySelector("#intake-form .form-actions");
    var margin = 8;
    if (actions) {
      var bar = actions.getBoundingClientRect();
      if (r.bottom > bar.top - margin && r.top < bar.bottom) { scrollByNow(r.bottom - bar.top + margin); r = el.getBoundingClientRect(); }
    }
    var answer = document.getElementById("answer-bar");
    if (answer && window.getComputedStyle(answer).position === "fixed") {
      var top = answer.getBoundingClientRect().bottom;
      if (r.top < top + margin) { scrollByNow(r.top - top - margin); }
    }
  }

  // ---------------------------------------------------------------- units
  // Units follow the region beside empty fields only: a value already typed is never re-read.
  function followRegion(f, region) {
    f.querySelectorAll("select[data-unit-select]").forEach(function (select) {
      var unit = select.getAttribute("data-region-" + region);
      var valueField = f.querySelector('[name="' + select.name.replace(/_unit$/, "") + '"], [name="serum_' + select.name.replace(/_unit$/, "") + '"]');
      if (unit && valueField && valueField.value.trim() === "") { select.value = unit; }
    });
  }
  // "1.6 mg/dL" typed in the value: the unit beside it shows the unit typed (the server reads the same).
  var TYPED = { "mg/dl": "mg/dL", "umol/l": "umol/L", "kg": "kg", "kgs": "kg", "lb": "lb", "lbs": "lb",
    "pounds": "lb", "cm": "cm", "in": "in", "inch": "in", "inches": "in", "g/dl": "g/dL", "g/l": "g/L" };
  function showTypedUnit(input) {
    var f = form();
    var name = input.name === "serum_creatinine" ? "creatinine_unit" : input.name + "_unit";
    var select = f.querySelector('select[name="' + name + '"]');
    if (!select) return;
    var match = /^\s*[+-]?[0-9.,]+\s*(.+?)\s*$/.exec(input.value);
    if (!match) return;
    var key = match[1].replace(/\s+/g, "").toLowerCase().replace(/[µμ]/g, "u").replace("micromol", "umol");
    var unit = TYPED[key];
    if (unit && select.querySelector('option[value="' + unit + '"]')) { select.value = unit; }
  }

  // ---------------------------------------------------------------- medications
  // The same split as the server (indications.forms.split_medications).
  function splitMedications(text) {
    var entries = [], current = "", depth = 0;
    for (var i = 0; i < text.length; i++) {
      var c = text[i];
      if ("([{".indexOf(c) >= 0) depth++;
      else if (")]}".indexOf(c) >= 0) depth = Math.max(0, depth - 1);
      if (c === "\n" || ((c === "," || c === ";") && depth === 0)) {
        entries.push(current); current = ""; if (c === "\n") depth = 0; continue;
      }
      current += c;
    }
    entries.push(current);
    return entries.map(function (e) { return e.trim(); }).filter(Boolean);
  }
  function editMedication(entry, replacement) {
    var f = form();
    var list = document.getElementById("id_medications");
    var entries = splitMedications(list.value);
    if (entries.indexOf(entry) >= 0) {
      // Every entry typed the same way (the server reads a name once, however often it is typed).
      entries = entries.map(function (e) { return e === entry ? replacement : e; }).filter(Boolean);
      list.value = entries.join("\n");
      list.dispatchEvent(new Event("input", { bubbles: true }));
      return;
    }
    // A name ticked in a class's boxes (e.g. the SSRIs).
    f.querySelectorAll('input[type="checkbox"][name^="tick_"]').forEach(function (box) {
      if (box.value === entry && box.checked) {
        box.checked = false;
        box.dispatchEvent(new Event("input", { bubbles: true }));
      }
    });
  }
  // Where the keyboard goes once the list of entries is rebuilt (the entry after the one removed).
  var pendingEntryFocus = null;
  function focusEntry() {
    if (pendingEntryFocus === null) return;
    var key = pendingEntryFocus;
    pendingEntryFocus = null;
    var target = null;
    document.querySelectorAll("#medication-entries button.entry-remove").forEach(function (b) {
      if (!target && b.getAttribute("data-med-remove") === key) target = b;
    });
    (target || document.getElementById("id_medications")).focus();
  }
  function onEntryClick(event) {
    var button = event.target.closest("button[data-med-remove], button[data-med-replace]");
    if (!button) return;
    var item = button.closest("li");
    var next = item && (item.nextElementSibling || item.previousElementSibling);
    if (button.hasAttribute("data-med-remove")) {
      pendingEntryFocus = next ? next.getAttribute("data-entry") : "";
      editMedication(button.getAttribute("data-med-remove"), null);
    } else {
      pendingEntryFocus = button.getAttribute("data-med-with");
      editMedication(button.getAttribute("data-med-replace"), button.getAttribute("data-med-with"));
    }
    // Keep the keyboard where it was: on the next entry (again once the list is rebuilt), else on the list.
    var target = next && next.querySelector("button.entry-remove");
    (target || document.getElementById("id_medications")).focus();
  }

  // ---------------------------------------------------------------- the answer bar
  // Its height is kept in a CSS variable: on a phone the bar is pinned to the top, and the page's
  // scroll padding keeps a focused field from being hidden under it (WCAG 2.4.11).
  // When the pinned bar grows or shrinks, the page scrolls by the same amount: what is under the
  // cursor (the field being typed in) stays where it is.
  var barHeight = null;
  function measureAnswerBar() {
    var bar = document.getElementById("answer-bar");
    if (!bar) return;
    var pinned = window.getComputedStyle(bar).position === "fixed";
    var height = pinned ? bar.offsetHeight : 0;
    document.documentElement.style.setProperty("--answer-bar-height", height + "px");
    if (pinned && barHeight !== null && height !== barHeight && window.scrollY > 0) {
      scrollByNow(height - barHeight);
    }
    barHeight = height;
  }

  // A link's answers (after "#") opened in a tab already showing another patient: start again from
  // an empty form with the new answers, never mixing them with what was there.
  function onHashChange() {
    var f = form();
    if (!f || window.location.hash.indexOf("=") < 0) return;
    f.reset();
    var old = document.getElementById("filled-from-link");
    if (old) old.remove();
    setState("stale", "new answers from a link are being assessed");
    fillFromFragment(f);
  }

  // The browser restores a form's answers when the page comes back (Back, or a tab restored): the
  // results shown were made for an empty form, so assess what is on the form now.
  function onPageShow(event) {
    var f = form();
    if (!f) return;
    if (filledFromLink && !event.persisted) return;  // the link's answers are being assessed already
    var restored = event.persisted;
    f.querySelectorAll("input, select, textarea").forEach(function (el) {
      if (el.type === "checkbox" || el.type === "radio") {
        if (el.checked !== el.defaultChecked) restored = true;
      } else if (el.tagName === "SELECT") {
        el.querySelectorAll("option").forEach(function (o) { if (o.selected !== o.defaultSelected) restored = true; });
      } else if (el.type !== "hidden" && el.value !== el.defaultValue) {
        restored = true;
      }
    });
    if (restored) {
      setState("stale", "the browser restored earlier answers; assessing them");
      htmx.trigger(f, "input");
    }
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
    f.addEventListener("click", onEntryClick);
    f.addEventListener("focusin", function (event) { keepClearOfBars(event.target); });
    f.querySelectorAll('input[name="region"]').forEach(function (radio) {
      radio.addEventListener("change", function () { if (radio.checked) followRegion(f, radio.value); });
    });
    ["weight", "height", "serum_creatinine", "bilirubin", "albumin"].forEach(function (name) {
      var input = f.querySelector('[name="' + name + '"]');
      if (input) { input.addEventListener("change", function () { showTypedUnit(input); }); }
    });
    f.addEventListener("input", function () { setState("updating"); });  // from the keystroke, not after the delay
    window.addEventListener("hashchange", onHashChange);
    window.addEventListener("pageshow", onPageShow);
    syncFieldErrors();
    measureAnswerBar();
    if (window.ResizeObserver) { new ResizeObserver(measureAnswerBar).observe(document.getElementById("answer-bar")); }
    window.addEventListener("resize", measureAnswerBar);
  });

  document.addEventListener("htmx:beforeRequest", function (event) {
    if (!fromIntake(event)) return;
    rememberFocus();
    setState("updating");
  });
  // An answer needs correcting: the server keeps the results and names the reason.
  document.addEventListener("resultsStale", function (event) {
    setState("stale", (event.detail && event.detail.reason) || "an answer needs correcting");
  });
  document.addEventListener("htmx:responseError", function (event) {
    if (fromIntake(event)) setState("stale", failureReason(event.detail.xhr));
  });
  document.addEventListener("htmx:sendError", function (event) {
    if (fromIntake(event)) setState("stale", failureReason(null));
  });
  document.addEventListener("htmx:timeout", function (event) {
    if (fromIntake(event)) setState("stale", "the server did not answer in time");
  });
  // A 200 that is not this app's answer (a sign-on page from a proxy, an empty body) is not swapped in.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    var target = event.detail.target;
    if (!target || target.id !== "results" || !event.detail.shouldSwap || !xhr) return;
    if (xhr.getResponseHeader("HX-Reswap") === "none") return;
    if ((xhr.responseText || "").indexOf('id="answer-line"') < 0) {
      event.detail.shouldSwap = false;
      setState("stale", "an unexpected answer from the server (sign in again, or reload the page)");
    }
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    var xhr = event.detail.xhr;
    if (xhr && xhr.getResponseHeader("HX-Reswap") === "none") return;  // kept, and marked out of date
    if (event.detail.target && event.detail.target.id === "results") setState("current");
  });
  document.addEventListener("htmx:oobAfterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "medication-entries") focusEntry();
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    if (!fromIntake(event)) return;
    syncFieldErrors();
    restoreFocusPosition();
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    syncFieldErrors();
    restoreFocusPosition();
    measureAnswerBar();
    // After an explicit submit (button or Enter), move focus to the answer line; never while typing.
    var trigger = event.detail && event.detail.requestConfig && event.detail.requestConfig.triggeringEvent;
    if (trigger && trigger.type === "submit" && event.detail.target && event.detail.target.id === "results") {
      var line = document.getElementById("answer-line");
      if (line) line.focus();
    }
  });
})();
