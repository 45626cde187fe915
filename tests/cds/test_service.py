"""The CDS Hooks service over HTTP (Django test client) on the seed catalogue: discovery, the three
services, prefetch from a local FHIR server or 412, errors, feedback, CORS."""

from __future__ import annotations

import copy
import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from cds_hooks.models import CardFeedback
from cds_hooks.services import PREFETCH
from cds_hooks.views import VERSION_EXTENSION
from indications.models import CatalogueRelease
from tests.cds import fhir_samples as fx
from tests.cds import jwt_keys
from tests.cds.card_schema import response_problems

pytestmark = pytest.mark.django_db

SELECT = "/cds-services/memantine-order-select"
SIGN = "/cds-services/memantine-order-sign"
VIEW = "/cds-services/memantine-patient-view"


@pytest.fixture(autouse=True)
def trusted_ehr(settings):
    settings.CDS_HOOKS_ISSUERS = jwt_keys.issuers_setting()
    settings.CDS_HOOKS_ALLOW_UNSIGNED = False
    settings.CDS_HOOKS_REGION = "us"


def auth(path: str, **token_args) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": "Bearer " + jwt_keys.token(aud=f"http://testserver{path}", **token_args)}


def post(client, path: str, body, **headers):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post(path, data, content_type="application/json", **(headers or auth(path)))


def answer(response) -> dict:
    assert response.status_code == 200, response.content[:500]
    payload = response.json()
    assert response_problems(payload) == []
    assert payload["extension"][VERSION_EXTENSION] == CatalogueRelease.objects.latest().version
    return payload


def severe_order(hook="order-select", **order):
    return fx.call(hook, draft=fx.medication_request(**order), prefetch_data=fx.severe_renal_patient())


# ---------------------------------------------------------------- discovery


def test_discovery_lists_the_three_services_with_their_prefetch(client):
    response = client.get("/cds-services", **auth("/cds-services"))
    services = {s["id"]: s for s in response.json()["services"]}
    assert set(services) == {"memantine-order-select", "memantine-order-sign", "memantine-patient-view"}
    assert services["memantine-order-sign"]["hook"] == "order-sign"
    for service in services.values():
        assert service["description"] and service["title"]
        assert service["prefetch"]["patient"] == "Patient/{{context.patientId}}"
        assert "http://loinc.org|2160-0" in service["prefetch"]["creatinine"]
        assert "http://loinc.org|14682-9" in service["prefetch"]["creatinine"]
        for code in ("98979-8", "62238-1", "33914-3"):
            assert code in service["prefetch"]["egfr"]
        assert "29463-7" in service["prefetch"]["weight"] and "8302-2" in service["prefetch"]["height"]


def test_discovery_needs_a_token_for_its_own_url(client):
    assert client.get("/cds-services").status_code == 401
    wrong = client.get("/cds-services", **auth(SELECT))  # a token for another URL
    assert wrong.status_code == 401


# ---------------------------------------------------------------- the spec's examples, adapted


def test_spec_patient_view_example_with_fhir_authorization(client):
    """cds-hooks/docs specification/current.md, the patient-view request (fhirAuthorization, Patient
    prefetch), with an active memantine statement instead of the example's nothing."""
    body = {
        "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
        "fhirServer": "https://example.com/fhir",
        "fhirAuthorization": {
            "access_token": "some-opaque-fhir-access-token",
            "token_type": "Bearer",
            "expires_in": 300,
            "scope": "user/Patient.read user/Observation.read",
            "subject": "cds-service4",
        },
        "hook": "patient-view",
        "context": {"userId": "Practitioner/example", "patientId": fx.PATIENT_ID},
        "prefetch": fx.prefetch(
            patient_resource=fx.patient(),
            statements=[fx.medication_statement("Namenda 10 mg tablet")],
        ),
    }
    payload = answer(post(client, VIEW, body))
    verdict = payload["cards"][0]
    assert "renal function could not be estimated" in verdict["summary"]
    assert verdict["indicator"] in ("warning", "critical")


