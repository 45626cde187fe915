"""FHIR R4 resources to the patient factors: the API's request shape, and every value named.

An EHR sends what it has: a Patient, the latest observations, medication lists, conditions. Each
resource is validated with fhir.resources (its R4B models read R4 resources); a resource that is not
valid FHIR is a 400 (``FhirInvalid``). What is valid is turned into the request the public API takes
(``indications.engine.parse_request``, the one validation path) and two lists for the card: the values
used, each with its date and code, and what was missing, stale or refused. Nothing is assumed:

- only the latest dated observation of each kind is considered (an older one is never used in its
  place: the newer value may be the worse one); older than ``stale_days``, dated in the future, of a
  status other than final/amended/corrected, or in a unit not recognised, it is named and not used;
- a value the engine refuses (an age under 18, a creatinine no adult has) is named with the engine's
  own message and left out, and the rest assessed;
- dialysis or end-stage kidney disease (Condition or Procedure codes in the catalogue) makes the renal
  input dialysis, whatever the labs say;
- medications are matched by RxNorm code first (the catalogue's drugs and product codes), by name
  second; one with neither is passed on by what the EHR called it, so it is reported as not checked.

Pure: no Django, no I/O, no clock (``today`` is the caller's).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from indications.engine import calculators, parse_request
from indications.engine import vocabulary as vocab
from indications.engine.catalogue import Catalogue, Drug
from indications.engine.checks import DOSE_IN_TEXT, regimen_doses
from indications.engine.factors import LIMITS, MAX_MEDICATION_LENGTH, MAX_MEDICATIONS, PatientFactors
from indications.engine.medications import recognise

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
SYSTEMS = {uri: code for code, uri in vocab.CODE_SYSTEM_URIS.items()}  # FHIR system URI -> catalogue code


@dataclass(frozen=True)
class Measure:
    """An observation the dose can rest on: its LOINC codes, what it is called, and its units."""

    name: str
    loinc: tuple[str, ...]
    units: Mapping[str, tuple[str, float]]  # UCUM code or unit text -> (the API's unit, factor)
    # Of two results on one day with no time, the one that gives the lower clearance ("high" or
    # "low" value); "" when neither is (neither is used).
    prefer: str = ""

    def unit(self, key: str) -> tuple[str, float] | None:
        """The API's unit and factor for a UCUM code or unit text (exact, else ignoring case: "mg/dl")."""
        key = key.strip()
        if key in self.units:
            return self.units[key]
        folded = {k.casefold(): v for k, v in self.units.items()}
        return folded.get(key.casefold())


CREATININE = Measure(
    "serum creatinine",
    ("2160-0", "14682-9"),
    {
        "mg/dL": ("mg/dL", 1.0),
        "umol/L": ("umol/L", 1.0),
        "µmol/L": ("umol/L", 1.0),
        "mmol/L": ("umol/L", 1000.0),
    },
    prefer="high",
)
EGFR = Measure(
    "lab eGFR",
    ("98979-8", "62238-1", "33914-3"),
    {"mL/min/{1.73_m2}": ("", 1.0), "mL/min/1.73m2": ("", 1.0), "mL/min/1.73 m2": ("", 1.0)},
    prefer="low",
)
WEIGHT = Measure(
    "body weight",
    ("29463-7",),
    {"kg": ("kg", 1.0), "g": ("kg", 0.001), "[lb_av]": ("lb", 1.0), "lb": ("lb", 1.0)},
    prefer="low",
)
HEIGHT = Measure(
    "body height",
    ("8302-2",),
    {"cm": ("cm", 1.0), "m": ("cm", 100.0), "[in_i]": ("in", 1.0), "in": ("in", 1.0)},
)
MEASURES = (CREATININE, EGFR, WEIGHT, HEIGHT)

USABLE_OBSERVATION = frozenset({"final", "amended", "corrected"})
ACTIVE_REQUEST = frozenset({"active", "on-hold", "draft"})
ACTIVE_STATEMENT = frozenset({"active", "intended", "on-hold", "unknown"})
ACTIVE_CONDITION = frozenset({"active", "recurrence", "relapse"})
DOUBTFUL_CONDITION = frozenset({"refuted", "entered-in-error"})
CURRENT_PROCEDURE = frozenset({"in-progress", "completed"})
# Words that make a memantine product extended release when no code says so.
EXTENDED_RELEASE = re.compile(r"\b(xr|er|extended[ -]release|24 ?hr?)\b", re.IGNORECASE)
TIMING_CODES = {"QD": 1, "BID": 2, "TID": 3, "QID": 4, "AM": 1, "PM": 1, "Q12H": 2, "Q8H": 3, "Q6H": 4}
PER_DAY = {"d": 1.0, "h": 24.0, "min": 1440.0, "wk": 1 / 7}


