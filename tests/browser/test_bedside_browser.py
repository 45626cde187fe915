"""Real Chromium: the intake page at the bedside (issue 13). Partial input, stale results, numbers as
typed, units by region, medications as read, the answer line on a phone, keyboard and focus, axe."""

import itertools
import re

import pytest
from playwright.sync_api import expect

from .axe import serious_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CRCL = "Creatinine clearance (mL/min)"


def open_intake(page, live_server):
    page.goto(live_server.url + "/")
    expect(page.get_by_label(CRCL)).to_be_visible()
    expect(page.get_by_test_id("dose-regimen")).to_be_visible()
    page.evaluate("window.__notReloaded = true")


def state(page) -> str:
    return page.locator("#results-column").get_attribute("data-state")


# ---------------------------------------------------------------- typing


def test_typing_the_age_alone_keeps_the_result_and_marks_no_untouched_field(page, seeded_live):
    open_intake(page, seeded_live)
    page.get_by_label("Age (years)").fill("80")
    note = page.locator("#group-note-renal")
    expect(note).to_have_text("To estimate CrCl: sex, weight, creatinine.")
    expect(page.get_by_test_id("dose-regimen")).to_be_visible()
    expect(page.locator("#results .alert-danger")).to_have_count(0)
    expect(page.locator(".is-invalid, [aria-invalid='true']")).to_have_count(0)
    assert state(page) == "current"
    # The note is neutral, not an error colour.
    assert note.evaluate("e => getComputedStyle(e).color") != "rgb(220, 53, 69)"
    page.get_by_label("Sex (for the formula)").select_option("female")
    expect(note).to_have_text("To estimate CrCl: weight, creatinine.")
    page.get_by_label("Weight", exact=True).fill("50")
    page.get_by_label("Serum creatinine").fill("1.4")
    expect(note).to_have_text("")
    expect(page.get_by_test_id("dose-regimen")).to_have_text("5 mg twice daily")
    assert page.evaluate("window.__notReloaded") is True


def test_a_wrong_value_keeps_the_earlier_results_marked_out_of_date(page, seeded_live):
    open_intake(page, seeded_live)
    field = page.get_by_label(CRCL)
    field.fill("25")
    expect(page.get_by_test_id("dose-regimen")).to_have_text("5 mg twice daily")
    field.fill("-5")
    expect(page.locator("#id_crcl_ml_min_error")).to_contain_text("between 0 and 250")
    expect(page.locator("#results-column")).to_have_attribute("data-state", "stale")
    expect(page.locator("#results-state")).to_contain_text(
        "Out of date: an answer needs correcting (Creatinine"
    )
    # The earlier results stay readable, and the dose no longer looks current.
    regimen = page.get_by_test_id("dose-regimen")
    expect(regimen).to_have_text("5 mg twice daily")
    assert "line-through" in regimen.evaluate("e => getComputedStyle(e).textDecorationLine")
    assert "line-through" in page.get_by_test_id("answer-dose").evaluate(
        "e => getComputedStyle(e).textDecorationLine"
    )
    field.fill("45")
    expect(page.locator("#results-column")).to_have_attribute("data-state", "current")
    expect(regimen).to_have_text("10 mg twice daily")
    assert "line-through" not in regimen.evaluate("e => getComputedStyle(e).textDecorationLine")


@pytest.mark.parametrize(
    "failure, reason",
    [
        ("500", "the server had an error (500)"),
        ("429", "too many updates just now (429)"),
        ("abort", "no answer from the server (connection lost)"),
    ],
)
def test_a_failed_update_marks_the_results_out_of_date_with_the_reason(page, seeded_live, failure, reason):
    open_intake(page, seeded_live)
    page.get_by_label(CRCL).fill("25")
    expect(page.get_by_test_id("dose-regimen")).to_have_text("5 mg twice daily")

    def fail(route):
        if route.request.method != "POST":
            route.continue_()
        elif failure == "abort":
            route.abort("connectionreset")
        else:
            route.fulfill(status=int(failure), body="error")

    page.route(seeded_live.url + "/", fail)
    page.get_by_label(CRCL).fill("60")
    expect(page.locator("#results-column")).to_have_attribute("data-state", "stale")
    expect(page.locator("#results-state")).to_contain_text(f"Out of date: {reason}")
    expect(page.get_by_test_id("dose-regimen")).to_have_text("5 mg twice daily")  # the old answer, struck
    assert "line-through" in page.get_by_test_id("dose-regimen").evaluate(
        "e => getComputedStyle(e).textDecorationLine"
    )
    expect(page.locator(".dose-box")).to_have_css("border-top-style", "dashed")
    page.unroute(seeded_live.url + "/")
    page.get_by_role("button", name="Assess").click()
    expect(page.get_by_test_id("dose-regimen")).to_have_text("10 mg twice daily")
    expect(page.locator("#results-column")).to_have_attribute("data-state", "current")
    expect(page.locator("#results-state")).to_have_text("")


