"""``assess(factors, catalogue, today=...)``: what applies to this patient, and one dose verdict.

Pure: no Django, no I/O, no clock (the caller passes today's date). Every clinical statement in the
result comes from the catalogue; this module holds only the mechanisms: which renal range contains
a clearance, which rules a medication list or a condition triggers, how a renal rule caps a dose,
and how the verdict is decided: the most restrictive effect of every rule that fired, each rule's
effect being catalogue data. A verdict under which no dose may be given carries no number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from . import calculators
from .catalogue import Catalogue, DoseRegimen, FlagText, Indication, RenalRule, Source
from .factors import Dialysis, HepaticClass, HepaticComponents, PatientFactors, RenalEntered, RenalEstimate
from .medications import MedicationMatch, match_medication, recognise
from .renal import Estimate, RenalResult, assess_renal
from .vocabulary import (
    ANY_REGION,
    BANDS,
    DOSE_ADJUSTED,
    DOSE_NONE,
    EGFR_METHODS,
    NO_DOSE_VERDICTS,
    RENAL_METHODS,
    SEVERITY_RANK,
    VERDICT_RANK,
    sentence,
)

__all__ = ["Assessment", "Flag", "assess", "match_medication"]


@dataclass(frozen=True)
class Flag:
    code: str
    severity: str
    title: str
    detail: str
    sources: tuple[Source, ...]
    triggers: tuple[str, ...]  # the patient values that raised it
    verdict: str  # what it does to the dose verdict (vocabulary.VERDICTS)


@dataclass(frozen=True)
class HepaticResult:
    child_pugh_class: str | None
    child_pugh_score: int | None
    method: str  # entered | child-pugh-score | unknown


@dataclass(frozen=True)
class DoseNote:
    text: str
    sources: tuple[Source, ...]


@dataclass(frozen=True)
class LabelledDose:
    """What the labelled regimen gives for one renal rule, before any other rule's verdict."""

    start_mg_per_day: int | None
    max_mg_per_day: int | None
    regimen: str
    titration: str
    adjusted: bool


@dataclass(frozen=True)
class Dose:
    formulation: str
    start_mg_per_day: int | None  # None whenever the verdict gives no dose
    max_mg_per_day: int | None
    regimen: str  # the regimen, or the statement of why there is no dose
    titration: str
    standard: bool  # the labelled regimen, unchanged by a renal rule (legacy member of the contract)
    basis: tuple[DoseNote, ...]  # the regimen, renal and hepatic rules this dose rests on
    verdict: str
    verdict_reasons: tuple[str, ...]  # flag codes, most restrictive effect first
    renal_confirmed: bool
    labelled: DoseRegimen | None

    @property
    def ir_equivalent_max(self) -> float | None:
        if self.max_mg_per_day is None or self.labelled is None:
            return None
        return self.labelled.ir_equivalent(self.max_mg_per_day)


@dataclass(frozen=True)
class IndicationResult:
    indication: Indication
    in_focus: bool
    augmenting: tuple[MedicationMatch, ...] | None  # None: not augmentation evidence; (): no such drug
    studied_above_cap: bool  # studied at more than this patient's maximum (IR-equivalent)
    review_overdue: FlagText | None  # the catalogue's "review overdue" text when the date has passed


@dataclass(frozen=True)
class MissingInput:
    field: str
    message: str


@dataclass(frozen=True)
class Assessment:
    catalogue_version: str
    factors: PatientFactors
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
        return tuple(u.text for m in self.medications for u in m.unrecognised)

    @property
    def medication_suggestions(self) -> dict[str, list[str]]:
        return {
            u.text: list(u.suggestions) for m in self.medications for u in m.unrecognised if u.suggestions
        }

    def flag(self, code: str) -> Flag | None:
        return next((f for f in self.flags if f.code == code), None)


def _fmt(value: float) -> str:
    text = f"{value:.1f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


# ---------------------------------------------------------------- flags


