"""CDS Hooks 2.0 endpoints: discovery, the three services, feedback.

A service call is read, authenticated and validated, its missing prefetch fetched from the EHR's FHIR
server (or refused with 412 when it cannot be), the record mapped to the API's request shape
(``cds_hooks.fhir``), assessed by the one engine and rendered as cards from the one presentation
(``cds_hooks.cards``). Nothing about the patient is stored or logged.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from typing import Any

import requests
from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from indications.api import ApiError, read_json
from indications.engine import assess, present
from indications.snapshot import published_catalogue

from .auth import NotAuthorised, audience_urls, authenticate
from .cards import CardContext, cards
from .fhir import FhirInvalid, Inputs, map_patient, resources, validate
from .models import CardFeedback
from .services import (
    CONDITION_KEYS,
    EXPECTED_TYPES,
    MEDICATION_KEYS,
    OBSERVATION_KEYS,
    PREFETCH,
    SERVICES,
    Service,
)

log = logging.getLogger("cds_hooks")
VERSION_EXTENSION = "org.memantine-decision-support.catalogue-version"
MAX_PAGES = 5  # pages of one search followed on the EHR's FHIR server
MAX_FHIR_BYTES = 4 * 1024 * 1024
MAX_FEEDBACK = 100


def _errors(status: int, errors: dict[str, list[str]], **headers) -> JsonResponse:
    response = JsonResponse({"errors": errors}, status=status)
    for key, value in headers.items():
        response[key.replace("_", "-")] = value
    return response


def _unauthorised() -> JsonResponse:
    # Opaque: the reason is logged for the operator, never told to the caller.
    return _errors(401, {"authorization": ["Not authorised."]}, WWW_Authenticate="Bearer")


class Precondition(Exception):
    """Prefetch data the service needs and cannot get: answered 412, as the spec says."""

    def __init__(self, key: str, why: str):
        super().__init__(f"{key}: {why}")
        self.key = key
        self.why = why


# ---------------------------------------------------------------- discovery


@csrf_exempt
@never_cache
def discovery(request) -> HttpResponse:
    if request.method != "GET":
        return _errors(405, {"method": ["Use GET."]}, Allow="GET")
    try:
        authenticate(request, audience_urls(request, reverse("cds_hooks:discovery")))
    except NotAuthorised:
        return _unauthorised()
    return JsonResponse({"services": [s.discovery() for s in SERVICES.values()]})


# ---------------------------------------------------------------- the request envelope


def _text(value: Any, path: str, errors: dict, *, required: bool = True, limit: int = 200) -> str | None:
    if value is None:
        if required:
            errors[path] = ["Required."]
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        errors[path] = [f"Must be a non-empty string of at most {limit} characters."]
        return None
    return value


def _envelope(data: Any, service: Service) -> dict[str, Any]:
    """The call's members checked against the spec and the hook; field errors as ApiError (400)."""
    if not isinstance(data, dict):
        raise ApiError(400, {"body": ["The request body must be a JSON object."]})
    errors: dict[str, list[str]] = {}
    hook = _text(data.get("hook"), "hook", errors, limit=60)
    if hook is not None and hook != service.hook:
        errors["hook"] = [f"This service answers the {service.hook} hook, not “{hook[:60]}”."]
    _text(data.get("hookInstance"), "hookInstance", errors)
    server = _text(data.get("fhirServer"), "fhirServer", errors, required=False, limit=500)
    authorization = data.get("fhirAuthorization")
    if authorization is not None:
        if not isinstance(authorization, dict):
            errors["fhirAuthorization"] = ["Must be an object."]
        else:
            if data.get("fhirServer") is None:
                errors["fhirAuthorization"] = ["Given only with fhirServer."]
            _text(authorization.get("access_token"), "fhirAuthorization.access_token", errors, limit=8000)
            token_type = authorization.get("token_type")
            if not isinstance(token_type, str) or token_type.lower() != "bearer":
                errors["fhirAuthorization.token_type"] = ["Must be Bearer."]
    context = data.get("context")
    if not isinstance(context, dict):
        errors["context"] = ["Required: an object with the hook's context."]
        context = {}
    for name in service.context_fields:
        if name in ("selections", "draftOrders"):
            continue
        _text(context.get(name), f"context.{name}", errors)
    selections = None
    if "selections" in service.context_fields:
        selections = context.get("selections")
        if (
            not isinstance(selections, list)
            or not all(isinstance(s, str) for s in selections)
            or not selections
        ):
            errors["context.selections"] = ["Required: a list of references such as MedicationRequest/103."]
            selections = None
    drafts = None
    if "draftOrders" in service.context_fields:
        raw = context.get("draftOrders")
        if raw is None:
            errors["context.draftOrders"] = ["Required: a Bundle of the draft orders."]
        else:
            try:
                drafts = validate(raw, "context.draftOrders")
            except FhirInvalid as error:
                errors.update(error.errors)
            else:
                if drafts.get_resource_type() != "Bundle":
                    errors["context.draftOrders"] = ["Must be a FHIR Bundle."]
    prefetch = data.get("prefetch")
    if prefetch is not None and not isinstance(prefetch, dict):
        errors["prefetch"] = ["Must be an object."]
        prefetch = None
    if errors:
        raise ApiError(400, errors)
    return {
        "context": context,
        "server": server,
        "token": authorization.get("access_token") if isinstance(authorization, dict) else None,
        "prefetch": prefetch or {},
        "selections": selections,
        "drafts": drafts,
        "drafts_raw": context.get("draftOrders"),
    }