def test_results_are_marked_as_updating_the_moment_a_request_starts(page, seeded_live):
    open_intake(page, seeded_live)
    held = []
    page.route(
        seeded_live.url + "/",
        lambda route: held.append(route) if route.request.method == "POST" else route.continue_(),
    )
    page.get_by_label(CRCL).fill("25")
    expect(page.locator("#results-column")).to_have_attribute("data-state", "updating")
    expect(page.locator("#results-state")).to_have_text("Updating…")
    expect(page.locator("#results")).to_have_attribute("aria-busy", "true")
    for _ in range(50):  # the request leaves after the typing pause
        if held:
            break
        page.wait_for_timeout(100)
    assert held
    held[-1].continue_()
    page.unroute(seeded_live.url + "/")
    expect(page.get_by_test_id("dose-regimen")).to_have_text("5 mg twice daily")
    expect(page.locator("#results-column")).to_have_attribute("data-state", "current")


def test_a_decimal_comma_and_units_typed_after_the_number(page, seeded_live):
    open_intake(page, seeded_live)
    page.get_by_label("Age (years)").fill("80")
    page.get_by_label("Sex (for the formula)").select_option("female")
    page.get_by_label("Weight", exact=True).fill("50kg")
    page.get_by_label("Serum creatinine").fill("1,4")
    expect(page.get_by_test_id("dose-regimen")).to_have_text("5 mg twice daily")
    expect(page.get_by_test_id("renal")).to_contain_text("1.4 mg/dL")
    # A unit typed after the number is the unit: the select beside the field shows it.
    page.get_by_label("Serum creatinine").fill("124 µmol/L")
    page.get_by_label("Serum creatinine").blur()
    expect(page.get_by_label("Creatinine unit")).to_have_value("umol/L")
    expect(page.get_by_test_id("renal")).to_contain_text("124 µmol/L")
    expect(page.get_by_test_id("dose-regimen")).to_have_text("5 mg twice daily")
    # What could mean two things is refused beside the field.
    page.get_by_label("Serum creatinine").fill("1,400")
    expect(page.locator("#id_serum_creatinine_error")).to_contain_text("could be 1.400 or 1400")
    expect(page.locator("#results-column")).to_have_attribute("data-state", "stale")


def test_units_follow_the_region_but_never_re_read_a_typed_value(page, seeded_live):
    open_intake(page, seeded_live)
    expect(page.get_by_label("Creatinine unit")).to_have_value("mg/dL")
    page.get_by_label("Total bilirubin").fill("1.2")  # typed in mg/dL, before switching
    page.get_by_label("EU (EMA SmPC)").check()
    expect(page.get_by_label("Creatinine unit")).to_have_value("umol/L")
    expect(page.get_by_label("Albumin unit")).to_have_value("g/L")
    expect(page.get_by_label("Bilirubin unit")).to_have_value("mg/dL")  # its value was typed in mg/dL
    expect(page.get_by_label("Total bilirubin")).to_have_value("1.2")
    page.get_by_label("US (FDA labelling)").check()
    expect(page.get_by_label("Creatinine unit")).to_have_value("mg/dL")
    expect(page.get_by_label("Albumin unit")).to_have_value("g/dL")


