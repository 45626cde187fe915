"""Patient factors, and the one place where raw input becomes them.

``parse_request`` takes the JSON shape of the public API (shared/api-contract.md) and returns either
``PatientFactors`` or field errors keyed by path (``renal.age_years``, ``medications[2]``). The JSON
API calls it directly; the intake form converts its fields to the same shape and calls it too, so
the two can never disagree about what is valid.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from .catalogue import CHILD_PUGH_CLASSES, FORMULATIONS, REGIONS

CONDITIONS = (
    "seizure-disorder",
    "pregnancy",
    "breastfeeding",
    "renal-tubular-acidosis",
    "severe-proteus-uti",
    "cardiovascular-disease",
)
SEXES = ("female", "male")
CREATININE_UNITS = ("mg/dL", "umol/L")
ASCITES = ("none", "mild", "moderate-severe")
ENCEPHALOPATHY = ("none", "grade-1-2", "grade-3-4")

MAX_MEDICATIONS = 40
MAX_MEDICATION_LENGTH = 100


@dataclass(frozen=True)
class Limit:
    low: float
    high: float
    unit: str
    what: str

    def message(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        return f"Enter {self.what} between {self.low:g} and {self.high:g}{unit}."


# Plausible ranges; one table for the API, the form (and the form's min/max attributes).
LIMITS: dict[str, Limit] = {
    "crcl_ml_min": Limit(0, 250, "mL/min", "a creatinine clearance"),
    "age_years": Limit(18, 120, "years", "an adult age"),
    "weight_kg": Limit(20, 350, "kg", "a weight"),
    "serum_creatinine:mg/dL": Limit(0.1, 20, "mg/dL", "a serum creatinine"),
    "serum_creatinine:umol/L": Limit(9, 1770, "µmol/L", "a serum creatinine"),
    "height_cm": Limit(100, 250, "cm", "a height"),
    "egfr_ml_min_1_73m2": Limit(1, 200, "mL/min/1.73 m²", "an eGFR"),
    "bilirubin_mg_dl": Limit(0.1, 50, "mg/dL", "a total bilirubin"),
    "albumin_g_dl": Limit(0.5, 7, "g/dL", "an albumin"),
    "inr": Limit(0.5, 15, "", "an INR"),
}

RENAL_ESTIMATE_REQUIRED = ("age_years", "sex", "weight_kg", "serum_creatinine", "creatinine_unit")
RENAL_ESTIMATE_OPTIONAL = ("height_cm", "egfr_ml_min_1_73m2")
HEPATIC_COMPONENTS = ("bilirubin_mg_dl", "albumin_g_dl", "inr", "ascites", "encephalopathy")
TOP_LEVEL = ("region", "formulation", "indications", "renal", "hepatic", "medications", "conditions")


@dataclass(frozen=True)
class RenalEntered:
    crcl_ml_min: float


@dataclass(frozen=True)
class RenalEstimate:
    """Values for Cockcroft-Gault, optionally with height (and a lab eGFR) for CKD-EPI beside it."""

    age_years: float
    sex: str
    weight_kg: float
    serum_creatinine: float
    creatinine_unit: str
    height_cm: float | None = None
    egfr_ml_min_1_73m2: float | None = None


@dataclass(frozen=True)
class Dialysis:
    pass


@dataclass(frozen=True)
class HepaticClass:
    child_pugh_class: str


@dataclass(frozen=True)
class HepaticComponents:
    bilirubin_mg_dl: float
    albumin_g_dl: float
    inr: float
    ascites: str
    encephalopathy: str


RenalInput = RenalEntered | RenalEstimate | Dialysis | None
HepaticInput = HepaticClass | HepaticComponents | None


@dataclass(frozen=True)
class PatientFactors:
    region: str = "us"
    formulation: str = "ir"
    indications: tuple[str, ...] = ()
    renal: RenalInput = None
    hepatic: HepaticInput = None
    medications: tuple[str, ...] = ()
    conditions: tuple[str, ...] = ()


@dataclass
class ParseResult:
    factors: PatientFactors | None
    errors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


class _Errors(dict):
    def add(self, path: str, message: str) -> None:
        self.setdefault(path, []).append(message)


def _number(value: Any, path: str, limit_key: str, errors: _Errors) -> float | None:
    """A finite JSON number within its plausible range (bools are not numbers)."""
    limit = LIMITS[limit_key]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        errors.add(path, f"Must be a number. {limit.message()}")
        return None
    number = float(value)
    if not math.isfinite(number) or not (limit.low <= number <= limit.high):
        errors.add(path, limit.message())
        return None
    return number


def _choice(value: Any, path: str, choices: tuple[str, ...], errors: _Errors, *, what: str) -> str | None:
    if isinstance(value, str):
        for choice in choices:
            if value.strip().casefold() == choice.casefold():
                return choice
    errors.add(path, f"Choose {what}: {', '.join(choices)}.")
    return None


def _unknown_keys(data: Mapping, allowed: Collection[str], prefix: str, errors: _Errors) -> None:
    for key in data:
        if key not in allowed:
            errors.add(f"{prefix}{key}", f"Unknown field. Allowed here: {', '.join(allowed)}.")


def _parse_renal(data: Any, errors: _Errors) -> RenalInput:
    if data is None:
        return None
    if not isinstance(data, Mapping):
        errors.add("renal", "Must be an object with crcl_ml_min, the Cockcroft-Gault values, or dialysis.")
        return None
    _unknown_keys(
        data,
        ("crcl_ml_min", "dialysis", *RENAL_ESTIMATE_REQUIRED, *RENAL_ESTIMATE_OPTIONAL),
        "renal.",
        errors,
    )

    dialysis = data.get("dialysis")
    if dialysis is not None and not isinstance(dialysis, bool):
        errors.add("renal.dialysis", "Must be true or false.")
        dialysis = None
    shapes = []
    if "crcl_ml_min" in data:
        shapes.append("a creatinine clearance")
    if any(k in data for k in (*RENAL_ESTIMATE_REQUIRED, *RENAL_ESTIMATE_OPTIONAL)):
        shapes.append("values to estimate it (age, sex, weight, creatinine)")
    if dialysis:
        shapes.append("dialysis")
    if len(shapes) > 1:
        errors.add("renal", f"Give only one renal input; got {' and '.join(shapes)}.")
        return None

    if dialysis:
        return Dialysis()
    if "crcl_ml_min" in data:
        crcl = _number(data["crcl_ml_min"], "renal.crcl_ml_min", "crcl_ml_min", errors)
        return None if crcl is None else RenalEntered(crcl_ml_min=crcl)
    if not shapes:
        return None  # {} or {"dialysis": false}: renal function not given

    missing = [k for k in RENAL_ESTIMATE_REQUIRED if data.get(k) is None]
    for key in missing:
        errors.add(f"renal.{key}", "Required to estimate creatinine clearance (Cockcroft-Gault).")
    before = len(errors)
    age = (
        _number(data["age_years"], "renal.age_years", "age_years", errors)
        if "age_years" not in missing
        else None
    )
    weight = (
        _number(data["weight_kg"], "renal.weight_kg", "weight_kg", errors)
        if "weight_kg" not in missing
        else None
    )
    sex = (
        _choice(data["sex"], "renal.sex", SEXES, errors, what="the sex used by the formula")
        if "sex" not in missing
        else None
    )
    unit = None
    if "creatinine_unit" not in missing:
        unit = _choice(
            data["creatinine_unit"], "renal.creatinine_unit", CREATININE_UNITS, errors, what="a unit"
        )
    scr = None
    if "serum_creatinine" not in missing and unit is not None:
        scr = _number(data["serum_creatinine"], "renal.serum_creatinine", f"serum_creatinine:{unit}", errors)
        if scr is None and _looks_like_other_unit(data["serum_creatinine"], unit):
            other = "umol/L" if unit == "mg/dL" else "mg/dL"
            errors.add("renal.serum_creatinine", f"This looks like a value in {other}: check the unit.")
    height = egfr = None
    if data.get("height_cm") is not None:
        height = _number(data["height_cm"], "renal.height_cm", "height_cm", errors)
    if data.get("egfr_ml_min_1_73m2") is not None:
        egfr = _number(data["egfr_ml_min_1_73m2"], "renal.egfr_ml_min_1_73m2", "egfr_ml_min_1_73m2", errors)
        if data.get("height_cm") is None:
            errors.add("renal.height_cm", "Give the height to de-index the lab eGFR by body-surface area.")
    if missing or len(errors) > before:
        return None
    return RenalEstimate(
        age_years=age,
        sex=sex,
        weight_kg=weight,
        serum_creatinine=scr,
        creatinine_unit=unit,
        height_cm=height,
        egfr_ml_min_1_73m2=egfr,
    )


def _looks_like_other_unit(value: Any, unit: str) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return False
    other = LIMITS["serum_creatinine:umol/L" if unit == "mg/dL" else "serum_creatinine:mg/dL"]
    return other.low <= value <= other.high


def _parse_hepatic(data: Any, errors: _Errors) -> HepaticInput:
    if data is None:
        return None
    if not isinstance(data, Mapping):
        errors.add("hepatic", "Must be an object with child_pugh_class or the five Child-Pugh components.")
        return None
    _unknown_keys(data, ("child_pugh_class", *HEPATIC_COMPONENTS), "hepatic.", errors)
    has_class = data.get("child_pugh_class") is not None
    has_components = any(data.get(k) is not None for k in HEPATIC_COMPONENTS)
    if has_class and has_components:
        errors.add("hepatic", "Give either the Child-Pugh class or its components, not both.")
        return None
    if has_class:
        cls = _choice(
            data["child_pugh_class"],
            "hepatic.child_pugh_class",
            CHILD_PUGH_CLASSES,
            errors,
            what="a Child-Pugh class",
        )
        return None if cls is None else HepaticClass(child_pugh_class=cls)
    if not has_components:
        return None
    before = len(errors)
    values: dict[str, Any] = {}
    for key in HEPATIC_COMPONENTS:
        if data.get(key) is None:
            errors.add(
                f"hepatic.{key}", "Required to calculate the Child-Pugh score (or give the class instead)."
            )
    for key in ("bilirubin_mg_dl", "albumin_g_dl", "inr"):
        if data.get(key) is not None:
            values[key] = _number(data[key], f"hepatic.{key}", key, errors)
    if data.get("ascites") is not None:
        values["ascites"] = _choice(data["ascites"], "hepatic.ascites", ASCITES, errors, what="ascites")
    if data.get("encephalopathy") is not None:
        values["encephalopathy"] = _choice(
            data["encephalopathy"], "hepatic.encephalopathy", ENCEPHALOPATHY, errors, what="encephalopathy"
        )
    if len(errors) > before:
        return None
    return HepaticComponents(**values)


def _string_list(data: Any, path: str, errors: _Errors) -> list[str] | None:
    if data is None:
        return []
    if not isinstance(data, list):
        errors.add(path, "Must be a list of strings.")
        return None
    items = []
    for i, item in enumerate(data):
        if not isinstance(item, str):
            errors.add(f"{path}[{i}]", "Must be a string.")
        else:
            items.append(item)
    return items


def parse_request(data: Any, *, known_indications: Collection[str]) -> ParseResult:
    """Validate the API-shaped input; return factors, or errors keyed by field path."""
    errors = _Errors()
    if not isinstance(data, Mapping):
        errors.add("body", "The request body must be a JSON object.")
        return ParseResult(None, dict(errors))
    _unknown_keys(data, TOP_LEVEL, "", errors)

    region = "us"
    if data.get("region") is not None:
        region = _choice(data["region"], "region", REGIONS, errors, what="a labelling region") or region
    formulation = "ir"
    if data.get("formulation") is not None:
        formulation = (
            _choice(data["formulation"], "formulation", FORMULATIONS, errors, what="a formulation")
            or formulation
        )
    if region == "eu" and formulation == "xr":
        errors.add(
            "formulation",
            "There is no extended-release product in the EU labelling: choose immediate release.",
        )

    indications = _string_list(data.get("indications"), "indications", errors) or []
    for i, slug in enumerate(indications):
        if slug not in known_indications:
            errors.add(
                f"indications[{i}]",
                f"Unknown indication “{slug}”. Known: {', '.join(sorted(known_indications))}.",
            )

    medications = _string_list(data.get("medications"), "medications", errors) or []
    medications = [" ".join(m.split()) for m in medications]
    medications = [m for m in medications if m]
    if len(medications) > MAX_MEDICATIONS:
        errors.add("medications", f"List at most {MAX_MEDICATIONS} medications.")
    for i, name in enumerate(medications):
        if len(name) > MAX_MEDICATION_LENGTH:
            errors.add(f"medications[{i}]", f"Keep each medication under {MAX_MEDICATION_LENGTH} characters.")

    conditions = _string_list(data.get("conditions"), "conditions", errors) or []
    for i, condition in enumerate(conditions):
        if condition not in CONDITIONS:
            errors.add(
                f"conditions[{i}]", f"Unknown condition “{condition}”. Known: {', '.join(CONDITIONS)}."
            )

    renal = _parse_renal(data.get("renal"), errors)
    hepatic = _parse_hepatic(data.get("hepatic"), errors)

    if errors:
        return ParseResult(None, dict(errors))
    return ParseResult(
        PatientFactors(
            region=region,
            formulation=formulation,
            indications=tuple(dict.fromkeys(indications)),
            renal=renal,
            hepatic=hepatic,
            medications=tuple(dict.fromkeys(medications)),
            conditions=tuple(dict.fromkeys(conditions)),
        )
    )