# ---------------------------------------------------------------- prefetch


def _query(template: str, context: dict[str, Any]) -> str:
    query = template
    for name, value in context.items():
        if isinstance(value, str):
            query = query.replace(f"{{{{context.{name}}}}}", value)
    return query


def _get(url: str, envelope: dict[str, Any], key: str) -> dict[str, Any]:
    server = envelope["server"]
    if not server:
        raise Precondition(key, "not prefetched, and no fhirServer to fetch it from")
    if not (server.lower().startswith("https://") or settings.CDS_HOOKS_FHIR_ALLOW_HTTP):
        raise Precondition(key, "not prefetched, and the fhirServer is not https")
    headers = {"Accept": "application/fhir+json"}
    if envelope["token"]:
        headers["Authorization"] = f"Bearer {envelope['token']}"
    try:
        with requests.get(
            url, headers=headers, timeout=settings.CDS_HOOKS_FHIR_TIMEOUT, allow_redirects=False, stream=True
        ) as response:
            if response.status_code != 200:
                raise Precondition(key, f"the FHIR server answered {response.status_code}")
            body = response.raw.read(MAX_FHIR_BYTES + 1, decode_content=True)
    except requests.RequestException as error:
        raise Precondition(key, f"the FHIR server could not be reached ({type(error).__name__})") from None
    if len(body) > MAX_FHIR_BYTES:
        raise Precondition(key, "the FHIR server's answer is too large")
    try:
        return json.loads(body)
    except ValueError:
        raise Precondition(key, "the FHIR server's answer is not JSON") from None


def _fetch(key: str, envelope: dict[str, Any]) -> dict[str, Any]:
    query = _query(PREFETCH[key], envelope["context"])
    if "{{" in query:
        raise Precondition(key, "its template needs a context value the call did not give")
    server = envelope["server"] or ""
    return _get(f"{server.rstrip('/')}/{query}", envelope, key)


def _whole(key: str, data: dict[str, Any], envelope: dict[str, Any]) -> dict[str, Any]:
    """A search Bundle with every page: a list cut short could hide a medication (412 when the rest
    cannot be fetched)."""
    pages = 0
    current = data
    while True:
        following = [
            link.get("url")
            for link in current.get("link") or ()
            if isinstance(link, dict) and link.get("relation") == "next"
        ]
        if not following:
            return data
        server = (envelope["server"] or "").rstrip("/")
        url = following[0]
        if not server or not isinstance(url, str) or not url.startswith(server + "/") or pages >= MAX_PAGES:
            raise Precondition(key, "the results have more pages than could be fetched")
        current = _get(url, envelope, key)
        pages += 1
        if current.get("resourceType") != "Bundle":
            raise Precondition(key, "a further page is not a Bundle")
        data = {**data, "entry": [*(data.get("entry") or ()), *(current.get("entry") or ())]}