class FhirInvalid(Exception):
    """A resource that is not valid FHIR R4: the request is refused (400), naming where."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(errors)
        self.errors = errors


def validate(data: Any, path: str):
    """The resource as a fhir.resources model, or FhirInvalid naming the first problems."""
    if not isinstance(data, Mapping) or not isinstance(data.get("resourceType"), str):
        raise FhirInvalid({path: ["Must be a FHIR resource (a JSON object with a resourceType)."]})
    kind = data["resourceType"]
    try:
        model = get_fhir_model_class(kind)
    except (ValueError, KeyError, AttributeError):
        raise FhirInvalid({path: [f"“{kind[:40]}” is not a FHIR R4 resource type."]}) from None
    try:
        return model.model_validate(dict(data))
    except ValidationError as error:
        problems = []
        for item in error.errors()[:5]:
            where = ".".join(str(p) for p in item["loc"] if p != "__root__")[:80]
            problems.append(f"Not valid FHIR {kind}: {where or kind}: {item['msg'][:120]}.")
        raise FhirInvalid({path: problems}) from None
    except (TypeError, ValueError, KeyError, AttributeError, IndexError, RecursionError):
        # The library's own validators fail on some odd input (a contained resource of resourceType
        # 42 is a KeyError): still not valid FHIR, never a 500.
        raise FhirInvalid({path: [f"Not valid FHIR {kind[:40]}."]}) from None


def resources(value) -> list:
    """The resources of a prefetch value: a Bundle's entries (search outcomes left out) or one resource."""
    if value is None:
        return []
    if value.get_resource_type() == "Bundle":
        found = []
        for entry in value.entry or ():
            if entry.resource is None or (entry.search and entry.search.mode == "outcome"):
                continue
            found.append(entry.resource)
        return found
    return [value]


# ---------------------------------------------------------------- dates and values


