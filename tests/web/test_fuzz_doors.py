"""Every public door, fuzzed with Hypothesis and hit with the known nasty cases: never a 5xx, never a
traceback, nothing stored, and an error never grows with the input.

Doors: POST /api/v1/assess and /api/v1/summary.pdf (?catalogue_version=, ?paper=); GET and POST / (the
intake form, with and without ``HX-Request: true``); POST /summary/ and /summary.pdf (the printable sheet
from the form); GET /healthz, /about and /changes.

Every request goes through ``send``, which checks the response (``assert_sound``) and that no row of any
model (the catalogue's, users, sessions, everything installed) was added, changed in number or removed.
The request runs inside a savepoint that is rolled back afterwards, so one request that breaks the
database connection (a NUL byte on PostgreSQL) cannot spoil the next.

Inputs come from tests/fuzz_strategies.py: API bodies that follow the contract's shape with hostile
leaves, fully random JSON, raw bytes, and form posts built from the fields of IntakeForm itself.
Chunked bodies cannot be sent through the test client (it always sets CONTENT_LENGTH): they are tested
against a real server elsewhere.
"""

from __future__ import annotations

import json
import math
import os
import traceback
from functools import cache

import pytest
from django import forms
from django.apps import apps
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.core.signals import request_started
from django.db import DatabaseError, connection, transaction
from django.http import HttpResponse
from django.test import Client
from django.test.client import encode_multipart
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

from decision_support.errors import is_machine_path
from indications.engine.factors import LIMITS
from indications.forms import IntakeForm, NumberField
from indications.models import CatalogueRelease
from indications.snapshot import published_catalogue
from indications.summary import PAPERS
from tests.fuzz_strategies import (
    CONTENT_TYPES,
    FORM_NUMBERS,
    HUGE_INTEGER,
    NASTY_STRINGS,
    NUMBER_LITERALS,
    RAW_BODIES,
    TOO_MANY_DIGITS,
    FieldSpec,
    Pairs,
    Raw,
    Vocabulary,
    api_bodies,
    encode,
    form_posts,
    hostile_text,
    medication_names,
    nested,
    query_strings,
    random_json,
    raw_bodies,
    urlencode,
)

pytestmark = pytest.mark.django_db

ASSESS = "/api/v1/assess"
API_PDF = "/api/v1/summary.pdf"
API_DOORS = [ASSESS, API_PDF]
FORM_DOORS = ["/", "/summary/", "/summary.pdf"]
GET_DOORS = ["/", "/healthz", "/about", "/changes"]
HTMX = {"HTTP_HX_REQUEST": "true"}
FORM = "application/x-www-form-urlencoded"
WRONG_CONTENT_TYPES = [c for c in CONTENT_TYPES if c.split(";")[0].strip().lower() != "application/json"]

MAX_BODY = 64 * 1024
ERROR_LIMIT = 8 * 1024  # a JSON error stays this small whatever the input: errors are capped, not echoed
ANSWER_LIMIT = 512 * 1024  # a 200 JSON answer (11 indications with their evidence)
PAGE_LIMIT = 1024 * 1024  # an HTML page, the form's own values (escaped) included
TRACEBACK_MARKERS = ("Traceback", "Exception", 'File "', "site-packages", "Request Method:", "/django/")

_FUZZ = settings(
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=False,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
        HealthCheck.filter_too_much,
    ],
)
API_EXAMPLES = 150
FORM_EXAMPLES = 100
PDF_EXAMPLES = 15  # a PDF takes 0.3 to 3 s here
# FUZZ_SCALE=20 (environment) runs twenty times as many examples, for a longer hunt than CI's.
FUZZ_SCALE = float(os.environ.get("FUZZ_SCALE", "1"))


def fuzz(max_examples: int) -> settings:
    return settings(_FUZZ, max_examples=max(1, round(max_examples * FUZZ_SCALE)))


# ---------------------------------------------------------------- what is stored


@cache
def _tables() -> tuple[str, ...]:
    return tuple(
        sorted(
            {
                model._meta.db_table
                for model in apps.get_models(include_auto_created=True)
                if model._meta.managed and not model._meta.proxy and not model._meta.swapped
            }
        )
    )


def row_counts() -> dict[str, int]:
    """The number of rows of every installed model (indications, history, users, sessions, ...), in
    one query."""
    quote = connection.ops.quote_name
    sql = "SELECT " + ", ".join(f"(SELECT COUNT(*) FROM {quote(table)})" for table in _tables())
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return dict(zip(_tables(), cursor.fetchone(), strict=True))


def test_row_counts_cover_every_model_and_see_a_change():
    before = row_counts()
    for model in (*apps.get_app_config("indications").get_models(), User, Session):
        assert model._meta.db_table in before
    assert before[CatalogueRelease._meta.db_table] == 1  # the seed catalogue, published
    Session.objects.create(session_key="x" * 32, session_data="", expire_date="2100-01-01T00:00Z")
    assert row_counts() == {**before, Session._meta.db_table: before[Session._meta.db_table] + 1}


# ---------------------------------------------------------------- one request, and what it must not do


