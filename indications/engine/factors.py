"""Patient factors, and the one place where raw input becomes them.

``parse_request`` takes the JSON shape of the public API (shared/api-contract.md) and returns either
``PatientFactors`` or field errors keyed by path (``renal.age_years``, ``medications[2]``). The JSON
API calls it directly; the intake form converts its fields to the same shape and calls it too, so
the two can never disagree about what is valid.

Implausible is invalid: a value outside its plausible range, a value that only makes sense in the
other unit, a calculated clearance no kidney produces, a body-mass index no adult has. Each is
refused with a message naming the value and its unit; nothing is computed from it.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from . import calculators
from . import vocabulary as vocab

MAX_MEDICATIONS = 40
MAX_MEDICATION_LENGTH = 200  # an EHR's full product name (RxNorm) fits


@dataclass(frozen=True)
class Limit:
    low: float
    high: float
    unit: str
    what: str

    def message(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        return f"Enter {self.what} between {self.low:g} and {self.high:g}{unit}."

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high


# Plausible ranges in adults; one table for the API, the form (and the form's hints). Keys with a
# unit after the colon are the same quantity in each unit.
LIMITS: dict[str, Limit] = {
    "crcl_ml_min": Limit(0, 250, "mL/min", "a creatinine clearance"),
    "age_years": Limit(18, 120, "years", "an adult age"),
    "weight:kg": Limit(20, 350, "kg", "a weight"),
    "weight:lb": Limit(44, 772, "lb", "a weight"),
    "height:cm": Limit(100, 250, "cm", "a height"),
    "height:in": Limit(39, 98, "in", "a height"),
    "serum_creatinine:mg/dL": Limit(0.2, 20, "mg/dL", "a serum creatinine"),
    "serum_creatinine:umol/L": Limit(18, 1770, "µmol/L", "a serum creatinine"),
    "egfr_ml_min_1_73m2": Limit(1, 200, "mL/min/1.73 m²", "an eGFR"),
    "bilirubin:mg/dL": Limit(0.1, 50, "mg/dL", "a total bilirubin"),
    "bilirubin:umol/L": Limit(2, 855, "µmol/L", "a total bilirubin"),
    "albumin:g/dL": Limit(0.5, 7, "g/dL", "an albumin"),
    "albumin:g/L": Limit(5, 70, "g/L", "an albumin"),
    "inr": Limit(0.5, 15, "", "an INR"),
}
BMI_LIMIT = Limit(10, 90, "kg/m²", "a body-mass index")
# A calculated clearance above this is refused (the same limit as a typed one); above the check
# level it is used but flagged (renal-estimate-check).
CALCULATED_CRCL_MAX = LIMITS["crcl_ml_min"].high
CALCULATED_CRCL_CHECK = 150.0

UNITS = {
    "weight": vocab.WEIGHT_UNITS,
    "height": vocab.HEIGHT_UNITS,
    "serum_creatinine": vocab.CREATININE_UNITS,
    "bilirubin": vocab.BILIRUBIN_UNITS,
    "albumin": vocab.ALBUMIN_UNITS,
}
# The field that carries each quantity's unit, and the legacy fixed-unit field (still accepted).
UNIT_FIELDS = {
    "weight": "weight_unit",
    "height": "height_unit",
    "serum_creatinine": "creatinine_unit",
    "bilirubin": "bilirubin_unit",
    "albumin": "albumin_unit",
}
LEGACY_FIELDS = {
    "weight": ("weight_kg", "kg"),
    "height": ("height_cm", "cm"),
    "bilirubin": ("bilirubin_mg_dl", "mg/dL"),
    "albumin": ("albumin_g_dl", "g/dL"),
}
RENAL_KEYS = (
    "crcl_ml_min",
    "dialysis",
    "age_years",
    "sex",
    "weight",
    "weight_unit",
    "weight_kg",
    "height",
    "height_unit",
    "height_cm",
    "serum_creatinine",
    "creatinine_unit",
    "egfr_ml_min_1_73m2",
    "use_estimate",
)
HEPATIC_KEYS = (
    "child_pugh_class",
    "bilirubin",
    "bilirubin_unit",
    "bilirubin_mg_dl",
    "albumin",
    "albumin_unit",
    "albumin_g_dl",
    "inr",
    "ascites",
    "encephalopathy",
)
TOP_LEVEL = ("region", "formulation", "indications", "renal", "hepatic", "medications", "conditions")


@dataclass(frozen=True)
class Measure:
    """A value as entered, with its unit."""

    value: float
    unit: str

    def __str__(self) -> str:
        return f"{_fmt(self.value)} {vocab.UNITS_SHOWN.get(self.unit, self.unit)}"


@dataclass(frozen=True)
class RenalEntered:
    crcl_ml_min: float


@dataclass(frozen=True)
class RenalEstimate:
    """What the renal estimates are computed from: Cockcroft-Gault values (age, sex, weight,
    creatinine) and/or a lab eGFR; height (and weight) add BMI, adjusted weight and de-indexing."""

    age_years: float | None = None
    sex: str | None = None
    weight: Measure | None = None
    serum_creatinine: Measure | None = None
    height: Measure | None = None
    egfr_ml_min_1_73m2: float | None = None
    use_estimate: str | None = None

    @property
    def weight_kg(self) -> float | None:
        return None if self.weight is None else calculators.weight_kg(self.weight.value, self.weight.unit)

    @property
    def height_cm(self) -> float | None:
        return None if self.height is None else calculators.height_cm(self.height.value, self.height.unit)

    @property
    def has_creatinine(self) -> bool:
        return self.serum_creatinine is not None


@dataclass(frozen=True)
class Dialysis:
    pass


@dataclass(frozen=True)
class HepaticClass:
    child_pugh_class: str


@dataclass(frozen=True)
class HepaticComponents:
    bilirubin: Measure
    albumin: Measure
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


# An error list never grows with the input: a member name is echoed at most MAX_PATH_CHARS long, and
# at most MAX_ERROR_PATHS members are listed; "body" then says how many more problems there are.
MAX_ERROR_PATHS = 20
MAX_PATH_CHARS = 80


class _Errors(dict):
    unlisted = 0

    def add(self, path: str, message: str) -> None:
        if len(path) > MAX_PATH_CHARS:
            path = path[: MAX_PATH_CHARS - 1] + "…"
        if path not in self and len(self) >= MAX_ERROR_PATHS:
            self.unlisted += 1
            super().__setitem__(
                "body", [f"{self.unlisted} more problem{'s' if self.unlisted > 1 else ''} not listed."]
            )
            return
        messages = self.setdefault(path, [])
        if message not in messages:
            messages.append(message)


def _fmt(value: float) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _is_number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float))


def _number(value: Any, path: str, limit: Limit, errors: _Errors) -> float | None:
    """A finite JSON number within its plausible range (bools are not numbers)."""
    if not _is_number(value):
        errors.add(path, f"Must be a number. {limit.message()}")
        return None
    try:
        number = float(value) + 0.0  # + 0.0: never -0
    except OverflowError:  # an integer too large for a float
        errors.add(path, limit.message())
        return None
    if not math.isfinite(number) or not limit.contains(number):
        errors.add(path, limit.message())
        return None
    return number


def _fold(text: str) -> str:
    """How a choice is compared: case, surrounding space and the micro sign (µmol/L) forgiven."""
    return text.strip().casefold().replace("µ", "u").replace("μ", "u")


def is_text(value: str) -> bool:
    """True for a string that can be written out as UTF-8 (no lone surrogate such as "\ud800")."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _choice(value: Any, path: str, choices, errors: _Errors, *, what: str) -> str | None:
    if isinstance(value, str) and is_text(value):
        for choice in choices:
            if _fold(value) == _fold(choice):
                return choice
    shown = ", ".join(choices)
    errors.add(path, f"Choose {what}: {shown}.")
    return None


