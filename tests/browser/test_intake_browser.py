"""Real Chromium (Debian's, through Playwright): the intake page as a clinician uses it."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from .axe import serious_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def open_intake(page, live_server):
    page.goto(live_server.url + "/")
    expect(page.get_by_label("Creatinine clearance (mL/min)")).to_be_visible()
    page.evaluate("window.__notReloaded = true")


def test_typing_a_crcl_swaps_in_results_without_a_reload(page, seeded_live):
    open_intake(page, seeded_live)
    page.get_by_label("Creatinine clearance (mL/min)").fill("25")
    expect(page.get_by_test_id("dose-regimen")).to_have_text("5 mg twice daily")
    expect(page.locator('[data-flag-code="renal-severe"]')).to_be_visible()
    expect(page.locator("#results-status")).to_contain_text("5 mg twice daily")
    assert page.evaluate("window.__notReloaded") is True


def test_bad_value_shows_an_error_beside_the_field_and_clears_when_fixed(page, seeded_live):
    open_intake(page, seeded_live)
    field = page.get_by_label("Creatinine clearance (mL/min)")
    field.fill("-5")
    error = page.locator("#id_crcl_ml_min_error")
    expect(error).to_contain_text("between 0 and 250")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#results-column")).to_have_attribute("data-state", "stale")
    expect(page.locator("#results-state")).to_contain_text("Out of date: an answer needs correcting")
    field.fill("45")
    expect(error).to_have_text("")
    expect(field).not_to_have_attribute("aria-invalid", "true")
    expect(page.get_by_test_id("dose-regimen")).to_have_text("10 mg twice daily")
    assert page.evaluate("window.__notReloaded") is True


def test_keyboard_only_path(page, seeded_live):
    open_intake(page, seeded_live)
    page.locator("body").focus()
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "id_crcl_ml_min":
            break
    else:
        pytest.fail("the CrCl field cannot be reached with Tab")
    page.keyboard.type("12")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("dose-regimen")).to_have_text("5 mg twice daily")
    expect(page.locator("#answer-line")).to_be_focused()
    # The flags and every source link are reachable by keyboard from the answer line.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.tagName") in ("A", "SUMMARY")


def test_ssri_shortcut_and_medication_type_ahead(page, seeded_live):
    open_intake(page, seeded_live)
    page.get_by_label("Sertraline (Zoloft, Lustral)").check()
    expect(page.locator('[data-flag-code="ssri-no-interaction"]')).to_be_visible()
    search = page.get_by_label("Find a medication to add")
    search.fill("dextromethorphan")
    page.get_by_role("button", name="Add").click()
    expect(page.get_by_label("Current medications")).to_have_value("dextromethorphan")
    expect(page.locator('[data-flag-code="serotonergic-dextromethorphan"]')).to_be_visible()


def test_print_summary_opens_the_sheet_for_the_current_answers(page, seeded_live):
    open_intake(page, seeded_live)
    page.get_by_label("Creatinine clearance (mL/min)").fill("25")
    expect(page.get_by_test_id("dose-regimen")).to_have_text("5 mg twice daily")
    with page.context.expect_page() as popup_info:
        page.get_by_role("button", name="Print summary").click()
    sheet = popup_info.value
    sheet.wait_for_load_state()
    expect(sheet.get_by_role("heading", name="Memantine: off-label decision support summary")).to_be_visible()
    expect(sheet.locator(".regimen")).to_have_text("5 mg twice daily")
    expect(sheet.get_by_role("button", name="Print")).to_be_visible()
    sheet.emulate_media(media="print")
    expect(sheet.locator(".toolbar")).to_be_hidden()
    assert page.evaluate("window.__notReloaded") is True


def test_download_pdf(page, seeded_live):
    open_intake(page, seeded_live)
    page.get_by_label("Creatinine clearance (mL/min)").fill("25")
    expect(page.get_by_test_id("dose-regimen")).to_have_text("5 mg twice daily")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download PDF").click()
    download = download_info.value
    assert download.suggested_filename.startswith("memantine-summary-")
    assert Path(download.path()).read_bytes()[:5] == b"%PDF-"


def test_no_serious_accessibility_violations_with_results_shown(browser, seeded_live):
    context = browser.new_context(bypass_csp=True)  # lets the test inject axe-core
    page = context.new_page()
    open_intake(page, seeded_live)
    page.get_by_label("Creatinine clearance (mL/min)").fill("25")
    page.get_by_label("Sertraline (Zoloft, Lustral)").check()
    expect(page.locator('[data-flag-code="ssri-no-interaction"]')).to_be_visible()
    page.locator("#indication-ocd details.studies summary").click()
    serious = serious_violations(page)
    assert serious == [], serious
    context.close()


def test_a_not_recommended_verdict_replaces_the_number_in_the_dose_box(page, seeded_live):
    open_intake(page, seeded_live)
    page.get_by_label("EU (EMA SmPC)").check()
    page.get_by_label("Creatinine clearance (mL/min)").fill("90")
    expect(page.get_by_test_id("dose-regimen")).to_have_text("20 mg once daily")
    page.get_by_label("Child-Pugh class").select_option("C")
    expect(page.get_by_test_id("dose-verdict")).to_have_text("Not recommended for this patient: no dose")
    expect(page.get_by_test_id("dose-regimen")).to_have_text(
        "No dose: Severe hepatic impairment: not recommended"
    )
    expect(page.get_by_test_id("dose-max")).to_have_count(0)
    expect(page.locator('[data-flag-code="hepatic-severe"] .severity')).to_contain_text("Critical")
    assert page.evaluate("window.__notReloaded") is True


def test_units_and_estimates_in_the_browser(page, seeded_live):
    open_intake(page, seeded_live)
    page.get_by_label("Extended release (US only)").check()
    page.get_by_label("Age (years)").fill("72")
    page.get_by_label("Sex (for the formula)").select_option("male")
    page.get_by_label("Weight unit").select_option("lb")
    page.get_by_label("Weight", exact=True).fill("275.6")
    page.get_by_label("Height unit").select_option("in")
    page.get_by_label("Height", exact=True).fill("70.1")
    page.get_by_label("Serum creatinine").fill("3.4")
    expect(page.get_by_test_id("dose-regimen")).to_have_text("14 mg once daily")
    estimates = page.get_by_test_id("renal-estimates")
    expect(estimates.locator("tr.used")).to_contain_text("adjusted body weight")
    expect(estimates.locator('tr[data-method="cockcroft-gault"]')).to_contain_text("28 mg once daily")
    page.get_by_label("Dose follows").select_option("cockcroft-gault")
    expect(page.get_by_test_id("dose-regimen")).to_have_text("28 mg once daily")


def test_evidence_maps_have_text_alternatives_and_axe_passes_with_all_eleven_cards(browser, seeded_live):
    context = browser.new_context(bypass_csp=True)  # lets the test inject axe-core
    page = context.new_page()
    open_intake(page, seeded_live)
    page.get_by_label("Creatinine clearance (mL/min)").fill("60")
    expect(page.locator("article.indication")).to_have_count(11)
    maps = page.get_by_role("img", name=re.compile(r"^Evidence map: "))
    expect(maps).to_have_count(11)
    ocd = page.get_by_role("img", name="Evidence map: Obsessive-compulsive disorder (SSRI augmentation)")
    expect(ocd).to_be_visible()
    description = ocd.evaluate(
        "svg => document.getElementById(svg.getAttribute('aria-labelledby').split(' ')[1]).textContent"
    )
    assert re.search(r"\d+ published studies, \d{4}–\d{4}\.", description), description
    box = ocd.bounding_box()
    assert box and box["width"] > 200 and box["height"] > 80
    for details in page.locator("article.indication details summary").all():
        details.click()
    serious = serious_violations(page)
    assert serious == [], serious
    assert page.evaluate("window.__notReloaded") is True
    context.close()


def test_a_card_link_fills_the_form_from_the_fragment_and_leaves_no_values_in_the_address(
    page, seeded_live, settings
):
    """The CDS Hooks cards link to the intake page with the record's values after "#" (never sent to a
    server): the page fills the form, assesses, and takes the values out of the address."""
    import json
    import urllib.request

    from tests.cds import fhir_samples as fx

    settings.CDS_HOOKS_ALLOW_UNSIGNED = True
    settings.CDS_HOOKS_ISSUERS = {}
    body = fx.call("order-sign", draft=fx.medication_request(), prefetch_data=fx.severe_renal_patient())
    body["prefetch"]["medicationStatements"] = fx.bundle(fx.medication_statement("sertraline"))
    request = urllib.request.Request(
        seeded_live.url + "/cds-services/memantine-order-sign",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as response:
        card = json.load(response)["cards"][0]
    link = card["links"][0]["url"]
    assert "#" in link and "?" not in link
    page.goto(link)
    expect(page.get_by_test_id("dose-regimen")).to_have_text("5 mg twice daily")
    expect(page.get_by_label("Age (years)")).to_have_value("80")
    expect(page.get_by_label("Serum creatinine")).to_have_value("2")
    expect(page.locator("#id_medications")).to_have_value("sertraline")
    assert page.evaluate("window.location.hash") == ""
    expect(page.locator("#filled-from-link")).to_contain_text("filled in from a link")
