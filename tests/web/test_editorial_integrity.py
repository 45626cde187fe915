"""Editorial integrity, each door tried as the attack: the request an auditor, a lone reviewer or
someone with database access would send, and what must hold afterwards."""

import json
import re
import threading

import pytest
from django.contrib import admin
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from indications import snapshot as snapshot_module
from indications.db_guards import release_guards_lifted
from indications.engine.checks import dose_limit_problems
from indications.models import (
    EDITORIAL_MODELS,
    CatalogueRelease,
    DoseRegimen,
    DraftApproval,
    Indication,
    LabelledLimit,
    ReleaseImmutable,
    RenalRule,
    Source,
    StandardFlag,
)
from indications.services import PublishRefused, approve_draft, publish_release, review_draft
from indications.snapshot import ReleaseIntegrityError, build_snapshot, content_hash
from tests.conftest import seed_database
from tests.web.conftest import make_user

pytestmark = pytest.mark.django_db


def save_as(obj, user, **fields):
    for name, value in fields.items():
        setattr(obj, name, value)
    obj._history_user = user
    obj.save()
    return obj


def publish(user, summary="a reviewed change"):
    return publish_release(user=user, change_summary=summary, reviewed_hash=review_draft().draft_hash)


def draft_state() -> tuple[str, int]:
    """What clinicians would get, and how many history records exist: both unchanged by a refused write."""
    history = sum(m.history.count() for m in EDITORIAL_MODELS)
    return content_hash(build_snapshot()), history


# ------------------------------------------------------------------ the auditor writes nothing, anywhere

EDITORIAL_ADMIN = [m for m in EDITORIAL_MODELS if m in admin.site._registry]


@pytest.mark.parametrize("model", EDITORIAL_ADMIN, ids=lambda m: m.__name__)
def test_an_auditor_gets_403_on_every_write_door(client, auditor, model):
    client.force_login(auditor)
    opts = model._meta
    obj = model.objects.first()
    record = obj.history.order_by("history_id").first()
    name = f"admin:{opts.app_label}_{opts.model_name}"
    before = draft_state()
    doors = {
        "add": reverse(f"{name}_add"),
        "change": reverse(f"{name}_change", args=[obj.pk]),
        "delete": reverse(f"{name}_delete", args=[obj.pk]),
        "history revert": reverse(f"{name}_simple_history", args=[obj.pk, record.history_id]),
    }
    for door, url in doors.items():
        response = client.post(url, {"post": "yes", "name": "altered", "_change_history": "1"})
        assert response.status_code == 403, door
    bulk = client.post(
        reverse(f"{name}_changelist"),
        {"action": "delete_selected", "_selected_action": [obj.pk], "post": "yes"},
    )
    assert bulk.status_code == 403
    assert draft_state() == before
    assert model.objects.filter(pk=obj.pk).exists()


def test_an_auditor_reverting_through_the_history_form_changes_nothing(client, auditor, editor):
    """The door the issue names: simple-history's history form saved on POST with view permission."""
    ocd = save_as(Indication.objects.get(slug="ocd"), editor, evidence_summary="Edited once.")
    first = ocd.history.order_by("history_id").first()
    client.force_login(auditor)
    url = reverse("admin:indications_indication_simple_history", args=[ocd.pk, first.history_id])
    assert client.get(url).status_code == 200  # reading the old version is allowed
    response = client.post(url, {"name": "Reverted by an auditor", "evidence_summary": "auditor text"})
    assert response.status_code == 403
    ocd.refresh_from_db()
    assert ocd.evidence_summary == "Edited once." and ocd.name != "Reverted by an auditor"


def test_the_catalogue_pages_refuse_an_auditor_too(client, auditor):
    client.force_login(auditor)
    assert client.post("/catalogue/publish", {"change_summary": "x", "approve": "1"}).status_code == 403
    assert client.post("/catalogue/publish", {"change_summary": "x"}).status_code == 403
    assert DraftApproval.objects.count() == 0 and CatalogueRelease.objects.count() == 1


