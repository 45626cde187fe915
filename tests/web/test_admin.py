"""Admin: every page renders for a superuser, anonymous users are sent to log in, and the editorial
validation messages appear."""

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.urls import reverse

from indications.models import (
    CatalogueRelease,
    DoseRegimen,
    DraftApproval,
    Indication,
    RenalRule,
    Source,
    Study,
)

pytestmark = pytest.mark.django_db

CATALOGUE_MODELS = [m for m in admin.site._registry if m._meta.app_label == "indications"]


@pytest.fixture
def superuser_client(client):
    user = User.objects.create_superuser("boss", "boss@example.org", "a-long-password-123")
    client.force_login(user)
    return client


def test_every_catalogue_model_is_in_admin():
    names = {m.__name__ for m in CATALOGUE_MODELS}
    assert names >= {
        "Source",
        "DrugClass",
        "Drug",
        "Indication",
        "Study",
        "DoseRegimen",
        "HepaticRule",
        "ConditionRule",
        "InteractionRule",
        "StandardFlag",
        "CatalogueRelease",
    }


@pytest.mark.parametrize("model", CATALOGUE_MODELS, ids=lambda m: m.__name__)
def test_changelist_change_form_and_history_render(superuser_client, model):
    opts = model._meta
    changelist = superuser_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    assert changelist.status_code == 200
    if model is DraftApproval:  # the seed has none: approvals are made on the publish page
        boss = User.objects.get(username="boss")
        release = CatalogueRelease.objects.first()
        DraftApproval.objects.create(base_release=release, approved_by=boss, draft_hash="0" * 64, changes=[])
    obj = model.objects.first()
    assert obj is not None, f"the seed has no {opts.model_name}"
    change = superuser_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]))
    assert change.status_code == 200
    history = superuser_client.get(
        reverse(f"admin:{opts.app_label}_{opts.model_name}_history", args=[obj.pk])
    )
    assert history.status_code == 200


def test_changelist_search_and_filters(superuser_client):
    url = reverse("admin:indications_indication_changelist")
    assert b"Obsessive" in superuser_client.get(url, {"q": "ocd"}).content
    assert superuser_client.get(url, {"review": "overdue"}).status_code == 200
    drugs = superuser_client.get(reverse("admin:indications_drug_changelist"), {"q": "Zoloft"})
    assert b"sertraline" in drugs.content


def test_drug_class_autocomplete(superuser_client):
    response = superuser_client.get(
        reverse("admin:autocomplete"),
        {"term": "ssr", "app_label": "indications", "model_name": "drug", "field_name": "classes"},
    )
    assert response.status_code == 200
    assert any(r["text"] == "SSRI" for r in response.json()["results"])


