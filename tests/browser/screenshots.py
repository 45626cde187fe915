"""README screenshots (``make screenshots``): the intake page on a desktop and on a phone, for a typical
patient. Not part of the test suite (the file name does not start with test_); it writes
docs/screenshots/*.png."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def fill_typical_patient(page):
    page.get_by_label("Age (years)").fill("80")
    page.get_by_label("Sex (for the formula)").select_option("female")
    page.get_by_label("Weight", exact=True).fill("50")
    page.get_by_label("Serum creatinine").fill("1,4")
    page.get_by_label("Sertraline (Zoloft, Lustral)").check()
    page.get_by_role("checkbox", name="Obsessive-compulsive disorder").check()
    expect(page.get_by_test_id("dose-regimen")).to_have_text("5 mg twice daily")
    expect(page.locator("#results-column")).to_have_attribute("data-state", "current")


def test_desktop_and_phone_screenshots(browser, seeded_live):
    OUT.mkdir(parents=True, exist_ok=True)
    desktop = browser.new_context(viewport={"width": 1366, "height": 900})
    page = desktop.new_page()
    page.goto(seeded_live.url + "/")
    fill_typical_patient(page)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(OUT / "desktop.png"))
    desktop.close()
    phone = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True)
    page = phone.new_page()
    page.goto(seeded_live.url + "/")
    fill_typical_patient(page)
    page.get_by_label("Serum creatinine").focus()
    page.screenshot(path=str(OUT / "phone.png"))
    phone.close()