def test_editors_cannot_change_the_labelled_limits(client, editor):
    client.force_login(editor)
    limit = LabelledLimit.objects.get(formulation="ir")
    url = reverse("admin:indications_labelledlimit_change", args=[limit.pk])
    response = client.post(url, {"formulation": "ir", "max_mg_per_day": 200, "strengths_mg": "5, 10"})
    assert response.status_code == 403
    limit.refresh_from_db()
    assert limit.max_mg_per_day == 20


# ------------------------------------------------------------------ the two-person rule counts real changes


def test_a_no_op_save_by_someone_else_does_not_satisfy_the_rule(client, reviewer, editor):
    regimen = DoseRegimen.objects.get(region="us", formulation="ir")
    save_as(regimen, reviewer, titration=regimen.titration + " Reviewed.")
    # An accomplice (or a habit) saves the same row through admin without changing anything.
    client.force_login(editor)
    page = client.get(reverse("admin:indications_doseregimen_change", args=[regimen.pk]))
    assert page.status_code == 200
    save_as(DoseRegimen.objects.get(pk=regimen.pk), editor)
    with pytest.raises(PublishRefused) as refused:
        publish(reviewer)
    assert "Two-person rule" in " ".join(refused.value.problems)
    assert "titration" in " ".join(refused.value.problems)
    assert CatalogueRelease.objects.count() == 1


def test_a_change_and_change_back_by_someone_else_does_not_count_either(reviewer, editor):
    ocd = Indication.objects.get(slug="ocd")
    original = ocd.evidence_summary
    save_as(ocd, reviewer, strength_of_evidence="A")
    save_as(ocd, editor, evidence_summary=original + " x")
    save_as(ocd, editor, evidence_summary=original)
    review = review_draft()
    assert [(c.field, c.changed_by) for c in review.changes] == [("strength_of_evidence", "rita-reviewer")]
    with pytest.raises(PublishRefused, match="strength of evidence"):
        publish(reviewer)


def test_each_field_is_attributed_to_who_set_its_value(reviewer, editor):
    ocd = Indication.objects.get(slug="ocd")
    save_as(ocd, editor, evidence_summary="The editor's summary.")
    save_as(ocd, reviewer, recommendation="not-recommended")
    changes = {c.field: c.changed_by for c in review_draft().changes}
    assert changes == {"evidence_summary": "erin-editor", "recommendation": "rita-reviewer"}
    with pytest.raises(PublishRefused) as refused:
        publish(reviewer)
    problems = " ".join(refused.value.problems)
    assert "recommendation" in problems and "evidence summary" not in problems


def test_a_source_added_to_a_flag_is_attributed_through_its_many_to_many_history(reviewer, editor):
    flag = StandardFlag.objects.filter(is_published=True).first()
    flag._history_user = reviewer
    flag.sources.add(Source.objects.get(key="nice-ng97"))
    save_as(StandardFlag.objects.get(pk=flag.pk), editor)  # a no-op save by someone else
    [change] = review_draft().changes
    assert (change.field, change.changed_by) == ("sources", "rita-reviewer")
    with pytest.raises(PublishRefused, match="Two-person rule"):
        publish(reviewer)


def test_a_change_made_outside_admin_needs_someone_elses_approval(reviewer, reviewer2):
    # A queryset update leaves no history record: nobody can be credited with it.
    DoseRegimen.objects.filter(region="us", formulation="ir").update(regimen="10 mg twice daily, with food")
    [change] = review_draft().changes
    assert change.changed_by == "" and change.clinical == "dose"
    with pytest.raises(PublishRefused, match="no one recorded"):
        publish(reviewer)
    approve_draft(user=reviewer2, reviewed_hash=review_draft().draft_hash)
    assert publish(reviewer).number == 2