def _unknown_keys(data: Mapping, allowed: Collection[str], prefix: str, errors: _Errors) -> None:
    unknown = [key for key in data if key not in allowed]
    for n, key in enumerate(unknown):
        listed = f" Allowed here: {', '.join(allowed)}." if n == 0 else ""  # said once
        errors.add(f"{prefix}{key}", f"Unknown field.{listed}")


def _other_unit(quantity: str, value: Any, unit: str) -> str | None:
    """The other unit in which ``value`` would be ordinary, if any."""
    if not _is_number(value):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    if not math.isfinite(number):
        return None
    for other in UNITS[quantity]:
        if other != unit and LIMITS[f"{quantity}:{other}"].contains(number):
            return other
    return None


def _measure(data: Mapping, quantity: str, prefix: str, errors: _Errors) -> Measure | None:
    """A unit-bearing value given as ``<quantity>`` + ``<quantity>_unit``, or in its legacy fixed-unit
    field (``weight_kg``). The unit is never assumed."""
    legacy, legacy_unit = LEGACY_FIELDS.get(quantity, (None, None))
    unit_key = UNIT_FIELDS[quantity]
    path = f"{prefix}{quantity}"
    has_value = data.get(quantity) is not None
    has_legacy = legacy is not None and data.get(legacy) is not None
    has_unit = data.get(unit_key) is not None
    if has_value and has_legacy:
        errors.add(path, f"Give {quantity} with {unit_key}, or {legacy}, not both.")
        return None
    if has_unit:  # a unit is always checked, and never contradicted or ignored
        unit = _choice(data[unit_key], f"{prefix}{unit_key}", tuple(UNITS[quantity]), errors, what="a unit")
        if unit is None:
            return None
        if has_legacy and unit != legacy_unit:
            errors.add(
                f"{prefix}{unit_key}",
                f"{legacy} is in {legacy_unit}, but {unit_key} says {unit}: give {quantity} with {unit_key}"
                f" instead (e.g. {quantity}: 154, {unit_key}: {unit}).",
            )
            return None
        if not has_value and not has_legacy:
            errors.add(f"{prefix}{unit_key}", f"A unit was given without the {quantity.replace('_', ' ')}.")
            return None
    if has_legacy:
        limit = LIMITS[f"{quantity}:{legacy_unit}"]
        value = _number(data[legacy], f"{prefix}{legacy}", limit, errors)
        if value is None:
            other = _other_unit(quantity, data[legacy], legacy_unit)
            if other:
                errors.add(
                    f"{prefix}{legacy}",
                    f"This looks like a value in {vocab.UNIT_WORDS.get(other, other)}: give {quantity} with"
                    f" {unit_key} instead.",
                )
            return None
        return Measure(value, legacy_unit)
    if not has_value:
        return None
    if not has_unit:
        errors.add(
            f"{prefix}{unit_key}",
            f"Give the unit of the {quantity.replace('_', ' ')}: {', '.join(UNITS[quantity])}.",
        )
        return None
    value = _number(data[quantity], path, LIMITS[f"{quantity}:{unit}"], errors)
    if value is None:
        other = _other_unit(quantity, data[quantity], unit)
        if other:
            errors.add(
                path,
                f"This looks like a value in {vocab.UNIT_WORDS.get(other, other)}, not"
                f" {vocab.UNIT_WORDS.get(unit, unit)}: check the value and its unit.",
            )
        return None
    return Measure(value, unit)