class _Flags:
    """Collects flags: one per code and text, triggers merged, in the order raised. Two rules that
    share a code and a text (alkaline urine from a drug and from a condition) make one flag with both
    triggers; rules with their own texts (an EU-only phenytoin text beside the general one) keep
    their own flags, so that no drug is listed under a text that is not about it."""

    def __init__(self) -> None:
        self._by_text: dict[tuple[str, str], Flag] = {}

    def raise_(self, text: FlagText | None, trigger: str) -> None:
        if text is None:
            return
        key = (text.code, text.title)
        existing = self._by_text.get(key)
        triggers = existing.triggers if existing else ()
        if trigger and trigger not in triggers:
            triggers = (*triggers, trigger)
        keep = text
        if existing and SEVERITY_RANK.get(existing.severity, 9) <= SEVERITY_RANK.get(text.severity, 9):
            keep = existing
        verdict = text.verdict
        if existing and VERDICT_RANK[existing.verdict] > VERDICT_RANK[verdict]:
            verdict = existing.verdict
        self._by_text[key] = Flag(
            keep.code, keep.severity, keep.title, keep.detail, keep.sources, triggers, verdict
        )

    def all(self) -> list[Flag]:
        return list(self._by_text.values())

    def ordered(self) -> tuple[Flag, ...]:
        return tuple(sorted(self._by_text.values(), key=lambda f: SEVERITY_RANK.get(f.severity, 9)))


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


# ---------------------------------------------------------------- renal and hepatic


def describe_renal(factors: PatientFactors, renal: RenalResult) -> str:
    """The patient values behind the renal result, for flag triggers and the record."""
    inputs = factors.renal
    if isinstance(inputs, Dialysis):
        return "on dialysis"
    if isinstance(inputs, RenalEntered):
        return f"CrCl {clearance_text(renal.used)} (entered)"
    if isinstance(inputs, RenalEstimate) and renal.used is not None:
        return f"{estimate_text(renal.used)} ({renal_inputs_text(inputs, renal)})"
    return ""


def _weight(measure) -> str:
    """ "132 lb (59.9 kg)": a weight in pounds also in kilograms, as the formulas use it."""
    if measure.unit == "lb":
        return f"{measure} ({calculators.weight_kg(measure.value, measure.unit):.1f} kg)"
    return str(measure)


def _height(measure) -> str:
    if measure.unit == "in":
        return f"{measure} ({calculators.height_cm(measure.value, measure.unit):.0f} cm)"
    return str(measure)


def renal_inputs_text(inputs: RenalEstimate, renal: RenalResult) -> str:
    """The values an estimate was computed from ("80 y, female, 60 kg, creatinine 1.4 mg/dL")."""
    parts = []
    if inputs.has_creatinine:
        parts.append(
            f"{_fmt(inputs.age_years)} y, {inputs.sex}, {_weight(inputs.weight)},"
            f" creatinine {inputs.serum_creatinine}"
        )
    elif inputs.weight is not None:
        parts.append(f"weight {_weight(inputs.weight)}")
    if inputs.height is not None:
        parts.append(f"height {_height(inputs.height)}")
    if renal.bmi is not None:
        parts.append(f"BMI {renal.bmi:.1f} kg/m²")
    if inputs.egfr_ml_min_1_73m2 is not None:
        parts.append(f"lab eGFR {_fmt(inputs.egfr_ml_min_1_73m2)} mL/min/1.73 m²")
    return "; ".join(parts)


def clearance_text(estimate: Estimate) -> str:
    """ "29.97 mL/min": as many decimals as the shown value needs (never across a band edge)."""
    shown = estimate.shown
    digits = next((d for d in (1, 2, 3) if round(shown, d) == shown), 3)
    unit = "mL/min/1.73 m²" if estimate.method == "egfr-lab" else "mL/min"
    return f"{shown:.{digits}f} {unit}"


def estimate_text(estimate: Estimate) -> str:
    """ "Cockcroft-Gault, adjusted body weight: 26.1 mL/min"."""
    return f"{sentence(RENAL_METHODS[estimate.method])}: {clearance_text(estimate)}"


def _assess_hepatic(factors: PatientFactors) -> HepaticResult:
    hepatic = factors.hepatic
    if isinstance(hepatic, HepaticClass):
        return HepaticResult(hepatic.child_pugh_class, None, "entered")
    if isinstance(hepatic, HepaticComponents):
        score = calculators.child_pugh_score(
            bilirubin=hepatic.bilirubin.value,
            bilirubin_unit=hepatic.bilirubin.unit,
            albumin_g_dl=calculators.albumin_g_dl(hepatic.albumin.value, hepatic.albumin.unit),
            inr=hepatic.inr,
            ascites=hepatic.ascites,
            encephalopathy=hepatic.encephalopathy,
        )
        return HepaticResult(calculators.child_pugh_class(score), score, "child-pugh-score")
    return HepaticResult(None, None, "unknown")


