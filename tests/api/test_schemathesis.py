"""Schemathesis (property-based API testing) against the served OpenAPI description.

The schema is loaded from /api/v1/openapi.json through the real WSGI application, and every operation it
describes is called with the description's examples, its coverage cases (boundaries, missing and wrong
members) and generated requests, valid and invalid. Each response must not be a 5xx, and its status,
content type, headers and body must be the ones described. The calls go to the test database (the seed
catalogue, release 1) and must store nothing. Bounded and reproducible: derandomized, a fixed number of
generated cases per operation (fewer for the PDF, which takes about a second each).
"""

from __future__ import annotations

import pytest
import schemathesis
from django.apps import apps
from django.core import signals
from django.db import close_old_connections, connection
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from decision_support.wsgi import application

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# The WSGI transport does not decode a gzipped body (GZipMiddleware): ask for the body as it is.
IDENTITY = {"Accept-Encoding": "identity"}
BOUNDED = {
    "deadline": None,
    "derandomize": True,
    "database": None,  # no example database: every run is the same run
    "suppress_health_check": [
        HealthCheck.function_scoped_fixture,  # one database transaction per operation, on purpose
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
}

# Loaded from the served document (Schemathesis leaves out the document's own path).
json_operations = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application).exclude(
    path="/api/v1/summary.pdf"
)
# A PDF takes about a second: for it, the coverage phase sends only its invalid variants (answered with
# 400 at once); valid requests come from the description's examples and the generated cases.
pdf_operation = schemathesis.openapi.from_wsgi(
    "/api/v1/openapi.json",
    application,
    config=SchemathesisConfig.from_dict({"phases": {"coverage": {"generation": {"mode": "negative"}}}}),
).include(path="/api/v1/summary.pdf")


def row_counts() -> dict[str, int]:
    """The number of rows of every table of every installed app, in one query."""
    tables = sorted({m._meta.db_table for m in apps.get_models(include_auto_created=True)})
    counts = ", ".join(f"(SELECT COUNT(*) FROM {connection.ops.quote_name(t)})" for t in tables)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {counts}")
        return dict(zip(tables, cursor.fetchone(), strict=True))


@pytest.fixture
def nothing_stored(db):
    """Calls the WSGI application inside the test's transaction (as Django's test client does, requests
    must not close the connection), and returns a check that no table gained or lost a row."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    before = row_counts()
    assert before["indications_cataloguerelease"] == 1  # the seed catalogue, published

    def check(case) -> None:
        after = row_counts()
        changed = {t: (before[t], after[t]) for t in before if before[t] != after[t]}
        assert not changed, f"{case.method} {case.formatted_path}: rows changed {changed}"

    try:
        yield check
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@json_operations.parametrize()
@settings(max_examples=80, **BOUNDED)
def test_json_operations_never_fail_and_answer_as_described(case, nothing_stored):
    case.call_and_validate(headers=IDENTITY, checks=CHECKS)
    nothing_stored(case)


@pdf_operation.parametrize()
@settings(max_examples=15, **BOUNDED)
def test_the_pdf_operation_never_fails_and_answers_as_described(case, nothing_stored):
    case.call_and_validate(headers=IDENTITY, checks=CHECKS)
    nothing_stored(case)