def send(client: Client, method: str, path: str, data: bytes = b"", content_type: str | None = None, **extra):
    """The request, checked: a sound response (``assert_sound``) and nothing stored."""
    if content_type is not None:
        extra.setdefault("CONTENT_TYPE", content_type)
    if data:
        extra.setdefault("CONTENT_LENGTH", str(len(data)))
    before = row_counts()
    savepoint = transaction.savepoint()
    try:
        response = client.generic(method, path, data, content_type=content_type or "", **extra)
        try:
            after = row_counts()
        except DatabaseError as error:  # the request left the transaction aborted (PostgreSQL)
            after = f"the database connection was left unusable: {error}"
    finally:
        transaction.savepoint_rollback(savepoint)
    if currently_in_test_context():  # --hypothesis-show-statistics counts the answers
        event(f"{method} {path.split('?')[0]}: {response.status_code}")
    assert_sound(response, method=method, path=path, data=data)
    if after != before:
        changed = (
            after
            if isinstance(after, str)
            else {t: (before[t], n) for t, n in after.items() if n != before[t]}
        )
        pytest.fail(f"{_described(method, path, data)}: stored something (rows before, after): {changed}")
    return response


def _described(method: str, path: str, data: bytes) -> str:
    shown = data[:300] + (b"..." if len(data) > 300 else b"")
    return f"{method} {path[:300]} body ({len(data)} bytes) {shown!r}"


def assert_sound(response, *, method: str, path: str, data: bytes = b"") -> None:
    """No server error, no traceback, the right content type, and a size that does not grow with the
    input."""
    request = _described(method, path, data)
    if response.exc_info:
        where = "".join(traceback.format_exception(*response.exc_info)[-6:])
        pytest.fail(f"{request}: the view raised\n{where}")
    status = response.status_code
    assert status < 500, f"{request}: {status}"
    content_type = response.get("Content-Type", "")
    body = response.content
    is_api = is_machine_path(path.split("?")[0])
    if content_type == "application/pdf":
        assert status == 200 and body.startswith(b"%PDF-"), f"{request}: a broken PDF ({status})"
        assert path.split("?")[0].endswith("summary.pdf"), f"{request}: a PDF from a door that makes none"
        return
    text = body.decode("utf-8", "replace")
    for marker in TRACEBACK_MARKERS:
        assert marker not in text, f"{request}: {status} with {marker!r} in the body:\n{text[:2000]}"
    if is_api:
        assert content_type.startswith("application/json"), f"{request}: {status} as {content_type!r}"
        if method == "HEAD":
            return
        payload = strict_json(body, request)
        if status >= 400:
            assert set(payload) <= {"errors", "catalogue_version"}, f"{request}: {payload}"
            assert isinstance(payload["errors"], dict) and payload["errors"], f"{request}: {payload}"
            for key, messages in payload["errors"].items():
                assert isinstance(key, str) and isinstance(messages, list), f"{request}: {payload}"
                assert messages and all(isinstance(m, str) and m for m in messages), f"{request}: {payload}"
            assert len(body) <= ERROR_LIMIT, (
                f"{request}: a {status} error of {len(body)} bytes (at most {ERROR_LIMIT}): {text[:600]}"
            )
        else:
            assert status == 200 and len(body) <= ANSWER_LIMIT, f"{request}: {status}, {len(body)} bytes"
    elif path.split("?")[0] == "/healthz" and method == "GET":
        assert content_type.startswith("application/json"), f"{request}: {status} as {content_type!r}"
        strict_json(body, request)
    else:
        if body:
            assert content_type.startswith("text/html"), f"{request}: {status} as {content_type!r}"
        assert len(body) <= PAGE_LIMIT, f"{request}: a page of {len(body)} bytes"


def _refuse_constant(name):
    raise ValueError(f"{name} in a response")


def strict_json(body: bytes, request: str):
    """The body as strict JSON: valid UTF-8, no NaN or Infinity."""
    try:
        return json.loads(body.decode("utf-8"), parse_constant=_refuse_constant)
    except ValueError as error:
        pytest.fail(f"{request}: not strict JSON ({error}): {body[:400]!r}")


def _response(body: bytes | str, status: int = 400, content_type: str = "application/json"):
    response = HttpResponse(body, status=status, content_type=content_type)
    response.exc_info = None
    return response


@pytest.mark.parametrize(
    ("response", "path"),
    [
        (_response("<h1>Server Error (500)</h1>", 500, "text/html"), "/"),
        (_response('{"errors": {"body": ["x"]}}', 502), ASSESS),
        (_response("<p>Traceback (most recent call last):</p>", 200, "text/html"), "/"),
        (_response('{"errors": {"body": ["KeyError: Exception in File \\"x.py\\""]}}'), ASSESS),
        (_response('{"errors": {"body": ["' + "x" * ERROR_LIMIT + '"]}}'), ASSESS),
        (_response("<p>Bad request</p>", 400, "text/html"), ASSESS),
        (_response('{"errors": {"body": []}}'), ASSESS),
        (_response('{"renal": {"crcl_ml_min": NaN}}', 200), ASSESS),
        (_response('{"status": "ok"}', 200, "text/html"), "/healthz"),
        (_response(b"%PDF-1.7", 200, "application/pdf"), "/about"),
    ],
    ids=[
        "5xx",
        "502",
        "traceback",
        "exception",
        "big error",
        "html error",
        "empty error",
        "NaN",
        "healthz html",
        "pdf elsewhere",
    ],
)
def test_assert_sound_catches_what_it_is_for(response, path):
    with pytest.raises((AssertionError, pytest.fail.Exception)):
        assert_sound(response, method="GET", path=path)


def test_send_notices_a_row_stored_during_the_request(client):
    def store(**kwargs):
        Session.objects.create(session_key="y" * 32, session_data="", expire_date="2100-01-01T00:00Z")

    request_started.connect(store)
    try:
        with pytest.raises(pytest.fail.Exception, match="stored something"):
            send(client, "GET", "/healthz")
    finally:
        request_started.disconnect(store)
    assert not Session.objects.filter(session_key="y" * 32).exists()  # rolled back with the request