def when(value: Any) -> dt.date | None:
    """The calendar date of a FHIR date, dateTime or instant (a partial date: its last possible day is
    not used, its first is: "2026-11" is 2026-11-01, the older reading)."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value)
    parts = text.split("-")
    try:
        year = int(parts[0])
        month = int(parts[1]) if len(parts) > 1 else 1
        return dt.date(year, month, 1)
    except (ValueError, IndexError):
        return None


def observed_on(observation) -> dt.date | None:
    period = observation.effectivePeriod
    return (
        when(observation.effectiveDateTime)
        or when(observation.effectiveInstant)
        or when(period.end if period else None)
        or when(period.start if period else None)
        or when(observation.issued)
    )


def _instant(observation) -> float:
    """When on its day a result was taken (seconds since the epoch; 0 when only the day is known), so
    that of two results on one day the later is the latest."""
    value = observation.effectiveDateTime or observation.effectiveInstant or observation.issued
    return value.timestamp() if isinstance(value, dt.datetime) and value.tzinfo else 0.0


def _codes(concept) -> list[tuple[str, str]]:
    """(system URI, code) of each coding of a CodeableConcept."""
    if concept is None:
        return []
    return [(c.system or "", c.code or "") for c in concept.coding or () if c.code]


def _concept_text(concept) -> str:
    """A concept's words (its text, else its first display), at most as long as a medication name may
    be: what is matched and shown never costs more than a name typed on the form."""
    if concept is None:
        return ""
    if concept.text:
        return concept.text[:MAX_MEDICATION_LENGTH]
    for coding in concept.coding or ():
        if coding.display:
            return coding.display[:MAX_MEDICATION_LENGTH]
    return ""


def number(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


# ---------------------------------------------------------------- what came out


@dataclass(frozen=True)
class Subject:
    """The memantine order (or, for patient-view, the active memantine) the cards are about."""

    reference: str  # "MedicationRequest/103" or "" when the resource has no id
    name: str  # what the EHR calls it
    formulation: str  # ir | xr
    daily_mg: float | None  # the ordered daily dose, when it could be read
    dose_text: str  # the order's dose as read ("10 mg twice daily"), "" when not read
    resource: Mapping[str, Any] | None = None  # the draft MedicationRequest as sent (for the suggestion)
    drug: str = ""  # the catalogue drug (memantine, or a product containing it)
    formulation_known: str = ""  # how the formulation is known ("its code", ...), "" when it is not
    is_order: bool = True  # a draft order (False: a current medication, patient-view)
    unit_strength: float | None = None  # mg per tablet or capsule, when its name gives one
    solution: bool = False  # an oral solution (any dose in mg can be measured)


@dataclass
class Mapped:
    request: dict[str, Any]
    used: list[str] = field(default_factory=list)  # values used, each with its date and code
    not_used: list[str] = field(default_factory=list)  # missing, stale or refused, and why
    subjects: list[Subject] = field(default_factory=list)
    factors: PatientFactors | None = None
    memantine_in_record: list[Subject] = field(default_factory=list)  # current memantine in the record
    unidentified: list[str] = field(default_factory=list)  # draft orders naming no medication
    minor_age: float | None = None  # the patient's age when under the adult age the engine assesses
    refused: bool = False  # a value of the record was refused as implausible


@dataclass(frozen=True)
class Reading:
    measure: Measure
    value: float
    unit: str  # the API's unit ("" for eGFR)
    on: dt.date
    code: str
    shown: str  # "1.9 mg/dL on 2026-11-20 (LOINC 2160-0)"


# ---------------------------------------------------------------- observations


def _unit_key(quantity) -> str:
    return (
        quantity.code if quantity.system == UCUM and quantity.code else (quantity.unit or quantity.code or "")
    )


def _comparable(measure: Measure, obs) -> float | None:
    """A result's value in one unit (mg/dL, kg, cm: the engine's conversions), to compare results of
    one day."""
    quantity = obs.valueQuantity
    unit = measure.unit(_unit_key(quantity)) if quantity is not None and quantity.value is not None else None
    if unit is None:
        return None
    value = float(quantity.value) * unit[1]
    common = {
        CREATININE.name: calculators.creatinine_mg_dl,
        WEIGHT.name: calculators.weight_kg,
        HEIGHT.name: calculators.height_cm,
    }.get(measure.name)
    return common(value, unit[0]) if common else value


def _latest(measure: Measure, observations: Iterable, today: dt.date, stale_days: int, mapped: Mapped):
    candidates = []
    for obs in observations:
        if obs.get_resource_type() != "Observation":
            continue
        codes = [code for system, code in _codes(obs.code) if system == LOINC and code in measure.loinc]
        if not codes or obs.status in ("entered-in-error", "cancelled"):
            continue
        candidates.append((observed_on(obs), codes[0], obs))
    if not candidates:
        return None
    dated = [c for c in candidates if c[0] is not None]
    label = vocab.sentence(measure.name)
    if not dated:
        mapped.not_used.append(f"{label}: no date on the result, so not used.")
        return None
    on, code, obs = max(dated, key=lambda c: (c[0], _instant(c[2])))
    same_day = [c for c in dated if c[0] == on]
    if all(_instant(c[2]) for c in same_day):  # every result of the day has its time: the latest
        same_day = [c for c in same_day if _instant(c[2]) == _instant(obs)]
    values = {_comparable(measure, c[2]) for c in same_day}
    if len(same_day) > 1 and len(values) > 1:
        # Results of one day with no time to order them: the one giving the lower clearance, or none.
        if measure.prefer and None not in values:
            pick = max if measure.prefer == "high" else min
            on, code, obs = pick(same_day, key=lambda c: _comparable(measure, c[2]))
            mapped.not_used.append(
                f"{label}: {len(same_day)} results on {on} without times to tell the latest; the one"
                " giving the lower clearance is used."
            )
        else:
            mapped.not_used.append(
                f"{label}: {len(same_day)} different results on {on} with no time: not used."
            )
            return None
    quantity = obs.valueQuantity
    if quantity is None or quantity.value is None:
        mapped.not_used.append(f"{label} of {on}: no numeric value, so not used.")
        return None
    shown_unit = quantity.unit or quantity.code or "no unit"
    raw = f"{number(float(quantity.value))} {shown_unit}"
    if obs.status not in USABLE_OBSERVATION:
        mapped.not_used.append(f"{label} {raw} of {on}: status “{obs.status}”, not final, so not used.")
        return None
    if quantity.comparator:
        mapped.not_used.append(f"{label} {quantity.comparator}{raw} of {on}: not a value, so not used.")
        return None
    if on > today + dt.timedelta(days=1):
        mapped.not_used.append(f"{label} {raw} dated {on}, in the future: not used.")
        return None
    age = (today - on).days
    if age > stale_days:
        mapped.not_used.append(
            f"{label} {raw} of {on} is {age} days old (older than {stale_days} days): stale, not used."
        )
        return None
    unit = measure.unit(_unit_key(quantity))
    if unit is None:
        mapped.not_used.append(
            f"{label} {raw} of {on}: unit “{shown_unit[:30]}” not recognised, so not used."
        )
        return None
    api_unit, factor = unit
    value = float(quantity.value) * factor
    converted = "" if factor == 1 else f", {number(value)} {vocab.UNITS_SHOWN.get(api_unit, api_unit)}"
    return Reading(measure, value, api_unit, on, code, f"{raw}{converted} on {on} (LOINC {code})")


def _age(patient, today: dt.date, mapped: Mapped) -> float | None:
    if patient is None or patient.birthDate is None:
        mapped.not_used.append("Age: no birth date in the record.")
        return None
    born = patient.birthDate
    if isinstance(born, dt.date):
        years = _years(born, today)
        mapped.used.append(f"Age {years:g} years (born {born}).")
        return years
    earliest = when(born)  # a partial birth date: the oldest the patient can be (the lower clearance)
    if earliest is None:
        mapped.not_used.append("Age: the birth date could not be read.")
        return None
    years = _years(earliest, today)
    mapped.used.append(f"Age {years:g} years (birth date recorded only as {born}: the oldest it allows).")
    return years


def _years(born: dt.date, today: dt.date) -> float:
    """Completed years of age on ``today``."""
    return float(today.year - born.year - ((today.month, today.day) < (born.month, born.day)))


def _sex(patient, mapped: Mapped) -> str | None:
    gender = patient.gender if patient is not None else None
    if gender in ("female", "male"):
        mapped.used.append(f"Sex {gender} (the record's gender).")
        return gender
    mapped.not_used.append(
        "Sex for the Cockcroft-Gault formula: "
        + (f"the record's gender is “{gender}”." if gender else "not in the record.")
    )
    return None


# ---------------------------------------------------------------- conditions and dialysis


def _coded(catalogue: Catalogue, concept) -> list[tuple[Any, str]]:
    """The catalogue meanings of a concept's codings, with the code as shown."""
    found = []
    for system, code in _codes(concept):
        name = SYSTEMS.get(system)
        meaning = catalogue.code(name, code) if name else None
        if meaning is not None:
            found.append((meaning, f"{vocab.CODE_SYSTEMS[name]} {code}"))
    return found


