"""CDS Hooks 2.0 endpoints: discovery, the three services, feedback.

A service call is read, authenticated and validated, its missing prefetch fetched from the EHR's FHIR
server (or refused with 412 when it cannot be), the record mapped to the API's request shape
(``cds_hooks.fhir``), assessed by the one engine and rendered as cards from the one presentation
(``cds_hooks.cards``). Nothing about the patient is stored or logged.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import uuid
from typing import Any

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
from .cards import OVERRIDE_REASONS, OVERRIDE_SYSTEM, CardContext, cards, minor_card, unidentified_card
from .fhir import FhirInvalid, Inputs, map_patient, reference_key, resources, validate
from .fhir_client import MEDICATION_REFERENCE, FhirClient, Precondition
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
MAX_FEEDBACK = 100
# Resources in one prefetch key and in one call (a bounded amount of validation work per call).
MAX_ENTRIES = 500
MAX_ENTRIES_TOTAL = 1000
MAX_MEDICATION_FETCHES = 5  # Medication resources fetched by reference in one call


def _errors(status: int, errors: dict[str, list[str]], **headers) -> JsonResponse:
    response = JsonResponse({"errors": errors}, status=status)
    for key, value in headers.items():
        response[key.replace("_", "-")] = value
    return response


def _unauthorised() -> JsonResponse:
    # Opaque: the reason is logged for the operator, never told to the caller.
    return _errors(401, {"authorization": ["Not authorised."]}, WWW_Authenticate="Bearer")


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


def _entry_count(raw: Any) -> int:
    if isinstance(raw, dict) and raw.get("resourceType") == "Bundle" and isinstance(raw.get("entry"), list):
        return len(raw["entry"])
    return 1


def _bounded(key: str, count: int, total: int, *, given: bool) -> None:
    """A bounded amount of FHIR per call: validating it costs CPU, whoever sent it."""
    if count <= MAX_ENTRIES and total <= MAX_ENTRIES_TOTAL:
        return
    if not given:
        raise Precondition(key, "the FHIR server's results are too many")
    limits = f"at most {MAX_ENTRIES} resources a key and {MAX_ENTRIES_TOTAL} in all"
    raise ApiError(413, {f"prefetch.{key}": [f"Too many resources: {limits}."]})


def _validated(raw: Any, key: str, *, given: bool):
    """Sent FHIR that is not valid is the caller's error (400); fetched, it is data not to be had (412)."""
    try:
        return validate(raw, f"prefetch.{key}")
    except FhirInvalid:
        if given:
            raise
        raise Precondition(key, "the FHIR server's answer is not valid FHIR") from None