def test_a_second_reviewer_approves_and_the_author_publishes(client, reviewer, reviewer2):
    save_as(Indication.objects.get(slug="ocd"), reviewer, strength_of_evidence="C")
    with pytest.raises(PublishRefused):
        publish(reviewer)
    # Approving your own change counts for nothing.
    with pytest.raises(PublishRefused, match="Every change in the draft is yours"):
        approve_draft(user=reviewer, reviewed_hash=review_draft().draft_hash)
    client.force_login(reviewer2)
    page = client.get("/catalogue/publish").content.decode()
    draft_hash = re.search(r'name="draft_hash" value="([0-9a-f]{64})"', page).group(1)
    assert client.post("/catalogue/publish", {"draft_hash": draft_hash, "approve": "1"}).status_code == 302
    [change] = review_draft().changes
    assert change.approved_by == ["rob-reviewer"]
    # A later change to the approved field by the author needs approving again.
    save_as(Indication.objects.get(slug="ocd"), reviewer, strength_of_evidence="none")
    with pytest.raises(PublishRefused, match="Two-person rule"):
        publish(reviewer)
    # Back to the value approved: the approval covers it again.
    save_as(Indication.objects.get(slug="ocd"), reviewer, strength_of_evidence="C")
    release = publish(reviewer)
    assert release.number == 2 and release.published_by == reviewer


# ------------------------------------------------------------------ publishing exactly what was reviewed


