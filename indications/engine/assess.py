"""``assess(factors, catalogue, today=...)``: what applies to this patient.

Pure: no Django, no I/O, no clock (the caller passes today's date). Every clinical statement in the
result comes from the catalogue; this module holds only the mechanisms: which renal range contains
a clearance, which rules a medication list or a condition triggers, how a renal rule caps a dose.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from . import calculators
from .catalogue import (
    ANY_REGION,
    DOSE_ADJUSTED,
    DOSE_NONE,
    SEVERITY_RANK,
    Catalogue,
    Drug,
    FlagText,
    Indication,
    RenalRule,
    Source,
    normalise_name,
)
from .factors import (
    Dialysis,
    HepaticClass,
    HepaticComponents,
    PatientFactors,
    RenalEntered,
    RenalEstimate,
)


@dataclass(frozen=True)
class Flag:
    code: str
    severity: str
    title: str
    detail: str
    sources: tuple[Source, ...]
    triggers: tuple[str, ...]  # the patient values that raised it

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "title": self.title,
            "detail": self.detail,
            "triggers": list(self.triggers),
            "sources": [s.as_dict() for s in self.sources],
        }


@dataclass(frozen=True)
class RenalResult:
    crcl_ml_min: float | None  # unrounded; round only for display
    band: str  # normal | mild | moderate | severe | no-data | unknown
    method: str  # entered | cockcroft-gault | dialysis | unknown
    formula: calculators.Method | None = None
    egfr_ml_min: float | None = None  # CKD-EPI 2021, de-indexed to absolute mL/min
    egfr_band: str | None = None
    egfr_source: str = ""  # "lab" or "calculated"
    bsa_m2: float | None = None

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "crcl_ml_min": _one_decimal(self.crcl_ml_min),
            "band": self.band,
            "method": self.method,
        }
        if self.egfr_ml_min is not None:
            data["ckd_epi_2021"] = {
                "egfr_ml_min": _one_decimal(self.egfr_ml_min),
                "band": self.egfr_band,
                "egfr_from": self.egfr_source,
                "bsa_m2": round(self.bsa_m2, 2) if self.bsa_m2 else None,
                "formula": calculators.CKD_EPI_2021.formula,
            }
        if self.formula is not None:
            data["formula"] = self.formula.formula
            data["formula_source"] = {"label": self.formula.source_label, "url": self.formula.source_url}
        return data


@dataclass(frozen=True)
class HepaticResult:
    child_pugh_class: str | None
    child_pugh_score: int | None
    method: str  # entered | child-pugh-score | unknown

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "child_pugh_class": self.child_pugh_class,
            "child_pugh_score": self.child_pugh_score,
            "method": self.method,
        }
        if self.method == "child-pugh-score":
            data["formula"] = f"{calculators.CHILD_PUGH.formula}. {calculators.ALBUMIN_BAND_NOTE}"
        return data


@dataclass(frozen=True)
class DoseNote:
    text: str
    sources: tuple[Source, ...]


@dataclass(frozen=True)
class Dose:
    formulation: str
    start_mg_per_day: int | None
    max_mg_per_day: int | None
    regimen: str
    titration: str
    standard: bool  # True when nothing about this patient changed the labelled regimen
    basis: tuple[DoseNote, ...]  # the regimen, renal and hepatic rules this dose rests on

    def as_dict(self) -> dict[str, Any]:
        return {
            "formulation": self.formulation,
            "start_mg_per_day": self.start_mg_per_day,
            "max_mg_per_day": self.max_mg_per_day,
            "regimen": self.regimen,
            "titration": self.titration,
            "standard": self.standard,
            "basis": [{"text": n.text, "sources": [s.as_dict() for s in n.sources]} for n in self.basis],
        }


@dataclass(frozen=True)
class MedicationMatch:
    entered: str
    drug: Drug | None
    class_names: tuple[str, ...]

    @property
    def label(self) -> str:
        if self.drug is None:
            return self.entered
        if normalise_name(self.entered) == normalise_name(self.drug.name):
            return self.drug.name
        return f"{self.drug.name} (entered as “{self.entered}”)"


@dataclass(frozen=True)
class IndicationResult:
    indication: Indication
    notes: tuple[str, ...]
    review_overdue: FlagText | None  # the catalogue's "review overdue" text when the review date has passed

    def as_dict(self) -> dict[str, Any]:
        ind = self.indication
        sources = list(ind.sources)
        sources += [c.source for c in ind.caveats if c.source and c.source not in sources]
        caveats = [c.text for c in ind.caveats]
        if self.review_overdue:
            caveats.insert(0, f"{self.review_overdue.title} {self.review_overdue.detail}".strip())
        return {
            "slug": ind.slug,
            "name": ind.name,
            "status": ind.status,
            "category": ind.category,
            "therapeutic_role": ind.therapeutic_role,
            "evidence": {
                "strength": ind.evidence.strength,
                "efficacy": ind.evidence.efficacy,
                "recommendation": ind.evidence.recommendation,
            },
            "summary": ind.evidence_summary,
            "mechanism_rationale": ind.mechanism_rationale,
            "dose_studied": ind.dose_studied,
            "caveats": caveats,
            "notes": list(self.notes),
            "studies": [
                {
                    "citation": f"{s.first_author} {s.year}" + (f", {s.citation}" if s.citation else ""),
                    "design": s.design,
                    "participants": s.participants,
                    "dose": s.dose,
                    "duration": s.duration,
                    "result": s.result,
                    "finding": s.finding,
                    "pmid": s.pmid or None,
                    "doi": s.doi or None,
                    "url": s.url,
                }
                for s in ind.studies
            ],
            "sources": [s.as_dict() for s in sources],
            "last_reviewed": ind.last_reviewed,
            "next_review_due": ind.next_review_due or None,
            "review_overdue": self.review_overdue is not None,
        }


@dataclass(frozen=True)
class MissingInput:
    field: str
    message: str


@dataclass(frozen=True)
class Assessment:
    catalogue_version: str
    region: str
    formulation: str
    renal: RenalResult
    hepatic: HepaticResult
    dose: Dose
    flags: tuple[Flag, ...]
    medications: tuple[MedicationMatch, ...]
    indications: tuple[IndicationResult, ...]
    inputs_used: dict[str, Any]
    inputs_missing: tuple[MissingInput, ...]

    @property
    def unrecognized_medications(self) -> tuple[str, ...]:
        return tuple(m.entered for m in self.medications if m.drug is None)

    def as_dict(self) -> dict[str, Any]:
        return {
            "catalogue_version": self.catalogue_version,
            "region": self.region,
            "inputs_used": self.inputs_used,
            "inputs_missing": [{"field": m.field, "message": m.message} for m in self.inputs_missing],
            "renal": self.renal.as_dict(),
            "hepatic": self.hepatic.as_dict(),
            "dose": self.dose.as_dict(),
            "flags": [f.as_dict() for f in self.flags],
            "medications": [
                {
                    "entered": m.entered,
                    "recognized": m.drug is not None,
                    "generic_name": m.drug.name if m.drug else None,
                    "classes": list(m.class_names),
                }
                for m in self.medications
            ],
            "unrecognized_medications": list(self.unrecognized_medications),
            "indications": [i.as_dict() for i in self.indications],
        }


def _one_decimal(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


# ---------------------------------------------------------------- renal


def _rule_for(rules: list[RenalRule], crcl: float) -> RenalRule | None:
    for rule in rules:
        if rule.contains(crcl):
            return rule
    return None


def _assess_renal(
    factors: PatientFactors, rules: list[RenalRule]
) -> tuple[RenalResult, RenalRule | None, str]:
    """The renal result, the rule that applies, and a description of the patient values used."""
    renal = factors.renal
    if renal is None:
        return RenalResult(None, "unknown", "unknown"), None, ""
    if isinstance(renal, Dialysis):
        rule = next((r for r in rules if r.band == "no-data"), None)
        return RenalResult(None, "no-data", "dialysis"), rule, "on dialysis"
    if isinstance(renal, RenalEntered):
        rule = _rule_for(rules, renal.crcl_ml_min)
        band = rule.band if rule else "unknown"
        return (
            RenalResult(renal.crcl_ml_min, band, "entered"),
            rule,
            f"CrCl {_fmt(renal.crcl_ml_min)} mL/min (entered)",
        )
    assert isinstance(renal, RenalEstimate)
    scr = calculators.creatinine_mg_dl(renal.serum_creatinine, renal.creatinine_unit)
    crcl = calculators.cockcroft_gault(
        age_years=renal.age_years, sex=renal.sex, weight_kg=renal.weight_kg, serum_creatinine_mg_dl=scr
    )
    rule = _rule_for(rules, crcl)
    egfr = bsa = None
    egfr_band = None
    egfr_source = ""
    if renal.height_cm is not None:
        bsa = calculators.body_surface_area_m2(height_cm=renal.height_cm, weight_kg=renal.weight_kg)
        if renal.egfr_ml_min_1_73m2 is not None:
            indexed, egfr_source = renal.egfr_ml_min_1_73m2, "lab"
        else:
            indexed = calculators.ckd_epi_2021(
                age_years=renal.age_years, sex=renal.sex, serum_creatinine_mg_dl=scr
            )
            egfr_source = "calculated"
        egfr = calculators.deindex_egfr(egfr_ml_min_1_73m2=indexed, bsa_m2=bsa)
        egfr_rule = _rule_for(rules, egfr)
        egfr_band = egfr_rule.band if egfr_rule else "unknown"
    described = (
        f"CrCl {_fmt(crcl)} mL/min (Cockcroft-Gault: {_fmt(renal.age_years)} y, {renal.sex},"
        f" {_fmt(renal.weight_kg)} kg, creatinine {_fmt(renal.serum_creatinine)} {renal.creatinine_unit})"
    )
    result = RenalResult(
        crcl,
        rule.band if rule else "unknown",
        "cockcroft-gault",
        calculators.COCKCROFT_GAULT,
        egfr,
        egfr_band,
        egfr_source,
        bsa,
    )
    return result, rule, described


# ---------------------------------------------------------------- hepatic


def _assess_hepatic(factors: PatientFactors) -> HepaticResult:
    hepatic = factors.hepatic
    if isinstance(hepatic, HepaticClass):
        return HepaticResult(hepatic.child_pugh_class, None, "entered")
    if isinstance(hepatic, HepaticComponents):
        score = calculators.child_pugh_score(
            bilirubin_mg_dl=hepatic.bilirubin_mg_dl,
            albumin_g_dl=hepatic.albumin_g_dl,
            inr=hepatic.inr,
            ascites=hepatic.ascites,
            encephalopathy=hepatic.encephalopathy,
        )
        return HepaticResult(calculators.child_pugh_class(score), score, "child-pugh-score")
    return HepaticResult(None, None, "unknown")


# ---------------------------------------------------------------- medications

_DOSE_TOKEN = re.compile(
    r"^(\d+([.,]\d+)?(mg|mcg|µg|g|ml|%)?|mg|mcg|µg|g|ml|tab|tabs|tablet|tablets|cap|caps|capsule|capsules"
    r"|daily|od|bd|bid|tds|tid|qd|qds|qid|nocte|mane|prn|once|twice|a|day|per|x)$"
)


def match_medication(entered: str, catalogue: Catalogue) -> Drug | None:
    """The catalogue drug a name refers to: generic, brand or synonym, ignoring case and spacing.
    Trailing strength and frequency words ("sertraline 50 mg daily") are ignored when needed."""
    key = normalise_name(entered)
    drug = catalogue.drugs_by_name.get(key)
    if drug is not None:
        return drug
    tokens = key.split()
    while len(tokens) > 1 and _DOSE_TOKEN.match(tokens[-1]):
        tokens.pop()
        drug = catalogue.drugs_by_name.get(" ".join(tokens))
        if drug is not None:
            return drug
    return None


# ---------------------------------------------------------------- rules


class _Flags:
    """Collects flags: one per code, triggers merged, in the order raised."""

    def __init__(self) -> None:
        self._by_code: dict[str, Flag] = {}

    def raise_(self, text: FlagText | None, trigger: str) -> None:
        """Raise a flag; a second rule with the same code adds its trigger, and the more severe
        of the two texts is kept."""
        if text is None:
            return
        existing = self._by_code.get(text.code)
        triggers = existing.triggers if existing else ()
        if trigger and trigger not in triggers:
            triggers = (*triggers, trigger)
        keep = text
        if existing and SEVERITY_RANK.get(existing.severity, 9) <= SEVERITY_RANK.get(text.severity, 9):
            keep = existing
        self._by_code[text.code] = Flag(
            keep.code, keep.severity, keep.title, keep.detail, keep.sources, triggers
        )

    def ordered(self) -> tuple[Flag, ...]:
        flags = list(self._by_code.values())
        return tuple(sorted(flags, key=lambda f: SEVERITY_RANK.get(f.severity, 9)))


def _for_region(rules, region: str, key):
    """Region-specific rules win over 'any region' rules with the same key."""
    chosen = {}
    for rule in rules:
        if rule.region not in (region, ANY_REGION):
            continue
        k = key(rule)
        if k not in chosen or rule.region == region:
            chosen[k] = rule
    return list(chosen.values())


def _dose(catalogue: Catalogue, factors: PatientFactors, renal_rule: RenalRule | None, hepatic_rule) -> Dose:
    regimen = catalogue.regimen(factors.region, factors.formulation)
    if regimen is None:
        return Dose(
            factors.formulation,
            None,
            None,
            "No regimen in the catalogue for this region and formulation.",
            "",
            False,
            (),
        )
    basis = [
        DoseNote(
            f"Labelled regimen: {regimen.regimen} (maximum {regimen.max_mg_per_day} mg/day).", regimen.sources
        )
    ]
    start, maximum = regimen.start_mg_per_day, regimen.max_mg_per_day
    text, titration = regimen.regimen, regimen.titration
    standard = True
    if renal_rule is not None:
        basis.append(DoseNote(renal_rule.summary, renal_rule.sources))
        if renal_rule.dose_effect == DOSE_NONE:
            start = maximum = None
            text = renal_rule.regimen or "No labelled dose"
            titration = renal_rule.titration
            standard = False
        elif renal_rule.dose_effect == DOSE_ADJUSTED:
            cap = renal_rule.max_mg_per_day if renal_rule.max_mg_per_day is not None else maximum
            maximum = min(maximum, cap)
            start = min(renal_rule.start_mg_per_day or start, maximum)
            text = renal_rule.regimen or text
            titration = renal_rule.titration or titration
            standard = False
    if hepatic_rule is not None:
        basis.append(DoseNote(hepatic_rule.summary, hepatic_rule.sources))
    return Dose(factors.formulation, start, maximum, text, titration, standard, tuple(basis))


def assess(factors: PatientFactors, catalogue: Catalogue, *, today: date) -> Assessment:
    region = factors.region
    flags = _Flags()
    missing: list[MissingInput] = []

    # Renal function and the dose.
    rules = catalogue.renal_rules_for(region, factors.formulation)
    renal, renal_rule, renal_described = _assess_renal(factors, rules)
    if renal.method == "unknown":
        flags.raise_(catalogue.standard_flag("renal-function-unknown", region), "No renal function given")
        missing.append(
            MissingInput("renal", "Renal function not given: the dose shown is the standard labelled dose.")
        )
    elif renal_rule is None:  # only if the catalogue's ranges have a gap (publishing refuses that)
        flags.raise_(
            catalogue.standard_flag("renal-function-unknown", region),
            f"No renal rule covers {renal_described}",
        )
    elif renal_rule.flag is not None:
        flags.raise_(renal_rule.flag, renal_described)
    if renal.egfr_band and renal.egfr_band != renal.band:
        flags.raise_(
            catalogue.standard_flag("renal-estimates-disagree", region),
            f"Cockcroft-Gault CrCl {_fmt(renal.crcl_ml_min)} mL/min ({renal.band}) vs CKD-EPI 2021 eGFR"
            f" {_fmt(renal.egfr_ml_min)} mL/min de-indexed ({renal.egfr_band})",
        )

    hepatic = _assess_hepatic(factors)
    hepatic_rule = None
    if hepatic.child_pugh_class is None:
        missing.append(MissingInput("hepatic", "Hepatic function not given: no hepatic rule was applied."))
    else:
        hepatic_rule = next(
            (
                r
                for r in catalogue.hepatic_rules
                if r.region == region and r.child_pugh_class == hepatic.child_pugh_class
            ),
            None,
        )
        if hepatic_rule is not None and hepatic_rule.flag is not None:
            score = f", score {hepatic.child_pugh_score}" if hepatic.child_pugh_score is not None else ""
            flags.raise_(hepatic_rule.flag, f"Child-Pugh class {hepatic.child_pugh_class}{score}")

    dose = _dose(catalogue, factors, renal_rule, hepatic_rule)

    # Medications: every entry is matched or reported as not checked.
    matches = []
    for entered in factors.medications:
        drug = match_medication(entered, catalogue)
        names = tuple(catalogue.class_names.get(c, c) for c in drug.classes) if drug else ()
        matches.append(MedicationMatch(entered, drug, names))
    if not factors.medications:
        missing.append(
            MissingInput("medications", "No current medications entered: no interaction was checked.")
        )
    taken_by_class: dict[str, list[MedicationMatch]] = {}
    for match in matches:
        for code in match.drug.classes if match.drug else ():
            taken_by_class.setdefault(code, []).append(match)

    interaction_rules = _for_region(
        catalogue.interaction_rules, region, key=lambda r: (r.drug_class, r.also_requires_class)
    )
    for rule in interaction_rules:
        taking = taken_by_class.get(rule.drug_class)
        if not taking:
            continue
        also = taken_by_class.get(rule.also_requires_class) if rule.also_requires_class else []
        if rule.also_requires_class and not also:
            continue
        for match in [*taking, *also]:
            classes = ", ".join(match.class_names)
            flags.raise_(rule.flag, f"{match.label}: {classes}")

    unrecognized = [m.entered for m in matches if m.drug is None]
    for name in unrecognized:
        flags.raise_(
            catalogue.standard_flag("medication-not-recognized", region), f"“{name}” was not checked"
        )

    # Conditions.
    if not factors.conditions:
        missing.append(
            MissingInput("conditions", "No relevant conditions ticked: condition checks assume none apply.")
        )
    condition_rules = _for_region(catalogue.condition_rules, region, key=lambda r: (r.condition, r.flag.code))
    for condition in factors.conditions:
        for rule in condition_rules:
            if rule.condition == condition:
                flags.raise_(rule.flag, condition.replace("-", " ").capitalize())

    # Indications, with what this patient's data means for each.
    wanted = set(factors.indications)
    results = []
    for ind in catalogue.indications:
        if wanted and ind.slug not in wanted:
            continue
        notes = []
        if ind.augments_class:
            class_name = catalogue.class_names.get(ind.augments_class, ind.augments_class)
            taking = taken_by_class.get(ind.augments_class)
            if taking:
                notes.append(
                    f"{class_name} listed ({', '.join(m.label for m in taking)}): the evidence is for adding"
                    f" memantine to this class."
                )
            else:
                text = catalogue.standard_flag("augmentation-without-ssri", region)
                notes.append(text.title if text else f"No {class_name} listed.")
                if ind.slug in wanted:
                    flags.raise_(text, f"{ind.name} in focus; no {class_name} listed")
        overdue = None
        if ind.next_review_due and ind.next_review_due < today.isoformat():
            overdue = catalogue.standard_flag("review-overdue", region)
        results.append(IndicationResult(ind, tuple(notes), overdue))

    inputs_used = _inputs_used(factors, renal, hepatic, matches)
    return Assessment(
        catalogue_version=catalogue.version,
        region=region,
        formulation=factors.formulation,
        renal=renal,
        hepatic=hepatic,
        dose=dose,
        flags=flags.ordered(),
        medications=tuple(matches),
        indications=tuple(results),
        inputs_used=inputs_used,
        inputs_missing=tuple(missing),
    )


def _inputs_used(
    factors: PatientFactors, renal: RenalResult, hepatic: HepaticResult, matches
) -> dict[str, Any]:
    renal_in: dict[str, Any] | None
    if factors.renal is None:
        renal_in = None
    elif isinstance(factors.renal, Dialysis):
        renal_in = {"dialysis": True}
    else:
        renal_in = {k: v for k, v in vars(factors.renal).items() if v is not None}
    hepatic_in = None if factors.hepatic is None else dict(vars(factors.hepatic))
    return {
        "region": factors.region,
        "formulation": factors.formulation,
        "indications": list(factors.indications),
        "renal": renal_in,
        "hepatic": hepatic_in,
        "medications": [m.entered for m in matches],
        "conditions": list(factors.conditions),
    }