def test_spec_order_select_example_with_a_memantine_draft_by_rxnorm_code(client):
    """The spec's draftOrders context (a MedicationRequest coded in RxNorm), memantine 10 mg tablet."""
    draft = fx.medication_request(
        None, rxnorm="996561", dose_mg=10, per_day=2, rid="smart-MedicationRequest-103"
    )
    body = fx.call("order-select", draft=draft, prefetch_data=fx.severe_renal_patient())
    assert body["context"]["selections"] == ["MedicationRequest/smart-MedicationRequest-103"]
    payload = answer(post(client, SELECT, body))
    assert "5 mg twice daily" in payload["cards"][0]["summary"]


def test_empty_cards_when_the_order_is_not_memantine(client):
    body = fx.call(
        "order-sign", draft=fx.medication_request("sertraline 50 mg tablet"), prefetch_data=fx.prefetch()
    )
    payload = answer(post(client, SIGN, body))
    assert payload["cards"] == []


def test_order_select_answers_about_the_selected_order_only(client):
    body = severe_order()
    body["context"]["selections"] = ["MedicationRequest/something-else"]
    assert answer(post(client, SELECT, body))["cards"] == []


# ---------------------------------------------------------------- clinical cases


def test_severe_renal_patient_gets_the_capped_regimen_and_a_suggestion(client):
    payload = answer(post(client, SELECT, severe_order(dose_mg=10, per_day=2)))
    card = payload["cards"][0]
    assert card["indicator"] == "warning"
    assert "5 mg twice daily" in card["summary"] and "10 mg/day" in card["summary"]
    assert "Cockcroft" in card["detail"] and "2160" in card["detail"]
    action = card["suggestions"][0]["actions"][0]
    assert action["type"] == "update"
    dose = action["resource"]["dosageInstruction"][0]
    assert dose["doseAndRate"][0]["doseQuantity"] == {
        "value": 5.0,
        "unit": "mg",
        "system": "http://unitsofmeasure.org",
        "code": "mg",
    }
    assert dose["timing"]["repeat"]["frequency"] == 2
    assert card["source"]["url"].startswith("https://")
    link = card["links"][0]
    # The values travel after "#": never sent to a server, so in no proxy's or server's log.
    assert link["type"] == "absolute" and link["url"].startswith("http://testserver/#")
    assert "serum_creatinine=2" in link["url"].split("#")[1]


def test_eu_patient_on_amantadine_is_not_recommended(client, settings):
    settings.CDS_HOOKS_REGION = "eu"
    data = fx.severe_renal_patient()
    data["medicationStatements"] = fx.bundle(fx.medication_statement("amantadine 100 mg capsule"))
    body = fx.call("order-sign", draft=fx.medication_request(), prefetch_data=data)
    card = answer(post(client, SIGN, body))["cards"][0]
    assert card["indicator"] == "critical"
    assert "Not recommended" in card["summary"]
    assert "suggestions" not in card
    assert "amantadine" in card["detail"].lower()


def test_patient_with_no_creatinine_is_told_renal_function_is_unknown(client):
    data = fx.prefetch(patient_resource=fx.patient(), weight_obs=fx.weight(60))
    card = answer(
        post(client, SIGN, fx.call("order-sign", draft=fx.medication_request(), prefetch_data=data))
    )["cards"][0]
    assert "renal function could not be estimated" in card["summary"]
    detail = card["detail"].replace("\\", "")
    assert "Serum creatinine: none in the record" in detail
    assert "suggestions" not in card


def test_stale_labs_are_named_and_not_used(client):
    data = fx.severe_renal_patient()
    data["creatinine"] = fx.bundle(fx.creatinine(2.0, days_ago=200))
    card = answer(
        post(client, SELECT, fx.call("order-select", draft=fx.medication_request(), prefetch_data=data))
    )["cards"][0]
    assert "dose not confirmed" in card["summary"]
    assert "200 days old" in card["detail"]