def test_medications_show_what_they_were_read_as_and_can_be_removed_or_corrected(page, seeded_live):
    open_intake(page, seeded_live)
    meds = page.locator("#id_medications")
    meds.fill("Zoloft\nsertralin")
    entries = page.locator("#medication-entries")
    expect(entries.locator('[data-entry="Zoloft"]')).to_contain_text("sertraline")
    expect(entries.locator('[data-entry="Zoloft"]')).to_contain_text("SSRI")
    expect(entries).to_contain_text("“sertralin”: not recognised, not checked.")
    entries.get_by_role("button", name="sertraline").click()
    expect(meds).to_have_value("Zoloft\nsertraline")
    expect(entries).not_to_contain_text("not recognised")
    entries.get_by_role("button", name="Remove Zoloft").click()
    expect(meds).to_have_value("sertraline")
    expect(entries.locator('[data-entry="Zoloft"]')).to_have_count(0)
    # A ticked name is removed by unticking it.
    page.get_by_label("Fluoxetine (Prozac, Sarafem)").check()
    expect(entries.locator('[data-entry="fluoxetine"]')).to_be_visible()
    entries.get_by_role("button", name="Remove fluoxetine").click()
    expect(page.get_by_label("Fluoxetine (Prozac, Sarafem)")).not_to_be_checked()
    expect(entries.locator('[data-entry="fluoxetine"]')).to_have_count(0)
    # The type-ahead suggests catalogue names and brands.
    options = page.locator("#medication-names option")
    values = options.evaluate_all("os => os.map(o => o.value)")
    assert "Zoloft" in values and "sertraline" in values


def test_a_wrong_value_does_not_move_the_field_being_typed_in(page, seeded_live):
    page.set_viewport_size({"width": 1366, "height": 900})
    open_intake(page, seeded_live)
    page.get_by_label(CRCL).fill("40")
    expect(page.get_by_test_id("dose-regimen")).to_have_text("10 mg twice daily")
    expect(page.locator("#results-column")).to_have_attribute("data-state", "current")
    age = page.get_by_label("Age (years)")
    age.focus()
    before = age.bounding_box()["y"]
    age.press_sequentially("80")
    # A clearance and Cockcroft-Gault values: the message goes beside the clearance, above the field
    # being typed in; that field stays put.
    expect(page.locator("#id_crcl_ml_min_error")).to_contain_text("Give only one renal input")
    expect(page.locator("#results-column")).to_have_attribute("data-state", "stale")
    page.wait_for_timeout(100)
    assert abs(age.bounding_box()["y"] - before) <= 2


# ---------------------------------------------------------------- seeing the answer


def test_on_a_phone_the_answer_line_is_on_screen_after_entering_a_crcl(browser, seeded_live):
    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)
    page = context.new_page()
    open_intake(page, seeded_live)
    field = page.get_by_label(CRCL)
    field.fill("25")
    answer = page.locator("#answer-line")
    expect(page.get_by_test_id("answer-dose")).to_have_text(" · 5 mg twice daily")
    box = answer.bounding_box()
    assert box["y"] >= 0 and box["y"] + box["height"] <= 844 / 3, box
    # The field being typed in is not under the pinned answer bar.
    bar = page.locator("#answer-bar").bounding_box()
    assert field.bounding_box()["y"] >= bar["y"] + bar["height"] - 1
    # Scroll anywhere: the answer stays on the first screen.
    page.mouse.wheel(0, 3000)
    page.wait_for_timeout(200)
    box = answer.bounding_box()
    assert 0 <= box["y"] < 844 / 3
    # No horizontal scrolling, and the action bar is one row.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    tops = page.locator(".form-actions .btn").evaluate_all(
        "bs => bs.map(b => Math.round(b.getBoundingClientRect().top))"
    )
    assert len(set(tops)) == 1, tops
    # Targets of at least 24 x 24 CSS px (links inside sentences are exempt under WCAG 2.5.8).
    small = page.evaluate(
        """() => [...document.querySelectorAll(
                   '#intake-form input, #intake-form select, #intake-form textarea, button, summary')]
            .filter(e => e.offsetParent !== null && e.type !== 'hidden')
            .map(e => [e.id || e.name || e.textContent.trim(), e.getBoundingClientRect()])
            .filter(([, r]) => r.width < 24 || r.height < 24)
            .map(([n, r]) => `${n}: ${Math.round(r.width)}x${Math.round(r.height)}`)"""
    )
    assert small == [], small
    context.close()


def test_on_a_phone_axe_finds_no_serious_issue(browser, seeded_live):
    context = browser.new_context(viewport={"width": 390, "height": 844}, bypass_csp=True, is_mobile=True)
    page = context.new_page()
    open_intake(page, seeded_live)
    page.get_by_label(CRCL).fill("25")
    expect(page.get_by_test_id("dose-regimen")).to_have_text("5 mg twice daily")
    assert serious_violations(page) == []
    context.close()