def _conditions(items: Iterable, catalogue: Catalogue, today: dt.date, stale_days: int, mapped: Mapped):
    conditions: list[str] = []
    dialysis: list[str] = []
    for item in items:
        kind = item.get_resource_type()
        if kind == "Condition":
            status = _codes(item.clinicalStatus)
            verification = _codes(item.verificationStatus)
            if status and not any(code in ACTIVE_CONDITION for _, code in status):
                continue
            if any(code in DOUBTFUL_CONDITION for _, code in verification):
                continue
        elif kind == "Procedure":
            if item.status not in CURRENT_PROCEDURE:
                continue
            period = item.performedPeriod
            on = when(item.performedDateTime) or when(period.end if period else None)
            ongoing = item.status == "in-progress" or (period is not None and period.end is None)
            if not ongoing and (on is None or (today - on).days > stale_days):
                continue
        else:
            continue
        for meaning, shown in _coded(catalogue, item.code):
            text = _concept_text(item.code) or meaning.display
            if meaning.means == "dialysis":
                dialysis.append(f"{text} ({shown})")
            elif meaning.means == "condition" and meaning.condition in catalogue.conditions_by_slug:
                conditions.append(meaning.condition)
                label = catalogue.conditions_by_slug[meaning.condition].label
                mapped.used.append(f"{label}: {text} ({shown}).")
    return list(dict.fromkeys(conditions)), list(dict.fromkeys(dialysis))


# ---------------------------------------------------------------- medications


def _drug_for(concept, catalogue: Catalogue) -> tuple[Drug | None, str, str]:
    """The catalogue drug a medication concept is, by RxNorm code first and by name second; with the
    name to pass on and the formulation its code gives ("" when none). A name of several drugs is the
    catalogue's product of exactly those drugs, or, when it has none and memantine is among them,
    memantine as part of a product the catalogue does not know (``UNKNOWN_PRODUCT``)."""
    for meaning, _shown in _coded(catalogue, concept):
        if meaning.means == "drug" and meaning.drug in catalogue.drugs_by_generic:
            return catalogue.drugs_by_generic[meaning.drug], meaning.drug, meaning.formulation
    text = " ".join(_concept_text(concept).split())
    if text:
        match = recognise(text, catalogue)
        drug = match.product or match.drug
        if drug is None and len(match.drugs) > 1:
            names = {d.name for d in match.drugs}
            drug = next((d for d in catalogue.drugs if d.components and set(d.components) == names), None)
            memantine = [d for d in match.drugs if "memantine" in d.classes]
            if drug is None and memantine:
                drug = dataclasses.replace(
                    memantine[0], components=tuple(sorted(names)), name=UNKNOWN_PRODUCT
                )
        return drug, text, ""
    codes = ", ".join(f"{SYSTEMS.get(s, s) or 'no system'} {c}" for s, c in _codes(concept))
    return None, f"medication coded {codes}" if codes else "a medication with no name or code", ""


# The drug of a product containing memantine that the catalogue does not know as a product: assessed
# as memantine, never switched to another product.
UNKNOWN_PRODUCT = "memantine in a product of several drugs"