# ---------------------------------------------------------------- renal

MIN_IDEAL_WEIGHT_KG = LIMITS["weight:kg"].low  # Devine falls towards zero in short adults: not below this


@dataclass(frozen=True)
class EstimateValue:
    """One renal estimate before any rule is applied (computed here and in ``renal``)."""

    method: str
    crcl_ml_min: float
    weight: str | None = None  # "actual" | "adjusted" for Cockcroft-Gault
    weight_kg: float | None = None
    indexed_ml_min_1_73m2: float | None = None  # eGFR before de-indexing
    source: str = ""  # "lab" | "calculated" for eGFR


def adjusted_weight(estimate: RenalEstimate) -> float | None:
    """Adjusted body weight when height is given and BMI is 30 or more, and the weight is above the
    ideal weight (Devine, as long as that is a plausible adult weight); else None."""
    if estimate.height is None or estimate.weight is None or estimate.sex is None:
        return None
    weight, height = estimate.weight_kg, estimate.height_cm
    if calculators.ideal_body_weight_kg(sex=estimate.sex, height_cm=height) < MIN_IDEAL_WEIGHT_KG:
        return None
    if calculators.body_mass_index(weight_kg=weight, height_cm=height) < calculators.OBESITY_BMI:
        return None
    return calculators.adjusted_body_weight_kg(sex=estimate.sex, height_cm=height, weight_kg=weight)


