"""The one presentation step: what every door shows, built once from an Assessment.

``present(assessment, catalogue)`` turns the engine's result into plain view objects: the dose box
with its verdict words, the renal estimates and what each would give, labels of bands (with the
catalogue's own numbers), conditions and classes, flag and indication cards with their sources,
study citations, and the "for this patient" notes. The intake page, the summary sheet, its PDF, the
JSON serialiser and the EHR cards render these; none formats clinical text of its own.

Pure like the engine: no Django, no I/O, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import calculators
from . import vocabulary as vocab
from .assess import Assessment, Flag, IndicationResult, clearance_text, labelled_dose, renal_inputs_text
from .catalogue import Catalogue, FlagText, Indication, RenalRule, Study
from .evidence_map import EvidenceMap, YearScale, evidence_map
from .factors import HepaticComponents, RenalEstimate
from .medications import MedicationMatch
from .renal import Estimate, RenalResult


@dataclass(frozen=True)
class Link:
    label: str
    url: str


def links(sources) -> tuple[Link, ...]:
    return tuple(Link(s.label, s.url) for s in sources if s is not None)


def mg(value: float | None) -> str:
    if value is None:
        return "none"
    text = f"{value:.1f}".rstrip("0").rstrip(".")
    return f"{text} mg/day"


def study_citation(study: Study) -> str:
    """ "Ghaleiha 2013, J Psychiatr Res 47:175": the one place a study citation is written."""
    return f"{study.name}, {study.citation}" if study.citation else study.name


def range_text(rule: RenalRule) -> str:
    """A renal rule's range in words, from the catalogue's numbers ("5 to under 30 mL/min")."""
    low, high = (
        f"{rule.crcl_min_ml_min:g}",
        None if rule.crcl_max_ml_min is None else f"{rule.crcl_max_ml_min:g}",
    )
    if high is None:
        return f"{low} mL/min or more" if rule.lower_inclusive else f"above {low} mL/min"
    upper = f"{high}" if rule.upper_inclusive else f"under {high}"
    if rule.crcl_min_ml_min == 0 and rule.lower_inclusive:
        return f"{'up to ' + high if rule.upper_inclusive else 'under ' + high} mL/min"
    lower = low if rule.lower_inclusive else f"above {low}"
    return f"{lower} to {upper} mL/min"


def band_label(band: str, rule: RenalRule | None, *, dialysis: bool = False) -> str:
    words = vocab.BANDS.get(band, "unknown")
    if rule is None:
        return words
    if dialysis:
        return f"{words} (on dialysis)"
    return f"{words} (CrCl {range_text(rule)})"


# ---------------------------------------------------------------- views


@dataclass(frozen=True)
class NoteView:
    text: str
    sources: tuple[Link, ...]


@dataclass(frozen=True)
class FormulaView:
    name: str
    formula: str
    source: Link


@dataclass(frozen=True)
class EstimateLine:
    method: str
    label: str
    value: str  # "26.1 mL/min"
    band: str
    band_label: str
    used: bool
    gives: str  # what the labelled regimen would be at this estimate ("" when no dose may be shown)


@dataclass(frozen=True)
class DoseBox:
    verdict: str
    heading: str
    tone: str  # standard | unconfirmed | adjusted | caution | stop
    not_confirmed: tuple[str, ...]  # every reason the dose is not confirmed (renal basis, unchecked drugs)
    formulation_label: str
    shows_dose: bool
    regimen: str
    start: str
    maximum: str
    titration: str
    reasons: tuple[str, ...]  # the titles of the flags behind the verdict, most restrictive first
    renal_line: str
    renal_inputs: str  # the patient values behind it ("80 y, female, 60 kg, creatinine 1.4 mg/dL")
    renal_choice: str
    estimates: tuple[EstimateLine, ...]
    hepatic_line: str
    hepatic_inputs: str  # the Child-Pugh components as entered, with units ("" when not given)
    basis: tuple[NoteView, ...]

    @property
    def confirmations(self) -> tuple[str, ...]:
        """The "not confirmed" lines shown under the heading (the first is the heading itself when
        the verdict is "unconfirmed")."""
        return self.not_confirmed[1:] if self.verdict == "unconfirmed" else self.not_confirmed

    @property
    def confirmation(self) -> str:
        return " · ".join(self.confirmations)


@dataclass(frozen=True)
class FlagView:
    code: str
    severity: str
    severity_label: str
    icon: str
    title: str
    detail: str
    triggers: tuple[str, ...]
    sources: tuple[Link, ...]
    verdict: str


@dataclass(frozen=True)
class MedicationLine:
    entered: str
    recognised: bool
    recognised_as: str  # "sertraline (SSRI; ...)" or "" when nothing was recognised
    unrecognised: tuple[tuple[str, tuple[str, ...]], ...]  # (text, did-you-mean names)
    components: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (generic name, class names) per drug checked

    @property
    def class_names(self) -> tuple[str, ...]:
        """The class names of every drug checked, once each."""
        return tuple(dict.fromkeys(name for _, names in self.components for name in names))


@dataclass(frozen=True)
class StudyView:
    citation: str
    label: str  # for reference lists (same as citation)
    url: str
    design: str
    design_label: str
    participants: int | None
    design_short: str
    dose: str
    duration: str
    result: str
    result_label: str
    finding: str
    statistics: str


@dataclass(frozen=True)
class GuidelineView:
    body: str
    title: str
    year: int | None
    position: str
    position_label: str
    statement: str
    sources: tuple[Link, ...]

    @property
    def heading(self) -> str:
        """ "NICE NG97 Dementia (2018)" """
        return f"{self.body} {self.title}" + (f" ({self.year})" if self.year else "")


@dataclass(frozen=True)
class IndicationCard:
    slug: str
    name: str
    status: str
    status_label: str
    category: str
    role_label: str
    strength: str
    strength_label: str
    efficacy_label: str
    recommendation_label: str
    summary: str
    mechanism_rationale: str
    notes: tuple[str, ...]  # what this patient's data mean for this indication
    dose_studied: str
    dose_studied_range: str  # "10–20 mg/day" or ""
    studied_above_cap: str  # the note when studied above this patient's maximum, else ""
    caveats: tuple[NoteView, ...]
    studies: tuple[StudyView, ...]
    sources: tuple[Link, ...]
    last_reviewed: str
    next_review_due: str
    review_overdue: FlagView | None
    in_focus: bool
    guidelines: tuple[GuidelineView, ...]
    clinical_significance: str
    safety: tuple[NoteView, ...]  # the label's adverse-effect profile and warnings, with every use
    evidence_map: EvidenceMap | None
    evidence_gaps: tuple[tuple[str, str, str], ...] = ()  # (element, label, reason): not verified

    @property
    def controlled_studies(self) -> tuple[StudyView, ...]:
        """Randomised trials and syntheses: the studies a printed sheet lists one by one."""
        return tuple(s for s in self.studies if s.design in vocab.CONTROLLED_DESIGNS)

    @property
    def sources_beyond_studies(self) -> tuple[Link, ...]:
        """The indication's sources that are not one of its studies (those are cited with the study)."""
        studied = {s.url for s in self.studies}
        return tuple(s for s in self.sources if s.url not in studied)

    @property
    def uncontrolled_count(self) -> int:
        return len(self.studies) - len(self.controlled_studies)