# ---------------------------------------------------------------- fixtures


@pytest.fixture
def client():
    return Client(raise_request_exception=False)


@pytest.fixture
def catalogue():
    catalogue = published_catalogue()
    assert catalogue is not None
    return catalogue


@pytest.fixture
def words(catalogue) -> Vocabulary:
    return Vocabulary(
        indications=tuple(catalogue.indications_by_slug),
        conditions=tuple(catalogue.conditions_by_slug),
        medications=tuple(catalogue.medication_names),
    )


@pytest.fixture
def version() -> str:
    return CatalogueRelease.objects.order_by("-number").values_list("version", flat=True).first()


def field_specs(form: forms.Form) -> tuple[FieldSpec, ...]:
    """The form's fields as the fuzzer sees them; numbers get the engine's plausible ranges."""
    specs = []
    for name, field in form.fields.items():
        required = field.required
        if isinstance(field, NumberField):
            limits = tuple(limit for key, limit in LIMITS.items() if key.split(":")[0] == name)
            specs.append(FieldSpec(name, "number", limits=limits, required=required))
        elif isinstance(field, (forms.ChoiceField, forms.MultipleChoiceField)):
            kind = "multiple" if isinstance(field, forms.MultipleChoiceField) else "choice"
            choices = tuple(str(value) for value, _ in field.choices if value != "")
            specs.append(FieldSpec(name, kind, choices=choices, required=required))
        elif isinstance(field, forms.BooleanField):
            specs.append(FieldSpec(name, "flag", required=required))
        else:
            specs.append(FieldSpec(name, "text", required=required))
    return tuple(specs)


@pytest.fixture
def specs(catalogue) -> tuple[FieldSpec, ...]:
    return field_specs(IntakeForm(catalogue=catalogue))


def test_the_form_fuzzer_knows_every_field_of_the_intake_form(specs, catalogue):
    form = IntakeForm(catalogue=catalogue)
    assert [spec.name for spec in specs] == list(form.fields)
    assert any(spec.name.startswith("tick_") for spec in specs)  # the catalogue's tick boxes too
    for spec in specs:
        if spec.kind == "number":
            assert spec.limits, (
                f"{spec.name}: no plausible range in LIMITS, the fuzzer cannot reach the engine"
            )
        if spec.kind in ("choice", "multiple"):
            assert spec.choices, spec.name
    assert {spec.kind for spec in specs} == {"number", "choice", "multiple", "flag", "text"}


# ---------------------------------------------------------------- API: random


def post_json(
    client, url: str, body: bytes, content_type: str = "application/json", query: str = "", **extra
):
    return send(client, "POST", f"{url}?{query}" if query else url, body, content_type, **extra)


@fuzz(API_EXAMPLES)
@given(data=st.data(), raw_utf8=st.booleans())
def test_fuzz_assess_with_contract_shaped_bodies(client, words, data, raw_utf8):
    body = data.draw(api_bodies(words), label="body")
    response = post_json(client, ASSESS, encode(body, raw_utf8=raw_utf8))
    assert response.status_code in (200, 400, 413)


@fuzz(100)
@given(body=random_json, raw_utf8=st.booleans())
def test_fuzz_assess_with_random_json(client, body, raw_utf8):
    response = post_json(client, ASSESS, encode(body, raw_utf8=raw_utf8))
    assert response.status_code in (200, 400, 413)


@fuzz(100)
@given(body=raw_bodies, content_type=st.sampled_from(CONTENT_TYPES))
def test_fuzz_assess_with_raw_bytes_and_content_types(client, body, content_type):
    response = post_json(client, ASSESS, body, content_type)
    assert response.status_code in (200, 400, 413)


@fuzz(60)
@given(data=st.data())
def test_fuzz_assess_query_strings(client, version, data):
    query = data.draw(query_strings(["catalogue_version", "paper"], [version]), label="query")
    response = post_json(client, ASSESS, b"{}", query=query)
    assert response.status_code in (200, 400)


@fuzz(PDF_EXAMPLES)
@given(data=st.data(), raw_utf8=st.booleans())
def test_fuzz_api_summary_pdf(client, words, version, data, raw_utf8):
    """Mostly valid bodies, so that the hostile medication names (the text that reaches the PDF) and
    the hostile ?paper= are rendered; and now and then anything."""
    printable = st.fixed_dictionaries(
        {"medications": st.lists(medication_names(words.medications), max_size=40)},
        optional={
            "region": st.sampled_from(["us", "eu"]),
            "renal": st.fixed_dictionaries({"crcl_ml_min": st.floats(0, 250)}),
            "indications": st.lists(st.sampled_from(words.indications), max_size=3),
        },
    )
    body = data.draw(st.one_of(printable, printable, api_bodies(words)), label="body")
    query = data.draw(query_strings(["paper", "catalogue_version"], [*PAPERS, version]), label="query")
    response = post_json(client, API_PDF, encode(body, raw_utf8=raw_utf8), query=query)
    assert response.status_code in (200, 400, 413)


# ---------------------------------------------------------------- API: the known cases, as examples