def compute_estimates(estimate: RenalEstimate) -> list[EstimateValue]:
    """Every estimate the input supports, in the order they are reported."""
    values: list[EstimateValue] = []
    weight, height = estimate.weight_kg, estimate.height_cm
    bsa = None
    if weight is not None and height is not None:
        bsa = calculators.body_surface_area_m2(height_cm=height, weight_kg=weight)
    if estimate.has_creatinine:
        scr = calculators.creatinine_mg_dl(estimate.serum_creatinine.value, estimate.serum_creatinine.unit)

        def cg(kg: float) -> float:
            return calculators.cockcroft_gault(
                age_years=estimate.age_years, sex=estimate.sex, weight_kg=kg, serum_creatinine_mg_dl=scr
            )

        values.append(EstimateValue("cockcroft-gault", cg(weight), "actual", weight))
        adjusted = adjusted_weight(estimate)
        if adjusted is not None:
            values.append(
                EstimateValue("cockcroft-gault-adjusted-weight", cg(adjusted), "adjusted", adjusted)
            )
        if bsa is not None:
            indexed = calculators.ckd_epi_2021(
                age_years=estimate.age_years, sex=estimate.sex, serum_creatinine_mg_dl=scr
            )
            value = calculators.deindex_egfr(egfr_ml_min_1_73m2=indexed, bsa_m2=bsa)
            values.append(
                EstimateValue(
                    "ckd-epi-2021-deindexed", value, indexed_ml_min_1_73m2=indexed, source="calculated"
                )
            )
    if estimate.egfr_ml_min_1_73m2 is not None:
        indexed = estimate.egfr_ml_min_1_73m2
        # The lab value as reported, per 1.73 m², and de-indexed when weight and height allow. In a
        # large patient de-indexing (with actual weight) raises it; the dose follows the lower.
        values.append(EstimateValue("egfr-lab", indexed, indexed_ml_min_1_73m2=indexed, source="lab"))
        if bsa is not None:
            value = calculators.deindex_egfr(egfr_ml_min_1_73m2=indexed, bsa_m2=bsa)
            values.append(
                EstimateValue("egfr-lab-deindexed", value, indexed_ml_min_1_73m2=indexed, source="lab")
            )
    return values


def check_clearance(estimate: RenalEstimate) -> float | None:
    """The Cockcroft-Gault clearance the plausibility limits apply to: with adjusted weight when it
    applies (obesity), else with actual weight; None without creatinine."""
    by_method = {e.method: e.crcl_ml_min for e in compute_estimates(estimate)}
    return by_method.get("cockcroft-gault-adjusted-weight", by_method.get("cockcroft-gault"))


# The messages for a value a group still needs: the intake form reads them as "not yet complete" (a
# neutral note while typing), the API as an error.
REQUIRED_FOR_CG = "Required to estimate creatinine clearance (Cockcroft-Gault)."
REQUIRED_FOR_CHILD_PUGH = "Required to calculate the Child-Pugh score (or give the class instead)."
REQUIRED_MESSAGES = frozenset({REQUIRED_FOR_CG, REQUIRED_FOR_CHILD_PUGH})

