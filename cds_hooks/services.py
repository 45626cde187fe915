"""The three CDS services: what each hook is, what it asks the EHR to prefetch, and which resources of
a call go where. Templates use the spec's tokens; the EHR fills in the patient."""

from __future__ import annotations

from dataclasses import dataclass

from .fhir import CREATININE, EGFR, HEIGHT, LOINC, WEIGHT, Measure


def _latest(measure: Measure) -> str:
    codes = ",".join(f"{LOINC}|{code}" for code in measure.loinc)
    # Final results only: a newer preliminary or corrected-away one would hide the latest usable one.
    return (
        f"Observation?patient={{{{context.patientId}}}}&code={codes}"
        "&status=final,amended,corrected&_sort=-date&_count=1"
    )


PREFETCH = {
    "patient": "Patient/{{context.patientId}}",
    "creatinine": _latest(CREATININE),
    "egfr": _latest(EGFR),
    "weight": _latest(WEIGHT),
    "height": _latest(HEIGHT),
    "medicationRequests": "MedicationRequest?patient={{context.patientId}}&status=active",
    "medicationStatements": "MedicationStatement?patient={{context.patientId}}&status=active",
    "conditions": "Condition?patient={{context.patientId}}&clinical-status=active",
    "procedures": (
        "Procedure?patient={{context.patientId}}&status=in-progress,completed&_sort=-date&_count=50"
    ),
}
# What each prefetch key is for (cds_hooks.fhir.Inputs).
OBSERVATION_KEYS = ("creatinine", "egfr", "weight", "height")
MEDICATION_KEYS = ("medicationRequests", "medicationStatements")
CONDITION_KEYS = ("conditions", "procedures")
EXPECTED_TYPES = {
    "patient": {"Patient"},
    **{key: {"Bundle", "Observation"} for key in OBSERVATION_KEYS},
    "medicationRequests": {"Bundle", "MedicationRequest"},
    "medicationStatements": {"Bundle", "MedicationStatement"},
    "conditions": {"Bundle", "Condition"},
    "procedures": {"Bundle", "Procedure"},
}


@dataclass(frozen=True)
class Service:
    id: str
    hook: str
    title: str
    description: str
    context_fields: tuple[str, ...]  # required context members

    def discovery(self) -> dict:
        return {
            "hook": self.hook,
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "prefetch": dict(PREFETCH),
        }


SERVICES = {
    s.id: s
    for s in (
        Service(
            "memantine-order-select",
            "order-select",
            "Memantine: dose and safety for this patient",
            "When a memantine order is selected: the dose this patient's renal and hepatic function allow,"
            " interactions with current medications, and what in the record was missing or stale.",
            ("userId", "patientId", "selections", "draftOrders"),
        ),
        Service(
            "memantine-order-sign",
            "order-sign",
            "Memantine: check the order before signing",
            "Before a memantine order is signed: whether its dose is within this patient's maximum, the"
            " flags that apply, and what in the record was missing or stale.",
            ("userId", "patientId", "draftOrders"),
        ),
        Service(
            "memantine-patient-view",
            "patient-view",
            "Memantine: review for a patient taking it",
            "When the record of a patient with active memantine is opened: the dose verdict and flags for"
            " the current renal function, medications and conditions.",
            ("userId", "patientId"),
        ),
    )
}