def test_lab_units_in_umol_and_pounds(client):
    data = fx.prefetch(
        patient_resource=fx.patient(born=f"{fx.today().year - 80}-01-01"),
        creatinine_obs=fx.creatinine(176.8, "umol/L"),
        weight_obs=fx.weight(110.23, "lb"),
    )
    card = answer(
        post(client, SELECT, fx.call("order-select", draft=fx.medication_request(), prefetch_data=data))
    )["cards"][0]
    assert "5 mg twice daily" in card["summary"]
    detail = card["detail"].replace("\\", "")
    assert "Serum creatinine 176.8 umol/L" in detail and "Body weight 110.23 lb" in detail


def test_dialysis_in_the_record_never_gets_a_renal_dose(client):
    data = fx.severe_renal_patient()
    data["creatinine"] = fx.bundle(fx.creatinine(0.8))
    data["procedures"] = fx.bundle(
        {
            "resourceType": "Procedure",
            "id": "hd-1",
            "status": "in-progress",
            "code": {"coding": [{"system": fx.SNOMED, "code": "302497006", "display": "Hemodialysis"}]},
            "subject": {"reference": f"Patient/{fx.PATIENT_ID}"},
        }
    )
    card = answer(
        post(client, SIGN, fx.call("order-sign", draft=fx.medication_request(), prefetch_data=data))
    )["cards"][0]
    assert card["indicator"] == "critical"
    assert "No labelled dose" in card["summary"]
    assert "mg twice daily" not in card["summary"] and "suggestions" not in card


def test_results_about_another_patient_are_ignored(client):
    data = fx.severe_renal_patient()
    data["creatinine"] = fx.bundle(fx.creatinine(0.7, pid="someone-else"))
    card = answer(
        post(client, SELECT, fx.call("order-select", draft=fx.medication_request(), prefetch_data=data))
    )["cards"][0]
    assert "dose not confirmed" in card["summary"]
    assert "another patient" in card["detail"]


# ---------------------------------------------------------------- bad input


def test_malformed_json_is_400(client):
    response = post(client, SELECT, "{not json")
    assert response.status_code == 400 and "body" in response.json()["errors"]


def test_malformed_fhir_is_400_naming_the_prefetch_key(client):
    body = severe_order()
    body["prefetch"]["creatinine"] = {"resourceType": "Observation", "status": "final"}  # no code
    response = post(client, SELECT, body)
    assert response.status_code == 400
    assert "prefetch.creatinine" in response.json()["errors"]


def test_a_prefetch_of_the_wrong_type_is_400(client):
    body = severe_order()
    body["prefetch"]["patient"] = fx.creatinine(1.0)
    assert post(client, SELECT, body).status_code == 400


def test_wrong_hook_and_missing_context_are_400(client):
    body = severe_order(hook="order-sign")
    response = post(client, SELECT, body)
    assert response.status_code == 400 and "hook" in response.json()["errors"]
    del body["context"]
    body["hook"] = "order-select"
    assert "context" in post(client, SELECT, body).json()["errors"]


def test_fhir_authorization_without_fhir_server_is_400(client):
    body = severe_order()
    body["fhirAuthorization"] = {
        "access_token": "x",
        "token_type": "Bearer",
        "expires_in": 300,
        "scope": "s",
        "subject": "c",
    }
    assert "fhirAuthorization" in post(client, SELECT, body).json()["errors"]


def test_unknown_service_is_404_and_get_on_a_service_is_405(client):
    assert post(client, "/cds-services/nope", severe_order()).status_code == 404
    assert client.get(SELECT, **auth(SELECT)).status_code == 405


def test_invalid_token_is_an_opaque_401(client):
    bodies = set()
    for headers in (
        {},
        {"HTTP_AUTHORIZATION": "Bearer garbage"},
        auth(SELECT, claims_override={"exp": 1}),
        auth(SELECT, claims_override={"iss": "https://evil.example"}),
        auth("/cds-services/other"),
    ):
        response = client.post(SELECT, json.dumps(severe_order()), content_type="application/json", **headers)
        assert response.status_code == 401
        bodies.add(response.content)
    assert len(bodies) == 1  # nothing tells the caller which check failed