def test_publishing_a_stale_draft_is_refused_and_the_new_difference_shown(client, editor, reviewer):
    save_as(Indication.objects.get(slug="ocd"), editor, evidence_summary="Reviewed text.")
    client.force_login(reviewer)
    page = client.get("/catalogue/publish").content.decode()
    shown_hash = re.search(r'name="draft_hash" value="([0-9a-f]{64})"', page).group(1)
    shown_at = re.search(r'name="reviewed_at" value="([^"]+)"', page).group(1)
    # After the page was shown, the editor changes a dose.
    regimen = DoseRegimen.objects.get(region="us", formulation="ir")
    save_as(regimen, editor, max_mg_per_day=15)
    response = client.post(
        "/catalogue/publish", {"draft_hash": shown_hash, "reviewed_at": shown_at, "change_summary": "ok"}
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "The draft changed since you reviewed it" in html
    assert "changed since you loaded the page" in html
    assert re.search(r'data-field="max_mg_per_day".*?<td data-testid="before">20</td>', html, re.S)
    assert CatalogueRelease.objects.count() == 1


def test_publishing_without_the_reviewed_hash_is_refused(editor, reviewer):
    save_as(Indication.objects.get(slug="ocd"), editor, evidence_summary="Changed.")
    with pytest.raises(PublishRefused, match="publishing needs the draft you were shown"):
        publish_release(user=reviewer, change_summary="blind")
    with pytest.raises(PublishRefused, match="changed since you reviewed it"):
        publish_release(user=reviewer, change_summary="forged", reviewed_hash="0" * 64)


# ------------------------------------------------------------------ clinical sanity


def test_a_200_mg_maximum_is_refused_at_publishing(editor, reviewer):
    regimen = DoseRegimen.objects.get(region="us", formulation="ir")
    save_as(regimen, editor, max_mg_per_day=200)
    with pytest.raises(PublishRefused) as refused:
        publish(reviewer)
    assert (
        "Regimen US IR: the maximum (200 mg/day) is above the labelled maximum for IR (20 mg/day)."
        in refused.value.problems
    )


def test_doses_not_made_of_the_strengths_and_renal_starts_above_the_maximum(editor, reviewer):
    xr = DoseRegimen.objects.get(region="us", formulation="xr")
    save_as(xr, editor, start_mg_per_day=10)
    severe = RenalRule.objects.get(regimen__region="us", regimen__formulation="ir", band="severe")
    save_as(severe, editor, max_mg_per_day=4, start_mg_per_day=None)
    with pytest.raises(PublishRefused) as refused:
        publish(reviewer)
    problems = refused.value.problems
    assert (
        "Regimen US XR: the start (10 mg/day) cannot be made of the available XR strengths"
        " (7, 14, 21, 28 mg)." in problems
    )
    assert "Renal rule US IR severe: the start (5 mg/day) is above its maximum (4 mg/day)." in problems


# ------------------------------------------------------------------ immutability below the application


def test_releases_refuse_update_and_delete_through_the_orm():
    with pytest.raises(ReleaseImmutable):
        CatalogueRelease.objects.update(change_summary="rewritten")
    with pytest.raises(ReleaseImmutable):
        CatalogueRelease.objects.all().delete()
    assert CatalogueRelease.objects.get().change_summary.startswith("Seed catalogue")


SQL_ATTACKS = {
    "update": "UPDATE indications_cataloguerelease SET snapshot = '{}', content_hash = 'x'",
    "delete": "DELETE FROM indications_cataloguerelease",
}


@pytest.mark.parametrize("attack", [*SQL_ATTACKS, "truncate-or-delete-all"])
def test_releases_refuse_update_and_delete_through_raw_sql(attack):
    sql = SQL_ATTACKS.get(attack)
    if sql is None:  # PostgreSQL has TRUNCATE (its own trigger); SQLite's equivalent is an unqualified DELETE
        sql = (
            "TRUNCATE indications_cataloguerelease CASCADE"
            if connection.vendor == "postgresql"
            else "DELETE FROM indications_cataloguerelease WHERE 1"
        )
    release = CatalogueRelease.objects.get()
    with pytest.raises(DatabaseError, match="immutable"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)
    assert (
        CatalogueRelease.objects.get().content_hash == release.content_hash == content_hash(release.snapshot)
    )


def tamper(sql: str, *params) -> None:
    with (
        release_guards_lifted(connection),
        connection.cursor() as cursor,
    ):  # as someone with the DB owner's rights
        cursor.execute(sql, params)
    snapshot_module._loaded.clear()  # a process that has not loaded the release yet


@pytest.mark.parametrize("what", ["content", "hash"])
def test_a_release_whose_content_or_hash_was_altered_is_refused_everywhere(client, what):
    release = CatalogueRelease.objects.get()
    if what == "content":
        altered = json.loads(json.dumps(release.snapshot))
        altered["regimens"][0]["max_mg_per_day"] = 200
        tamper("UPDATE indications_cataloguerelease SET snapshot = %s", json.dumps(altered))
    else:
        tamper("UPDATE indications_cataloguerelease SET content_hash = %s", "0" * 64)

    page = client.post("/", {"region": "us", "formulation": "ir", "indications": ["ocd"]})
    assert page.status_code == 503 and release.version in page.content.decode()
    assert (
        "200"
        not in re.sub(r"<[^>]+>", "", page.content.decode()).split("failed its integrity check")[0][-50:]
    )
    api = client.post("/api/v1/assess", json.dumps({"indications": ["ocd"]}), content_type="application/json")
    assert api.status_code == 503 and api.json()["catalogue_version"] == release.version
    assert "integrity check" in api.json()["errors"]["catalogue"][0]
    pdf = client.post(
        "/api/v1/summary.pdf", json.dumps({"indications": ["ocd"]}), content_type="application/json"
    )
    assert pdf.status_code == 503
    health = client.get("/healthz")
    assert health.status_code == 503 and release.version in health.json()["catalogue"]


# ------------------------------------------------------------------ what the reviewer and clinicians see


def test_clinical_changes_are_highlighted_and_listed_for_clinicians(client, editor, reviewer):
    ocd = Indication.objects.get(slug="ocd")
    save_as(
        ocd, editor, strength_of_evidence="C", evidence_summary=ocd.evidence_summary + " One more sentence."
    )
    flag = StandardFlag.objects.filter(is_published=True, severity="warning").first()
    save_as(flag, editor, severity="critical", verdict="caution")
    client.force_login(reviewer)
    html = client.get("/catalogue/publish").content.decode()
    row = re.search(
        r'<tr class="[^"]*clinical-change[^"]*" data-field="strength_of_evidence">(.*?)</tr>', html, re.S
    )
    assert row and "Clinical: rating" in row.group(1)
    assert "B: limited or conflicting randomised evidence" in row.group(1)
    assert "C: non-randomised studies" in row.group(1)
    assert 'data-field="severity"' in html and "Clinical: severity" in html
    assert "<ins>One more sentence.</ins>" in html  # a long text as a word-level difference
    assert "erin-editor" in html and "/history/" in html
    release = publish(reviewer, "OCD downgraded; a flag made critical")
    assert "Indication ocd: strength of evidence B → C." in release.clinical_changes
    assert any("severity warning → critical" in line for line in release.clinical_changes)
    notes = client.get("/changes").content.decode()
    assert "OCD downgraded; a flag made critical" in notes and "strength of evidence B → C" in notes
    assert reverse("indications:what_changed") in client.get("/about").content.decode()


def test_new_records_start_unpublished_and_flag_texts_have_a_clinicians_name(client, editor):
    for model in EDITORIAL_MODELS:
        if any(f.name == "is_published" for f in model._meta.fields):
            assert model._meta.get_field("is_published").default is False, model.__name__
    client.force_login(editor)
    index = client.get(reverse("admin:index")).content.decode()
    assert "Flag texts" in index and "Standard flags" not in index


# ------------------------------------------------------------------ two publications at once


@pytest.mark.django_db(transaction=True)
def test_two_reviewers_publishing_at_once_give_one_release_and_one_refusal():
    if not CatalogueRelease.objects.exists():
        seed_database()
    editor = make_user("erin-editor", "Editors")
    reviewers = [make_user("rita-reviewer", "Reviewers"), make_user("rob-reviewer", "Reviewers")]
    save_as(Indication.objects.get(slug="ocd"), editor, evidence_summary="A change both review.")
    reviewed = review_draft().draft_hash
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def publish_as(user):
        try:
            barrier.wait()
            outcomes.append(publish_release(user=user, change_summary="same change", reviewed_hash=reviewed))
        except PublishRefused as refused:
            outcomes.append(refused)
        except Exception as error:  # anything else would be a 500
            outcomes.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=publish_as, args=(u,)) for u in reviewers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    releases = [o for o in outcomes if isinstance(o, CatalogueRelease)]
    refusals = [o for o in outcomes if isinstance(o, PublishRefused)]
    assert (len(releases), len(refusals)) == (1, 1), outcomes
    assert CatalogueRelease.objects.count() == 2
    assert "published" in " ".join(refusals[0].problems) or "changed since" in " ".join(refusals[0].problems)