@dataclass(frozen=True)
class AnswerLine:
    """The answer in one line, always in view: the verdict and the dose it allows, how many critical
    and warning flags there are, and for each indication in focus the doses studied (with the note
    when they are above this patient's maximum)."""

    verdict: str  # the dose box's heading
    confirmations: tuple[str, ...]  # why the dose is not confirmed, when it is not (as in the dose box)
    tone: str
    dose: str  # the regimen when the verdict allows a dose, else ""
    critical: int
    warning: int
    studied: tuple[str, ...]

    @property
    def flags_text(self) -> str:
        return f"Flags: {self.critical} critical, {self.warning} warning"


@dataclass(frozen=True)
class Presentation:
    catalogue_version: str
    region: str
    region_label: str
    formulation_label: str
    dose: DoseBox
    flags: tuple[FlagView, ...]
    counts: dict[str, int]  # severity -> number of flags
    medications: tuple[MedicationLine, ...]
    conditions: tuple[str, ...]  # labels
    indications_in_focus: tuple[str, ...]  # names
    missing: tuple[str, ...]
    indications: tuple[IndicationCard, ...]
    formulas: tuple[FormulaView, ...]
    status_line: str
    approved_uses: tuple[str, ...] = ()  # names of the approved indications (the maps' comparison)
    safety: tuple[NoteView, ...] = ()  # the labels' adverse-effect profile and warnings (every use)
    safety_on_sheet: tuple[NoteView, ...] = ()  # the notes editors chose for the printed sheet
    answer: AnswerLine | None = None

    @property
    def focused(self) -> bool:
        return bool(self.indications_in_focus)