def test_a_replayed_token_is_refused(client):
    headers = auth(SELECT)
    assert post(client, SELECT, severe_order(), **headers).status_code == 200
    assert post(client, SELECT, severe_order(), **headers).status_code == 401


# ---------------------------------------------------------------- missing prefetch


class FhirServer:
    """A local FHIR server answering the prefetch searches (and recording what it was asked)."""

    def __init__(self, data: dict, *, fail_with: int | None = None):
        self.data = data
        self.requests: list[tuple[str, str | None]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests.append((self.path, self.headers.get("Authorization")))
                body = server.answer(self.path)
                status = fail_with or (200 if body is not None else 404)
                payload = json.dumps(body or {"resourceType": "OperationOutcome", "issue": []}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/fhir+json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/fhir"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def answer(self, path: str):
        parts = urlsplit(path)
        resource = parts.path.rsplit("/", 1)[-1]
        if parts.path.startswith("/fhir/Patient/"):
            return self.data.get("patient")
        codes = parse_qs(parts.query).get("code", [""])[0]
        for key, template in PREFETCH.items():
            template_path = template.split("?")[0]
            if template_path == resource and (not codes or codes in template):
                return self.data.get(key) or fx.bundle()
        return None

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def trust_server(settings, server):
    settings.CDS_HOOKS_ISSUERS = jwt_keys.issuers_setting(fhir_servers=[server.url])


def test_missing_prefetch_is_fetched_from_the_fhir_server_with_the_token(client, settings):
    settings.CDS_HOOKS_FHIR_ALLOW_HTTP = True
    data = fx.severe_renal_patient()
    with FhirServer(data) as server:
        trust_server(settings, server)
        body = fx.call(
            "order-select",
            draft=fx.medication_request(),
            fhirServer=server.url,
            fhirAuthorization={
                "access_token": "ehr-token-1",
                "token_type": "Bearer",
                "expires_in": 300,
                "scope": "patient/*.read",
                "subject": "memantine-cds",
            },
        )
        payload = answer(post(client, SELECT, body))
    assert "5 mg twice daily" in payload["cards"][0]["summary"]
    assert len(server.requests) == len(PREFETCH)
    assert all(auth_header == "Bearer ehr-token-1" for _, auth_header in server.requests)


def test_only_the_keys_not_prefetched_are_fetched(client, settings):
    settings.CDS_HOOKS_FHIR_ALLOW_HTTP = True
    data = fx.severe_renal_patient()
    partial = {k: v for k, v in data.items() if k != "weight"}
    with FhirServer(data) as server:
        trust_server(settings, server)
        body = fx.call(
            "order-select", draft=fx.medication_request(), prefetch_data=partial, fhirServer=server.url
        )
        payload = answer(post(client, SELECT, body))
    assert [path.split("?")[0] for path, _ in server.requests] == ["/fhir/Observation"]
    assert "5 mg twice daily" in payload["cards"][0]["summary"]


def test_missing_prefetch_without_a_fhir_server_is_412(client):
    body = severe_order()
    del body["prefetch"]["creatinine"]
    response = post(client, SELECT, body)
    assert response.status_code == 412
    assert "prefetch.creatinine" in response.json()["errors"]


def test_a_failing_fhir_server_is_412_not_500(client, settings):
    settings.CDS_HOOKS_FHIR_ALLOW_HTTP = True
    with FhirServer({}, fail_with=500) as server:
        trust_server(settings, server)
        body = fx.call("order-select", draft=fx.medication_request(), fhirServer=server.url)
        assert post(client, SELECT, body).status_code == 412


def test_an_unreachable_or_plain_http_fhir_server_is_412(client, settings):
    settings.CDS_HOOKS_FHIR_ALLOW_HTTP = False
    body = fx.call("order-select", draft=fx.medication_request(), fhirServer="http://127.0.0.1:9/fhir")
    assert post(client, SELECT, body).status_code == 412
    settings.CDS_HOOKS_FHIR_ALLOW_HTTP = True
    assert post(client, SELECT, copy.deepcopy(body)).status_code == 412


def test_a_fhir_server_the_issuer_may_not_name_is_never_called(client, settings):
    settings.CDS_HOOKS_FHIR_ALLOW_HTTP = True
    with FhirServer(fx.severe_renal_patient()) as server:
        settings.CDS_HOOKS_ISSUERS = jwt_keys.issuers_setting(fhir_servers=["https://ehr.example/fhir"])
        body = fx.call("order-select", draft=fx.medication_request(), fhirServer=server.url)
        response = post(client, SELECT, body)
    assert response.status_code == 412
    assert server.requests == []
    assert response.json() == {"errors": {"prefetch.patient": ["Needed, and not available from the EHR."]}}


@pytest.mark.parametrize(
    "patient_id", ["p1/../../admin", "p1#x", "p1&_count=100000", "p 1", "x" * 65, "..", "."]
)
def test_a_patient_id_that_is_not_a_fhir_id_is_never_put_in_a_url(client, settings, patient_id):
    settings.CDS_HOOKS_FHIR_ALLOW_HTTP = True
    with FhirServer(fx.severe_renal_patient()) as server:
        trust_server(settings, server)
        body = fx.call("order-select", draft=fx.medication_request(), fhirServer=server.url)
        body["context"]["patientId"] = patient_id
        assert post(client, SELECT, body).status_code == 412
    assert server.requests == []


@pytest.mark.parametrize(
    "next_url",
    [
        "https://elsewhere.example/fhir/MedicationRequest?page=2",
        "{server}/../internal/admin",
        "{server}/%2e%2e/internal",
        "{server}-evil/MedicationRequest",
    ],
)
def test_a_next_link_that_leaves_the_fhir_server_is_not_followed(client, settings, next_url):
    settings.CDS_HOOKS_FHIR_ALLOW_HTTP = True
    with FhirServer(fx.severe_renal_patient()) as server:
        trust_server(settings, server)
        body = severe_order()
        body["fhirServer"] = server.url
        page = fx.bundle(fx.medication_request("sertraline", status="active"))
        page["link"] = [{"relation": "next", "url": next_url.format(server=server.url)}]
        body["prefetch"]["medicationRequests"] = page
        assert post(client, SELECT, body).status_code == 412
    assert server.requests == []


def test_further_pages_of_a_medication_list_are_fetched(client, settings):
    settings.CDS_HOOKS_FHIR_ALLOW_HTTP = True
    second = fx.bundle(fx.medication_statement("amantadine"))
    with FhirServer({"medicationStatements": second}) as server:
        trust_server(settings, server)
        body = severe_order()
        body["fhirServer"] = server.url
        page = fx.bundle(fx.medication_statement("sertraline"))
        page["link"] = [{"relation": "next", "url": f"{server.url}/MedicationStatement?page=2"}]
        body["prefetch"]["medicationStatements"] = page
        payload = answer(post(client, SELECT, body))
    assert len(server.requests) == 1
    assert "amantadine" in payload["cards"][0]["detail"].lower()


def test_too_many_resources_are_refused_before_they_are_read(client):
    body = severe_order()
    body["prefetch"]["medicationStatements"] = fx.bundle(
        *(fx.medication_statement(f"drug {i}") for i in range(501))
    )
    response = post(client, SELECT, body)
    assert response.status_code == 413
    assert "prefetch.medicationStatements" in response.json()["errors"]


def test_a_medication_list_with_more_pages_than_were_sent_is_412(client):
    body = severe_order()
    body["prefetch"]["medicationRequests"] = fx.bundle(
        fx.medication_request("sertraline", status="active")
    ) | {"link": [{"relation": "next", "url": "https://ehr.example/fhir/MedicationRequest?page=2"}]}
    response = post(client, SELECT, body)
    assert response.status_code == 412 and "prefetch.medicationRequests" in response.json()["errors"]


# ---------------------------------------------------------------- feedback


def feedback_item(**extra):
    return {
        "card": str(uuid.uuid4()),
        "outcome": "overridden",
        "outcomeTimestamp": "2026-11-28T10:00:00Z",
        **extra,
    }


def test_feedback_is_stored_without_the_comment(client):
    path = "/cds-services/memantine-order-select/feedback"
    body = {
        "feedback": [
            feedback_item(
                overrideReason={
                    "reason": {
                        "code": "not-applicable",
                        "system": "urn:x-memantine-cds:override-reason",
                        "display": "Not applicable",
                    },
                    "userComment": "Mrs Smith's nephrologist says fine",
                }
            ),
            feedback_item(outcome="accepted", acceptedSuggestions=[{"id": str(uuid.uuid4())}]),
        ]
    }
    response = post(client, path, body)
    assert response.status_code == 200 and response.json() == {"stored": 2}
    rows = list(CardFeedback.objects.order_by("outcome"))
    assert [r.outcome for r in rows] == ["accepted", "overridden"]
    assert rows[1].override_reason_code == "not-applicable"
    stored = json.dumps([list(r.__dict__.values()) for r in rows], default=str)
    assert "Smith" not in stored


def test_feedback_token_may_name_the_service_url(client):
    body = {"feedback": [feedback_item()]}
    assert (
        post(client, "/cds-services/memantine-order-select/feedback", body, **auth(SELECT)).status_code == 200
    )


def test_feedback_keeps_no_free_text(client):
    path = "/cds-services/memantine-order-select/feedback"
    body = {
        "feedback": [
            feedback_item(
                overrideReason={
                    "reason": {
                        "code": "x1",
                        "system": "https://ehr.example/reasons",
                        "display": "Jane Doe DOB 1944-03-02 MRN 12345",
                    }
                }
            ),
            feedback_item(
                overrideReason={
                    "reason": {
                        "code": "already-addressed",
                        "system": "urn:x-memantine-cds:override-reason",
                        "display": "Jane Doe",
                    }
                }
            ),
        ]
    }
    assert post(client, path, body).status_code == 200
    displays = sorted(CardFeedback.objects.values_list("override_reason_display", flat=True))
    assert displays == ["", "Already addressed"]  # our own words for our codes; nothing of theirs


def test_bad_feedback_is_400_and_stores_nothing(client):
    path = "/cds-services/memantine-order-select/feedback"
    for body in (
        {"feedback": [feedback_item(outcome="ignored")]},
        {"feedback": [feedback_item(outcome="accepted")]},  # accepted needs acceptedSuggestions
        {"feedback": [feedback_item(card="not-a-uuid")]},
        {"feedback": [feedback_item(outcomeTimestamp="yesterday")]},
        {"feedback": [feedback_item(outcomeTimestamp="0001-01-01T00:00:00+14:00")]},
        {"feedback": [feedback_item(outcomeTimestamp="9999-12-31T23:59:59-14:00")]},
        {"feedback": [feedback_item(outcome="accepted", acceptedSuggestions=[{"id": "Jane Doe MRN 12345"}])]},
        {"feedback": [feedback_item(overrideReason="x")]},
        {"feedback": [feedback_item(overrideReason={"reason": {"code": "c" * 101, "system": "urn:x"}})]},
        {"feedback": [feedback_item(overrideReason={"reason": {"code": "Jane Doe", "system": "urn:x"}})]},
        {"feedback": []},
        [],
    ):
        assert post(client, path, body).status_code == 400
    assert not CardFeedback.objects.exists()


def test_feedback_is_read_only_in_admin_for_auditors_and_reviewers(client, auditor, reviewer, editor):
    row = CardFeedback.objects.create(
        service="memantine-order-sign",
        card=uuid.uuid4(),
        outcome="overridden",
        outcome_timestamp="2026-11-28T10:00:00Z",
    )
    listing = reverse("admin:cds_hooks_cardfeedback_changelist")
    change = reverse("admin:cds_hooks_cardfeedback_change", args=[row.pk])
    for user in (auditor, reviewer):
        client.force_login(user)
        assert client.get(listing).status_code == 200
        assert client.post(change, {"outcome": "accepted"}).status_code == 403
        assert (
            client.post(
                reverse("admin:cds_hooks_cardfeedback_delete", args=[row.pk]), {"post": "yes"}
            ).status_code
            == 403
        )
    client.force_login(editor)
    assert client.get(listing).status_code == 403
    row.refresh_from_db()
    assert row.outcome == "overridden"


# ---------------------------------------------------------------- CORS


def test_cors_only_for_listed_origins_and_only_on_cds_services(client, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://sandbox.cds-hooks.org"]
    preflight = client.options(
        SELECT,
        HTTP_ORIGIN="https://sandbox.cds-hooks.org",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, content-type",
    )
    assert preflight["Access-Control-Allow-Origin"] == "https://sandbox.cds-hooks.org"
    assert "authorization" in preflight["Access-Control-Allow-Headers"]
    other = client.options(
        SELECT, HTTP_ORIGIN="https://evil.example", HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST"
    )
    assert "Access-Control-Allow-Origin" not in other
    api = client.options(
        "/api/v1/assess",
        HTTP_ORIGIN="https://sandbox.cds-hooks.org",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
    )
    assert "Access-Control-Allow-Origin" not in api


def test_a_hook_call_takes_a_fixed_number_of_queries(client, django_assert_num_queries):
    post(client, SELECT, severe_order())  # loads the release and purges spent tokens once
    body = severe_order()
    body["prefetch"]["medicationStatements"] = fx.bundle(
        *(fx.medication_statement(name) for name in ("sertraline", "amantadine", "metformin", "Zyxlofrin"))
    )
    # The newest release's head; the token id, kept in a savepoint (begin, insert, release).
    with django_assert_num_queries(4):
        response = post(client, SELECT, body)
    assert len(answer(response)["cards"]) >= 2


class DrippingServer:
    """A FHIR server that sends its status line and then one header byte every half second."""

    def __init__(self):
        import socket

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/fhir"
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.serve, daemon=True)

    def serve(self):
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.drip, args=(conn,), daemon=True).start()

    def drip(self, conn):
        try:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
            while not self.stop.wait(0.5):
                conn.sendall(b"a")
        except OSError:
            pass
        finally:
            conn.close()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.sock.close()


def test_a_fhir_server_dripping_its_headers_cannot_hold_the_call_past_the_deadline(client, settings):
    import time

    settings.CDS_HOOKS_FHIR_ALLOW_HTTP = True
    settings.CDS_HOOKS_FHIR_DEADLINE = 1.5
    with DrippingServer() as server:
        settings.CDS_HOOKS_ISSUERS = jwt_keys.issuers_setting(fhir_servers=[server.url])
        body = fx.call("order-select", draft=fx.medication_request(), fhirServer=server.url)
        started = time.monotonic()
        response = post(client, SELECT, body)
        took = time.monotonic() - started
    assert response.status_code == 412
    assert took < 3.5, took


@pytest.mark.parametrize("next_path", ["/..;/admin", "/x/..%5cadmin", "/%252e%252e/admin", "/$export"])
def test_next_links_with_server_specific_escapes_are_not_followed(client, settings, next_path):
    settings.CDS_HOOKS_FHIR_ALLOW_HTTP = True
    with FhirServer(fx.severe_renal_patient()) as server:
        trust_server(settings, server)
        body = severe_order()
        body["fhirServer"] = server.url
        page = fx.bundle(fx.medication_request("sertraline", status="active"))
        page["link"] = [{"relation": "next", "url": server.url + next_path}]
        body["prefetch"]["medicationRequests"] = page
        assert post(client, SELECT, body).status_code == 412
    assert server.requests == []