def test_a_release_from_before_field_level_review_needs_a_second_reviewer_for_the_whole_draft(
    client, editor, reviewer, reviewer2
):
    """A database upgraded from an earlier version: its release has no editorial state to compare
    fields with, and no signature (it was published before releases were signed)."""
    with release_guards_lifted(connection), connection.cursor() as cursor:  # as the earlier version left it
        cursor.execute(
            "UPDATE indications_cataloguerelease SET editorial_state = NULL, editorial_state_hash = '',"
            " signature = ''"
        )
    snapshot_module._loaded.clear()
    assert client.get("/healthz").status_code == 200  # an unsigned release no signed one precedes
    save_as(Indication.objects.get(slug="ocd"), editor, evidence_summary="Edited after the upgrade.")
    review = review_draft()
    assert not review.baseline_known
    client.force_login(reviewer)
    page = client.get("/catalogue/publish").content.decode()
    assert "before field-level review" in page and "Indication changed: ocd (evidence_summary)" in page
    with pytest.raises(PublishRefused, match="the whole draft"):
        publish(reviewer)
    approve_draft(user=reviewer2, reviewed_hash=review_draft().draft_hash)
    release = publish(reviewer)
    assert release.number == 2 and release.editorial_state is not None and release.signature


def test_admin_refuses_a_dose_above_the_label_beside_the_field(client, editor):
    client.force_login(editor)
    regimen = DoseRegimen.objects.get(region="us", formulation="ir")
    url = reverse("admin:indications_doseregimen_change", args=[regimen.pk])
    form = client.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(
        {
            "sources": [s.pk for s in regimen.sources.all()],
            "max_mg_per_day": 200,
            "renal_rules-TOTAL_FORMS": 0,
            "renal_rules-INITIAL_FORMS": 0,
        }
    )
    response = client.post(url, data)
    assert response.status_code == 200
    assert "Above the labelled maximum for this formulation (20 mg/day)." in response.content.decode()
    regimen.refresh_from_db()
    assert regimen.max_mg_per_day == 20


def test_a_catalogue_from_before_labelled_limits_gets_them_by_migration():
    from importlib import import_module

    from django.apps import apps

    migration = import_module("indications.migrations.0006_labelled_limits_for_existing_catalogues")
    LabelledLimit.objects.all().delete()
    migration.create(apps, None)
    limits = {lim.formulation: lim for lim in LabelledLimit.objects.prefetch_related("sources")}
    assert (limits["ir"].max_mg_per_day, limits["ir"].strengths_mg) == (20, "5, 10")
    assert (limits["xr"].max_mg_per_day, limits["xr"].strengths_mg) == (28, "7, 14, 21, 28")
    assert {s.key for s in limits["xr"].sources.all()} == {"us-namenda-xr-label"}
    assert dose_limit_problems(build_snapshot()) == []