def labelled_dose(regimen: DoseRegimen | None, rule: RenalRule | None) -> LabelledDose:
    """The labelled regimen as one renal rule changes it (used for the dose and for what each
    renal estimate would give)."""
    if regimen is None:
        return LabelledDose(
            None, None, "No regimen in the catalogue for this region and formulation.", "", False
        )
    if rule is not None and rule.dose_effect == DOSE_NONE:
        return LabelledDose(None, None, rule.regimen or "No labelled dose", rule.titration, True)
    if rule is not None and rule.dose_effect == DOSE_ADJUSTED:
        cap = rule.max_mg_per_day if rule.max_mg_per_day is not None else regimen.max_mg_per_day
        maximum = min(regimen.max_mg_per_day, cap)
        start = min(rule.start_mg_per_day or regimen.start_mg_per_day, regimen.start_mg_per_day, maximum)
        return LabelledDose(
            start, maximum, rule.regimen or regimen.regimen, rule.titration or regimen.titration, True
        )
    return LabelledDose(
        regimen.start_mg_per_day, regimen.max_mg_per_day, regimen.regimen, regimen.titration, False
    )


def _verdict(flags: list[Flag], renal_rule: RenalRule | None, regimen: DoseRegimen | None):
    """The most restrictive effect of every flag (and of the renal rule itself), with the codes
    behind every effect other than "standard", most restrictive first."""
    effects = [(f.verdict, f.code) for f in flags]
    if renal_rule is not None and renal_rule.dose_effect != "standard":
        code = renal_rule.flag.code if renal_rule.flag else f"renal-{renal_rule.band}"
        effects.append((renal_rule.dose_effect, code))
    if regimen is None:
        effects.append((DOSE_NONE, "no-regimen"))
    verdict = max((v for v, _ in effects), key=VERDICT_RANK.__getitem__, default="standard")
    reasons: list[str] = []
    for _, code in sorted(
        ((v, c) for v, c in effects if v != "standard"), key=lambda vc: -VERDICT_RANK[vc[0]]
    ):
        if code not in reasons:
            reasons.append(code)
    return verdict, tuple(reasons)


def _dose(
    factors: PatientFactors,
    regimen: DoseRegimen | None,
    renal: RenalResult,
    hepatic_rule,
    flags: list[Flag],
    renal_doubt: bool,
) -> Dose:
    labelled = labelled_dose(regimen, renal.rule)
    basis = []
    if regimen is not None:
        basis.append(
            DoseNote(
                f"Labelled regimen: {regimen.regimen} (maximum {regimen.max_mg_per_day} mg/day).",
                regimen.sources,
            )
        )
    if renal.rule is not None:
        basis.append(DoseNote(renal.rule.summary, renal.rule.sources))
    if hepatic_rule is not None:
        basis.append(DoseNote(hepatic_rule.summary, hepatic_rule.sources))
    verdict, reasons = _verdict(flags, renal.rule, regimen)
    renal_confirmed = renal.given and renal.rule is not None and not renal_doubt
    start, maximum = labelled.start_mg_per_day, labelled.max_mg_per_day
    text, titration = labelled.regimen, labelled.titration
    if verdict in NO_DOSE_VERDICTS:
        start = maximum = None
        titration = ""
        causes = [f for f in flags if f.verdict == verdict]
        if causes:
            text = "No dose: " + "; ".join(f.title for f in causes)
            # What the dose rests on is now only why there is none: no regimen, no renal cap.
            basis = [DoseNote(f.title, f.sources) for f in causes]
    return Dose(
        formulation=factors.formulation,
        start_mg_per_day=start,
        max_mg_per_day=maximum,
        regimen=text,
        titration=titration,
        standard=not labelled.adjusted and verdict not in NO_DOSE_VERDICTS,
        basis=tuple(basis),
        verdict=verdict,
        verdict_reasons=reasons,
        renal_confirmed=renal_confirmed,
        labelled=regimen,
    )


# ---------------------------------------------------------------- assess


