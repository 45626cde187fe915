"""Real Chromium: an editor changes a rating in admin, a second reviewer sees it on the publish page
as before and after values, highlighted as a clinical change, and publishes it; clinicians read it
under "What changed"."""

import pytest
from django.contrib.auth.models import Group, User
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-password-123"


def make_user(name: str, group: str) -> None:
    user = User.objects.create_user(name, password=PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name=group))


def log_in(page, live_server, name: str) -> None:
    page.goto(live_server.url + "/admin/logout/")
    page.goto(live_server.url + "/admin/login/?next=/admin/")
    page.get_by_label("Username").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Curate the catalogue")).to_be_visible()


def test_the_publish_page_shows_a_rating_change_b_to_c_before_and_after(page, seeded_live):
    make_user("erin-editor", "Editors")
    make_user("rob-reviewer", "Reviewers")

    log_in(page, seeded_live, "erin-editor")
    page.goto(seeded_live.url + "/admin/indications/indication/?q=obsessive")
    page.get_by_role("link", name="Obsessive-compulsive disorder (SSRI augmentation)").click()
    page.locator("#id_strength_of_evidence").select_option("C")
    page.locator("input[name=_save]").first.click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")

    # POST /admin/logout/ (Django 5 logs out on POST only): use the admin's own logout button.
    page.goto(seeded_live.url + "/admin/")
    page.locator("#logout-form button").click()
    log_in(page, seeded_live, "rob-reviewer")
    page.goto(seeded_live.url + "/catalogue/publish")
    row = page.locator('tr[data-field="strength_of_evidence"]')
    expect(row).to_have_class("table-warning clinical-change")
    expect(row.get_by_test_id("before")).to_have_text("B: limited or conflicting randomised evidence")
    expect(row.get_by_test_id("after")).to_have_text(
        "C: non-randomised studies, case series or expert opinion"
    )
    expect(row).to_contain_text("Clinical: rating")
    expect(row).to_contain_text("erin-editor")
    expect(page.get_by_test_id("clinical-lines")).to_contain_text(
        "Indication ocd: strength of evidence B → C."
    )

    page.get_by_label("Summary of the changes for clinicians").fill("OCD evidence re-rated C.")
    page.get_by_role("button", name="Approve and publish").click()
    expect(page.get_by_role("status")).to_contain_text("Published release")

    page.goto(seeded_live.url + "/about")
    page.get_by_role("link", name="What changed in each release").click()
    expect(page.get_by_test_id("clinical-changes").first).to_contain_text("strength of evidence B → C")
    expect(page.locator("main")).to_contain_text("OCD evidence re-rated C.")