# ------------------------------------------------------------------ the cold attack review's doors


def test_edits_made_while_a_row_was_unpublished_are_reviewed_when_it_is_published(reviewer, editor):
    """The reviewer quietly removes topiramate's urine-alkaliniser class while the drug is unpublished
    (nobody sees it); later an editor publishes the drug. Its fields reach clinicians for the first
    time, so every one is a change, and the class removal is still the reviewer's."""
    from indications.models import Drug, DrugClass

    topiramate = Drug.objects.get(name="topiramate")
    assert not topiramate.is_published
    topiramate._history_user = reviewer
    topiramate.classes.remove(DrugClass.objects.get(code="urine-alkaliniser"))
    save_as(Source.objects.get(key="nice-ng97"), editor, label="NICE NG97 (checked)")
    assert publish(reviewer).number == 2  # the editor's change; the hidden edit is not released
    save_as(Drug.objects.get(pk=topiramate.pk), editor, is_published=True)
    changes = {c.field: c for c in review_draft().changes if c.model == "indications.drug"}
    assert changes["classes"].changed_by == "rita-reviewer" and changes["classes"].kind == "added"
    assert changes["is_published"].changed_by == "erin-editor"
    with pytest.raises(PublishRefused) as refused:
        publish(reviewer)
    assert "drug “topiramate”: classes" in " ".join(refused.value.problems)


def test_a_renal_rule_staged_unpublished_is_the_authors_when_it_goes_live(reviewer, editor):
    regimen = DoseRegimen.objects.get(region="us", formulation="ir")
    severe = RenalRule.objects.get(regimen=regimen, band="severe")
    staged = RenalRule(
        regimen=regimen,
        band="severe",
        crcl_min_ml_min=5,
        crcl_max_ml_min=30,
        dose_effect="standard",
        summary="Standard dose",
        is_published=False,
    )
    staged._history_user = reviewer
    staged.save()
    save_as(Source.objects.get(key="nice-ng97"), editor, label="NICE NG97 (checked)")
    assert publish(reviewer).number == 2
    save_as(severe, editor, is_published=False)
    save_as(RenalRule.objects.get(pk=staged.pk), editor, is_published=True)
    by_field = {c.field: c.changed_by for c in review_draft().changes if c.pk == str(staged.pk)}
    assert by_field["dose_effect"] == by_field["summary"] == "rita-reviewer"
    with pytest.raises(PublishRefused, match="Two-person rule"):
        publish(reviewer)


def test_a_change_written_without_a_save_is_not_credited_to_whoever_saves_next(client, reviewer, editor):
    from indications.models import InteractionRule

    rule = InteractionRule.objects.filter(is_published=True, severity="warning").first()
    InteractionRule.objects.filter(pk=rule.pk).update(severity="info")  # a script: no history record
    # The editor opens the rule in admin and saves it without changing anything.
    save_as(InteractionRule.objects.get(pk=rule.pk), editor)
    [change] = review_draft().changes
    assert (change.field, change.changed_by) == ("severity", "")
    with pytest.raises(PublishRefused, match="no one recorded"):
        publish(reviewer)


def test_an_approval_covers_only_what_was_on_the_approvers_page(client, reviewer, reviewer2, editor):
    save_as(Indication.objects.get(slug="ocd"), editor, evidence_summary="Shown to the approver.")
    shown = review_draft().draft_hash
    # A change that leaves the release content as it was (a source nothing published cites yet) but
    # is a change all the same: the approver was not shown it.
    cited = {s["key"] for s in build_snapshot()["sources"]}
    uncited = Source.objects.exclude(key__in=cited).first()
    save_as(uncited, reviewer, url="https://example.org/not-what-was-shown")
    with pytest.raises(PublishRefused, match="changed since you reviewed it"):
        approve_draft(user=reviewer2, reviewed_hash=shown)
    assert DraftApproval.objects.count() == 0


