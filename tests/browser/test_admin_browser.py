"""Real Chromium: the admin pages an editor works in pass axe-core (no serious or critical finding).

The editor logs in through the admin login form, as a person does, then each page is checked as it
first appears and, for the forms with autocomplete fields, again with an autocomplete opened.
"""

import re

import pytest
from django.contrib.auth.models import Group, User
from playwright.sync_api import expect

from indications.models import DoseRegimen, Drug, Indication, PatientNote

from .axe import serious_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "an-editors-password-42"


@pytest.fixture
def editor_page(browser, seeded_live):
    """A page logged in as an editor (Editors group, not a superuser) through the real login form."""
    user = User.objects.create_user("erin", password=PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name="Editors"))
    context = browser.new_context(bypass_csp=True)  # lets the test inject axe-core
    page = context.new_page()
    page.goto(seeded_live.url + "/admin/login/")
    page.get_by_label("Username").fill("erin")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("link", name="Releases, draft preview and publishing")).to_be_visible()
    yield page
    context.close()


def open_first_autocomplete(page):
    """Open the first select2 autocomplete, so its dropdown and search box are checked too."""
    page.locator(".select2-selection").first.click()
    expect(page.locator(".select2-container--open .select2-search__field").first).to_be_visible()
    expect(page.locator(".select2-results__option").first).to_be_visible()


def admin_pages(live_url: str) -> list[tuple[str, str, bool]]:
    """(name, URL, has autocomplete fields)."""
    ocd = Indication.objects.get(slug="ocd")
    drug = Drug.objects.filter(classes__isnull=False).order_by("pk").first()
    regimen = DoseRegimen.objects.order_by("pk").first()
    note = PatientNote.objects.order_by("pk").first()
    admin = live_url + "/admin/indications"
    return [
        ("admin index", live_url + "/admin/", False),
        ("indication changelist", admin + "/indication/", False),
        ("indication change form", f"{admin}/indication/{ocd.pk}/change/", True),
        ("drug change form", f"{admin}/drug/{drug.pk}/change/", True),
        ("dose regimen change form", f"{admin}/doseregimen/{regimen.pk}/change/", True),
        ("indication history", f"{admin}/indication/{ocd.pk}/history/", False),
        ("patient note changelist", admin + "/patientnote/", False),
        ("patient note change form", f"{admin}/patientnote/{note.pk}/change/", True),
    ]


def test_admin_pages_have_no_serious_accessibility_violations(editor_page, seeded_live):
    page = editor_page
    found = {}
    for name, url, has_autocomplete in admin_pages(seeded_live.url):
        page.goto(url)
        expect(page.locator("#content")).to_be_visible()
        if name == "indication changelist":
            expect(page.locator("#changelist-filter")).to_be_visible()
        found[name] = serious_violations(page)
        if has_autocomplete:
            open_first_autocomplete(page)
            found[name + " (autocomplete open)"] = serious_violations(page)
            page.keyboard.press("Escape")
    failing = {name: violations for name, violations in found.items() if violations}
    assert failing == {}, "\n".join(f"{name}: {violations}" for name, violations in failing.items())


def test_an_autocomplete_is_named_after_its_field_and_still_works(editor_page, seeded_live):
    page = editor_page
    ocd = Indication.objects.get(slug="ocd")
    page.goto(f"{seeded_live.url}/admin/indications/indication/{ocd.pk}/change/")
    label = page.locator("label[for=id_augments_class]").inner_text().rstrip(":").strip()
    box = page.locator("#id_augments_class + .select2 .select2-selection")
    expect(box).to_have_accessible_name(re.compile(rf"^{re.escape(label)}:? \S"))  # label, then the value
    box.click()
    search = page.locator(".select2-container--open .select2-search__field")
    expect(search).to_have_accessible_name(f"Search {label}")
    search.fill("NMDA")
    page.locator(".select2-results__option", has_text="NMDA").first.click()
    expect(page.locator("#id_augments_class option:checked")).to_contain_text("NMDA")
    expect(box).to_have_accessible_name(re.compile(rf"^{re.escape(label)}:? .*NMDA"))
    sources = page.locator("#id_sources + .select2 .select2-search__field")
    expect(sources).to_have_accessible_name(page.locator("label[for=id_sources]").inner_text().rstrip(":"))


def test_a_row_added_to_a_tabular_inline_is_labelled_too(editor_page, seeded_live):
    page = editor_page
    drug = Drug.objects.filter(classes__isnull=False).order_by("pk").first()
    page.goto(f"{seeded_live.url}/admin/indications/drug/{drug.pk}/change/")
    rows = page.locator(".tabular tbody tr.form-row:not(.empty-form)")
    before = rows.count()
    page.locator(".tabular .add-row a").click()
    expect(rows).to_have_count(before + 1)
    expect(rows.last.locator("select").first).to_have_accessible_name(re.compile(r"\S"))
    assert serious_violations(page) == []


def test_the_lockout_page_after_wrong_passwords_is_plain_and_accessible(browser, seeded_live):
    User.objects.create_user("rita", password=PASSWORD, is_staff=True)
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    page.goto(seeded_live.url + "/admin/login/")
    for attempt in range(5):
        page.get_by_label("Username").fill("rita")
        page.get_by_label("Password").fill(f"wrong-{attempt}")
        with page.expect_response(lambda response: response.request.method == "POST") as posted:
            page.get_by_role("button", name="Log in").click()
    assert posted.value.status == 429
    expect(page.get_by_role("heading", name="This account is locked for a while")).to_be_visible()
    expect(page.locator("main")).to_contain_text("ask an administrator")
    assert serious_violations(page) == []
    context.close()