ESTIMATE_NEEDS = {
    "cockcroft-gault": "the creatinine values (age, sex, weight, serum creatinine)",
    "cockcroft-gault-adjusted-weight": ("the creatinine values, a height and a BMI of 30 or more"),
    "ckd-epi-2021-deindexed": "the creatinine values and the height",
    "egfr-lab-deindexed": "a lab eGFR with weight and height",
}


def _parse_renal(data: Any, errors: _Errors) -> RenalInput:
    if data is None:
        return None
    if not isinstance(data, Mapping):
        errors.add(
            "renal",
            "Must be an object with crcl_ml_min, the Cockcroft-Gault values, a lab eGFR, or dialysis.",
        )
        return None
    _unknown_keys(data, RENAL_KEYS, "renal.", errors)
    given = {k for k, v in data.items() if v is not None and k in RENAL_KEYS}

    dialysis = data.get("dialysis")
    if dialysis is not None and not isinstance(dialysis, bool):
        errors.add("renal.dialysis", "Must be true or false.")
        dialysis = None
    estimate_keys = given - {"crcl_ml_min", "dialysis"}
    shapes = []
    if "crcl_ml_min" in given:
        shapes.append("a creatinine clearance")
    if estimate_keys:
        shapes.append("values to estimate it (age, sex, weight, creatinine or a lab eGFR)")
    if dialysis:
        shapes.append("dialysis")
    if len(shapes) > 1:
        errors.add(
            "renal",
            f"Give only one renal input; got {' and '.join(shapes)}. Clear one of them.",
        )
        return None

    if dialysis:
        return Dialysis()
    if "crcl_ml_min" in given:
        crcl = _number(data["crcl_ml_min"], "renal.crcl_ml_min", LIMITS["crcl_ml_min"], errors)
        return None if crcl is None else RenalEntered(crcl_ml_min=crcl)
    if not estimate_keys:
        return None  # {} or {"dialysis": false}: renal function not given
    return _parse_estimate(data, given, errors)