# ---------------------------------------------------------------- building


def _flag_view(flag: Flag | FlagText, triggers: tuple[str, ...] = ()) -> FlagView:
    return FlagView(
        code=flag.code,
        severity=flag.severity,
        severity_label=vocab.SEVERITIES.get(flag.severity, flag.severity.title()),
        icon=vocab.SEVERITY_ICONS.get(flag.severity, "•"),
        title=flag.title,
        detail=flag.detail,
        triggers=getattr(flag, "triggers", triggers),
        sources=links(flag.sources),
        verdict=flag.verdict,
    )


def _gives(assessment: Assessment, estimate: Estimate) -> str:
    if assessment.dose.verdict in vocab.NO_DOSE_VERDICTS:
        return ""
    dose = labelled_dose(assessment.dose.labelled, estimate.rule)
    if dose.max_mg_per_day is None:
        return "no labelled dose"
    return f"{dose.regimen} (maximum {mg(dose.max_mg_per_day)})"


def _estimate_lines(assessment: Assessment) -> tuple[EstimateLine, ...]:
    renal = assessment.renal
    lines = []
    for estimate in renal.estimates:
        lines.append(
            EstimateLine(
                method=estimate.method,
                label=vocab.RENAL_METHODS[estimate.method],
                value=clearance_text(estimate),
                band=estimate.band,
                band_label=band_label(estimate.band, estimate.rule),
                used=estimate is renal.used,
                gives=_gives(assessment, estimate),
            )
        )
    return tuple(lines)


def _renal_line(renal: RenalResult) -> str:
    if not renal.given:
        return "not given"
    if renal.method == "dialysis":
        return f"on dialysis: {band_label(renal.band, renal.rule, dialysis=True)}"
    used = renal.used
    measure = "eGFR" if used.method in vocab.EGFR_METHODS else "CrCl"
    method = vocab.RENAL_METHODS[used.method]
    return f"{measure} {clearance_text(used)} ({method}): {band_label(used.band, used.rule)}"


def _renal_inputs(assessment: Assessment) -> str:
    inputs = assessment.factors.renal
    return renal_inputs_text(inputs, assessment.renal) if isinstance(inputs, RenalEstimate) else ""


def _renal_choice(assessment: Assessment) -> str:
    """Which estimate the dose follows and why, when there was a choice."""
    renal = assessment.renal
    if renal.chosen_by not in ("conservative", "clinician") or renal.used is None:
        return ""
    used = renal.used
    label = vocab.RENAL_METHODS[used.method]
    if renal.chosen_by == "clinician":
        text = f"The dose follows {label}, chosen by the clinician."
        lowest = renal.lowest
        if renal.less_conservative_than_lowest and assessment.dose.verdict not in vocab.NO_DOSE_VERDICTS:
            gives = _gives(assessment, lowest)
            text += (
                f" The lowest estimate, {vocab.RENAL_METHODS[lowest.method]} ({clearance_text(lowest)}),"
                f" would give {gives}."
            )
        return text
    text = f"The dose follows the lowest estimate, {label}."
    label_formula = renal.estimate("cockcroft-gault")
    if (
        label_formula is not None
        and label_formula is not used
        and label_formula.crcl_ml_min > used.crcl_ml_min
    ):
        text += (
            f" The label's own formula, Cockcroft-Gault with actual body weight, gives a higher"
            f" {clearance_text(label_formula)}; following the lower estimate is the more conservative"
            " reading."
        )
    return text


def _not_confirmed(assessment: Assessment, flags: tuple[FlagView, ...]) -> tuple[str, ...]:
    """Every reason the dose is not confirmed for this patient, renal first."""
    reasons = []
    if not assessment.dose.renal_confirmed:
        if not assessment.renal.given:
            reasons.append("Dose not confirmed: renal function not given")
        else:
            renal = [f.title for f in flags if f.verdict == "unconfirmed" and f.code.startswith("renal-")]
            reasons.append("Dose not confirmed: " + (renal[0] if renal else "renal function unclear"))
    unchecked = assessment.unrecognized_medications
    if unchecked:
        names = ", ".join(f"“{n}”" for n in unchecked[:3]) + (" …" if len(unchecked) > 3 else "")
        plural = "s" if len(unchecked) > 1 else ""
        reasons.append(f"Dose not confirmed: {len(unchecked)} medication{plural} not checked ({names})")
    return tuple(reasons)


