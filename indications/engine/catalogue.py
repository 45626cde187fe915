"""The published catalogue as the engine sees it: frozen, Django-free, built from a snapshot dict.

A snapshot is the plain-JSON form of one catalogue release (see ``indications.snapshot`` for how it
is built from the editorial tables). ``Catalogue.from_snapshot`` turns it into these immutable
objects and builds the look-up indexes the engine needs, once per release.

Clinical knowledge lives in the snapshot; this module holds only its shape.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from .vocabulary import ANY_REGION, DOSE_ADJUSTED, DOSE_NONE, SEVERITY_RANK  # noqa: F401 (re-exported)

# Salt, ester and release words a clinician may type after a drug name; they never change which drug
# it is ("potassium" and "calcium" are kept: potassium bicarbonate is not sodium bicarbonate).
SALT_AND_RELEASE_WORDS = frozenset(
    "hydrochloride hcl hydrobromide hbr sodium oxalate maleate mesylate besylate succinate tartrate citrate"
    " fumarate sulfate sulphate phosphate gluconate chloride bromide decanoate palmitate pamoate"
    " polacrilex polistirex"
    " er xr xl sr cr dr la cd odt ec mr".split()
)
# Salts that can be a medicine of their own (sodium citrate, potassium chloride): a part of an entry
# made of these is reported when nothing recognises it. The other words above never are.
SALTS_THAT_ARE_MEDICINES = frozenset("sodium citrate chloride bromide sulfate sulphate phosphate".split())
# Design codes of releases published before the contract named them (v1.1).
LEGACY_DESIGNS = MappingProxyType({"rct": "randomised-controlled"})
_NOT_A_WORD = re.compile(r"[\W_]+")


def words(text: str) -> list[str]:
    """The words of a name: Unicode-normalised (NFKC: full-width and styled letters become plain),
    case-folded, punctuation as spaces."""
    return _NOT_A_WORD.sub(" ", unicodedata.normalize("NFKC", text).casefold()).split()


def normalise_name(text: str) -> str:
    """The key a medication name is matched on: its words without salt and release words
    ("Sertraline HCl", "sertraline-hydrochloride" and "SERTRALINE" are one key)."""
    return " ".join(w for w in words(text) if w not in SALT_AND_RELEASE_WORDS)


@dataclass(frozen=True)
class Source:
    key: str
    label: str
    url: str
    kind: str
    version: str = ""


@dataclass(frozen=True)
class FlagText:
    """What a rule says when it fires: a contract flag code, severity, title, detail, sources, and
    what the rule does to the dose verdict (a renal rule's verdict is its dose effect)."""

    code: str
    severity: str
    title: str
    detail: str
    sources: tuple[Source, ...]
    verdict: str = "standard"


@dataclass(frozen=True)
class Study:
    key: str
    citation: str  # "Ghaleiha 2013, J Psychiatr Res 47:175"
    first_author: str
    year: int
    design: str
    participants: int | None
    dose: str
    duration: str
    result: str  # positive | negative | mixed | inconclusive
    finding: str
    pmid: str
    doi: str
    url: str
    statistics: str = ""  # the effect with its CI and/or p as reported, or that none was reported

    @property
    def name(self) -> str:
        """ "Ghaleiha 2013" (the author alone when the source gives no year)."""
        return f"{self.first_author} {self.year}" if self.year else self.first_author


@dataclass(frozen=True)
class Caveat:
    text: str
    sources: tuple[Source, ...]


@dataclass(frozen=True)
class Guideline:
    body: str
    title: str
    year: int | None
    position: str  # vocabulary.GUIDELINE_POSITIONS
    statement: str
    sources: tuple[Source, ...]


@dataclass(frozen=True)
class EvidenceGap:
    element: str  # vocabulary.GAP_ELEMENTS
    reason: str


@dataclass(frozen=True)
class SafetyNote:
    """The adverse-effect profile and label warnings that go with every use."""

    key: str
    text: str
    sources: tuple[Source, ...]
    on_sheet: bool = False  # printed on the summary sheet (screens and the API show every note)
    region: str = ANY_REGION  # the sheet prints a note only for its own region


@dataclass(frozen=True)
class PatientNote:
    """A plain-language statement for the patient sheet, placed on the page by its topic."""

    key: str
    topic: str  # vocabulary.PATIENT_TOPICS
    text: str
    sources: tuple[Source, ...]
    region: str = ANY_REGION


@dataclass(frozen=True)
class Evidence:
    strength: str  # A | B | C | none
    efficacy: str
    recommendation: str


@dataclass(frozen=True)
class Indication:
    slug: str
    name: str
    category: str
    status: str  # approved | off-label
    therapeutic_role: str
    augments_class: str | None  # drug-class code the evidence adds memantine to (e.g. "ssri")
    mechanism_rationale: str
    dose_studied: str
    dose_studied_range: tuple[int, int] | None  # IR-equivalent mg/day (lowest, highest), None if unknown
    evidence: Evidence
    evidence_summary: str
    caveats: tuple[Caveat, ...]
    studies: tuple[Study, ...]
    sources: tuple[Source, ...]
    last_reviewed: str  # ISO date
    next_review_due: str  # ISO date, "" when not set
    guidelines: tuple[Guideline, ...] = ()
    clinical_significance: str = ""  # what the size of the effect means for a patient
    evidence_gaps: tuple[EvidenceGap, ...] = ()  # elements that could not be verified, with the reason


@dataclass(frozen=True)
class DoseRegimen:
    region: str
    formulation: str
    start_mg_per_day: int
    max_mg_per_day: int
    regimen: str
    titration: str
    sources: tuple[Source, ...]
    ir_equivalent_max_mg_per_day: int | None = None  # XR: the IR daily dose its maximum corresponds to
    # The titration as steps for the patient's calendar ("5 mg once a day", ...), start to maximum;
    # empty in releases made before the patient sheet (the sheet then prints no calendar).
    titration_steps: tuple[str, ...] = ()
    step_days: int = 7  # the shortest time on each step, in days

    def ir_equivalent(self, mg_per_day: float) -> float:
        """A daily dose of this formulation as immediate-release mg/day (label switching ratio)."""
        if not self.ir_equivalent_max_mg_per_day:
            return mg_per_day
        return mg_per_day * self.ir_equivalent_max_mg_per_day / self.max_mg_per_day


@dataclass(frozen=True)
class RenalRule:
    region: str
    formulation: str
    band: str
    crcl_min_ml_min: float
    lower_inclusive: bool
    crcl_max_ml_min: float | None  # None = no upper bound
    upper_inclusive: bool
    dose_effect: str
    start_mg_per_day: int | None
    max_mg_per_day: int | None
    regimen: str
    titration: str
    summary: str  # one line for the dose box: why the dose is (or is not) changed
    flag: FlagText | None
    sources: tuple[Source, ...]

    def contains(self, crcl: float) -> bool:
        above = crcl >= self.crcl_min_ml_min if self.lower_inclusive else crcl > self.crcl_min_ml_min
        if self.crcl_max_ml_min is None:
            return above
        below = crcl <= self.crcl_max_ml_min if self.upper_inclusive else crcl < self.crcl_max_ml_min
        return above and below


@dataclass(frozen=True)
class HepaticRule:
    region: str
    child_pugh_class: str
    summary: str
    flag: FlagText | None
    sources: tuple[Source, ...]


@dataclass(frozen=True)
class ConditionRule:
    condition: str
    region: str
    flag: FlagText


@dataclass(frozen=True)
class InteractionRule:
    drug_class: str
    also_requires_class: str | None
    region: str
    flag: FlagText


@dataclass(frozen=True)
class StandardFlag:
    """Texts for flags raised by the engine's own mechanisms, not by a rule row."""

    region: str
    flag: FlagText


@dataclass(frozen=True)
class DrugClass:
    code: str
    name: str
    show_on_intake: bool = False


@dataclass(frozen=True)
class Drug:
    name: str
    rxnorm_code: str
    classes: tuple[str, ...]
    other_names: tuple[str, ...]  # published brand names and synonyms, in editorial order
    components: tuple[str, ...] = ()  # a combination product: the names of the drugs it contains
    brands: tuple[str, ...] = ()  # the brand names among other_names, in editorial order


@dataclass(frozen=True)
class Condition:
    slug: str
    label: str


@dataclass(frozen=True)
class ClinicalCode:
    """A code an EHR sends and what it means here (``means``: drug, condition or dialysis)."""

    system: str  # vocabulary.CODE_SYSTEMS
    code: str
    display: str
    means: str
    drug: str = ""  # the drug's generic name
    formulation: str = ""  # a memantine product's formulation
    condition: str = ""  # the condition's slug
    includes_subcodes: bool = False
    source: Source | None = None


@dataclass(frozen=True)
class Catalogue:
    version: str
    indications: tuple[Indication, ...]
    regimens: tuple[DoseRegimen, ...]
    renal_rules: tuple[RenalRule, ...]
    hepatic_rules: tuple[HepaticRule, ...]
    condition_rules: tuple[ConditionRule, ...]
    interaction_rules: tuple[InteractionRule, ...]
    standard_flags: tuple[StandardFlag, ...]
    drug_classes: tuple[DrugClass, ...]
    drugs: tuple[Drug, ...]
    conditions: tuple[Condition, ...] = ()
    safety_notes: tuple[SafetyNote, ...] = ()
    patient_notes: tuple[PatientNote, ...] = ()
    codes: tuple[ClinicalCode, ...] = ()
    # The labelled strengths of each formulation (mg): {"ir": (5, 10), "xr": (7, 14, 21, 28)}.
    strengths: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    # Derived look-ups, filled in __post_init__.
    drugs_by_name: Mapping[str, Drug] = field(init=False, repr=False, compare=False)
    drugs_by_generic: Mapping[str, Drug] = field(init=False, repr=False, compare=False)
    names_by_key: Mapping[str, str] = field(init=False, repr=False, compare=False)  # key -> a name shown
    name_keys: tuple[str, ...] = field(init=False, repr=False, compare=False)  # for "did you mean"
    indications_by_slug: Mapping[str, Indication] = field(init=False, repr=False, compare=False)
    conditions_by_slug: Mapping[str, Condition] = field(init=False, repr=False, compare=False)
    class_names: Mapping[str, str] = field(init=False, repr=False, compare=False)
    medication_names: tuple[str, ...] = field(init=False, repr=False, compare=False)  # for type-ahead
    # (system, code in capitals) -> its meaning; drugs' ingredient RxNorm codes included.
    codes_by_key: Mapping[tuple[str, str], ClinicalCode] = field(init=False, repr=False, compare=False)
    # What is worked out or rendered from this catalogue alone, once (``memo``): a release never
    # changes, so neither do these; a draft catalogue is built per request, and its memo with it.
    _memo: dict[Any, Any] = field(init=False, repr=False, compare=False, default_factory=dict)

    def __post_init__(self) -> None:
        names: dict[str, Drug] = {}
        shown: dict[str, str] = {}
        for drug in self.drugs:
            for name in (drug.name, *drug.other_names):
                key = normalise_name(name)
                if key:
                    names.setdefault(key, drug)
                    shown.setdefault(key, name)
        object.__setattr__(self, "drugs_by_name", MappingProxyType(names))
        object.__setattr__(self, "names_by_key", MappingProxyType(shown))
        object.__setattr__(self, "name_keys", tuple(names))
        object.__setattr__(self, "drugs_by_generic", MappingProxyType({d.name: d for d in self.drugs}))
        object.__setattr__(
            self, "indications_by_slug", MappingProxyType({i.slug: i for i in self.indications})
        )
        object.__setattr__(self, "conditions_by_slug", MappingProxyType({c.slug: c for c in self.conditions}))
        object.__setattr__(self, "class_names", MappingProxyType({c.code: c.name for c in self.drug_classes}))
        coded: dict[tuple[str, str], ClinicalCode] = {
            ("rxnorm", d.rxnorm_code): ClinicalCode("rxnorm", d.rxnorm_code, d.name, "drug", drug=d.name)
            for d in self.drugs
            if d.rxnorm_code
        }
        coded.update({(c.system, c.code.upper()): c for c in self.codes})
        object.__setattr__(self, "codes_by_key", MappingProxyType(coded))
        every_name = {n for d in self.drugs for n in (d.name, *d.other_names)}
        object.__setattr__(self, "medication_names", tuple(sorted(every_name, key=str.casefold)))

    def memo(self, key: Any, compute):
        """``compute()``, once per catalogue and key (for values that depend on the catalogue alone)."""
        try:
            return self._memo[key]
        except KeyError:
            value = self._memo[key] = compute()
            return value

    def code(self, system: str, code: str) -> ClinicalCode | None:
        """What a code means here: an exact match, else (ICD-10) the nearest code above it that
        includes its subcodes (G40.909 -> G40.9 -> G40)."""
        code = code.strip().upper()
        found = self.codes_by_key.get((system, code))
        if found is not None or system not in ("icd-10-cm", "icd-10"):
            return found
        while len(code) > 3:
            code = code[:-1].rstrip(".")
            above = self.codes_by_key.get((system, code))
            if above is not None and above.includes_subcodes:
                return above
        return None

    def components_of(self, drug: Drug) -> tuple[Drug, ...]:
        """The drugs a product contains (itself when it is not a combination)."""
        if not drug.components:
            return (drug,)
        return tuple(self.drugs_by_generic[n] for n in drug.components if n in self.drugs_by_generic)

    def intake_classes(self) -> list[tuple[DrugClass, list[Drug]]]:
        """Classes shown as tick boxes on the intake form, with their drugs."""
        return [
            (c, [d for d in self.drugs if c.code in d.classes and not d.components])
            for c in self.drug_classes
            if c.show_on_intake
        ]

    def regimen(self, region: str, formulation: str) -> DoseRegimen | None:
        for regimen in self.regimens:
            if regimen.region == region and regimen.formulation == formulation:
                return regimen
        return None

    def renal_rules_for(self, region: str, formulation: str) -> list[RenalRule]:
        rules = [r for r in self.renal_rules if r.region == region and r.formulation == formulation]
        return sorted(rules, key=lambda r: r.crcl_min_ml_min)

    def standard_flag(self, code: str, region: str) -> FlagText | None:
        """The region's own text for a mechanism flag, else the text for any region."""
        fallback = None
        for item in self.standard_flags:
            if item.flag.code != code:
                continue
            if item.region == region:
                return item.flag
            if item.region == ANY_REGION:
                fallback = item.flag
        return fallback

    @classmethod
    def from_snapshot(cls, snapshot: Mapping[str, Any], *, version: str) -> Catalogue:
        sources = {s["key"]: Source(**s) for s in snapshot["sources"]}

        def srcs(keys: list[str]) -> tuple[Source, ...]:
            return tuple(sources[k] for k in keys)

        def flag(data: Mapping[str, Any] | None, verdict: str | None = None) -> FlagText | None:
            if not data:
                return None
            return FlagText(
                code=data["code"],
                severity=data["severity"],
                title=data["title"],
                detail=data["detail"],
                sources=srcs(data["sources"]),
                verdict=verdict or data.get("verdict", "standard"),
            )

        def caveat_sources(c: Mapping[str, Any]) -> tuple[Source, ...]:
            if "sources" in c:
                return srcs(c["sources"])
            return srcs([c["source"]] if c.get("source") else [])  # releases made before v1.1

        def studied(i: Mapping[str, Any]) -> tuple[int, int] | None:
            low, high = i.get("dose_studied_min_mg_per_day"), i.get("dose_studied_max_mg_per_day")
            return None if low is None or high is None else (low, high)

        indications = tuple(
            Indication(
                slug=i["slug"],
                name=i["name"],
                category=i["category"],
                status=i["status"],
                therapeutic_role=i["therapeutic_role"],
                augments_class=i["augments_class"],
                mechanism_rationale=i["mechanism_rationale"],
                dose_studied=i["dose_studied"],
                dose_studied_range=studied(i),
                evidence=Evidence(**i["evidence"]),
                evidence_summary=i["evidence_summary"],
                caveats=tuple(Caveat(text=c["text"], sources=caveat_sources(c)) for c in i["caveats"]),
                studies=tuple(
                    Study(**{**s, "design": LEGACY_DESIGNS.get(s["design"], s["design"])})
                    for s in i["studies"]
                ),
                sources=srcs(i["sources"]),
                last_reviewed=i["last_reviewed"],
                next_review_due=i["next_review_due"],
                guidelines=tuple(
                    Guideline(**{**g, "sources": srcs(g["sources"])}) for g in i.get("guidelines", ())
                ),
                clinical_significance=i.get("clinical_significance", ""),
                evidence_gaps=tuple(EvidenceGap(**g) for g in i.get("evidence_gaps", ())),
            )
            for i in snapshot["indications"]
        )
        return cls(
            version=version,
            indications=indications,
            regimens=tuple(
                DoseRegimen(
                    **{
                        **r,
                        "sources": srcs(r["sources"]),
                        "titration_steps": tuple(r.get("titration_steps", ())),
                        "step_days": r.get("step_days") or 7,
                    }
                )
                for r in snapshot["regimens"]
            ),
            renal_rules=tuple(
                RenalRule(**{**r, "flag": flag(r["flag"], r["dose_effect"]), "sources": srcs(r["sources"])})
                for r in snapshot["renal_rules"]
            ),
            hepatic_rules=tuple(
                HepaticRule(**{**r, "flag": flag(r["flag"]), "sources": srcs(r["sources"])})
                for r in snapshot["hepatic_rules"]
            ),
            condition_rules=tuple(
                ConditionRule(**{**r, "flag": flag(r["flag"])}) for r in snapshot["condition_rules"]
            ),
            interaction_rules=tuple(
                InteractionRule(**{**r, "flag": flag(r["flag"])}) for r in snapshot["interaction_rules"]
            ),
            standard_flags=tuple(
                StandardFlag(region=r["region"], flag=flag(r["flag"])) for r in snapshot["standard_flags"]
            ),
            drug_classes=tuple(DrugClass(**c) for c in snapshot["drug_classes"]),
            drugs=tuple(
                Drug(
                    name=d["name"],
                    rxnorm_code=d["rxnorm_code"],
                    classes=tuple(d["classes"]),
                    other_names=tuple(d["other_names"]),
                    components=tuple(d.get("components", ())),
                    brands=tuple(n for n in d["other_names"] if d.get("name_kinds", {}).get(n) == "brand"),
                )
                for d in snapshot["drugs"]
            ),
            conditions=tuple(Condition(**c) for c in snapshot.get("conditions", ())),
            safety_notes=tuple(
                SafetyNote(
                    key=n["key"],
                    text=n["text"],
                    sources=srcs(n["sources"]),
                    on_sheet=n.get("on_sheet", False),
                    region=n.get("region", ANY_REGION),
                )
                for n in snapshot.get("safety_notes", ())
            ),
            patient_notes=tuple(
                PatientNote(
                    key=n["key"],
                    topic=n["topic"],
                    text=n["text"],
                    sources=srcs(n["sources"]),
                    region=n.get("region", ANY_REGION),
                )
                for n in snapshot.get("patient_notes", ())
            ),
            codes=tuple(
                ClinicalCode(**{**c, "source": sources.get(c["source"]) if c.get("source") else None})
                for c in snapshot.get("codes", ())
            ),
            strengths=MappingProxyType(
                {
                    lim["formulation"]: tuple(lim["strengths_mg"])
                    for lim in snapshot.get("labelled_limits", ())
                }
            ),
        )
