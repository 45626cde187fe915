"""Editorial workflow as scenarios: roles, publishing with checks and the two-person rule, previews,
history, reproducible releases, review dates."""

import datetime
import io
import json
import re

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from indications.models import CatalogueRelease, Indication, ReleaseImmutable, Source
from indications.services import (
    DEMO_PASSWORD,
    PublishRefused,
    publish_release,
    review_draft,
    setup_roles,
)

pytestmark = pytest.mark.django_db


def edit_ocd_summary(user: User, text: str) -> Indication:
    """An editor's change, attributed to them as admin would (simple-history's request user)."""
    ocd = Indication.objects.get(slug="ocd")
    ocd.evidence_summary = text
    ocd._history_user = user
    ocd.save()
    return ocd


def publish_reviewed(**kwargs) -> CatalogueRelease:
    """Publish as a reviewer does: after being shown the draft (its hash travels with the request)."""
    return publish_release(**kwargs, reviewed_hash=review_draft().draft_hash)


def publish_form(client, **data):
    """The publish page as a reviewer sees it, then its form posted with the draft hash it carried."""
    page = client.get("/catalogue/publish").content.decode()
    draft_hash = re.search(r'name="draft_hash" value="([0-9a-f]{64})"', page).group(1)
    return client.post("/catalogue/publish", {"draft_hash": draft_hash, **data})


def assess_api(client, body=None, **params):
    url = "/api/v1/assess"
    if params:
        url += "?" + "&".join(f"{k}={v}" for k, v in params.items())
    return client.post(url, json.dumps(body or {"indications": ["ocd"]}), content_type="application/json")


# ------------------------------------------------------------------ roles


def test_setup_roles_is_idempotent_and_creates_no_accounts_by_default():
    before = User.objects.count()
    setup_roles()
    setup_roles()
    assert set(Group.objects.values_list("name", flat=True)) >= {"Editors", "Reviewers", "Auditors"}
    assert User.objects.count() == before
    perms = lambda name: set(Group.objects.get(name=name).permissions.values_list("codename", flat=True))  # noqa: E731
    assert "publish_release" in perms("Reviewers") and "publish_release" not in perms("Editors")
    assert "change_indication" in perms("Editors")
    assert {p for p in perms("Auditors") if not p.startswith("view_")} == set()
    assert "view_historicalindication" in perms("Auditors")


@override_settings(DEBUG=True)  # --demo runs only in development (tests/web/test_accounts.py)
def test_demo_accounts_only_when_asked():
    out = io.StringIO()
    call_command("setup_roles", "--demo", stdout=out)
    assert User.objects.get(username="reviewer").groups.filter(name="Reviewers").exists()
    assert User.objects.get(username="editor").check_password(DEMO_PASSWORD)
    assert "Demo accounts created" in out.getvalue()


@pytest.mark.parametrize("url", ["/catalogue/", "/catalogue/publish", "/catalogue/preview"])
def test_anonymous_is_sent_to_login(client, url):
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))


def test_editor_can_preview_but_not_publish(client, editor):
    client.force_login(editor)
    assert client.get("/catalogue/").status_code == 200
    assert client.get("/catalogue/preview").status_code == 200
    assert client.get("/catalogue/publish").status_code == 403
    assert client.post("/catalogue/publish", {"change_summary": "x"}).status_code == 403
    assert CatalogueRelease.objects.count() == 1


def test_reviewer_can_open_the_publish_page(client, reviewer):
    client.force_login(reviewer)
    response = client.get("/catalogue/publish")
    assert response.status_code == 200
    assert "Approve and publish" in response.content.decode()


def test_auditor_reads_everything_and_changes_nothing(client, auditor):
    client.force_login(auditor)
    ocd = Indication.objects.get(slug="ocd")
    assert client.get(reverse("admin:indications_indication_changelist")).status_code == 200
    assert client.get(reverse("admin:indications_indication_change", args=[ocd.pk])).status_code == 200
    assert client.get(reverse("admin:indications_indication_history", args=[ocd.pk])).status_code == 200
    response = client.post(reverse("admin:indications_indication_change", args=[ocd.pk]), {"name": "Changed"})
    assert response.status_code == 403
    assert client.get(reverse("admin:indications_indication_add")).status_code == 403
    assert client.post("/catalogue/publish", {"change_summary": "x"}).status_code == 403
    ocd.refresh_from_db()
    assert ocd.name != "Changed"


# ------------------------------------------------------------------ publishing


def test_publishing_changes_what_clinicians_and_the_api_see(client, editor, reviewer):
    old_version = assess_api(client).json()["catalogue_version"]
    edit_ocd_summary(editor, "Revised OCD summary: one more negative RCT.")

    # Before publishing: clinicians still see the old text; the preview shows the draft, marked.
    assert "Revised OCD summary" not in client.get("/").content.decode()
    client.force_login(editor)
    preview = client.post("/catalogue/preview", {"region": "us", "formulation": "ir", "indications": ["ocd"]})
    html = preview.content.decode()
    assert "Revised OCD summary" in html and "Preview of the draft catalogue" in html
    client.logout()

    client.force_login(reviewer)
    pending = client.get("/catalogue/").content.decode()
    assert "Evidence summary" in pending and "erin-editor" in pending
    response = publish_form(client, change_summary="OCD summary revised")
    assert response.status_code == 302
    client.logout()

    release = CatalogueRelease.objects.latest()
    assert (release.number, release.published_by, release.change_summary) == (
        2,
        reviewer,
        "OCD summary revised",
    )
    data = assess_api(client).json()
    assert data["catalogue_version"] == release.version != old_version
    assert data["indications"][0]["summary"] == "Revised OCD summary: one more negative RCT."
    assert "Revised OCD summary" in client.get("/").content.decode()
    assert client.get("/healthz").json()["catalogue_version"] == release.version