NUMBER_PATHS = {
    # path: (a valid body with the number at that path, the limit that applies there)
    "renal.crcl_ml_min": ({"renal": {"crcl_ml_min": "N"}}, LIMITS["crcl_ml_min"]),
    "renal.age_years": (
        {"renal": {"age_years": "N", "sex": "female", "weight_kg": 60, "serum_creatinine": 1.0}},
        LIMITS["age_years"],
    ),
    "renal.weight": (
        {
            "renal": {
                "age_years": 70,
                "sex": "male",
                "weight": "N",
                "weight_unit": "lb",
                "serum_creatinine": 1,
                "creatinine_unit": "mg/dL",
            }
        },
        LIMITS["weight:lb"],
    ),
    "renal.weight_kg": (
        {"renal": {"age_years": 70, "sex": "male", "weight_kg": "N", "serum_creatinine": 1.0}},
        LIMITS["weight:kg"],
    ),
    "renal.height": (
        {"renal": {"egfr_ml_min_1_73m2": 50, "weight_kg": 70, "height": "N", "height_unit": "cm"}},
        LIMITS["height:cm"],
    ),
    "renal.height_cm": ({"renal": {"egfr_ml_min_1_73m2": 50, "height_cm": "N"}}, LIMITS["height:cm"]),
    "renal.serum_creatinine": (
        {
            "renal": {
                "age_years": 70,
                "sex": "male",
                "weight_kg": 70,
                "serum_creatinine": "N",
                "creatinine_unit": "umol/L",
            }
        },
        LIMITS["serum_creatinine:umol/L"],
    ),
    "renal.egfr_ml_min_1_73m2": ({"renal": {"egfr_ml_min_1_73m2": "N"}}, LIMITS["egfr_ml_min_1_73m2"]),
    "hepatic.bilirubin": (
        {
            "hepatic": {
                "bilirubin": "N",
                "bilirubin_unit": "mg/dL",
                "albumin_g_dl": 3.0,
                "inr": 1.2,
                "ascites": "none",
                "encephalopathy": "none",
            }
        },
        LIMITS["bilirubin:mg/dL"],
    ),
    "hepatic.albumin": (
        {
            "hepatic": {
                "bilirubin_mg_dl": 1,
                "albumin": "N",
                "albumin_unit": "g/L",
                "inr": 1.2,
                "ascites": "none",
                "encephalopathy": "none",
            }
        },
        LIMITS["albumin:g/L"],
    ),
    "hepatic.inr": (
        {
            "hepatic": {
                "bilirubin_mg_dl": 1,
                "albumin_g_dl": 3.5,
                "inr": "N",
                "ascites": "none",
                "encephalopathy": "none",
            }
        },
        LIMITS["inr"],
    ),
    # where no number belongs
    "region": ({"region": "N"}, None),
    "renal.dialysis": ({"renal": {"dialysis": "N"}}, None),
    "medications[0]": ({"medications": ["N"]}, None),
    "indications[0]": ({"indications": ["N"]}, None),
    "hepatic": ({"hepatic": "N"}, None),
}
EXAMPLE_LITERALS = (
    HUGE_INTEGER,
    "-" + HUGE_INTEGER,
    TOO_MANY_DIGITS,
    "1e309",
    "-1e309",
    "1e400",
    "NaN",
    "Infinity",
    "-Infinity",
    "-0",
    "-0.0",
    "5e-324",
    "1e-400",
)


def with_number(body: dict, literal: str) -> bytes:
    """The body with the placeholder "N" replaced by a literal JSON number."""
    return json.dumps(body).replace('"N"', literal).encode()


@pytest.mark.parametrize("url", API_DOORS)
@pytest.mark.parametrize("path", list(NUMBER_PATHS))
def test_huge_tiny_and_non_finite_numbers_anywhere_a_number_goes(client, url, path):
    body, limit = NUMBER_PATHS[path]
    for literal in EXAMPLE_LITERALS:
        value = float(literal)  # what the number means (a huge integer: inf)
        valid = limit is not None and math.isfinite(value) and limit.contains(value)
        if valid and url == API_PDF:
            continue  # the same parsing as /api/v1/assess: no need to pay for the PDF
        response = post_json(client, url, with_number(body, literal))
        if valid:
            assert response.status_code == 200, (literal, response.content[:300])
            if url == ASSESS and path == "renal.crcl_ml_min":
                reported = response.json()["renal"]["crcl_ml_min"]
                assert math.copysign(1, reported) == 1, f"{literal} reported as {reported}"  # never -0
        else:
            assert response.status_code == 400, (literal, response.content[:300])
            errors = response.json()["errors"]
            named = path.replace("[0]", "")
            assert any(key == "body" or key.startswith(named) for key in errors), (literal, errors)


@pytest.mark.parametrize("url", API_DOORS)
@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b'{"medications": ["\\ud800"]}', "medications[0]"),
        (b'{"medications": ["sertraline", "a\\udfffb"]}', "medications[1]"),
        (b'{"medications": ["\\ud83d"]}', "medications[0]"),
        (b'{"region": "\\ud800"}', "region"),
        (b'{"indications": ["\\ud800"]}', "indications[0]"),
        (b'{"conditions": ["\\udbff"]}', "conditions[0]"),
        (b'{"renal": {"crcl_ml_min": 40, "\\ud800": 1}}', None),
        (b'{"\\ud800": 1}', None),
        (b'{"medications": ["\xed\xa0\x80"]}', "body"),  # the same, as raw (invalid) UTF-8
        (b'{"medications": ["sertraline\xed\xb3\xbf"]}', "body"),
        (b'{"medications": ["\xff"]}', "body"),
        (b'{"\xed\xa0\x80": 1}', "body"),
    ],
)
def test_lone_surrogates_are_a_400(client, url, body, field):
    response = post_json(client, url, body)
    assert response.status_code == 400
    errors = response.json()["errors"]
    if field:
        assert field in errors, errors
    assert "\\ud800" not in response.content.decode() or field is None


