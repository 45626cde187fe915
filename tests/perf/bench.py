"""Benchmark: prints numbers, asserts nothing (targets are in the issue, results go in the closing note).

    make bench                                   # on the SQLite default
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres make bench

It creates a throw-away test database (test_<name>), seeds the catalogue, then measures
- engine assess() on the seed catalogue (no I/O),
- the htmx results request and POST /api/v1/assess through the Django test client,
- a CDS Hooks order-select call with its prefetch given and a signed JWT (tests/cds samples),
- the summary PDF and the patient sheet PDF after warm-up,
- the queries per results request, on the seed and on a catalogue ten times larger.
"""

from __future__ import annotations

import datetime
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "decision_support.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret")
os.environ.setdefault("DJANGO_STATIC_MANIFEST", "0")  # static files from static/, as in the tests

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402

from tests.perf.samples import API, FORM  # noqa: E402

OBESE = {
    "formulation": "xr",
    "renal": {
        "age_years": 72,
        "sex": "male",
        "weight": 125,
        "weight_unit": "kg",
        "height": 178,
        "height_unit": "cm",
        "serum_creatinine": 3.4,
        "creatinine_unit": "mg/dL",
    },
    "medications": ["sertraline", "quetiapine", "lithium"],
    "indications": ["ocd"],
}


def timed(fn, n: int) -> list[float]:
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def report(name: str, samples: list[float]) -> None:
    samples = sorted(samples)
    p95 = samples[max(0, int(len(samples) * 0.95) - 1)]
    print(f"{name:<44} n={len(samples):<5} median {statistics.median(samples):8.3f} ms   p95 {p95:8.3f} ms")


def queries(fn) -> int:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def cds_hook_call(client):
    """A signed order-select call as an EHR makes it: a severe renal patient with labs, five current
    medications and two conditions prefetched (a fresh token each call: its id is checked and kept)."""
    from django.conf import settings

    from tests.cds import fhir_samples as fx
    from tests.cds import jwt_keys

    settings.CDS_HOOKS_ISSUERS = jwt_keys.issuers_setting()
    url = "/cds-services/memantine-order-select"
    data = fx.severe_renal_patient()
    data["height"] = fx.bundle(fx.height(158))
    data["egfr"] = fx.bundle(fx.egfr(24))
    data["medicationStatements"] = fx.bundle(
        *(fx.medication_statement(n) for n in ("sertraline 50 mg", "amlodipine", "metformin", "atorvastatin"))
    )
    data["medicationRequests"] = fx.bundle(fx.medication_request(None, rxnorm="36437", status="active"))
    data["conditions"] = fx.bundle(fx.condition("84757009"), fx.condition("I50.9", fx.ICD10CM))
    body = json.dumps(
        fx.call("order-select", draft=fx.medication_request(dose_mg=10, per_day=2), prefetch_data=data)
    )
    tokens = iter([jwt_keys.token(aud=f"http://testserver{url}") for _ in range(500)])

    def call():
        response = client.post(
            url, body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {next(tokens)}"
        )
        assert response.status_code == 200 and response.json()["cards"], response.content[:300]
        return response

    return call, lambda: queries(call)


def main() -> None:
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        call_command("seed_catalogue", verbosity=0)
        from indications.engine import assess, parse_request, present
        from indications.snapshot import published_catalogue
        from tests.catalogue_scaling import tenfold_release

        print(
            f"database: {connection.vendor} ({connection.settings_dict['NAME']});"
            f" python {sys.version.split()[0]}"
        )
        catalogue = published_catalogue()

        def factors_for(body, cat):
            return parse_request(
                body, known_indications=cat.indications_by_slug, known_conditions=cat.conditions_by_slug
            ).factors

        factors = factors_for(API, catalogue)
        today = datetime.date.today()
        timed(lambda: assess(factors, catalogue, today=today), 200)
        report("engine assess() (seed, no I/O)", timed(lambda: assess(factors, catalogue, today=today), 5000))
        obese = factors_for(OBESE, catalogue)
        report(
            "engine assess(), three renal estimates",
            timed(lambda: assess(obese, catalogue, today=today), 3000),
        )
        typo = factors_for({**API, "medications": ["sertaline", "Zolof", "amantidine", "Symbyax"]}, catalogue)
        report(
            "engine assess(), did-you-mean x3 + product",
            timed(lambda: assess(typo, catalogue, today=today), 3000),
        )
        result = assess(factors, catalogue, today=today)
        report("presentation step present() (seed)", timed(lambda: present(result, catalogue), 3000))

        client = Client()
        htmx = lambda: client.post("/", FORM, HTTP_HX_REQUEST="true")  # noqa: E731
        api = lambda: client.post("/api/v1/assess", json.dumps(API), content_type="application/json")  # noqa: E731
        pdf = lambda: client.post("/summary.pdf", FORM)  # noqa: E731
        assert htmx().status_code == 200 and api().status_code == 200 and pdf().status_code == 200
        timed(htmx, 30)
        timed(api, 30)
        report("htmx results request (test client)", timed(htmx, 400))
        all_indications = {k: v for k, v in FORM.items() if k != "indications"}
        htmx_all = lambda: client.post("/", all_indications, HTTP_HX_REQUEST="true")  # noqa: E731
        report("htmx results request, all 11 indications", timed(htmx_all, 200))
        report("POST /api/v1/assess (test client)", timed(api, 400))
        hook, hook_queries = cds_hook_call(client)
        timed(hook, 30)
        report("CDS Hooks order-select, prefetch given (JWT)", timed(hook, 400))
        print(f"queries per CDS Hooks call: {hook_queries()}")
        timed(pdf, 3)
        report("summary PDF (after warm-up)", timed(pdf, 25))
        sheet = lambda: client.post("/patient-sheet.pdf", FORM)  # noqa: E731
        assert sheet().status_code == 200
        timed(sheet, 3)
        report("patient sheet PDF (after warm-up)", timed(sheet, 25))
        print(f"queries per results request (seed): {queries(htmx)}; per API request: {queries(api)}")
        health = lambda: client.get("/healthz")  # noqa: E731
        report("GET /healthz (one query; the release verified when first loaded)", timed(health, 200))

        from django.contrib.auth.models import User

        from indications.models import Indication

        reviewer = User.objects.create_superuser("bench-reviewer", "bench@example.org", "a-long-password-123")
        for ind in Indication.objects.all():
            ind.evidence_summary += " Edited for the benchmark."
            ind._history_user = reviewer
            ind.save()
        staff = Client()
        staff.force_login(reviewer)
        publish_page = lambda: staff.get("/catalogue/publish")  # noqa: E731
        assert publish_page().status_code == 200
        report("publish page, 11 changed fields (field-level review)", timed(publish_page, 20))
        print(f"queries per publish page: {queries(publish_page)}")

        tenfold_release(version="bench-tenfold")
        first = queries(htmx)
        print(
            f"queries per results request (10x catalogue): first {first} (loads the new release),"
            f" then {queries(htmx)}"
        )
        report("htmx results request (10x catalogue)", timed(htmx, 200))
        big = published_catalogue()
        big_factors = factors_for(API, big)
        report("engine assess() (10x catalogue)", timed(lambda: assess(big_factors, big, today=today), 2000))
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