@pytest.mark.parametrize("reviewed_at", ["2024-02-30T00:00:00", "2024-02-01T00:00:00", "yesterday", ""])
def test_a_malformed_review_time_is_ignored_not_a_500(client, reviewer, reviewed_at):
    client.force_login(reviewer)
    for button in ("approve", "publish"):
        response = client.post(
            "/catalogue/publish", {"draft_hash": "0" * 64, "reviewed_at": reviewed_at, button: "1"}
        )
        assert response.status_code == 400


def test_what_decides_whether_a_flag_fires_is_a_clinical_change(reviewer, editor):
    from indications.models import Drug, DrugClass

    acetazolamide = Drug.objects.get(name="acetazolamide")
    acetazolamide._history_user = editor
    acetazolamide.classes.remove(DrugClass.objects.get(code="urine-alkaliniser"))
    flag = StandardFlag.objects.filter(is_published=True).first()
    save_as(flag, editor, detail=flag.detail + " Check the pulse before each increase.")
    changes = {(c.model, c.field): c for c in review_draft().changes}
    assert changes[("indications.drug", "classes")].clinical == "when it applies"
    assert changes[("indications.standardflag", "detail")].clinical == "flag wording"
    release = publish(reviewer, "acetazolamide reclassified")
    assert "Drug acetazolamide: drug classes" in " ".join(release.clinical_changes)
    assert any(line.endswith("reworded.") for line in release.clinical_changes)


def insert_release(**overrides) -> None:
    """Someone with the database's INSERT rights (not the application) adds a release."""
    latest = CatalogueRelease.objects.get()
    snapshot = json.loads(json.dumps(latest.snapshot))
    snapshot["regimens"][0]["max_mg_per_day"] = 40
    row = {
        "number": latest.number + 1,
        "version": "forged.2",
        "snapshot": json.dumps(snapshot),
        "content_hash": content_hash(snapshot),
        "published_at": latest.published_at,
        "change_summary": "routine",
        "clinical_changes": "[]",
        "editorial_state_hash": "",
        "signature": "",
        **overrides,
    }
    columns = ", ".join(row)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO indications_cataloguerelease ({columns}) VALUES ({', '.join(['%s'] * len(row))})",
            list(row.values()),
        )
    snapshot_module._loaded.clear()


@pytest.mark.parametrize("signature", ["", "0" * 64])
def test_a_release_inserted_in_the_database_with_a_consistent_hash_is_refused(client, signature):
    insert_release(signature=signature)
    api = client.post("/api/v1/assess", json.dumps({"indications": ["ocd"]}), content_type="application/json")
    assert api.status_code == 503 and api.json()["catalogue_version"] == "forged.2"
    health = client.get("/healthz")
    assert health.status_code == 503 and "forged.2" in health.json()["catalogue"]


def test_a_release_rewritten_consistently_with_the_triggers_dropped_is_refused(client):
    release = CatalogueRelease.objects.get()
    altered = json.loads(json.dumps(release.snapshot))
    altered["regimens"][0]["max_mg_per_day"] = 40
    tamper(
        "UPDATE indications_cataloguerelease SET snapshot = %s, content_hash = %s",
        json.dumps(altered),
        content_hash(altered),
    )
    assert client.get("/healthz").status_code == 503
    assert client.post("/", {"region": "us", "formulation": "ir"}).status_code == 503


def test_releases_verify_with_a_rotated_key_and_not_with_another(client, settings):
    settings.CATALOGUE_SIGNING_KEY_FALLBACKS = [settings.CATALOGUE_SIGNING_KEY]
    settings.CATALOGUE_SIGNING_KEY = "the-new-key"
    snapshot_module._loaded.clear()
    assert client.get("/healthz").status_code == 200
    settings.CATALOGUE_SIGNING_KEY_FALLBACKS = []
    snapshot_module._loaded.clear()
    assert client.get("/healthz").status_code == 503


def test_publishing_with_a_throw_away_signing_key_is_refused(settings, editor, reviewer):
    settings.CATALOGUE_SIGNING_KEY_STABLE = False
    save_as(Indication.objects.get(slug="ocd"), editor, evidence_summary="Changed.")
    with pytest.raises(PublishRefused, match="Set DJANGO_SECRET_KEY"):
        publish(reviewer)