@pytest.mark.parametrize("url", API_DOORS)
@pytest.mark.parametrize(
    "query",
    [
        "catalogue_version=%00",
        "catalogue_version=2026%00",
        "catalogue_version={version}%00",
        "catalogue_version=%00{version}",
        "catalogue_version=%ED%A0%80",
        "catalogue_version=%FF%FE",
        "catalogue_version=" + "9" * 6000,
        "catalogue_version={version}&catalogue_version=%00",
        "catalogue_version=%00&paper=%00",
    ],
)
def test_junk_in_catalogue_version_is_a_400(client, version, url, query):
    response = post_json(client, url, b"{}", query=query.format(version=version))
    assert response.status_code == 400
    assert "catalogue_version" in response.json()["errors"]


@pytest.mark.parametrize("paper", ["A4%00%ED%A0%80%0d%0aX: y", "x" * 5000 + "&paper=%FF"])
def test_junk_in_paper_is_ignored(client, paper):
    response = post_json(client, API_PDF, b'{"indications": ["ocd"]}', query=f"paper={paper}")
    assert response.status_code == 200


def _fill(make, limit: int = MAX_BODY - 64) -> bytes:
    """The longest body ``make(n)`` (for growing n) that stays within ``limit`` bytes."""
    low, high = 1, 1
    while len(make(high)) <= limit:
        low, high = high, high * 2
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if len(make(middle)) <= limit else (low, middle)
    body = make(low)
    assert len(body) <= limit
    return body


def _members(n: int, at: str | None = None, key=lambda i: f"unknown-slug-{i:05}") -> bytes:
    members = ",".join(f'"{key(i)}":1' for i in range(n))
    return (f'{{"{at}":{{{members}}}}}' if at else f"{{{members}}}").encode()


BIG_ERROR_BODIES = {
    "unknown indication slugs": lambda: _fill(
        lambda n: json.dumps({"indications": [f"unknown-slug-{i:05}" for i in range(n)]}).encode()
    ),
    "20 long unknown indication slugs": lambda: json.dumps({"indications": ["u" * 3000] * 20}).encode(),
    "unknown condition slugs": lambda: _fill(
        lambda n: json.dumps({"conditions": [f"unknown-slug-{i:05}" for i in range(n)]}).encode()
    ),
    "long medication names": lambda: _fill(lambda n: json.dumps({"medications": ["m" * n] * 160}).encode()),
    "medications that are not strings": lambda: json.dumps({"medications": [1] * 160}).encode(),
    "every list full of non-strings": lambda: json.dumps(
        {"medications": [1] * 160, "indications": [1] * 20, "conditions": [1] * 20}
    ).encode(),
    "unknown top-level members": lambda: _fill(_members),
    "unknown renal members": lambda: _fill(lambda n: _members(n, "renal")),
    "unknown hepatic members": lambda: _fill(lambda n: _members(n, "hepatic")),
    "one unknown member with a 60 KiB name": lambda: _fill(lambda n: _members(1, key=lambda i: "u" * n)),
    "one renal member with a 60 KiB name": lambda: _fill(lambda n: _members(1, "renal", lambda i: "u" * n)),
    "a duplicate member with a 60 KiB name": lambda: _fill(
        lambda n: ('{"' + "u" * n + '":1,"' + "u" * n + '":2}').encode()
    ),
    "a 60 KiB string in a choice": lambda: _fill(lambda n: json.dumps({"region": "u" * n}).encode()),
    "a 60 KiB string as the body": lambda: _fill(lambda n: json.dumps("u" * n).encode()),
    "a 60 KiB broken body": lambda: _fill(lambda n: b'{"region": "' + b"u" * n),
}


@pytest.mark.parametrize("url", API_DOORS)
@pytest.mark.parametrize("case", list(BIG_ERROR_BODIES))
def test_64_kib_of_junk_gets_a_small_error(client, url, case):
    """A body up to the 64 KiB limit made of unknown slugs, unknown members or long names: a 400
    whose errors are capped (at most ERROR_LIMIT bytes), not one message per item, never an echo."""
    body = BIG_ERROR_BODIES[case]()
    assert len(body) <= MAX_BODY
    response = post_json(client, url, body)  # send() checks the size of the error
    assert response.status_code == 400


@pytest.mark.parametrize("url", API_DOORS)
@pytest.mark.parametrize(
    "body",
    [
        b'{"region": "us", "region": "eu"}',
        b'{"region": "us", "region": "us"}',
        b'{"renal": {"crcl_ml_min": 40, "crcl_ml_min": 20}}',
        b'{"hepatic": {"child_pugh_class": "A", "child_pugh_class": "C"}}',
        b'{"renal": {}, "renal": {"dialysis": true}}',
        b'{"medications": [], "medications": ["amantadine"]}',
        b'[{"a": 1, "a": 2}]',
        b'{"\\u0072egion": "us", "region": "eu"}',  # the same key, once escaped
    ],
)
def test_duplicate_keys_are_a_400(client, url, body):
    response = post_json(client, url, body)
    assert response.status_code == 400
    assert "given twice" in json.dumps(response.json(), ensure_ascii=False) or body.startswith(b"[")