def assess(factors: PatientFactors, catalogue: Catalogue, *, today: date) -> Assessment:
    region = factors.region
    flags = _Flags()
    missing: list[MissingInput] = []

    # Renal function.
    rules = catalogue.renal_rules_for(region, factors.formulation)
    renal = assess_renal(factors, rules)
    described = describe_renal(factors, renal)
    if not renal.given:
        flags.raise_(catalogue.standard_flag("renal-function-unknown", region), "No renal function given")
        missing.append(
            MissingInput(
                "renal",
                "Renal function not given: the labelled dose is shown, not confirmed for this patient.",
            )
        )
    elif renal.rule is None:  # only if the catalogue's ranges have a gap (publishing refuses that)
        flags.raise_(
            catalogue.standard_flag("renal-function-unknown", region), f"No renal rule covers {described}"
        )
    elif renal.rule.flag is not None:
        flags.raise_(renal.rule.flag, described)
    regimen = catalogue.regimen(region, factors.formulation)
    if renal.disagree and len({labelled_dose(regimen, e.rule) for e in renal.estimates}) > 1:
        # Bands that give the same labelled dose (mild and normal) are not worth a warning.
        chosen = "chosen by the clinician" if renal.chosen_by == "clinician" else "the lowest"
        flags.raise_(
            catalogue.standard_flag("renal-estimates-disagree", region),
            "; ".join(f"{estimate_text(e)} ({BANDS.get(e.band, e.band)})" for e in renal.estimates)
            + f". The dose follows {RENAL_METHODS[renal.method]} ({chosen})",
        )
    if renal.needs_check:
        check = "adjusted" if renal.estimate("cockcroft-gault-adjusted-weight") else "actual"
        flags.raise_(
            catalogue.standard_flag("renal-estimate-check", region),
            f"Cockcroft-Gault with {check} body weight gives {_fmt(renal.check_crcl_ml_min)} mL/min"
            f" from {factors.renal.serum_creatinine}",
        )
    if renal.method in EGFR_METHODS and (
        all(e.method in EGFR_METHODS for e in renal.estimates) or renal.less_conservative_than_lowest
    ):
        # The dose rests on an eGFR rather than the clearance the label uses: either it is all there
        # is, or the clinician chose it over a lower estimate. (Following an eGFR that is the lowest
        # is the conservative choice, and any disagreement of bands is flagged above.)
        flags.raise_(catalogue.standard_flag("renal-egfr-used", region), described)
    if isinstance(factors.renal, RenalEstimate) and not factors.renal.has_creatinine:
        missing.append(
            MissingInput(
                "renal",
                "Serum creatinine not given: Cockcroft-Gault, the clearance the label uses, was not"
                " calculated.",
            )
        )
    # Doubt about the renal basis (the flags raised so far whose effect is "unconfirmed").
    renal_doubt = any(f.verdict == "unconfirmed" for f in flags.all())

    # Hepatic function.
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

    # Medications: every entry is recognised or reported as not checked.
    matches = [recognise(entered, catalogue) for entered in factors.medications]
    if not factors.medications:
        missing.append(
            MissingInput("medications", "No current medications entered: no interaction was checked.")
        )
    taken_by_class: dict[str, list[tuple[MedicationMatch, str]]] = {}
    for match in matches:
        for drug in match.drugs:
            for code in drug.classes:
                taken_by_class.setdefault(code, []).append((match, drug.name))

    def taking(match: MedicationMatch, drug_name: str) -> str:
        drug = catalogue.drugs_by_generic[drug_name]
        return f"{match.label(drug)}: {', '.join(catalogue.class_names.get(c, c) for c in drug.classes)}"

    interaction_rules = _for_region(
        catalogue.interaction_rules, region, key=lambda r: (r.drug_class, r.also_requires_class)
    )
    for rule in interaction_rules:
        taken = taken_by_class.get(rule.drug_class)
        if not taken:
            continue
        also = taken_by_class.get(rule.also_requires_class) if rule.also_requires_class else []
        if rule.also_requires_class and not also:
            continue
        for match, drug_name in [*taken, *also]:
            flags.raise_(rule.flag, taking(match, drug_name))

    for match in matches:
        for item in match.unrecognised:
            trigger = f"“{item.text}” was not checked"
            if item.suggestions:
                trigger += f" (did you mean {' or '.join(item.suggestions)}?)"
            flags.raise_(catalogue.standard_flag("medication-not-recognized", region), trigger)

    # Conditions.
    if not factors.conditions:
        missing.append(
            MissingInput("conditions", "No relevant conditions ticked: condition checks assume none apply.")
        )
    condition_rules = _for_region(catalogue.condition_rules, region, key=lambda r: (r.condition, r.flag.code))
    for condition in factors.conditions:
        label = (
            catalogue.conditions_by_slug[condition].label
            if condition in catalogue.conditions_by_slug
            else condition
        )
        for rule in condition_rules:
            if rule.condition == condition:
                flags.raise_(rule.flag, label)

    # Augmentation evidence without the drug it augments.
    wanted = set(factors.indications)
    for ind in catalogue.indications:
        if ind.augments_class and ind.slug in wanted and not taken_by_class.get(ind.augments_class):
            class_name = catalogue.class_names.get(ind.augments_class, ind.augments_class)
            flags.raise_(
                catalogue.standard_flag("augmentation-without-ssri", region),
                f"{ind.name} in focus; no {class_name} listed",
            )

    # The dose and its verdict, from every flag raised so far.
    dose = _dose(factors, regimen, renal, hepatic_rule, flags.all(), renal_doubt)

    # Each indication against this patient's maximum (IR-equivalent).
    cap = dose.ir_equivalent_max
    results = []
    for ind in catalogue.indications:
        if wanted and ind.slug not in wanted:
            continue
        above = (
            cap is not None
            and ind.status == "off-label"
            and ind.dose_studied_range is not None
            and ind.dose_studied_range[1] > cap
        )
        if above and ind.slug in wanted:
            low, high = ind.dose_studied_range
            studied = f"{low}–{high}" if low != high else f"{high}"
            flags.raise_(
                catalogue.standard_flag("studied-dose-above-cap", region),
                f"{ind.name}: studied at {studied} mg/day; this patient's maximum is {_fmt(cap)} mg/day"
                + (
                    " (immediate-release equivalent)"
                    if regimen and regimen.ir_equivalent_max_mg_per_day
                    else ""
                ),
            )
        augmenting = None
        if ind.augments_class:
            augmenting = tuple(dict.fromkeys(m for m, _ in taken_by_class.get(ind.augments_class, [])))
        overdue = None
        if ind.next_review_due and ind.next_review_due < today.isoformat():
            overdue = catalogue.standard_flag("review-overdue", region)
        results.append(IndicationResult(ind, ind.slug in wanted, augmenting, above, overdue))

    # The studied-dose flag may not change the dose (publishing checks its text is "standard"); the
    # verdict is recomputed from every flag so that no flag is left out of it.
    final = _dose(factors, regimen, renal, hepatic_rule, flags.all(), renal_doubt)

    return Assessment(
        catalogue_version=catalogue.version,
        factors=factors,
        region=region,
        formulation=factors.formulation,
        renal=renal,
        hepatic=hepatic,
        dose=final,
        flags=flags.ordered(),
        medications=tuple(matches),
        indications=tuple(results),
        inputs_used=inputs_used(factors, matches),
        inputs_missing=tuple(missing),
    )