def _is_memantine(drug: Drug | None, catalogue: Catalogue) -> bool:
    if drug is not None and drug.name == UNKNOWN_PRODUCT:
        return True
    return drug is not None and any("memantine" in d.classes for d in catalogue.components_of(drug))


def reference_key(target: str) -> str:
    """The key a Medication is known by in a call: "Medication/123" for a relative reference (its
    version dropped); an absolute URL or a urn:uuid as it is (matched only to a fullUrl)."""
    if re.match(r"[A-Za-z][A-Za-z0-9+.\-]*:", target):
        return target
    parts = [p for p in target.split("?")[0].split("/") if p]
    if len(parts) >= 4 and parts[-2] == "_history":
        parts = parts[:-2]
    return "/".join(parts[-2:])


def _concept_of(resource, medications: Mapping[str, Any]) -> Any:
    """A MedicationRequest's or MedicationStatement's medication concept: its own, a contained
    Medication's (#id), a Medication sent or fetched with the call (by "Medication/123", its fullUrl
    or urn:uuid), or the reference's display text; None when nothing names it."""
    if resource.medicationCodeableConcept is not None:
        return resource.medicationCodeableConcept
    reference = resource.medicationReference
    if reference is None:
        return None
    target = reference.reference or ""
    if target.startswith("#"):
        for contained in resource.contained or ():
            if contained.get_resource_type() == "Medication" and contained.id == target[1:]:
                return contained.code
    found = medications.get(reference_key(target)) if target else None
    if found is not None and found.code is not None:
        return found.code
    if reference.display:
        return _Named(reference.display[:MAX_MEDICATION_LENGTH])
    return None


@dataclass(frozen=True)
class _Named:
    """A medication known only by the display text of its reference."""

    text: str
    coding: tuple = ()


# A dose in mg written in a product name or an instruction ("10 mg", "28 MG"), not a concentration.
_MG = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)\s*(?:mg|milligrams?)\b(?!\s*/\s*(?:ml|5\s*ml)\b)", re.IGNORECASE)
# The memantine strength of a product naming several ("donepezil 10 MG / memantine 28 MG").
_MEMANTINE_MG = re.compile(r"memantine\D{0,40}?(\d+(?:\.\d+)?)\s*mg\b", re.IGNORECASE)
PACK = re.compile(r"\b(pack|pak|kit|titration)\b", re.IGNORECASE)
SOLUTION = re.compile(r"/\s*ml\b|\bsolution\b", re.IGNORECASE)
DOSE_FORM_UNITS = frozenset(
    "tablet tablets tab tabs {tbl} {tablet} {tab} capsule capsules cap caps {cap} {capsule}".split()
)


def _mg_in(text: str) -> list[float]:
    return [float(m) for m in _MG.findall(text or "")]


def product_texts(concept, catalogue: Catalogue) -> list[str]:
    """Everything that names the product: its text, its codings' displays, and the catalogue's display
    of its RxNorm code."""
    texts = [_concept_text(concept)]
    for coding in getattr(concept, "coding", None) or ():
        texts.append((getattr(coding, "display", "") or "")[:MAX_MEDICATION_LENGTH])
        if getattr(coding, "code", None) and SYSTEMS.get(coding.system) == "rxnorm":
            meaning = catalogue.code("rxnorm", coding.code)
            texts.append(meaning.display if meaning is not None else "")
    return [t for t in texts if t]


def _formulation(texts: list[str], by_code: str, drug: Drug, catalogue: Catalogue) -> tuple[str, str]:
    """A memantine product's formulation and how it is known: by its code; by its product, when every
    product code the catalogue has for it is of one formulation (memantine with donepezil); by release
    words in its name; or by a strength only one formulation comes in (the catalogue's labelled
    strengths). ("ir", "") when nothing says, or the strengths disagree: immediate release has the
    lower maximum."""
    if by_code:
        return by_code, "its code"
    products = {c.formulation for c in catalogue.codes if c.means == "drug" and c.drug == drug.name}
    if len(products) == 1 and "" not in products:
        return products.pop(), "its product"
    if any(EXTENDED_RELEASE.search(t) for t in texts):
        return "xr", "its name"
    named = {mg for t in texts for mg in _mg_in(t)}
    found = set()
    for formulation, strengths in catalogue.strengths.items():
        others = {s for f, group in catalogue.strengths.items() if f != formulation for s in group}
        if named & (set(strengths) - others):
            found.add(formulation)
    if len(found) == 1:
        return found.pop(), "its strength"
    return "ir", ""


def _unit_strength(texts: list[str], drug: Drug) -> float | None:
    """The mg of memantine in one tablet or capsule: the number after "memantine" where the name has
    one; else, for a product of memantine alone, the one strength its names give; None otherwise (a
    combination named by brand: "Namzaric 28 mg/10 mg" does not say which is which)."""
    found = {float(m) for t in texts for m in _MEMANTINE_MG.findall(t)}
    if not found and not drug.components:
        found = {mg for t in texts for mg in _mg_in(t)}
    return found.pop() if len(found) == 1 else None