def test_axe_on_the_empty_page_and_with_errors(browser, seeded_live):
    context = browser.new_context(viewport={"width": 1366, "height": 900}, bypass_csp=True)
    page = context.new_page()
    open_intake(page, seeded_live)
    assert serious_violations(page) == []
    page.get_by_label(CRCL).fill("25")
    page.get_by_label("Age (years)").fill("300")
    expect(page.locator("#id_crcl_ml_min_error")).to_contain_text("only one renal input")
    expect(page.locator("#results-column")).to_have_attribute("data-state", "stale")
    assert serious_violations(page) == []
    context.close()


def test_assess_moves_focus_to_the_answer_line(page, seeded_live):
    open_intake(page, seeded_live)
    page.get_by_label(CRCL).fill("12")
    page.get_by_role("button", name="Assess").click()
    expect(page.locator("#answer-line")).to_be_focused()
    expect(page.locator("#answer-line")).to_contain_text("5 mg twice daily")


def test_tabbing_through_every_field_never_hides_the_focus_under_a_sticky_bar(page, seeded_live):
    page.set_viewport_size({"width": 1366, "height": 900})
    open_intake(page, seeded_live)
    page.get_by_label(CRCL).fill("25")  # results in, so the page is as long as it gets
    expect(page.get_by_test_id("dose-regimen")).to_have_text("5 mg twice daily")
    page.locator("#main").focus()
    seen, covered, order = set(), [], []
    for _ in range(200):
        page.keyboard.press("Tab")
        info = page.evaluate(
            """() => {
                const el = document.activeElement;
                const bar = document.querySelector('.form-actions').getBoundingClientRect();
                const r = el.getBoundingClientRect();
                const inBar = !!el.closest('.form-actions');
                const inForm = !!el.closest('#intake-form');
                const hidden = !inBar && r.bottom > bar.top + 1 && r.top < bar.bottom;
                const off = r.bottom > window.innerHeight + 1 || r.top < -1;
                return {id: el.id || el.name || el.textContent.trim().slice(0, 30), inForm, inBar,
                        hidden: inForm && (hidden || off), top: Math.round(r.top + window.scrollY)};
            }"""
        )
        if not info["inForm"]:
            if seen:
                break
            continue
        key = info["id"]
        if key in seen and info["inBar"]:
            continue
        seen.add(key)
        if not info["inBar"]:  # the bar is pinned to the bottom of the screen, wherever the page is
            order.append(info["top"])
        if info["hidden"]:
            covered.append(info["id"])
    assert len(seen) > 30, seen  # every field was reached
    assert covered == [], covered
    # The tab order follows the page: down the form (a row's fields share a line).
    assert all(b >= a - 60 for a, b in itertools.pairwise(order)), order


def test_input_borders_and_focus_rings_meet_three_to_one(page, seeded_live):
    open_intake(page, seeded_live)

    def contrast(rgb: str) -> float:
        r, g, b = (int(x) / 255 for x in re.findall(r"\d+", rgb)[:3])

        def lum(c):
            return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

        luminance = 0.2126 * lum(r) + 0.7152 * lum(g) + 0.0722 * lum(b)
        return 1.05 / (luminance + 0.05)

    for selector in ("#id_crcl_ml_min", "#id_sex", "#id_dialysis", "#id_medications"):
        colour = page.locator(selector).evaluate("e => getComputedStyle(e).borderTopColor")
        assert contrast(colour) >= 3, (selector, colour)
    page.locator("#main").focus()
    page.keyboard.press("Tab")
    for _ in range(10):
        page.keyboard.press("Tab")
        outline = page.evaluate(
            "() => { const s = getComputedStyle(document.activeElement);"
            " return [s.outlineStyle, s.outlineColor, s.outlineWidth]; }"
        )
        assert outline[0] != "none" and float(outline[2].rstrip("px")) >= 2, outline
        assert contrast(outline[1]) >= 3, outline


# ---------------------------------------------------------------- after a clinician's cold review