def test_an_old_release_reproduces_its_old_answer(client, editor, reviewer):
    first = assess_api(client).json()
    edit_ocd_summary(editor, "A different summary.")
    publish_reviewed(user=reviewer, change_summary="edit")
    again = assess_api(client, catalogue_version=first["catalogue_version"]).json()
    assert again == first
    assert assess_api(client).json()["indications"][0]["summary"] == "A different summary."
    unknown = assess_api(client, catalogue_version="1999-01-01.9")
    assert unknown.status_code == 400 and "catalogue_version" in unknown.json()["errors"]


def test_two_person_rule(editor, reviewer, reviewer2, settings):
    edit_ocd_summary(reviewer, "Changed by the reviewer alone.")
    with pytest.raises(PublishRefused) as refused:
        publish_reviewed(user=reviewer, change_summary="my own change")
    assert any("Two-person rule" in p for p in refused.value.problems)
    assert CatalogueRelease.objects.count() == 1
    release = publish_reviewed(user=reviewer2, change_summary="second pair of eyes")
    assert release.number == 2


def test_two_person_rule_allows_publishing_someone_elses_change(editor, reviewer):
    edit_ocd_summary(editor, "Changed by an editor.")
    assert publish_reviewed(user=reviewer, change_summary="joint change").number == 2


def test_two_person_rule_can_be_switched_off(reviewer, settings):
    settings.CATALOGUE_TWO_PERSON_RULE = False
    edit_ocd_summary(reviewer, "Single-handed.")
    assert publish_reviewed(user=reviewer, change_summary="small team").number == 2


def test_failed_checks_block_publishing_with_the_messages(client, editor, reviewer):
    ocd = Indication.objects.get(slug="ocd")
    ocd.sources.clear()
    edit_ocd_summary(editor, "Now citing Sepehrmanesh 2022, which is unpublished.")
    client.force_login(reviewer)
    response = publish_form(client, change_summary="broken")
    html = response.content.decode()
    assert response.status_code == 400
    assert "Publishing was refused" in html
    assert (
        "Indication “Obsessive-compulsive disorder (SSRI augmentation)” has no source with a web address."
        in html
    )
    assert "cites the unpublished study Sepehrmanesh 2022" in html
    assert CatalogueRelease.objects.count() == 1


def test_nothing_to_publish_and_a_summary_is_required(reviewer, editor):
    with pytest.raises(PublishRefused) as refused:
        publish_reviewed(user=reviewer, change_summary="")
    problems = " ".join(refused.value.problems)
    assert "Describe the changes" in problems and "Nothing has changed since release" in problems


def test_editor_cannot_publish_through_the_service_either(editor):
    edit_ocd_summary(editor, "x")
    with pytest.raises(PublishRefused, match="permission"):
        publish_reviewed(user=editor, change_summary="sneaky")


def test_only_the_first_release_may_be_published_without_a_reviewer(editor):
    edit_ocd_summary(editor, "x")
    with pytest.raises(PublishRefused, match="named reviewer"):
        publish_reviewed(user=None, change_summary="script")


def test_check_catalogue_command():
    call_command("check_catalogue", stdout=io.StringIO())
    Indication.objects.get(slug="ptsd").sources.clear()
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 problem"):
        call_command("check_catalogue", stdout=io.StringIO(), stderr=err)
    assert "Post-traumatic stress disorder" in err.getvalue()


def test_releases_are_immutable():
    release = CatalogueRelease.objects.get()
    release.change_summary = "rewritten history"
    with pytest.raises(ReleaseImmutable):
        release.save()
    with pytest.raises(ReleaseImmutable):
        release.delete()


# ------------------------------------------------------------------ history and review dates


def test_admin_edits_leave_history_with_who_and_what(client, editor):
    client.force_login(editor)
    source = Source.objects.get(key="nice-ng97")
    url = reverse("admin:indications_source_change", args=[source.pk])
    response = client.post(
        url,
        {
            "key": source.key,
            "label": "NICE NG97 (2018), dementia",
            "url": source.url,
            "kind": source.kind,
            "version": "checked 2026-11",
            "notes": "",
        },
    )
    assert response.status_code == 302
    record = source.history.first()
    assert record.history_user == editor and record.history_type == "~"
    history = client.get(reverse("admin:indications_source_history", args=[source.pk])).content.decode()
    assert "NICE NG97 (2018), dementia" in history and "erin-editor" in history
    # The changed field is listed with its old and new values.
    assert re.search(r"<strong>Label:</strong>\s*NICE NG97 Dementia", history)


def test_review_overdue_shows_to_clinicians_and_in_the_admin_filter(client, editor, reviewer):
    ptsd = Indication.objects.get(slug="ptsd")
    ptsd.last_reviewed = datetime.date(2024, 1, 1)
    ptsd.next_review_due = timezone.localdate() - datetime.timedelta(days=1)
    ptsd._history_user = editor
    ptsd.save()
    publish_reviewed(user=reviewer, change_summary="PTSD review date passed")
    html = client.post("/", {"region": "us", "formulation": "ir", "indications": ["ptsd"]}).content.decode()
    assert "Review overdue:" in html
    data = assess_api(client, {"indications": ["ptsd", "ocd"]}).json()
    overdue = {i["slug"]: i["review_overdue"] for i in data["indications"]}
    assert overdue == {"ocd": False, "ptsd": True}
    client.force_login(reviewer)
    listing = client.get(
        reverse("admin:indications_indication_changelist"), {"review": "overdue"}
    ).content.decode()
    assert "Post-traumatic stress disorder" in listing and "Fibromyalgia" not in listing