def _parse_estimate(data: Mapping, given: set[str], errors: _Errors) -> RenalEstimate | None:
    before = len(errors)
    # The creatinine (Cockcroft-Gault) shape when a creatinine is given or nothing else is; with a lab
    # eGFR and no creatinine, the eGFR is used (age and sex are then not needed).
    if given & {"serum_creatinine", "creatinine_unit"} or "egfr_ml_min_1_73m2" not in given:
        required = {
            "age_years": ("age_years",),
            "sex": ("sex",),
            "weight": ("weight", "weight_kg"),
            "serum_creatinine": ("serum_creatinine",),
        }
        for name, keys in required.items():
            if not given & set(keys):
                errors.add(f"renal.{name}", REQUIRED_FOR_CG)
    age = sex = None
    if "age_years" in given:
        age = _number(data["age_years"], "renal.age_years", LIMITS["age_years"], errors)
    if "sex" in given:
        sex = _choice(
            data["sex"], "renal.sex", tuple(vocab.SEXES), errors, what="the sex used by the formula"
        )
    weight = _measure(data, "weight", "renal.", errors)
    height = _measure(data, "height", "renal.", errors)
    creatinine = _measure(data, "serum_creatinine", "renal.", errors)
    egfr = None
    if "egfr_ml_min_1_73m2" in given:
        egfr = _number(
            data["egfr_ml_min_1_73m2"], "renal.egfr_ml_min_1_73m2", LIMITS["egfr_ml_min_1_73m2"], errors
        )
    use = None
    if "use_estimate" in given:
        use = _choice(
            data["use_estimate"], "renal.use_estimate", vocab.CHOOSABLE_ESTIMATES, errors, what="an estimate"
        )
    if weight is not None and height is not None:
        bmi = calculators.body_mass_index(
            weight_kg=calculators.weight_kg(weight.value, weight.unit),
            height_cm=calculators.height_cm(height.value, height.unit),
        )
        if not BMI_LIMIT.contains(bmi):
            message = (
                f"Weight {weight} with height {height} gives a body-mass index of {bmi:.1f} kg/m², outside"
                f" {BMI_LIMIT.low:g}–{BMI_LIMIT.high:g}: check both values and their units"
                " (weight in kg or lb, height in cm or in)."
            )
            errors.add("renal." + ("weight_kg" if "weight_kg" in given else "weight"), message)
            errors.add("renal." + ("height_cm" if "height_cm" in given else "height"), message)
    if len(errors) > before:
        return None
    estimate = RenalEstimate(
        age_years=age,
        sex=sex,
        weight=weight,
        serum_creatinine=creatinine,
        height=height,
        egfr_ml_min_1_73m2=egfr,
        use_estimate=use,
    )
    clearance = check_clearance(estimate)
    if clearance is not None and clearance > CALCULATED_CRCL_MAX:
        message = (
            f"Creatinine {estimate.serum_creatinine} gives a Cockcroft-Gault clearance of"
            f" {clearance:.0f} mL/min,"
            f" above the plausible {CALCULATED_CRCL_MAX:g} mL/min: check the creatinine value and its unit"
            " (mg/dL or µmol/L)."
        )
        other = _other_unit("serum_creatinine", creatinine.value, creatinine.unit)
        if other:
            message += (
                f" {_fmt(creatinine.value)} would be ordinary in {vocab.UNITS_SHOWN.get(other, other)}."
            )
        errors.add("renal.serum_creatinine", message)
        return None
    if use is not None:
        values = {e.method: e.crcl_ml_min for e in compute_estimates(estimate)}
        if use not in values:
            available = ", ".join(vocab.RENAL_METHODS[m] for m in values) or "none"
            errors.add(
                "renal.use_estimate",
                f"{vocab.sentence(vocab.RENAL_METHODS[use])} is not among this patient's estimates"
                f" ({available}); it needs {ESTIMATE_NEEDS[use]}.",
            )
            return None
        if values[use] > CALCULATED_CRCL_MAX:
            errors.add(
                "renal.use_estimate",
                f"{vocab.sentence(vocab.RENAL_METHODS[use])} gives {values[use]:.0f} mL/min, above the"
                f" plausible {CALCULATED_CRCL_MAX:g} mL/min: it cannot be the one the dose follows.",
            )
            return None
    return estimate


# ---------------------------------------------------------------- hepatic


def _parse_hepatic(data: Any, errors: _Errors) -> HepaticInput:
    if data is None:
        return None
    if not isinstance(data, Mapping):
        errors.add("hepatic", "Must be an object with child_pugh_class or the five Child-Pugh components.")
        return None
    _unknown_keys(data, HEPATIC_KEYS, "hepatic.", errors)
    given = {k for k, v in data.items() if v is not None and k in HEPATIC_KEYS}
    has_class = "child_pugh_class" in given
    has_components = bool(given - {"child_pugh_class"})
    if has_class and has_components:
        errors.add("hepatic", "Give either the Child-Pugh class or its components, not both.")
        return None
    if has_class:
        cls = _choice(
            data["child_pugh_class"],
            "hepatic.child_pugh_class",
            tuple(vocab.CHILD_PUGH_CLASSES),
            errors,
            what="a Child-Pugh class",
        )
        return None if cls is None else HepaticClass(child_pugh_class=cls)
    if not has_components:
        return None
    before = len(errors)
    required = {
        "bilirubin": ("bilirubin", "bilirubin_mg_dl"),
        "albumin": ("albumin", "albumin_g_dl"),
        "inr": ("inr",),
        "ascites": ("ascites",),
        "encephalopathy": ("encephalopathy",),
    }
    for name, keys in required.items():
        if not given & set(keys):
            errors.add(f"hepatic.{name}", REQUIRED_FOR_CHILD_PUGH)
    bilirubin = _measure(data, "bilirubin", "hepatic.", errors)
    albumin = _measure(data, "albumin", "hepatic.", errors)
    inr = _number(data["inr"], "hepatic.inr", LIMITS["inr"], errors) if "inr" in given else None
    ascites = encephalopathy = None
    if "ascites" in given:
        ascites = _choice(data["ascites"], "hepatic.ascites", tuple(vocab.ASCITES), errors, what="ascites")
    if "encephalopathy" in given:
        encephalopathy = _choice(
            data["encephalopathy"],
            "hepatic.encephalopathy",
            tuple(vocab.ENCEPHALOPATHY),
            errors,
            what="encephalopathy",
        )
    if len(errors) > before:
        return None
    return HepaticComponents(bilirubin, albumin, inr, ascites, encephalopathy)