TONES = {
    "standard": "standard",
    "unconfirmed": "unconfirmed",
    "adjusted": "adjusted",
    "caution": "caution",
    "not-recommended": "stop",
    "no-labelled-dose": "stop",
}


def _dose_box(assessment: Assessment, flags: tuple[FlagView, ...]) -> DoseBox:
    dose = assessment.dose
    not_confirmed = _not_confirmed(assessment, flags)
    if dose.verdict == "unconfirmed":
        heading = not_confirmed[0] if not_confirmed else vocab.VERDICTS[dose.verdict]
    else:
        heading = vocab.VERDICTS[dose.verdict]
    effects = [f for f in flags if f.verdict != "standard"]
    if dose.verdict in vocab.NO_DOSE_VERDICTS:  # only why there is no dose: no other rule's numbers
        effects = [f for f in effects if f.verdict == dose.verdict]
    effects.sort(key=lambda f: -vocab.VERDICT_RANK[f.verdict])
    reasons = tuple(dict.fromkeys(f.title for f in effects))
    hepatic = assessment.hepatic
    if hepatic.child_pugh_class:
        hepatic_line = vocab.CHILD_PUGH_CLASSES[hepatic.child_pugh_class]
        if hepatic.child_pugh_score is not None:
            hepatic_line += f", score {hepatic.child_pugh_score}"
    else:
        hepatic_line = "not given"
    shows_dose = dose.max_mg_per_day is not None
    return DoseBox(
        verdict=dose.verdict,
        heading=heading,
        tone=TONES[dose.verdict],
        not_confirmed=not_confirmed,
        formulation_label=vocab.FORMULATIONS[dose.formulation],
        shows_dose=shows_dose,
        regimen=dose.regimen,
        start=mg(dose.start_mg_per_day) if shows_dose else "none",
        maximum=mg(dose.max_mg_per_day) if shows_dose else "none",
        titration=dose.titration,
        reasons=reasons,
        renal_line=_renal_line(assessment.renal),
        renal_inputs=_renal_inputs(assessment),
        renal_choice=_renal_choice(assessment),
        estimates=_estimate_lines(assessment) if len(assessment.renal.estimates) > 1 else (),
        hepatic_line=hepatic_line,
        hepatic_inputs=_hepatic_inputs(assessment),
        basis=tuple(NoteView(n.text, links(n.sources)) for n in dose.basis),
    )


def _hepatic_inputs(assessment: Assessment) -> str:
    hepatic = assessment.factors.hepatic
    if not isinstance(hepatic, HepaticComponents):
        return ""
    return (
        f"bilirubin {hepatic.bilirubin}, albumin {hepatic.albumin}, INR {hepatic.inr:g},"
        f" ascites {vocab.ASCITES[hepatic.ascites].lower()},"
        f" encephalopathy {vocab.ENCEPHALOPATHY[hepatic.encephalopathy].lower()}"
    )


def _medication_line(match: MedicationMatch, catalogue: Catalogue) -> MedicationLine:
    unrecognised = tuple((u.text, u.suggestions) for u in match.unrecognised)
    if not match.recognised:
        return MedicationLine(match.entered, False, "", unrecognised)
    components = tuple(
        (d.name, tuple(catalogue.class_names.get(c, c) for c in d.classes)) for d in match.drugs
    )
    parts = "; ".join(
        f"{name} ({', '.join(names) or 'no labelled interaction'})" for name, names in components
    )
    if match.product is not None:
        recognised_as = f"{match.product.name}: {parts}"
    else:
        recognised_as = parts
    return MedicationLine(match.entered, True, recognised_as, unrecognised, components)


def _studied(result: IndicationResult) -> str:
    span = result.indication.dose_studied_range
    if span is None:
        return ""
    low, high = span
    return f"{low}–{high} mg/day" if low != high else f"{high} mg/day"


@dataclass(frozen=True)
class _Shared:
    """What every card of one answer shares: worked out once, not once per card."""

    safety: tuple[NoteView, ...]
    approved: tuple[Indication, ...]
    scale: YearScale

    @classmethod
    def of(cls, catalogue: Catalogue) -> _Shared:
        return cls(
            safety=tuple(NoteView(n.text, links(n.sources)) for n in catalogue.safety_notes),
            approved=tuple(i for i in catalogue.indications if i.status == "approved"),
            scale=YearScale.covering(catalogue.indications),
        )


