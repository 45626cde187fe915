/* Accessibility fixes for Django admin (loaded by templates/admin/base_site.html), each one for an
   axe-core finding in tests/browser/test_admin_browser.py. Nothing here changes what a form submits.

   1. Autocomplete fields (select2): the search boxes had no accessible name ("label"), an empty
      single-choice box had none either ("aria-input-field-name"); each now takes the name of its
      field's label. The "remove all" cross select2 puts inside a multiple choice's list broke the
      list ("list"); it is mouse-only, so it is hidden from assistive technology (Backspace removes
      a choice from the keyboard). An open box names its results list with aria-controls, which
      ARIA 1.2 requires of an expanded combobox ("aria-required-attr"); select2 4.0 sets only
      aria-owns.
   2. Tabular inlines (e.g. a drug's other names) label their columns with a header cell only, so
      each control had no name ("label", "select-name"); each takes its column's header.

   The fixes run once the page has loaded and again whenever the page changes (select2 builds its
   boxes after load; "Add another" inserts rows), and never undo a name a control already has. */
"use strict";
{
    function textOf(element) {
        // The element's own words, without a help icon's alt text or a trailing colon.
        const words = Array.from(element.childNodes)
            .filter((node) => node.nodeType === Node.TEXT_NODE)
            .map((node) => node.textContent)
            .join(" ");
        return words.replace(/\s+/g, " ").trim().replace(/:$/, "");
    }

    function labelFor(control) {
        // The field's <label>, or in a tabular inline the header cell of the control's column.
        if (control.id) {
            const label = document.querySelector(`label[for="${CSS.escape(control.id)}"]`);
            if (label) {
                return label;
            }
        }
        const cell = control.closest(".tabular td");
        const header = cell && cell.closest("table").tHead;
        return header ? header.rows[0].cells[cell.cellIndex] || null : null;
    }

    function named(control) {
        return (
            control.labels?.length > 0 ||
            control.hasAttribute("aria-label") ||
            control.hasAttribute("aria-labelledby")
        );
    }

    function nameAutocomplete(select) {
        const instance = window.django?.jQuery(select).data("select2");
        const label = labelFor(select);
        if (!instance || !label || select.dataset.a11yNamed) {
            return;
        }
        select.dataset.a11yNamed = "true";
        const name = textOf(label);
        label.id ||= `${select.id}-a11y-label`;
        const selection = instance.$selection[0];
        const rendered = selection.querySelector(".select2-selection__rendered[role=textbox]");
        if (rendered) {
            // Single choice: "<field label> <current value>", as select2 meant with the value alone.
            selection.setAttribute("aria-labelledby", `${label.id} ${rendered.id}`);
            rendered.setAttribute("aria-labelledby", label.id);
        } else {
            selection.setAttribute("aria-labelledby", label.id);
        }
        // Multiple choice: the search box typed in beside the choices. Single: the one in the dropdown.
        instance.$container.find(".select2-search__field").attr("aria-label", name);
        instance.$dropdown.find(".select2-search__field").attr("aria-label", `Search ${name}`);
    }

    function fixPage() {
        for (const select of document.querySelectorAll("select.admin-autocomplete.select2-hidden-accessible")) {
            nameAutocomplete(select);
        }
        for (const cross of document.querySelectorAll(".select2-selection__clear:not([aria-hidden])")) {
            cross.setAttribute("aria-hidden", "true");
        }
        const controls = ".tabular td input:not([type=hidden]), .tabular td select, .tabular td textarea";
        for (const control of document.querySelectorAll(controls)) {
            const header = named(control) ? null : labelFor(control);
            if (header && textOf(header)) {
                control.setAttribute("aria-label", textOf(header));
            }
        }
    }

    function whenSelect2(event, open) {
        const selection = window.django.jQuery(event.target).data("select2")?.$selection;
        if (open) {
            selection?.attr("aria-controls", selection.attr("aria-owns"));
        } else {
            selection?.removeAttr("aria-controls");
        }
    }

    window.addEventListener("DOMContentLoaded", () => {
        fixPage();
        new MutationObserver(fixPage).observe(document.body, { childList: true, subtree: true });
        if (window.django?.jQuery) {
            window.django.jQuery(document)
                .on("select2:open", (event) => whenSelect2(event, true))
                .on("select2:close", (event) => whenSelect2(event, false));
        }
    });
}