def _prefetched(envelope: dict[str, Any], client: FhirClient) -> dict[str, Any]:
    """Every prefetch key validated as FHIR: given (null means no data), else fetched; a search's
    further pages fetched for the lists (medications, conditions), never for the latest results."""
    found = {}
    total = _entry_count(envelope["drafts_raw"])
    for key, template in PREFETCH.items():
        given = key in envelope["prefetch"]
        raw = envelope["prefetch"][key] if given else client.search(template, envelope["context"], key)
        if raw is None:
            found[key] = None
            continue
        if isinstance(raw, dict) and raw.get("resourceType") == "OperationOutcome":
            raise Precondition(key, "the EHR sent an OperationOutcome instead of the data")
        _bounded(key, _entry_count(raw), total + _entry_count(raw), given=given)
        model = _validated(raw, key, given=given)
        kind = model.get_resource_type()
        if kind not in EXPECTED_TYPES[key]:
            if not given:
                raise Precondition(key, f"the FHIR server answered a {kind}")
            expected = " or ".join(sorted(EXPECTED_TYPES[key]))
            raise FhirInvalid({f"prefetch.{key}": [f"Expected {expected}, not {kind}."]})
        pages = kind == "Bundle" and any(link.relation == "next" for link in model.link or ())
        if pages and key not in OBSERVATION_KEYS:
            raw = client.every_page(key, raw, template.split("?")[0])
            _bounded(key, _entry_count(raw), total + _entry_count(raw), given=False)
            model = _validated(raw, key, given=False)
        total += _entry_count(raw)
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
    # Medications sent with the call, by "Medication/id" and by their Bundle entry's fullUrl (a
    # reference may be either, or a urn:uuid).
    medications = {}
    bundles = [prefetch[key] for key in MEDICATION_KEYS if prefetch[key] is not None]
    if envelope["drafts"] is not None:
        bundles.append(envelope["drafts"])
    for bundle in bundles:
        entries = bundle.entry or () if bundle.get_resource_type() == "Bundle" else ()
        for entry in entries:
            resource = entry.resource
            if resource is None or resource.get_resource_type() != "Medication":
                continue
            if resource.id:
                medications[f"Medication/{resource.id}"] = resource
            if entry.fullUrl:
                medications[entry.fullUrl] = resource
    inputs = Inputs(
        patient=patient,
        observations=own([r for key in OBSERVATION_KEYS for r in resources(prefetch[key])]),
        medications=own([r for key in MEDICATION_KEYS for r in resources(prefetch[key])]),
        conditions=own([r for key in CONDITION_KEYS for r in resources(prefetch[key])]),
        drafts=drafts,
        selections=tuple(envelope["selections"]) if envelope["selections"] is not None else None,
        patient_view=service.hook == "patient-view",
        medication_resources=medications,
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
        issuer = authenticate(
            request, audience_urls(request, reverse("cds_hooks:service", args=[service_id]))
        )
    except NotAuthorised:
        return _unauthorised()
    try:
        envelope = _envelope(read_json(request, limit=settings.CDS_HOOKS_MAX_BODY_BYTES), found)
        client = FhirClient(envelope["server"], envelope["token"], issuer)
        catalogue = published_catalogue()
        if catalogue is None:
            raise ApiError(
                503, {"catalogue": ["No catalogue release has been published yet."]}, {"Retry-After": "5"}
            )
        prefetch = _prefetched(envelope, client)
    except ApiError as error:
        return error.response()
    except FhirInvalid as error:
        return _errors(400, error.errors)
    except Precondition as error:
        # The reason (a status code, a timeout) is for the operator; the caller learns only the key.
        log.warning("prefetch %s not available: %s", error.key, error.why)
        return _errors(412, {f"prefetch.{error.key}": ["Needed, and not available from the EHR."]})
    today = timezone.localdate()
    inputs, ignored = _inputs(found, envelope, prefetch)
    _fetch_medications(inputs, client)
    try:
        mapped = map_patient(
            inputs,
            catalogue,
            region=settings.CDS_HOOKS_REGION,
            today=today,
            stale_days=settings.CDS_HOOKS_STALE_DAYS,
        )
    except FhirInvalid as error:
        return _errors(400, error.errors)
    mapped.not_used.extend(ignored)
    context = CardContext(
        mapped=mapped,
        intake_url=_app_url(request, "indications:intake"),
        about_url=_app_url(request, "indications:about"),
    )
    if not mapped.subjects:  # no memantine order (or no active memantine): nothing to say
        unnamed = [unidentified_card(mapped, context, catalogue.version)] if mapped.unidentified else []
        return _answer({"cards": unnamed}, catalogue.version)
    if mapped.minor_age is not None:
        return _answer({"cards": [minor_card(mapped, context, catalogue.version)]}, catalogue.version)
    assessment = assess(mapped.factors, catalogue, today=today)
    view = present(assessment, catalogue)
    return _answer({"cards": cards(assessment, view, context, catalogue)}, catalogue.version)


def _fetch_medications(inputs: Inputs, client: FhirClient) -> None:
    """Medications referenced by id ("Medication/123") and not sent with the call, fetched from the
    EHR's FHIR server (best effort, within the call's deadline: an order still unnamed is reported as
    not checked, never dropped)."""
    wanted = set()
    server = client.server or ""
    for item in [*(model for model, _ in inputs.drafts), *inputs.medications]:
        reference = getattr(getattr(item, "medicationReference", None), "reference", None) or ""
        if reference.startswith(server + "/") and server:
            reference = reference[len(server) + 1 :]  # absolute, on the call's own server
        key = reference_key(reference)
        if MEDICATION_REFERENCE.fullmatch(key) and key not in inputs.medication_resources:
            wanted.add(key)
    if not client.server:
        return
    for key in sorted(wanted)[:MAX_MEDICATION_FETCHES]:
        try:
            model = validate(client.get(client.url(key, {}, "medication"), "medication"), key)
        except (Precondition, FhirInvalid):
            continue
        if model.get_resource_type() == "Medication":
            inputs.medication_resources[key] = model


# ---------------------------------------------------------------- feedback


# What feedback may name: a code is a token, a system a URI (never free text, which may name a patient).
CODE_TOKEN = re.compile(r"[A-Za-z0-9._:\-]{1,100}")
SYSTEM_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[!-~]{1,190}")
OUR_REASONS = dict(OVERRIDE_REASONS)


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _moment(value: Any) -> dt.datetime | None:
    """An RFC 3339 time with its offset, in UTC (None for anything else, year 1 and 9999 included)."""
    try:
        moment = parse_datetime(value) if isinstance(value, str) else None
        return moment.astimezone(dt.UTC) if moment is not None and not timezone.is_naive(moment) else None
    except (ValueError, OverflowError):
        return None


def _override(override: Any, path: str, errors: dict) -> dict[str, str]:
    """The override reason's coding: this service's own reasons with their words, another system's
    code and system only."""
    if not isinstance(override, dict):
        errors[path] = ["Must be an object with a reason (a Coding)."]
        return {}
    coding = override.get("reason")
    if coding is None:
        return {}
    code = coding.get("code") if isinstance(coding, dict) else None
    system = coding.get("system") if isinstance(coding, dict) else None
    if not isinstance(code, str) or not CODE_TOKEN.fullmatch(code):
        errors[f"{path}.reason.code"] = ["Must be a code (letters, digits, . _ : -; at most 100)."]
        return {}
    if not isinstance(system, str) or not SYSTEM_URI.fullmatch(system):
        errors[f"{path}.reason.system"] = ["Must be a URI of at most 200 characters."]
        return {}
    ours = system == OVERRIDE_SYSTEM and code in OUR_REASONS
    return {
        "override_reason_system": system,
        "override_reason_code": code,
        "override_reason_display": OUR_REASONS[code] if ours else "",
    }


def _feedback_item(item: Any, path: str, errors: dict) -> dict[str, Any] | None:
    if not isinstance(item, dict):
        errors[path] = ["Must be an object."]
        return None
    before = len(errors)
    card = _uuid(item.get("card"))
    if card is None:
        errors[f"{path}.card"] = ["Required: the uuid of the card."]
    outcome = item.get("outcome")
    if outcome not in ("accepted", "overridden"):
        errors[f"{path}.outcome"] = ["Must be accepted or overridden."]
    moment = _moment(item.get("outcomeTimestamp"))
    if moment is None:
        errors[f"{path}.outcomeTimestamp"] = [
            "Required: an RFC 3339 time with its offset (2026-11-28T10:00:00Z)."
        ]
    accepted = item.get("acceptedSuggestions")
    suggestions: list[str] = []
    if accepted is not None:
        ids = (
            [_uuid(a.get("id")) if isinstance(a, dict) else None for a in accepted]
            if isinstance(accepted, list)
            else [None]
        )
        if None in ids or len(ids) > 20:
            errors[f"{path}.acceptedSuggestions"] = [
                'Must be a list of up to 20 {"id": "<suggestion uuid>"}.'
            ]
        else:
            suggestions = [str(i) for i in ids]
    if outcome == "accepted" and not suggestions:
        errors[f"{path}.acceptedSuggestions"] = ["Required when the outcome is accepted."]
    reason = {}
    if item.get("overrideReason") is not None:
        if outcome == "accepted":
            errors[f"{path}.overrideReason"] = ["Only for an overridden card."]
        else:
            reason = _override(item["overrideReason"], f"{path}.overrideReason", errors)
    if len(errors) > before:
        return None
    return {
        "card": card,
        "outcome": outcome,
        "outcome_timestamp": moment,
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