def _indication_card(
    result: IndicationResult, assessment: Assessment, catalogue: Catalogue, shared: _Shared
) -> IndicationCard:
    ind = result.indication
    region = assessment.region
    notes = []
    if result.augmenting is not None:
        class_name = catalogue.class_names.get(ind.augments_class, ind.augments_class)
        if result.augmenting:
            names = ", ".join(
                m.label(d) for m in result.augmenting for d in m.drugs if ind.augments_class in d.classes
            )
            notes.append(
                f"{class_name} listed ({names}): the evidence is for adding memantine to this class."
            )
        else:
            text = catalogue.standard_flag("augmentation-without-ssri", region)
            notes.append(text.title if text else f"No {class_name} listed.")
    above = ""
    if result.studied_above_cap:
        text = catalogue.standard_flag("studied-dose-above-cap", region)
        cap = assessment.dose.ir_equivalent_max
        title = text.title if text else "Studied at doses above this patient's maximum"
        above = f"{title}: studied at {_studied(result)}; this patient's maximum is {mg(cap)}."
        if assessment.dose.max_mg_per_day is not None and cap != assessment.dose.max_mg_per_day:
            # The doses studied are immediate-release mg/day: an extended-release maximum says both.
            above = (
                f"{title}: studied at {_studied(result)} (immediate release); this patient's maximum is"
                f" {mg(assessment.dose.max_mg_per_day)} extended release ({mg(cap)} as immediate release)."
            )
        notes.append(above)
    sources = list(ind.sources)
    return IndicationCard(
        slug=ind.slug,
        name=ind.name,
        status=ind.status,
        status_label=vocab.STATUSES.get(ind.status, ind.status),
        category=ind.category,
        role_label=vocab.ROLES.get(ind.therapeutic_role, ind.therapeutic_role),
        strength=ind.evidence.strength,
        strength_label=vocab.STRENGTHS.get(ind.evidence.strength, ind.evidence.strength),
        efficacy_label=vocab.EFFICACY.get(ind.evidence.efficacy, ind.evidence.efficacy),
        recommendation_label=vocab.RECOMMENDATIONS.get(
            ind.evidence.recommendation, ind.evidence.recommendation
        ),
        summary=ind.evidence_summary,
        mechanism_rationale=ind.mechanism_rationale,
        notes=tuple(notes),
        dose_studied=ind.dose_studied,
        dose_studied_range=_studied(result),
        studied_above_cap=above,
        caveats=tuple(NoteView(c.text, links(c.sources or sources)) for c in ind.caveats),
        studies=tuple(
            StudyView(
                citation=study_citation(s),
                label=study_citation(s),
                url=s.url,
                design=s.design,
                design_label=vocab.STUDY_DESIGNS.get(s.design, s.design),
                design_short=vocab.STUDY_DESIGNS_SHORT.get(s.design, s.design),
                participants=s.participants,
                dose=s.dose,
                duration=s.duration,
                result=s.result,
                result_label=vocab.STUDY_RESULTS.get(s.result, s.result),
                finding=s.finding,
                statistics=s.statistics,
            )
            for s in ind.studies
        ),
        sources=links(sources),
        last_reviewed=ind.last_reviewed,
        next_review_due=ind.next_review_due,
        review_overdue=_flag_view(result.review_overdue) if result.review_overdue else None,
        in_focus=result.in_focus,
        guidelines=tuple(
            GuidelineView(
                body=g.body,
                title=g.title,
                year=g.year,
                position=g.position,
                position_label=vocab.GUIDELINE_POSITIONS.get(g.position, "Position not recorded"),
                statement=g.statement,
                sources=links(g.sources),
            )
            for g in ind.guidelines
        ),
        clinical_significance=ind.clinical_significance,
        evidence_gaps=tuple(
            (g.element, vocab.GAP_ELEMENTS.get(g.element, g.element), g.reason) for g in ind.evidence_gaps
        ),
        safety=shared.safety,
        evidence_map=catalogue.memo(
            ("evidence_map", ind.slug),
            lambda: evidence_map(ind, approved=shared.approved, scale=shared.scale, map_id=f"map-{ind.slug}"),
        ),
    )