def test_anonymous_admin_is_sent_to_login(client):
    response = client.get(reverse("admin:indications_indication_changelist"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_releases_cannot_be_added_changed_or_deleted_in_admin(superuser_client):
    from indications.models import CatalogueRelease

    release = CatalogueRelease.objects.get()
    assert superuser_client.get(reverse("admin:indications_cataloguerelease_add")).status_code == 403
    url = reverse("admin:indications_cataloguerelease_change", args=[release.pk])
    response = superuser_client.post(url, {"change_summary": "tampered"})
    assert response.status_code == 403
    release.refresh_from_db()
    assert release.change_summary != "tampered"


# ------------------------------------------------------------------ validation messages


def regimen_formset_data(regimen, ranges):
    """Admin POST data for a regimen with the given (band, lo, lo_inc, hi, hi_inc) renal rules."""
    rules = list(regimen.renal_rules.order_by("crcl_min_ml_min"))
    source = regimen.sources.first()
    data = {
        "region": regimen.region,
        "formulation": regimen.formulation,
        "start_mg_per_day": regimen.start_mg_per_day,
        "max_mg_per_day": regimen.max_mg_per_day,
        "regimen": regimen.regimen,
        "titration": regimen.titration,
        "sources": [source.pk],
        "renal_rules-TOTAL_FORMS": len(rules),
        "renal_rules-INITIAL_FORMS": len(rules),
        "renal_rules-MIN_NUM_FORMS": 0,
        "renal_rules-MAX_NUM_FORMS": 1000,
    }
    for i, (rule, (band, lo, lo_inc, hi, hi_inc)) in enumerate(zip(rules, ranges, strict=True)):
        prefix = f"renal_rules-{i}-"
        data.update(
            {
                prefix + "id": rule.pk,
                prefix + "regimen": regimen.pk,
                prefix + "band": band,
                prefix + "crcl_min_ml_min": lo,
                prefix + "crcl_max_ml_min": "" if hi is None else hi,
                prefix + "dose_effect": rule.dose_effect,
                prefix + "start_mg_per_day": rule.start_mg_per_day or "",
                prefix + "max_mg_per_day": rule.max_mg_per_day or "",
                prefix + "regimen_text": rule.regimen_text,
                prefix + "titration": rule.titration,
                prefix + "summary": rule.summary,
                prefix + "flag_code": rule.flag_code,
                prefix + "severity": rule.severity,
                prefix + "title": rule.title,
                prefix + "detail": rule.detail,
                prefix + "sources": [s.pk for s in rule.sources.all()],
                prefix + "is_published": "on",
            }
        )
        if lo_inc:
            data[prefix + "lower_inclusive"] = "on"
        if hi_inc:
            data[prefix + "upper_inclusive"] = "on"
    return data


LABEL = [
    ("no-data", 0, True, 5, False),
    ("severe", 5, True, 30, False),
    ("moderate", 30, True, 50, False),
    ("mild", 50, True, 80, True),
    ("normal", 80, False, None, False),
]


def post_regimen(client, regimen, ranges):
    url = reverse("admin:indications_doseregimen_change", args=[regimen.pk])
    return client.post(url, regimen_formset_data(regimen, ranges))


def test_unchanged_renal_ranges_save(superuser_client):
    regimen = DoseRegimen.objects.get(region="us", formulation="ir")
    response = post_regimen(superuser_client, regimen, LABEL)
    assert response.status_code == 302, response.content.decode()[:3000]


def test_renal_range_gap_is_refused_with_a_clear_message(superuser_client):
    regimen = DoseRegimen.objects.get(region="us", formulation="ir")
    ranges = [*LABEL[:2], ("moderate", 31, True, 50, False), *LABEL[3:]]
    response = post_regimen(superuser_client, regimen, ranges)
    assert response.status_code == 200
    assert "Gap: nothing covers CrCl between 30 and 31 mL/min" in response.content.decode()
    assert RenalRule.objects.get(regimen=regimen, band="moderate").crcl_min_ml_min == 30


def test_renal_range_overlap_is_refused(superuser_client):
    regimen = DoseRegimen.objects.get(region="eu", formulation="ir")
    ranges = [*LABEL[:3], ("mild", 50, True, 80, True), ("normal", 80, True, None, False)]
    response = post_regimen(superuser_client, regimen, ranges)
    assert response.status_code == 200
    assert "Overlap: CrCl 80 mL/min falls in both" in response.content.decode()


def test_regimen_maximum_below_start_is_refused(superuser_client):
    regimen = DoseRegimen.objects.get(region="us", formulation="ir")
    data = regimen_formset_data(regimen, LABEL)
    data["max_mg_per_day"] = 2
    response = superuser_client.post(reverse("admin:indications_doseregimen_change", args=[regimen.pk]), data)
    assert "The maximum must be at least the starting dose." in response.content.decode()


def test_a_renal_start_above_the_regimens_start_is_refused_in_admin(superuser_client):
    regimen = DoseRegimen.objects.get(region="eu", formulation="ir")
    data = regimen_formset_data(regimen, LABEL)
    moderate = next(
        i for i, r in enumerate(regimen.renal_rules.order_by("crcl_min_ml_min")) if r.band == "moderate"
    )
    data[f"renal_rules-{moderate}-start_mg_per_day"] = 10
    response = superuser_client.post(reverse("admin:indications_doseregimen_change", args=[regimen.pk]), data)
    assert "A renal start cannot be above the regimen&#x27;s start (5 mg/day)." in response.content.decode()
    assert RenalRule.objects.get(regimen=regimen, band="moderate").start_mg_per_day == 5


def test_source_needs_an_http_url(superuser_client):
    response = superuser_client.post(
        reverse("admin:indications_source_add"),
        {
            "key": "bad-url",
            "label": "Bad",
            "url": "ftp://example.org/file",
            "kind": "study",
            "version": "",
            "notes": "",
        },
    )
    assert "Enter a web address starting with http:// or https://." in response.content.decode()
    assert not Source.objects.filter(key="bad-url").exists()


def test_indication_slug_must_be_well_formed(superuser_client):
    ocd = Indication.objects.get(slug="ocd")
    url = reverse("admin:indications_indication_change", args=[ocd.pk])
    page = superuser_client.get(url)
    assert page.status_code == 200
    response = superuser_client.post(url, {"slug": "Not a slug!", "name": "x"})
    assert "Enter a valid “slug”" in response.content.decode()
    ocd.refresh_from_db()
    assert ocd.slug == "ocd"


def test_study_needs_a_link(superuser_client):
    ocd = Indication.objects.get(slug="ocd")
    response = superuser_client.post(
        reverse("admin:indications_study_add"),
        {
            "indication": ocd.pk,
            "key": "nolink",
            "first_author": "Nobody",
            "year": 2020,
            "design": "randomised-controlled",
            "result": "negative",
            "finding": "x",
            "order": 0,
            "is_published": "on",
        },
    )
    assert "A published study needs a PMID or a DOI" in response.content.decode()
    assert not Study.objects.filter(key="nolink").exists()


def test_an_unpublished_draft_without_any_link_can_be_saved(superuser_client):
    """Seeded drafts awaiting verification have no link; editing their indication must still work."""
    ocd = Indication.objects.get(slug="ocd")
    response = superuser_client.post(
        reverse("admin:indications_study_add"),
        {
            "indication": ocd.pk,
            "key": "draft",
            "first_author": "Somebody",
            "design": "randomised-controlled",
            "result": "negative",
            "finding": "awaiting verification",
            "order": 0,
        },
    )
    assert response.status_code == 302
    assert Study.objects.get(key="draft").url == ""


def test_a_study_always_links_to_its_pmid_even_after_a_correction(superuser_client):
    study = Study.objects.filter(is_published=True).exclude(pmid="").first()
    study.url = "https://clinicaltrials.gov/study/NCT00000001"
    study.save()
    assert study.url == f"https://pubmed.ncbi.nlm.nih.gov/{study.pmid}/"
    study.pmid = "12345678"
    study.save()
    assert study.url == "https://pubmed.ncbi.nlm.nih.gov/12345678/"


def test_admin_index_links_to_releases(superuser_client):
    html = superuser_client.get(reverse("admin:index")).content.decode()
    assert f'href="{reverse("indications:releases")}"' in html