@pytest.mark.parametrize("url", API_DOORS)
@pytest.mark.parametrize("depth", [100, 1000, 7000])
@pytest.mark.parametrize("kind", ["array", "object", "mixed"])
@pytest.mark.parametrize("where", ["body", "renal", "medications"])
def test_deep_nesting_is_a_400(client, url, depth, kind, where):
    inner = nested(depth, kind)
    body = {"body": inner, "renal": {"renal": inner}, "medications": {"medications": [inner]}}[where]
    data = encode(body)
    assert len(data) <= MAX_BODY
    response = post_json(client, url, data)
    assert response.status_code == 400


@pytest.mark.parametrize("url", API_DOORS)
def test_arrays_nested_as_deep_as_64_kib_allows_are_a_400(client, url):
    response = post_json(client, url, encode(nested(MAX_BODY // 2 - 8, "array")))
    assert response.status_code == 400


@pytest.mark.parametrize("url", API_DOORS)
@pytest.mark.parametrize("body", RAW_BODIES)
def test_bodies_that_are_not_a_json_object_are_a_400(client, url, body):
    response = post_json(client, url, body)
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["body"]


@pytest.mark.parametrize("url", API_DOORS)
@pytest.mark.parametrize("content_type", WRONG_CONTENT_TYPES)
@pytest.mark.parametrize("body", [b"{}", b"", b"region=us", b"--x\r\n\r\n--x--"])
def test_wrong_content_types_are_a_400(client, url, content_type, body):
    response = post_json(client, url, body, content_type)
    assert response.status_code == 400


@pytest.mark.parametrize("url", API_DOORS)
def test_an_empty_body_is_a_400(client, url):
    for content_type in ("application/json", None):
        response = send(client, "POST", url, b"", content_type)
        assert response.status_code == 400


@pytest.mark.parametrize("url", API_DOORS)
@pytest.mark.parametrize(
    ("size", "content_type"),
    [
        (MAX_BODY + 1, "application/json"),
        (4 * MAX_BODY, "application/json"),
        (MAX_BODY + 1, "text/plain"),
        (MAX_BODY + 1, FORM),
    ],
)
def test_oversized_bodies_are_a_413(client, url, size, content_type):
    body = b'{"medications": ["' + b"a" * (size - 21) + b'"]}'
    assert len(body) == size
    response = post_json(client, url, body, content_type)
    assert response.status_code == 413


@pytest.mark.parametrize("url", API_DOORS)
@pytest.mark.parametrize("length", ["abc", "-1", "", " 2", "1e3", "0x10", "9" * 400, "2", "1"])
def test_a_lying_content_length_is_not_a_500(client, url, length):
    response = post_json(client, url, b'{"region": "mars"}', CONTENT_LENGTH=length)
    assert response.status_code in (400, 413)


@pytest.mark.parametrize("url", API_DOORS)
@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "TRACE", "BREW"])
def test_other_methods_are_a_405_in_json(client, url, method):
    response = send(client, method, url, b"{}", "application/json")
    assert response.status_code == 405
    assert response["Allow"] == "POST"


@pytest.mark.parametrize("url", API_DOORS)
def test_the_api_needs_no_csrf_token(url):
    strict = Client(enforce_csrf_checks=True, raise_request_exception=False)
    response = post_json(strict, url, b'{"medications": ["\\ud800"]}')
    assert response.status_code == 400  # refused for its content, not for a missing token


# ---------------------------------------------------------------- forms: random


def form_send(client, path: str, pairs, mode: str, htmx: bool):
    headers = HTMX if htmx else {}
    if mode == "multipart":  # through the client's own encoder (it cannot send invalid UTF-8)
        data: dict[str, list[str]] = {}
        for name, value in pairs:
            text = value.decode("latin-1") if isinstance(value, bytes) else value
            data.setdefault(name.encode("utf-8", "replace").decode(), []).append(
                text.encode("utf-8", "replace").decode()
            )
        multipart = encode_multipart("BoUnDaRy", data)
        return send(client, "POST", path, multipart, "multipart/form-data; boundary=BoUnDaRy", **headers)
    body = urlencode(pairs)
    if mode == "raw":  # the values unencoded: stray '&', '=', '%' and invalid UTF-8 as they come
        body = b"&".join(
            (name.encode("utf-8", "surrogatepass") + b"=" + value)
            if isinstance(value, bytes)
            else f"{name}={value}".encode("utf-8", "surrogatepass")
            for name, value in pairs
        )
    return send(client, "POST", path, body, FORM, **headers)


FORM_MODES = st.sampled_from(["urlencoded", "urlencoded", "raw", "multipart"])


@fuzz(FORM_EXAMPLES)
@given(data=st.data(), mode=FORM_MODES, htmx=st.booleans())
def test_fuzz_intake_form(client, specs, words, data, mode, htmx):
    pairs = data.draw(form_posts(specs, words), label="form")
    response = form_send(client, "/", pairs, mode, htmx)
    assert response.status_code in (200, 400, 413)
    event("results shown" if b'data-testid="dose-regimen"' in response.content else "no results")
    if htmx and response.status_code == 200:
        assert b"<html" not in response.content  # the results partial, not the whole page


@fuzz(40)
@given(data=st.data(), mode=FORM_MODES)
def test_fuzz_summary_page(client, specs, words, data, mode):
    pairs = data.draw(form_posts(specs, words, ("paper",)), label="form")
    response = form_send(client, "/summary/", pairs, mode, False)
    assert response.status_code in (200, 400, 413)
    event("sheet" if response.status_code == 200 else "the form with its errors")


@fuzz(PDF_EXAMPLES)
@given(data=st.data(), mode=FORM_MODES, htmx=st.booleans())
def test_fuzz_summary_pdf_from_the_form(client, specs, words, data, mode, htmx):
    """Mostly valid posts, so that hostile medication names and ?paper= reach the PDF; now and then
    anything the form fuzzer makes."""
    names = st.lists(medication_names(words.medications), max_size=40)
    printable = st.tuples(
        st.sampled_from(["us", "eu"]),
        st.tuples(names, st.sampled_from(["\n", "\r\n", ";"])).map(lambda pair: pair[1].join(pair[0])),
        st.one_of(st.sampled_from(list(PAPERS)), hostile_text),
    ).map(lambda t: [("region", t[0]), ("formulation", "ir"), ("medications", t[1]), ("paper", t[2])])
    pairs = data.draw(st.one_of(printable, printable, form_posts(specs, words, ("paper",))))
    response = form_send(client, "/summary.pdf", pairs, mode, htmx)
    assert response.status_code in (200, 400, 413)


@fuzz(40)
@given(data=st.data(), htmx=st.booleans())
def test_fuzz_get_doors_with_junk_query_strings(client, version, data, htmx):
    door = data.draw(st.sampled_from(GET_DOORS), label="door")
    names = ["catalogue_version", "paper", "since", "page", "q"]
    query = data.draw(query_strings(names, [version, *PAPERS]), label="query")
    response = send(client, "GET", f"{door}?{query}", **(HTMX if htmx else {}))
    assert response.status_code in (200, 400)


# ---------------------------------------------------------------- forms: the known cases, as examples


def number_fields(specs) -> list[str]:
    return [spec.name for spec in specs if spec.kind == "number"]


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
@pytest.mark.parametrize("value", FORM_NUMBERS)
def test_hostile_numbers_in_every_number_field(client, specs, value, htmx):
    pairs = [(name, value) for name in number_fields(specs)]
    pairs += [("region", "us"), ("formulation", "ir")]
    response = form_send(client, "/", pairs, "urlencoded", htmx)
    assert response.status_code == 200


@pytest.mark.parametrize("path", ["/summary/", "/summary.pdf"])
@pytest.mark.parametrize("value", [HUGE_INTEGER, "1e400", "nan", "inf", "١٢", "1,6", "42\x00"])
def test_hostile_numbers_on_the_summary_doors(client, specs, path, value):
    pairs = [(name, value) for name in number_fields(specs)] + [("region", "us"), ("formulation", "ir")]
    response = form_send(client, path, pairs, "urlencoded", False)
    assert response.status_code == 400  # the form with its errors, no sheet


RAW_FORM_BODIES = [
    b"region=us&formulation=ir&medications=%ED%A0%80",
    b"region=us&formulation=ir&medications=sertraline%ED%A0%80",
    b"region=%ED%A0%80&formulation=%00",
    b"region=us&formulation=ir&medications=%00",
    b"region=us&formulation=ir&medications=a%00b&crcl_ml_min=4%002",
    b"region=us&formulation=ir&medications=\xed\xa0\x80\xff\xfe",
    b"region=us&formulation=ir&crcl_ml_min=%D9%A1%D9%A2",
    b"region=us&formulation=ir&crcl_ml_min=1%2C6",
    b"region=us&formulation=ir&crcl_ml_min=" + HUGE_INTEGER.encode(),
    b"region=us&formulation=ir&crcl_ml_min=-0&age_years=1e400",
    b"region=us&formulation=ir&indications=%00&conditions=%ED%A0%80&tick_ssri=%FF",
    b"region=us&region=eu&formulation=ir&formulation=xr",
    b"%00=%00&%ED%A0%80=1",
    b"&&&===&%&%%&%G0",
    b"region",
    b"",
    b"\x00\x00\x00",
    b"medications=" + b"%0A".join([b"sertraline"] * 2000),
]


@pytest.mark.parametrize(("path", "htmx"), [("/", False), ("/", True), ("/summary/", False)])
@pytest.mark.parametrize("body", RAW_FORM_BODIES)
def test_raw_form_bodies_with_invalid_utf8_and_nul(client, path, body, htmx):
    response = send(client, "POST", path, body, FORM, **(HTMX if htmx else {}))
    assert response.status_code in (200, 400)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (
            b"region=us&formulation=ir&medications=%ED%A0%80%0Asertraline%ED%A0%80%0A\xed\xa0\x80\xff&paper=%00",
            200,
        ),
        (b"region=us&formulation=ir&medications=sertraline%00&paper=%ED%A0%80", 400),  # NUL: a form error
        (b"region=us&formulation=ir&crcl_ml_min=" + HUGE_INTEGER.encode(), 400),
    ],
)
def test_raw_form_bodies_with_invalid_utf8_and_nul_to_the_pdf(client, body, status):
    response = send(client, "POST", "/summary.pdf", body, FORM)
    assert response.status_code == status