def _formulas(assessment: Assessment) -> tuple[FormulaView, ...]:
    methods = {e.method for e in assessment.renal.estimates}
    chosen = []
    if "cockcroft-gault" in methods:
        chosen.append(calculators.COCKCROFT_GAULT)
    if "cockcroft-gault-adjusted-weight" in methods:
        chosen.append(calculators.COCKCROFT_GAULT_ADJUSTED)
    if methods & {"ckd-epi-2021-deindexed", "egfr-lab-deindexed"}:
        chosen.append(calculators.CKD_EPI_2021)
    views = [FormulaView(m.name, m.formula, Link(m.source_label, m.source_url)) for m in chosen]
    if isinstance(assessment.factors.hepatic, HepaticComponents):
        m = calculators.CHILD_PUGH
        views.append(
            FormulaView(
                m.name, f"{m.formula}. {calculators.ALBUMIN_BAND_NOTE}", Link(m.source_label, m.source_url)
            )
        )
    return tuple(views)


def _status_line(dose: DoseBox, flags: tuple[FlagView, ...]) -> str:
    text = f"Assessment updated: {dose.heading}"
    if dose.shows_dose:
        text += f", {dose.regimen}"
    text += f"; {len(flags)} flag{'s' if len(flags) != 1 else ''}"
    if flags:
        text += f", first: {flags[0].severity_label}, {flags[0].title}"
    return text + "."


def _answer_line(dose: DoseBox, counts: dict[str, int], cards: tuple[IndicationCard, ...]) -> AnswerLine:
    studied = []
    for card in cards:
        if not card.in_focus:
            continue
        if card.studied_above_cap:
            studied.append(f"{card.name}: {card.studied_above_cap}")
        elif card.dose_studied_range:
            studied.append(f"{card.name}: studied at {card.dose_studied_range}.")
        else:
            studied.append(f"{card.name}: no dose studied in the catalogue.")
    return AnswerLine(
        verdict=dose.heading,
        confirmations=dose.confirmations,
        tone=dose.tone,
        dose=dose.regimen if dose.shows_dose else "",
        critical=counts.get("critical", 0),
        warning=counts.get("warning", 0),
        studied=tuple(studied),
    )


def present(assessment: Assessment, catalogue: Catalogue) -> Presentation:
    flags = tuple(_flag_view(f) for f in assessment.flags)
    dose = _dose_box(assessment, flags)
    factors = assessment.factors
    counts = {severity: sum(1 for f in flags if f.severity == severity) for severity in vocab.SEVERITIES}
    shared = catalogue.memo(("shared",), lambda: _Shared.of(catalogue))
    cards = tuple(_indication_card(r, assessment, catalogue, shared) for r in assessment.indications)
    return Presentation(
        catalogue_version=assessment.catalogue_version,
        region=assessment.region,
        region_label=vocab.REGIONS[assessment.region],
        formulation_label=vocab.FORMULATIONS[assessment.formulation],
        dose=dose,
        flags=flags,
        counts=counts,
        medications=tuple(_medication_line(m, catalogue) for m in assessment.medications),
        conditions=tuple(
            catalogue.conditions_by_slug[c].label if c in catalogue.conditions_by_slug else c
            for c in factors.conditions
        ),
        indications_in_focus=tuple(
            catalogue.indications_by_slug[s].name
            for s in factors.indications
            if s in catalogue.indications_by_slug
        ),
        missing=tuple(m.message for m in assessment.inputs_missing),
        indications=cards,
        formulas=_formulas(assessment),
        status_line=_status_line(dose, flags),
        approved_uses=tuple(i.name for i in shared.approved),
        safety=shared.safety,
        safety_on_sheet=tuple(
            NoteView(n.text, links(n.sources))
            for n in catalogue.safety_notes
            if n.on_sheet and n.region in (vocab.ANY_REGION, assessment.region)
        ),
        answer=_answer_line(dose, counts, cards),
    )


class References:
    """Numbers sources in the order a printed document first cites them."""

    def __init__(self) -> None:
        self.items: list[Link] = []
        self._numbers: dict[str, int] = {}

    def number(self, label: str, url: str) -> int:
        if url not in self._numbers:
            self.items.append(Link(label, url))
            self._numbers[url] = len(self.items)
        return self._numbers[url]

    def cite(self, *groups) -> str:
        """ "[1, 2]" for any mix of links, sources and studies (anything with a label and a url)."""
        numbers: list[int] = []
        for group in groups:
            items = group if isinstance(group, (list, tuple)) else [group]
            for item in items:
                if item is None:
                    continue
                n = self.number(item.label, item.url)
                if n not in numbers:
                    numbers.append(n)
        return f"[{', '.join(map(str, numbers))}]" if numbers else ""


__all__ = [
    "DoseBox",
    "FlagView",
    "GuidelineView",
    "IndicationCard",
    "Link",
    "Presentation",
    "References",
    "band_label",
    "present",
    "range_text",
    "study_citation",
]