def _per_day(timing) -> float | None:
    """Administrations a day of a FHIR Timing (the most it allows: frequencyMax, every event of
    ``when`` or ``timeOfDay``), or None."""
    if timing is None:
        return None
    repeat = timing.repeat
    counts = []
    if repeat is not None:
        frequency = repeat.frequencyMax or repeat.frequency
        events = len(repeat.when or ()) or len(repeat.timeOfDay or ())
        if repeat.period and repeat.periodUnit in PER_DAY:
            counts.append((frequency or 1) * PER_DAY[repeat.periodUnit] / float(repeat.period))
        if events:
            counts.append(events * (frequency or 1))
    if timing.code is not None:
        counts += [
            TIMING_CODES[code.upper()] for _, code in _codes(timing.code) if code.upper() in TIMING_CODES
        ]
    return max(counts) if counts else None


def _structured(line, strength: float | None) -> float | None:
    """The daily mg of one dosage line's structured dose (mg, or tablets and capsules of a known
    strength), or None."""
    quantity = next((r.doseQuantity for r in line.doseAndRate or () if r.doseQuantity is not None), None)
    if quantity is None or quantity.value is None:
        return None
    unit = (quantity.code or quantity.unit or "").strip().lower()
    value = float(quantity.value)
    if unit in ("mg", "milligram", "milligrams"):
        each = value
    elif unit in DOSE_FORM_UNITS and strength is not None:
        each = value * strength
    else:
        return None
    per_day = _per_day(line.timing)
    return None if per_day is None else each * per_day


def daily_dose(resource, strength: float | None, pack: bool) -> tuple[float | None, str]:
    """The daily dose in mg a MedicationRequest (or MedicationStatement) gives, and its words: the most
    its structured dose and its instruction say (an instruction read only when it is one dose and
    one frequency and nothing more). None when it cannot be read: a titration pack, several dosage
    lines, a dose in units with no strength to convert them, no frequency, words that say more."""
    lines = list(getattr(resource, "dosageInstruction", None) or getattr(resource, "dosage", None) or ())
    words = [w for line in lines for w in (line.text, line.patientInstruction) if w]
    texts = " / ".join(words)[:MAX_MEDICATION_LENGTH]
    if pack:
        return None, texts or "a titration pack, whose doses rise week by week"
    if len(lines) != 1:
        return None, texts
    line = lines[0]
    doses = []
    structured = _structured(line, strength)
    if structured is not None:
        doses.append(structured)
    for text in (line.text, line.patientInstruction):
        said = regimen_doses(text or "", whole=True)
        if said is not None:
            doses.append(said[0] * said[1])
        elif text and (structured is None or DOSE_IN_TEXT.search(text)):
            # Words that say a dose the service cannot read as one dose and one frequency ("10 mg in
            # the morning and at night"), beside a structured dose or alone: not read, never "within".
            return None, texts
    if not doses:
        return None, texts
    daily = max(doses)
    return daily, texts or f"{number(daily)} mg a day"


def _subject(resource, concept, drug: Drug, name: str, by_code: str, raw, catalogue: Catalogue) -> Subject:
    texts = product_texts(concept, catalogue)
    formulation, known = _formulation(texts, by_code, drug, catalogue)
    kind = resource.get_resource_type()
    reference = f"{kind}/{resource.id}" if resource.id else ""
    strength = _unit_strength(texts, drug)
    daily, words = daily_dose(resource, strength, any(PACK.search(t) for t in texts))
    return Subject(
        reference=reference,
        name=name,
        formulation=formulation,
        daily_mg=daily,
        dose_text=words,
        resource=raw,
        drug=drug.name,
        formulation_known=known,
        is_order=raw is not None,
        unit_strength=strength,
        solution=any(SOLUTION.search(t) for t in texts),
    )


# ---------------------------------------------------------------- the whole patient


@dataclass
class Inputs:
    """The validated resources of one hook call, by what they are for."""

    patient: Any = None
    observations: list = field(default_factory=list)
    medications: list = field(default_factory=list)  # active MedicationRequest and MedicationStatement
    conditions: list = field(default_factory=list)  # Condition and Procedure
    drafts: list = field(default_factory=list)  # (model, raw JSON) of draft orders
    selections: tuple[str, ...] | None = None  # order-select: the selected orders' references
    patient_view: bool = False
    medication_resources: Mapping[str, Any] = field(default_factory=dict)  # "Medication/id" -> Medication