def inputs_used(factors: PatientFactors, matches) -> dict[str, Any]:
    """The normalised inputs the engine used (FDA CDS criterion 4), in the contract's field names."""
    renal = factors.renal
    renal_in: dict[str, Any] | None
    if renal is None:
        renal_in = None
    elif isinstance(renal, Dialysis):
        renal_in = {"dialysis": True}
    elif isinstance(renal, RenalEntered):
        renal_in = {"crcl_ml_min": renal.crcl_ml_min}
    else:
        renal_in = {}
        if renal.has_creatinine:
            renal_in.update(
                age_years=renal.age_years,
                sex=renal.sex,
                serum_creatinine=renal.serum_creatinine.value,
                creatinine_unit=renal.serum_creatinine.unit,
            )
        if renal.weight is not None:
            renal_in.update(
                weight=renal.weight.value, weight_unit=renal.weight.unit, weight_kg=renal.weight_kg
            )
        if renal.height is not None:
            renal_in.update(
                height=renal.height.value, height_unit=renal.height.unit, height_cm=renal.height_cm
            )
        if renal.egfr_ml_min_1_73m2 is not None:
            renal_in["egfr_ml_min_1_73m2"] = renal.egfr_ml_min_1_73m2
        if renal.use_estimate is not None:
            renal_in["use_estimate"] = renal.use_estimate
    hepatic = factors.hepatic
    hepatic_in: dict[str, Any] | None
    if hepatic is None:
        hepatic_in = None
    elif isinstance(hepatic, HepaticClass):
        hepatic_in = {"child_pugh_class": hepatic.child_pugh_class}
    else:
        hepatic_in = {
            "bilirubin": hepatic.bilirubin.value,
            "bilirubin_unit": hepatic.bilirubin.unit,
            "albumin": hepatic.albumin.value,
            "albumin_unit": hepatic.albumin.unit,
            "albumin_g_dl": calculators.albumin_g_dl(hepatic.albumin.value, hepatic.albumin.unit),
            "bilirubin_mg_dl": calculators.bilirubin_mg_dl(hepatic.bilirubin.value, hepatic.bilirubin.unit),
            "inr": hepatic.inr,
            "ascites": hepatic.ascites,
            "encephalopathy": hepatic.encephalopathy,
        }
    return {
        "region": factors.region,
        "formulation": factors.formulation,
        "indications": list(factors.indications),
        "renal": renal_in,
        "hepatic": hepatic_in,
        "medications": [m.entered for m in matches],
        "conditions": list(factors.conditions),
    }