@pytest.mark.parametrize("path", FORM_DOORS)
@pytest.mark.parametrize(
    "content_type",
    [
        "multipart/form-data",
        "multipart/form-data; boundary=",
        "multipart/form-data; boundary=x",
        "multipart/form-data; boundary=\x00",
        "application/json",
        "text/plain",
        "application/x-www-form-urlencoded; charset=utf-16",
        "application/x-www-form-urlencoded; charset=nonsense",
        "",
    ],
)
@pytest.mark.parametrize(
    "body", [b"region=us", b'{"region": "us"}', b"--x\r\nContent-Disposition: form-data"]
)
def test_form_doors_with_wrong_content_types(client, path, content_type, body):
    response = send(client, "POST", path, body, content_type)
    assert response.status_code in (200, 400)


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
@pytest.mark.parametrize("path", FORM_DOORS)
@pytest.mark.parametrize(
    "body",
    [
        b"region=us&medications=" + b"a" * MAX_BODY,
        b"medications=" + b"%ED%A0%80" * 8000,
        b"&".join(b"f%d=1" % i for i in range(1200)),  # more fields than Django reads
    ],
    ids=["over-64-kib", "over-64-kib-of-surrogates", "too-many-fields"],
)
def test_oversized_form_posts_are_a_400_or_413(client, path, body, htmx):
    response = send(client, "POST", path, body, FORM, **(HTMX if htmx else {}))
    assert response.status_code in (400, 413)


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
@pytest.mark.parametrize("path", FORM_DOORS)
def test_a_form_post_of_almost_64_kib_of_surrogates(client, path, htmx):
    body = b"region=us&formulation=ir&medications=" + b"%ED%A0%80" * 7000
    assert len(body) <= MAX_BODY
    response = send(client, "POST", path, body, FORM, **(HTMX if htmx else {}))
    assert response.status_code in (200, 400)