def map_patient(
    inputs: Inputs, catalogue: Catalogue, *, region: str, today: dt.date, stale_days: int
) -> Mapped:
    """The API request for this patient, what it rests on, and the memantine orders it is about."""
    mapped = Mapped(request={"region": region})
    known = inputs.medication_resources

    # The subject: a draft memantine order (order-select: a selected one), or active memantine.
    medication_names: list[str] = []
    for model, raw in inputs.drafts:
        if model.get_resource_type() != "MedicationRequest":
            continue
        concept = _concept_of(model, known)
        drug, name, by_code = _drug_for(concept, catalogue)
        reference = f"MedicationRequest/{model.id}" if model.id else ""
        selected = inputs.selections is None or reference in inputs.selections
        if _is_memantine(drug, catalogue) and selected:
            mapped.subjects.append(_subject(model, concept, drug, name, by_code, raw, catalogue))
        elif concept is None and selected:
            mapped.unidentified.append(reference or "an order with no id")
        else:
            medication_names.append(name)  # another order in the same session: taken with memantine
    for item in inputs.medications:
        kind = item.get_resource_type()
        if kind == "MedicationRequest" and item.status not in ACTIVE_REQUEST:
            continue
        if kind == "MedicationStatement" and item.status not in ACTIVE_STATEMENT:
            continue
        if kind not in ("MedicationRequest", "MedicationStatement"):
            continue
        concept = _concept_of(item, known)
        drug, name, by_code = _drug_for(concept, catalogue)
        if _is_memantine(drug, catalogue):
            current = _subject(item, concept, drug, name, by_code, None, catalogue)
            mapped.memantine_in_record.append(current)
            if inputs.patient_view:
                mapped.subjects.append(current)
                continue
        if concept is None and item.medicationReference is not None:
            name = (
                f"medication {item.medicationReference.reference or ''}".strip() + " (its name was not sent)"
            )
        medication_names.append(name)
    # Memantine twice over (two orders, or two current products): the second is listed, so the
    # catalogue's rule on memantine already taken applies.
    medication_names += [s.name for s in mapped.subjects[1:]]
    names = list(dict.fromkeys(_text(n)[:MAX_MEDICATION_LENGTH] for n in medication_names if _text(n)))
    if len(names) > MAX_MEDICATIONS:
        rest = len(names) - (MAX_MEDICATIONS - 1)
        names = [*names[: MAX_MEDICATIONS - 1], f"{rest} further medications not checked"]
        mapped.not_used.append(
            f"Medications: the list is longer than {MAX_MEDICATIONS}; {rest} were not checked."
        )
    mapped.request["medications"] = names
    formulations = {s.formulation for s in mapped.subjects}
    formulation = "xr" if formulations == {"xr"} else "ir"
    if len(formulations) > 1:
        mapped.not_used.append(
            "Formulation: immediate and extended release are both ordered; assessed as immediate release."
        )
    if formulation == "xr" and region == "eu":
        formulation = "ir"
        mapped.not_used.append(
            "Formulation: the EU labelling has no extended-release product; assessed against the"
            " immediate-release labelling. Check the product."
        )
    for subject in mapped.subjects:
        if not subject.formulation_known:
            mapped.not_used.append(
                f"Formulation of {subject.name}: not identified from its code, name or strength; assessed as"
                " immediate release (the lower maximum)."
            )
    mapped.request["formulation"] = formulation

    mapped.minor_age = _minor(inputs, today)
    conditions, dialysis = _conditions(inputs.conditions, catalogue, today, stale_days, mapped)
    mapped.request["conditions"] = conditions

    if dialysis:
        mapped.request["renal"] = {"dialysis": True}
        mapped.used.append("Dialysis or end-stage kidney disease: " + "; ".join(dialysis) + ".")
        mapped.used.append("Laboratory values are not used for the dose of a patient on dialysis.")
    else:
        _renal(inputs, mapped, today, stale_days)
    _settle(mapped, catalogue)
    return mapped


def _text(name: str) -> str:
    """A name as one line of text (an unpaired surrogate, which JSON allows, replaced)."""
    return " ".join("".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in name).split())


def youngest_age(patient, today: dt.date) -> float | None:
    """The youngest the patient can be (a partial birth date: its last possible day), for the adult
    check: a birth year alone must not make a 17-year-old an adult."""
    born = patient.birthDate if patient is not None else None
    if born is None:
        return None
    if not isinstance(born, dt.date):
        first = when(born)
        if first is None:
            return None
        parts = str(born).split("-")
        born = dt.date(first.year, 12, 31) if len(parts) == 1 else _month_end(first)
    return _years(born, today)


def _month_end(day: dt.date) -> dt.date:
    following = dt.date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return following - dt.timedelta(days=1)


def _minor(inputs: Inputs, today: dt.date) -> float | None:
    age = youngest_age(inputs.patient, today)
    return age if age is not None and age < LIMITS["age_years"].low else None