@pytest.mark.parametrize("model", ["cataloguerelease", "draftapproval"])
def test_the_read_only_records_refuse_every_post(client, auditor, reviewer, model):
    for user in (auditor, reviewer):
        client.force_login(user)
        response = client.post(
            reverse(f"admin:indications_{model}_changelist"),
            {"action": "delete_selected", "_selected_action": [1], "post": "yes"},
        )
        assert response.status_code == 403
    assert CatalogueRelease.objects.count() == 1


def test_a_source_attached_from_its_own_side_is_credited_to_no_one(reviewer, editor):
    """source.indications.add(...) changes the indication's sources without a save of the indication,
    and leaves a history record on the source that saved nothing: it credits no one with anything
    (not even with a change written to the source earlier without a save)."""
    Source.objects.filter(key="nice-ng97").update(label="NICE NG97, relabelled by a script")
    source = Source.objects.get(key="nice-ng97")
    source._history_user = editor
    source.indications.add(Indication.objects.get(slug="ptsd"))
    by_field = {(c.model, c.field): c.changed_by for c in review_draft().changes}
    assert by_field == {("indications.indication", "sources"): "", ("indications.source", "label"): ""}


@pytest.mark.parametrize("path", ["abc/history/", "1/history/abc/", "abc/history/1/", "１/history/"])
def test_history_urls_with_a_non_number_are_not_found(client, auditor, path):
    client.force_login(auditor)
    assert client.get(f"/admin/indications/indication/{path}").status_code == 404


def test_a_release_that_fails_verification_is_never_a_review_baseline(client, editor, reviewer):
    """A forged release (inserted with a consistent hash but no valid signature) must not become
    the baseline a genuine release is compared with, which would launder its changes."""
    insert_release(signature="forged")
    save_as(Indication.objects.get(slug="ocd"), editor, evidence_summary="A typo fixed.")
    client.force_login(reviewer)
    page = client.get("/catalogue/publish")
    assert page.status_code == 503 and "forged.2" in page.content.decode()
    with pytest.raises(ReleaseIntegrityError):
        publish(reviewer)
    notes = client.get("/changes").content.decode()
    assert "forged.2" in notes and "failed its integrity check" in notes and "routine" not in notes


def test_the_draft_review_lists_what_a_second_attack_review_hid(reviewer, editor):
    """Emptied fields of a new row, and a released study moved under an unpublished draft, are the
    reviewer's, not the editor's."""
    from indications.models import Drug, DrugClass, Study

    drug = Drug(name="lanicemine", is_published=True)
    drug._history_user = editor
    drug.save()
    drug.classes.add(DrugClass.objects.get(code="nmda-antagonist"))
    drug._history_user = reviewer
    drug.classes.clear()
    draft = Indication.objects.get(slug="ocd")
    draft.pk = None
    draft.slug, draft.name, draft.is_published = "ocd-children", "OCD in children", False
    draft._history_user = editor
    draft.save()
    study = Study.objects.filter(indication__slug="ocd", is_published=True).first()
    save_as(study, reviewer, indication=draft)
    changes = review_draft().changes
    classes = next(c for c in changes if c.model == "indications.drug" and c.field == "classes")
    assert classes.changed_by == "rita-reviewer" and classes.after == []
    moved = [c for c in changes if c.model == "indications.study" and c.pk == str(study.pk)]
    assert moved and {c.changed_by for c in moved} == {"rita-reviewer"} and moved[0].clinical
    with pytest.raises(PublishRefused, match="Two-person rule"):
        publish(reviewer)


def test_an_approval_of_a_removal_does_not_cover_a_later_emptied_field(reviewer, reviewer2, editor):
    from indications.models import InteractionRule

    rule = InteractionRule.objects.filter(is_published=True, also_requires_class__isnull=False).first()
    save_as(rule, editor, is_published=False)
    approve_draft(user=reviewer2, reviewed_hash=review_draft().draft_hash)
    save_as(InteractionRule.objects.get(pk=rule.pk), reviewer, is_published=True, also_requires_class=None)
    emptied = next(c for c in review_draft().changes if c.field == "also_requires_class")
    assert emptied.approved_by == [] and emptied.changed_by == "rita-reviewer"
    with pytest.raises(PublishRefused, match="Two-person rule"):
        publish(reviewer)
