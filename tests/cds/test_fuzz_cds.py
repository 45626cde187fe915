"""The CDS Hooks doors fuzzed like every other door (tests/web/test_fuzz_doors.py: never a 5xx, never
a traceback, nothing stored, errors small): valid hook calls with their leaves replaced by hostile
values anywhere in the FHIR, random JSON, raw bytes, and junk feedback. Unsigned calls are allowed
here so that no token id is stored; the tokens themselves are tested in test_auth.py."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from tests.cds import fhir_samples as fx
from tests.fuzz_strategies import CONTENT_TYPES, encode, hostile_text, json_leaves, random_json, raw_bodies
from tests.web.test_fuzz_doors import fuzz, send

pytestmark = pytest.mark.django_db

SERVICES = {
    "/cds-services/memantine-order-select": "order-select",
    "/cds-services/memantine-order-sign": "order-sign",
    "/cds-services/memantine-patient-view": "patient-view",
}


@pytest.fixture(autouse=True)
def unsigned(settings):
    settings.CDS_HOOKS_ALLOW_UNSIGNED = True
    settings.CDS_HOOKS_ISSUERS = {}


@pytest.fixture
def client():
    return Client(raise_request_exception=False)


def valid_call(hook: str) -> dict[str, Any]:
    data = fx.severe_renal_patient()
    data["medicationStatements"] = fx.bundle(
        fx.medication_statement("memantine 10 mg"), fx.medication_statement("amantadine")
    )
    data["conditions"] = fx.bundle(fx.condition("N18.6", fx.ICD10CM), fx.condition("84757009"))
    data["height"] = fx.bundle(fx.height(160))
    data["egfr"] = fx.bundle(fx.egfr(25))
    return fx.call(hook, draft=fx.medication_request(), prefetch_data=data)


def paths(value: Any, prefix=()) -> list[tuple]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += paths(item, (*prefix, i))
    return found


def replaced(document: Any, path: tuple, value: Any) -> Any:
    if not path:
        return value
    document = copy.deepcopy(document)
    target = document
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return document


@st.composite
def mutated_calls(draw):
    url = draw(st.sampled_from(sorted(SERVICES)), label="service")
    document = valid_call(SERVICES[url])
    for _ in range(draw(st.integers(1, 3))):
        where = draw(st.sampled_from(paths(document)[1:]), label="path")
        value = draw(st.one_of(json_leaves, hostile_text, random_json, st.just(None)), label="value")
        document = replaced(document, where, value)
    return url, document


@fuzz(200)
@given(call=mutated_calls(), raw_utf8=st.booleans())
def test_fuzz_hook_calls_with_hostile_fhir(client, call, raw_utf8):
    url, body = call
    response = send(client, "POST", url, encode(body, raw_utf8=raw_utf8), "application/json")
    assert response.status_code in (200, 400, 412, 413)


@fuzz(60)
@given(url=st.sampled_from(sorted(SERVICES)), body=random_json)
def test_fuzz_hook_calls_with_random_json(client, url, body):
    response = send(client, "POST", url, encode(body), "application/json")
    assert response.status_code in (200, 400, 412, 413)


@fuzz(60)
@given(
    url=st.sampled_from([*sorted(SERVICES), "/cds-services"]),
    body=raw_bodies,
    content_type=st.sampled_from(CONTENT_TYPES),
)
def test_fuzz_cds_doors_with_raw_bytes(client, url, body, content_type):
    response = send(client, "POST", url, body, content_type)
    assert response.status_code in (200, 400, 405, 412, 413)


@fuzz(60)
@given(body=st.one_of(random_json, st.fixed_dictionaries({"feedback": st.lists(random_json, max_size=3)})))
def test_fuzz_feedback_with_junk(client, body):
    response = send(
        client, "POST", "/cds-services/memantine-order-sign/feedback", encode(body), "application/json"
    )
    assert response.status_code == 400


def test_every_valid_call_of_the_fuzzer_is_answered(client):
    for url, hook in SERVICES.items():
        response = send(client, "POST", url, encode(valid_call(hook)), "application/json")
        assert response.status_code == 200
        assert response.json()["cards"], hook