def _renal(inputs: Inputs, mapped: Mapped, today: dt.date, stale_days: int) -> None:
    readings = {m.name: _latest(m, inputs.observations, today, stale_days, mapped) for m in MEASURES}
    age = _age(inputs.patient, today, mapped)
    sex = _sex(inputs.patient, mapped)
    creatinine, egfr = readings[CREATININE.name], readings[EGFR.name]
    weight, height = readings[WEIGHT.name], readings[HEIGHT.name]
    for measure in MEASURES:
        reading = readings[measure.name]
        if reading is not None:
            mapped.used.append(f"{vocab.sentence(measure.name)} {reading.shown}.")
        elif not any(n.startswith(vocab.sentence(measure.name)) for n in mapped.not_used):
            mapped.not_used.append(f"{vocab.sentence(measure.name)}: none in the record.")
    values: dict[str, Any] = {}
    if age is not None:
        values["age_years"] = age
    if sex is not None:
        values["sex"] = sex
    for reading, name, unit in (
        (weight, "weight", "weight_unit"),
        (height, "height", "height_unit"),
        (creatinine, "serum_creatinine", "creatinine_unit"),
    ):
        if reading is not None:
            values[name] = round(reading.value, 4)
            values[unit] = reading.unit
    if egfr is not None:
        values["egfr_ml_min_1_73m2"] = round(egfr.value, 2)
    mapped.request["renal"] = values


CG_PARTS = {
    "age_years": "age",
    "sex": "sex",
    "weight": "weight",
    "serum_creatinine": "serum creatinine",
}
# What a refused request path names in the record.
PATH_INPUTS = {
    "renal.age_years": ("age_years",),
    "renal.sex": ("sex",),
    "renal.weight": ("weight", "weight_unit"),
    "renal.height": ("height", "height_unit"),
    "renal.serum_creatinine": ("serum_creatinine", "creatinine_unit"),
    "renal.egfr_ml_min_1_73m2": ("egfr_ml_min_1_73m2",),
}


def _renal_shape(values: dict[str, Any], mapped: Mapped) -> dict[str, Any] | None:
    """The renal shape the values allow: Cockcroft-Gault when all four are there (with a height and a
    lab eGFR when known), else a lab eGFR (de-indexed with weight and height), else none."""
    if "dialysis" in values:
        return values
    complete = all(k in values for k in CG_PARTS)
    if complete:
        return values
    if "egfr_ml_min_1_73m2" in values:
        shape = {"egfr_ml_min_1_73m2": values["egfr_ml_min_1_73m2"]}
        if "weight" in values and "height" in values:
            shape.update({k: values[k] for k in ("weight", "weight_unit", "height", "height_unit")})
        return shape
    return None


def _settle(mapped: Mapped, catalogue: Catalogue) -> None:
    """Parse the request as the API would; a renal value the engine refuses is named with its message
    and left out, and the rest parsed again (never a 400 for what the record holds)."""
    values = dict(mapped.request.get("renal") or {})
    for _ in range(len(PATH_INPUTS) + 2):
        shape = _renal_shape(values, mapped)
        request = (
            {**mapped.request, "renal": shape}
            if shape
            else {k: v for k, v in mapped.request.items() if k != "renal"}
        )
        result = parse_request(
            request,
            known_indications=catalogue.indications_by_slug,
            known_conditions=catalogue.conditions_by_slug,
        )
        if result.ok:
            mapped.request = request
            mapped.factors = result.factors
            if shape is None or ("dialysis" not in shape and not all(k in shape for k in CG_PARTS)):
                missing = [words for key, words in CG_PARTS.items() if key not in values]
                if missing:
                    mapped.not_used.append(
                        "Cockcroft-Gault clearance not estimated: no usable " + ", ".join(missing) + "."
                    )
            return
        dropped = False
        for path, messages in result.errors.items():
            keys = PATH_INPUTS.get(path)
            if keys and any(k in values for k in keys):
                for key in keys:
                    values.pop(key, None)
                mapped.not_used.append(f"Refused as implausible, not used: {' '.join(messages)}")
                mapped.refused = True
                dropped = True
        if not dropped:
            break
    # Nothing from the record is left to drop: assess without renal input (named as not given).
    request = {k: v for k, v in mapped.request.items() if k != "renal"}
    result = parse_request(
        request,
        known_indications=catalogue.indications_by_slug,
        known_conditions=catalogue.conditions_by_slug,
    )
    if not result.ok:  # the record's medications or conditions: cannot happen with catalogue slugs
        raise FhirInvalid({"prefetch": [" ".join(m for ms in result.errors.values() for m in ms)[:300]]})
    mapped.request = request
    mapped.factors = result.factors