def _prefetched(envelope: dict[str, Any]) -> dict[str, Any]:
    """Every prefetch key validated as FHIR: given (null means no data), else fetched."""
    found = {}
    for key in PREFETCH:
        if key in envelope["prefetch"]:
            raw = envelope["prefetch"][key]
        else:
            raw = _fetch(key, envelope)
        if raw is None:
            found[key] = None
            continue
        if isinstance(raw, dict) and raw.get("resourceType") == "OperationOutcome":
            raise Precondition(key, "the EHR reported an error instead of the data")
        if isinstance(raw, dict) and raw.get("resourceType") == "Bundle":
            raw = _whole(key, raw, envelope)
        model = validate(raw, f"prefetch.{key}")
        kind = model.get_resource_type()
        if kind not in EXPECTED_TYPES[key]:
            expected = " or ".join(sorted(EXPECTED_TYPES[key]))
            raise FhirInvalid({f"prefetch.{key}": [f"Expected {expected}, not {kind}."]})
        found[key] = model
    return found


def _about_patient(resource, patient_id: str) -> bool:
    """Whether a resource is about the patient of the call (one that names no subject is taken as it)."""
    subject = getattr(resource, "subject", None) or getattr(resource, "patient", None)
    reference = getattr(subject, "reference", None) if subject is not None else None
    return (
        not reference or reference == f"Patient/{patient_id}" or reference.endswith(f"/Patient/{patient_id}")
    )


def _inputs(service: Service, envelope: dict[str, Any], prefetch: dict[str, Any]) -> tuple[Inputs, list[str]]:
    patient_id = envelope["context"].get("patientId", "")
    ignored = []

    def own(items):
        kept = [r for r in items if _about_patient(r, patient_id)]
        if len(kept) < len(items):
            ignored.append(f"{len(items) - len(kept)} resource(s) about another patient were ignored.")
        return kept

    patients = resources(prefetch["patient"])
    patient = patients[0] if patients else None
    if patient is not None and patient.id and patient.id != patient_id:
        ignored.append(
            "The Patient sent is not the patient of the call: its birth date and gender were not used."
        )
        patient = None
    drafts = []
    if envelope["drafts"] is not None:
        raw_entries = (envelope["drafts_raw"] or {}).get("entry") or []
        for model_entry, raw_entry in zip(envelope["drafts"].entry or (), raw_entries, strict=False):
            if model_entry.resource is not None:
                drafts.append((model_entry.resource, raw_entry.get("resource")))
    inputs = Inputs(
        patient=patient,
        observations=own([r for key in OBSERVATION_KEYS for r in resources(prefetch[key])]),
        medications=own([r for key in MEDICATION_KEYS for r in resources(prefetch[key])]),
        conditions=own([r for key in CONDITION_KEYS for r in resources(prefetch[key])]),
        drafts=drafts,
        selections=tuple(envelope["selections"]) if envelope["selections"] is not None else None,
        patient_view=service.hook == "patient-view",
    )
    return inputs, ignored


def _app_url(request, name: str) -> str:
    base = settings.CDS_HOOKS_APP_URL
    path = reverse(name)
    return f"{base}{path}" if base else request.build_absolute_uri(path)


def _answer(payload: dict[str, Any], version: str) -> JsonResponse:
    payload["extension"] = {VERSION_EXTENSION: version}
    return JsonResponse(payload, json_dumps_params={"ensure_ascii": False})


@csrf_exempt
@never_cache
def service(request, service_id: str) -> HttpResponse:
    found = SERVICES.get(service_id)
    if found is None:
        return _errors(404, {"service": ["No CDS service with this id."]})
    try:
        authenticate(request, audience_urls(request, reverse("cds_hooks:service", args=[service_id])))
    except NotAuthorised:
        return _unauthorised()
    try:
        envelope = _envelope(read_json(request, limit=settings.CDS_HOOKS_MAX_BODY_BYTES), found)
        catalogue = published_catalogue()
        if catalogue is None:
            raise ApiError(
                503, {"catalogue": ["No catalogue release has been published yet."]}, {"Retry-After": "5"}
            )
        prefetch = _prefetched(envelope)
    except ApiError as error:
        return error.response()
    except FhirInvalid as error:
        return _errors(400, error.errors)
    except Precondition as error:
        log.warning("prefetch not available", extra={"service": service_id, "key": error.key})
        return _errors(412, {f"prefetch.{error.key}": [f"Needed and not available: {error.why}."]})
    today = timezone.localdate()
    inputs, ignored = _inputs(found, envelope, prefetch)
    mapped = map_patient(
        inputs,
        catalogue,
        region=settings.CDS_HOOKS_REGION,
        today=today,
        stale_days=settings.CDS_HOOKS_STALE_DAYS,
    )
    mapped.not_used.extend(ignored)
    if not mapped.subjects:  # no memantine order (or no active memantine): nothing to say
        return _answer({"cards": []}, catalogue.version)
    assessment = assess(mapped.factors, catalogue, today=today)
    view = present(assessment, catalogue)
    context = CardContext(
        mapped=mapped,
        intake_url=_app_url(request, "indications:intake"),
        about_url=_app_url(request, "indications:about"),
    )
    return _answer({"cards": cards(assessment, view, context)}, catalogue.version)


