"""FHIR R4 resources and CDS Hooks calls for the tests: an EHR's side, built the way EHRs send them.

    call = order_select(patient=patient(born="1944-03-02", gender="female"),
                        creatinine=creatinine(2.6, "mg/dL", days_ago=3), weight=weight(60, "kg"))

Every builder returns plain JSON (dicts), as it travels; a value of ``None`` for a prefetch key means
"no data" and a key left out means "not prefetched".
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

PATIENT_ID = "example-1"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
SNOMED = "http://snomed.info/sct"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
UNITS = {
    "mg/dL": "mg/dL",
    "umol/L": "umol/L",
    "kg": "kg",
    "g": "g",
    "lb": "[lb_av]",
    "cm": "cm",
    "in": "[in_i]",
}


def today() -> dt.date:
    return dt.date.today()


def patient(born: str | None = "1944-03-02", gender: str | None = "female", pid: str = PATIENT_ID) -> dict:
    resource: dict[str, Any] = {"resourceType": "Patient", "id": pid}
    if born is not None:
        resource["birthDate"] = born
    if gender is not None:
        resource["gender"] = gender
    return resource


def observation(
    code: str, value: float, unit: str, *, days_ago: int = 3, status: str = "final", pid=PATIENT_ID
) -> dict:
    ucum = UNITS.get(unit, unit)
    return {
        "resourceType": "Observation",
        "id": f"obs-{uuid.uuid4().hex[:8]}",
        "status": status,
        "code": {"coding": [{"system": LOINC, "code": code}]},
        "subject": {"reference": f"Patient/{pid}"},
        "effectiveDateTime": (today() - dt.timedelta(days=days_ago)).isoformat(),
        "valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": ucum},
    }


def creatinine(value: float, unit: str = "mg/dL", **kw) -> dict:
    return observation("2160-0" if unit == "mg/dL" else "14682-9", value, unit, **kw)


def egfr(value: float, **kw) -> dict:
    return observation("98979-8", value, "mL/min/{1.73_m2}", **kw)


def weight(value: float, unit: str = "kg", **kw) -> dict:
    return observation("29463-7", value, unit, **kw)


def height(value: float, unit: str = "cm", **kw) -> dict:
    return observation("8302-2", value, unit, **kw)


def bundle(*resources: dict) -> dict:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources),
        "entry": [{"fullUrl": f"urn:uuid:{uuid.uuid4()}", "resource": r} for r in resources],
    }


def concept(text: str | None = None, rxnorm: str | None = None, display: str | None = None) -> dict:
    value: dict[str, Any] = {}
    if rxnorm:
        value["coding"] = [{"system": RXNORM, "code": rxnorm, **({"display": display} if display else {})}]
    if text:
        value["text"] = text
    return value


def medication_request(
    text: str | None = "memantine 10 mg tablet",
    *,
    rxnorm: str | None = None,
    status: str = "draft",
    dose_mg: float | None = 10,
    per_day: int = 2,
    rid: str | None = None,
    pid: str = PATIENT_ID,
) -> dict:
    resource: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "id": rid or f"mr-{uuid.uuid4().hex[:8]}",
        "status": status,
        "intent": "order",
        "subject": {"reference": f"Patient/{pid}"},
        "medicationCodeableConcept": concept(text, rxnorm),
    }
    if dose_mg is not None:
        resource["dosageInstruction"] = [
            {
                "timing": {"repeat": {"frequency": per_day, "period": 1, "periodUnit": "d"}},
                "doseAndRate": [
                    {"doseQuantity": {"value": dose_mg, "unit": "mg", "system": UCUM, "code": "mg"}}
                ],
            }
        ]
    return resource


def medication_statement(
    text: str, *, rxnorm: str | None = None, status: str = "active", pid=PATIENT_ID
) -> dict:
    return {
        "resourceType": "MedicationStatement",
        "id": f"ms-{uuid.uuid4().hex[:8]}",
        "status": status,
        "subject": {"reference": f"Patient/{pid}"},
        "medicationCodeableConcept": concept(text, rxnorm),
    }


def condition(
    code: str, system: str = SNOMED, display: str = "", *, status: str = "active", pid=PATIENT_ID
) -> dict:
    return {
        "resourceType": "Condition",
        "id": f"cond-{uuid.uuid4().hex[:8]}",
        "clinicalStatus": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": status}]
        },
        "code": {"coding": [{"system": system, "code": code, **({"display": display} if display else {})}]},
        "subject": {"reference": f"Patient/{pid}"},
    }


def prefetch(
    *,
    patient_resource: dict | None = None,
    creatinine_obs: dict | None = None,
    egfr_obs: dict | None = None,
    weight_obs: dict | None = None,
    height_obs: dict | None = None,
    medications: list[dict] = (),
    statements: list[dict] = (),
    conditions: list[dict] = (),
    procedures: list[dict] = (),
) -> dict:
    """Every prefetch key filled: a resource or Bundle where there is data, null where there is none."""
    return {
        "patient": patient_resource,
        "creatinine": bundle(creatinine_obs) if creatinine_obs else None,
        "egfr": bundle(egfr_obs) if egfr_obs else None,
        "weight": bundle(weight_obs) if weight_obs else None,
        "height": bundle(height_obs) if height_obs else None,
        "medicationRequests": bundle(*medications) if medications else None,
        "medicationStatements": bundle(*statements) if statements else None,
        "conditions": bundle(*conditions) if conditions else None,
        "procedures": bundle(*procedures) if procedures else None,
    }


def call(hook: str, *, draft: dict | None = None, prefetch_data: dict | None = None, **extra) -> dict:
    """A hook request as an EHR sends it (order-select selects the draft)."""
    context: dict[str, Any] = {"userId": "Practitioner/123", "patientId": PATIENT_ID, "encounterId": "enc-1"}
    if hook in ("order-select", "order-sign"):
        drafts = [draft] if draft else []
        context["draftOrders"] = {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [{"resource": d} for d in drafts],
        }
        if hook == "order-select":
            context["selections"] = [f"MedicationRequest/{d['id']}" for d in drafts] or [
                "MedicationRequest/none"
            ]
    body: dict[str, Any] = {"hook": hook, "hookInstance": str(uuid.uuid4()), "context": context}
    if prefetch_data is not None:
        body["prefetch"] = prefetch_data
    body.update(extra)
    return body


def severe_renal_patient() -> dict:
    """80-year-old woman, 50 kg, creatinine 2.0 mg/dL three days ago: Cockcroft-Gault about 20 mL/min."""
    return prefetch(
        patient_resource=patient(born=f"{today().year - 80}-01-01", gender="female"),
        creatinine_obs=creatinine(2.0, "mg/dL"),
        weight_obs=weight(50, "kg"),
    )
