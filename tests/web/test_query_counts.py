"""Query counts: the results request and the API use at most 3 queries, whatever the catalogue size;
building a snapshot takes a fixed number of queries."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from indications.models import Caveat, Drug, DrugClass, Guideline, Indication, Source, Study
from indications.snapshot import build_snapshot
from tests.catalogue_scaling import tenfold_release

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
FORM = {
    "region": "us",
    "formulation": "ir",
    "crcl_ml_min": "25",
    "medications": "Zoloft, warfarin",
    "creatinine_unit": "mg/dL",
}


def count(client, method, *args, **kwargs) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = getattr(client, method)(*args, **kwargs)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_results_request_queries_are_few_and_do_not_grow_with_the_catalogue(
    client, django_assert_num_queries
):
    client.post("/", FORM, **HTMX)  # warm this process's copy of the release
    with django_assert_num_queries(1):
        client.post("/", FORM, **HTMX)
    tenfold_release()
    big_cold = count(client, "post", "/", FORM, **HTMX)  # first request after a new release loads it once
    with django_assert_num_queries(1):
        response = client.post("/", FORM, **HTMX)
    assert response.content.count(b'class="card indication') == 110
    assert big_cold == 2


def test_api_queries_do_not_grow_with_the_catalogue(client, django_assert_num_queries):
    body = json.dumps({"renal": {"crcl_ml_min": 25}, "medications": ["Zoloft"]})
    client.post("/api/v1/assess", body, content_type="application/json")
    with django_assert_num_queries(1):
        client.post("/api/v1/assess", body, content_type="application/json")
    tenfold_release()
    client.post("/api/v1/assess", body, content_type="application/json")
    with django_assert_num_queries(1):
        response = client.post("/api/v1/assess", body, content_type="application/json")
    assert len(response.json()["indications"]) == 110


def test_snapshot_is_built_in_a_fixed_number_of_queries():
    with CaptureQueriesContext(connection) as seed:
        build_snapshot()
    source = Source.objects.first()
    cls = DrugClass.objects.get(code="ssri")
    for n in range(100):
        ind = Indication.objects.create(
            slug=f"extra-{n}",
            name=f"Extra {n}",
            category="pain",
            therapeutic_role="monotherapy",
            strength_of_evidence="C",
            efficacy="inconclusive",
            recommendation="insufficient-evidence",
            evidence_summary="x",
            last_reviewed=timezone.localdate(),
            is_published=True,
        )
        ind.sources.add(source)
        Study.objects.create(
            indication=ind,
            key="s",
            first_author="A",
            year=2000,
            design="randomised-controlled",
            result="negative",
            finding="f",
            statistics="p=0.5",
            pmid="1",
            is_published=True,
        )
        Caveat.objects.create(indication=ind, text="c", order=1).sources.add(source)
        Guideline.objects.create(
            indication=ind, body="B", title="T", position="none-found", statement="s", is_published=True
        ).sources.add(source)
        drug = Drug.objects.create(name=f"extradrug {n}", is_published=True)
        drug.classes.add(cls)
    with CaptureQueriesContext(connection) as big:
        snapshot = build_snapshot()
    assert len(snapshot["indications"]) == 111
    assert len(big.captured_queries) == len(seed.captured_queries)


def test_the_field_level_review_takes_the_same_queries_for_one_change_or_thirty(client):
    """The publish page replays history per model, never per changed row."""
    from django.contrib.auth.models import User

    reviewer = User.objects.create_superuser("boss", "boss@example.org", "a-long-password-123")
    client.force_login(reviewer)
    indications = list(Indication.objects.all())
    first = indications[0]
    first.evidence_summary += " Edited."
    first._history_user = reviewer
    first.save()
    one = count(client, "get", "/catalogue/publish")
    for ind in indications[1:]:
        ind.evidence_summary += " Edited."
        ind.mechanism_rationale += " Edited."
        ind._history_user = reviewer
        ind.save()
        ind.sources.add(Source.objects.first())
    for source in Source.objects.all()[:10]:
        source.label += " (checked)"
        source.save()
    many = count(client, "get", "/catalogue/publish")
    assert many == one
