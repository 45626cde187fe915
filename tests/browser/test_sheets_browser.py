"""Real Chromium (Debian's, through Playwright): the printed sheets opened from the intake page."""

import io
import re

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from .axe import serious_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_summary_sheet_opens_from_the_intake_page_accessible_and_prints_the_patient_lines_on_every_page(
    browser, seeded_live
):
    context = browser.new_context(bypass_csp=True)  # lets the test inject axe-core into the sheet
    page = context.new_page()
    page.goto(seeded_live.url + "/")
    page.get_by_label("Creatinine clearance (mL/min)").fill("25")
    page.get_by_label("Sertraline (Zoloft, Lustral)").check()
    page.locator('input[name="indications"][value="ocd"]').check()
    page.locator('input[name="indications"][value="vascular-dementia"]').check()
    expect(page.get_by_test_id("answer-dose")).to_contain_text("5 mg twice daily")
    verdict = page.get_by_test_id("answer-verdict").inner_text().strip()
    flags = page.get_by_test_id("answer-flags").inner_text().strip()
    studied = [s.inner_text().strip(" ·") for s in page.get_by_test_id("answer-studied").all()]
    assert len(studied) == 2

    with context.expect_page() as popup_info:
        page.get_by_role("button", name="Print summary").click()
    sheet = popup_info.value
    sheet.wait_for_load_state()
    expect(sheet.get_by_role("heading", level=1)).to_have_text(
        "Memantine: off-label decision support summary"
    )
    # The answer line as the screen words it, first after the title.
    answer = sheet.get_by_test_id("answer-line")
    expect(answer.get_by_role("heading", level=2)).to_have_text(f"{verdict} · 5 mg twice daily")
    expect(answer).to_contain_text(flags)
    for line in studied:
        expect(answer).to_contain_text(line)
    expect(sheet.get_by_role("heading", name="Clinician, decision and signature")).to_be_visible()

    assert serious_violations(sheet) == []

    # Chromium's own print (the browser's print command): the name and date of birth lines on every page.
    sheet.emulate_media(media="print")
    expect(sheet.locator(".toolbar")).to_be_hidden()
    reader = PdfReader(io.BytesIO(sheet.pdf(prefer_css_page_size=True)))
    pages = [re.sub(r"\s+", " ", p.extract_text()) for p in reader.pages]
    assert len(pages) <= 2, len(pages)
    for number, text in enumerate(pages, start=1):
        assert "Patient name: ___" in text and "Date of birth: ___" in text, (number, text[:300])
    context.close()


def test_patient_sheet_prints_the_calendar_for_the_current_answers_and_axe_finds_no_serious_issue(
    browser, seeded_live
):
    import datetime

    context = browser.new_context(bypass_csp=True)  # lets the test inject axe-core into the sheet
    page = context.new_page()
    page.goto(seeded_live.url + "/")
    page.get_by_label("Creatinine clearance (mL/min)").fill("25")
    expect(page.get_by_test_id("answer-dose")).to_contain_text("5 mg twice daily")
    start = datetime.date.today() + datetime.timedelta(days=3)
    page.get_by_label("Start date").fill(start.isoformat())
    with context.expect_page() as popup_info:
        page.get_by_role("button", name="Print patient sheet").click()
    sheet = popup_info.value
    sheet.wait_for_load_state()
    expect(sheet.get_by_role("heading", level=1)).to_have_text("Your memantine sheet")
    rows = sheet.locator("table.ps-calendar tbody tr")
    expect(rows).to_have_count(2)  # severe renal impairment: 5 mg a day, then 5 mg twice a day
    expect(rows.nth(0)).to_contain_text(start.strftime("%-d %b"))
    expect(rows.nth(1)).to_contain_text(
        "From " + (start + datetime.timedelta(days=7)).strftime("%a %-d %b %Y")
    )
    expect(rows.nth(1)).to_contain_text("10 mg")
    expect(sheet.locator(".ps-kidneys")).to_be_visible()
    assert serious_violations(sheet) == []
    sheet.emulate_media(media="print")
    expect(sheet.locator(".ps-toolbar")).to_be_hidden()
    reader = PdfReader(io.BytesIO(sheet.pdf(prefer_css_page_size=True)))
    assert len(reader.pages) == 1
    context.close()


def test_patient_sheet_pdf_downloads_from_the_intake_page(page, seeded_live):
    page.goto(seeded_live.url + "/")
    page.get_by_label("Creatinine clearance (mL/min)").fill("60")
    expect(page.get_by_test_id("answer-dose")).to_contain_text("10 mg twice daily")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Patient sheet PDF").click()
    download = download_info.value
    assert download.suggested_filename.startswith("memantine-patient-sheet-")
    reader = PdfReader(download.path())
    assert len(reader.pages) == 1 and "Your memantine sheet" in reader.pages[0].extract_text()