# ---------------------------------------------------------------- feedback


def _feedback_item(item: Any, path: str, errors: dict) -> dict[str, Any] | None:
    if not isinstance(item, dict):
        errors[path] = ["Must be an object."]
        return None
    before = len(errors)
    card = item.get("card")
    try:
        card = uuid.UUID(card) if isinstance(card, str) else None
    except ValueError:
        card = None
    if card is None:
        errors[f"{path}.card"] = ["Required: the uuid of the card."]
    outcome = item.get("outcome")
    if outcome not in ("accepted", "overridden"):
        errors[f"{path}.outcome"] = ["Must be accepted or overridden."]
    stamp = item.get("outcomeTimestamp")
    moment = None
    if isinstance(stamp, str):
        try:
            moment = parse_datetime(stamp)
        except ValueError:
            moment = None
    if moment is None or timezone.is_naive(moment):
        errors[f"{path}.outcomeTimestamp"] = [
            "Required: an RFC 3339 time with its offset (2026-11-28T10:00:00Z)."
        ]
    accepted = item.get("acceptedSuggestions")
    suggestions: list[str] = []
    if accepted is not None:
        if not isinstance(accepted, list) or not all(
            isinstance(a, dict) and isinstance(a.get("id"), str) and len(a["id"]) <= 100 for a in accepted
        ):
            errors[f"{path}.acceptedSuggestions"] = ['Must be a list of {"id": ...}.']
        else:
            suggestions = [a["id"] for a in accepted][:20]
    if outcome == "accepted" and not suggestions:
        errors[f"{path}.acceptedSuggestions"] = ["Required when the outcome is accepted."]
    if outcome == "accepted" and item.get("overrideReason") is not None:
        errors[f"{path}.overrideReason"] = ["Only for an overridden card."]
    reason = {}
    override = item.get("overrideReason")
    if override is not None:
        coding = override.get("reason") if isinstance(override, dict) else None
        if coding is not None:
            if not isinstance(coding, dict) or not all(
                isinstance(coding.get(k), str) and len(coding[k]) <= 200 for k in ("code", "system")
            ):
                errors[f"{path}.overrideReason.reason"] = ["Must be a Coding with code and system."]
            else:
                display = coding.get("display")
                reason = {
                    "override_reason_system": coding["system"],
                    "override_reason_code": coding["code"],
                    "override_reason_display": display[:200] if isinstance(display, str) else "",
                }
    if len(errors) > before:
        return None
    return {
        "card": card,
        "outcome": outcome,
        "outcome_timestamp": moment.astimezone(dt.UTC),
        "accepted_suggestions": suggestions,
        **reason,
    }


@csrf_exempt
@never_cache
def feedback(request, service_id: str) -> HttpResponse:
    if service_id not in SERVICES:
        return _errors(404, {"service": ["No CDS service with this id."]})
    audiences = audience_urls(
        request,
        reverse("cds_hooks:service", args=[service_id]),
        reverse("cds_hooks:feedback", args=[service_id]),
    )
    try:
        issuer = authenticate(request, audiences)
    except NotAuthorised:
        return _unauthorised()
    try:
        data = read_json(request)
    except ApiError as error:
        return error.response()
    items = data.get("feedback") if isinstance(data, dict) else None
    if not isinstance(items, list) or not items or len(items) > MAX_FEEDBACK:
        return _errors(400, {"feedback": [f"Required: a list of 1 to {MAX_FEEDBACK} feedback items."]})
    errors: dict[str, list[str]] = {}
    rows = [_feedback_item(item, f"feedback[{i}]", errors) for i, item in enumerate(items)]
    if errors:
        return _errors(400, dict(list(errors.items())[:20]))
    CardFeedback.objects.bulk_create(
        [CardFeedback(service=service_id, issuer=(issuer or "")[:200], **row) for row in rows if row]
    )
    return JsonResponse({"stored": len(rows)})