@pytest.mark.parametrize("path", FORM_DOORS)
def test_an_oversized_multipart_post_is_a_400(client, path):
    data = encode_multipart("B", {"medications": "a" * (MAX_BODY + 1)})
    response = send(client, "POST", path, data, "multipart/form-data; boundary=B")
    assert response.status_code in (400, 413)


@pytest.mark.parametrize("path", FORM_DOORS)
@pytest.mark.parametrize("body", [b"region=us&formulation=ir", b"", b"medications=%ED%A0%80", b"a" * 70_000])
def test_a_form_post_without_a_csrf_token_is_a_403(path, body):
    strict = Client(enforce_csrf_checks=True, raise_request_exception=False)
    response = send(strict, "POST", path, body, FORM, **HTMX)
    assert response.status_code == 403


@pytest.mark.parametrize("path", [*FORM_DOORS, "/healthz", "/about", "/changes"])
@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "TRACE", "BREW"])
def test_other_methods_on_the_pages(client, path, method):
    response = send(client, method, path, b"region=us", FORM)
    assert response.status_code == 405


@pytest.mark.parametrize("path", ["/summary/", "/summary.pdf"])
def test_the_summary_doors_refuse_get(client, path):
    assert send(client, "GET", path).status_code == 405


@pytest.mark.parametrize("door", GET_DOORS)
@pytest.mark.parametrize(
    "query",
    [
        "catalogue_version=%00",
        "catalogue_version=%ED%A0%80",
        "paper=%00",
        "since=%00&page=-1&page=99999999999999999999",
        "%00=%00",
        "x=" + "%FF" * 3000,
        "&".join(f"k{i}=1" for i in range(1500)),  # more parameters than Django reads
    ],
)
def test_get_doors_with_nasty_query_strings(client, door, query):
    response = send(client, "GET", f"{door}?{query}", **HTMX)
    assert response.status_code in (200, 400)


@pytest.mark.parametrize("value", ["true", "false", "TRUE", "\x00", "1" * 5000, "\udcff"])
def test_junk_htmx_headers(client, value):
    header = value.encode("utf-8", "surrogateescape").decode("latin-1")  # as WSGI gives it
    extra = {"HTTP_HX_REQUEST": header, "HTTP_HX_CURRENT_URL": header, "HTTP_HX_TARGET": header}
    for path, body in (("/", b"region=us&crcl_ml_min=25"), ("/", b""), ("/summary/", b"region=us")):
        response = send(client, "POST", path, body, FORM, **extra)
        assert response.status_code in (200, 400)
    assert send(client, "GET", "/", **extra).status_code == 200


def test_nasty_strings_as_medications_everywhere(client):
    """Each nasty string, as the intake form's medication list and as the API's: a 200 or a 400."""
    for text in NASTY_STRINGS:
        pairs = [("region", "us"), ("formulation", "ir"), ("medications", text)]
        assert form_send(client, "/", pairs, "urlencoded", True).status_code == 200
        response = post_json(client, ASSESS, encode({"medications": [text]}))
        assert response.status_code in (200, 400)


def test_fuzz_strategies_generate_what_they_promise():
    """The strategies' own building blocks (a fuzzer that silently sends nothing nasty proves nothing)."""
    assert encode({"a": "\ud800"}) == b'{"a": "\\ud800"}'.replace(b" ", b"")
    assert encode({"a": "\ud800"}, raw_utf8=True) == b'{"a":"\xed\xa0\x80"}'
    assert encode(Pairs((("a", 1), ("a", Raw("NaN"))))) == b'{"a":1,"a":NaN}'
    assert encode([float("inf"), 10**400]) == b"[Infinity," + b"1" + b"0" * 400 + b"]"
    assert urlencode([("m", "\ud800"), ("n", b"\x00\xff")]) == b"m=%ED%A0%80&n=%00%FF"
    assert {"NaN", "Infinity", "-Infinity", "1e309", "-0", "5e-324", HUGE_INTEGER} <= set(NUMBER_LITERALS)
    assert "\ud800" in NASTY_STRINGS and "\x00" in NASTY_STRINGS
    assert nested(2, "mixed") == Raw('[{"a":[{"a":1}]}]')