def test_answers_restored_by_the_browser_are_assessed_again(page, seeded_live):
    open_intake(page, seeded_live)
    page.get_by_label("EU (EMA SmPC)").check()
    page.get_by_label("On dialysis").check()
    expect(page.get_by_test_id("answer-verdict")).to_contain_text("No labelled dose")
    page.get_by_role("link", name="About and intended use").click()
    expect(page).to_have_url(re.compile(r"/about$"))
    page.go_back()
    expect(page.get_by_label("On dialysis")).to_be_checked()
    # Whatever the browser restored, the answer shown is for the answers on the form.
    expect(page.get_by_test_id("answer-verdict")).to_contain_text("No labelled dose")
    expect(page.get_by_test_id("catalogue-version")).to_contain_text("EU")
    expect(page.locator("#results-column")).to_have_attribute("data-state", "current")


def test_a_second_link_in_the_same_tab_replaces_the_answers(page, seeded_live):
    page.goto(seeded_live.url + "/#age_years=80&sex=female&weight=70&serum_creatinine=2.0&indications=ocd")
    expect(page.get_by_test_id("dose-regimen")).to_have_text("5 mg twice daily")
    page.evaluate("window.location.hash = 'dialysis=on&conditions=pregnancy'")
    expect(page.get_by_test_id("answer-verdict")).to_contain_text("No labelled dose")
    expect(page.get_by_label("Age (years)")).to_have_value("")
    expect(page.get_by_label("On dialysis")).to_be_checked()
    expect(page.locator('input[name="indications"][value="ocd"]')).not_to_be_checked()
    expect(page.locator("#results-column")).to_have_attribute("data-state", "current")


@pytest.mark.parametrize("body", ["<html><body><h1>Sign in</h1></body></html>", ""])
def test_a_200_that_is_not_the_apps_answer_is_not_shown_as_the_answer(page, seeded_live, body):
    open_intake(page, seeded_live)
    page.get_by_label(CRCL).fill("25")
    expect(page.get_by_test_id("dose-regimen")).to_have_text("5 mg twice daily")
    page.route(
        seeded_live.url + "/",
        lambda route: (
            route.fulfill(status=200, body=body, content_type="text/html")
            if route.request.method == "POST"
            else route.continue_()
        ),
    )
    page.get_by_label(CRCL).fill("80")
    expect(page.locator("#results-column")).to_have_attribute("data-state", "stale")
    expect(page.locator("#results-state")).to_contain_text("unexpected answer from the server")
    expect(page.get_by_test_id("dose-regimen")).to_have_text("5 mg twice daily")
    expect(page.locator("#results")).not_to_contain_text("Sign in")


def test_a_request_that_never_answers_becomes_out_of_date(page, seeded_live):
    open_intake(page, seeded_live)
    page.get_by_label(CRCL).fill("25")
    expect(page.get_by_test_id("dose-regimen")).to_have_text("5 mg twice daily")
    page.evaluate("htmx.config.timeout = 800")  # the page's own is 15 s
    page.route(
        seeded_live.url + "/",
        lambda route: None if route.request.method == "POST" else route.continue_(),  # held forever
    )
    page.get_by_label(CRCL).fill("80")
    expect(page.locator("#results-state")).to_contain_text("the server did not answer in time")
    expect(page.locator("#results-column")).to_have_attribute("data-state", "stale")
    assert page.evaluate("htmx.config.timeout") == 800
    assert (
        page.evaluate("JSON.parse(document.querySelector('meta[name=htmx-config]').content).timeout") == 15000
    )


def test_the_keyboard_stays_on_the_list_after_remove(page, seeded_live):
    open_intake(page, seeded_live)
    page.locator("#id_medications").fill("Zoloft\nwarfarin\namantadine")
    entries = page.locator("#medication-entries")
    expect(entries.locator("li")).to_have_count(3)
    entries.get_by_role("button", name="Remove Zoloft").focus()
    page.keyboard.press("Enter")
    expect(entries.locator("li")).to_have_count(2)
    page.wait_for_timeout(300)
    expect(entries.get_by_role("button", name="Remove warfarin")).to_be_focused()


def test_the_answer_line_names_its_state_when_focused(page, seeded_live):
    open_intake(page, seeded_live)
    page.get_by_label(CRCL).fill("25")
    expect(page.get_by_test_id("dose-regimen")).to_have_text("5 mg twice daily")
    page.get_by_label(CRCL).fill("25x")
    page.keyboard.press("Enter")
    expect(page.locator("#answer-line")).to_be_focused()
    described = page.locator("#answer-line").evaluate(
        "e => document.getElementById(e.getAttribute('aria-describedby')).textContent"
    )
    assert described.startswith("Out of date:"), described