# ---------------------------------------------------------------- the request


MAX_LISTED = 20  # indications or conditions in one request (the catalogue has fewer)
MAX_ITEM_ERRORS = 5  # errors reported per list; the rest are summarised


def _string_list(data: Any, path: str, errors: _Errors, *, max_items: int) -> list[str] | None:
    if data is None:
        return []
    if not isinstance(data, list):
        errors.add(path, "Must be a list of strings.")
        return None
    if len(data) > max_items:
        errors.add(path, f"List at most {max_items}.")
        return None
    items = []
    for i, item in enumerate(data):
        if not isinstance(item, str):
            errors.add(f"{path}[{i}]", "Must be a string.")
        elif not is_text(item):
            errors.add(f"{path}[{i}]", "Contains characters that are not text (an unpaired surrogate).")
        else:
            items.append(item)
    return items


def _known(items: list[str], known: Collection[str], path: str, what: str, errors: _Errors) -> None:
    unknown = [(i, item) for i, item in enumerate(items) if item not in known]
    for n, (i, item) in enumerate(unknown[:MAX_ITEM_ERRORS]):
        listed = f" Known: {', '.join(sorted(known))}." if n == 0 else ""
        errors.add(f"{path}[{i}]", f"Unknown {what} “{item[:60]}”.{listed}")
    if len(unknown) > MAX_ITEM_ERRORS:
        errors.add(path, f"{len(unknown) - MAX_ITEM_ERRORS} more unknown {what} values not listed.")


def parse_request(
    data: Any, *, known_indications: Collection[str], known_conditions: Collection[str]
) -> ParseResult:
    """Validate the API-shaped input; return factors, or errors keyed by field path.

    ``known_indications`` and ``known_conditions`` are the slugs of the catalogue in use."""
    errors = _Errors()
    if not isinstance(data, Mapping):
        errors.add("body", "The request body must be a JSON object.")
        return ParseResult(None, dict(errors))
    _unknown_keys(data, TOP_LEVEL, "", errors)

    region = "us"
    if data.get("region") is not None:
        region = (
            _choice(data["region"], "region", tuple(vocab.REGIONS), errors, what="a labelling region")
            or region
        )
    formulation = "ir"
    if data.get("formulation") is not None:
        formulation = (
            _choice(
                data["formulation"], "formulation", tuple(vocab.FORMULATIONS), errors, what="a formulation"
            )
            or formulation
        )
    if region == "eu" and formulation == "xr":
        errors.add(
            "formulation",
            "There is no extended-release product in the EU labelling: choose immediate release.",
        )

    indications = _string_list(data.get("indications"), "indications", errors, max_items=MAX_LISTED) or []
    _known(indications, known_indications, "indications", "indication", errors)

    medications = (
        _string_list(data.get("medications"), "medications", errors, max_items=MAX_MEDICATIONS * 4) or []
    )
    medications = [" ".join(m.split()) for m in medications]
    medications = [m for m in medications if m]
    if len(medications) > MAX_MEDICATIONS:
        errors.add("medications", f"List at most {MAX_MEDICATIONS} medications.")
    for i, name in enumerate(medications):
        if len(name) > MAX_MEDICATION_LENGTH:
            errors.add(f"medications[{i}]", f"Keep each medication under {MAX_MEDICATION_LENGTH} characters.")

    conditions = _string_list(data.get("conditions"), "conditions", errors, max_items=MAX_LISTED) or []
    _known(conditions, known_conditions, "conditions", "condition", errors)

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
