"""The fixed vocabularies of the service, each defined once, with the words clinicians see.

These are the enumerations of the public contract (shared/api-contract.md) and of the editorial
models: region, formulation, severity, verdict, renal band, estimate method, rating axes, study
design and result. Models build their ``choices`` from here, the engine validates against here and
the presentation step takes its labels from here. Clinical content (conditions, drug classes, the
numbers of each renal band) is not here: it is catalogue data.

Each vocabulary is an ordered mapping ``code -> label``.
"""

from __future__ import annotations

from types import MappingProxyType


def _vocab(*pairs: tuple[str, str]) -> MappingProxyType:
    return MappingProxyType(dict(pairs))


def sentence(text: str) -> str:
    """The text with its first letter in capitals (and the rest as written: "Cockcroft-Gault")."""
    return text[:1].upper() + text[1:]


def choices(vocabulary) -> list[tuple[str, str]]:
    """Django ``choices`` for a vocabulary."""
    return list(vocabulary.items())


REGIONS = _vocab(("us", "US (FDA labelling)"), ("eu", "EU (EMA SmPC)"))
ANY_REGION = "any"
RULE_REGIONS = _vocab((ANY_REGION, "Any region"), *REGIONS.items())

FORMULATIONS = _vocab(("ir", "Immediate release"), ("xr", "Extended release (US only)"))

# Code systems an EHR sends (CDS Hooks, FHIR R4): the catalogue maps their codes to its drugs, conditions
# and dialysis. code -> label; CODE_SYSTEM_URIS gives each its FHIR system URI.
CODE_SYSTEMS = _vocab(
    ("rxnorm", "RxNorm"),
    ("snomed", "SNOMED CT"),
    ("icd-10-cm", "ICD-10-CM"),
    ("icd-10", "ICD-10 (WHO)"),
)
CODE_SYSTEM_URIS = MappingProxyType(
    {
        "rxnorm": "http://www.nlm.nih.gov/research/umls/rxnorm",
        "snomed": "http://snomed.info/sct",
        "icd-10-cm": "http://hl7.org/fhir/sid/icd-10-cm",
        "icd-10": "http://hl7.org/fhir/sid/icd-10",
    }
)
# What a mapped code means here.
CODE_MEANINGS = _vocab(
    ("drug", "A drug of the catalogue (a product code: the ingredient codes are on the drug)"),
    ("condition", "A condition of the catalogue"),
    ("dialysis", "Dialysis or end-stage kidney disease (the renal input becomes dialysis)"),
)

# Severity: the CDS Hooks card indicators, most severe first.
SEVERITIES = _vocab(("critical", "Critical"), ("warning", "Warning"), ("info", "Info"))
SEVERITY_RANK = MappingProxyType({code: rank for rank, code in enumerate(SEVERITIES)})
SEVERITY_ICONS = MappingProxyType({"critical": "✖", "warning": "▲", "info": "ℹ"})

# The dose verdict, least restrictive first (the engine keeps the most restrictive that applies).
# The labels are the dose box's headings (an "unconfirmed" heading also says why).
VERDICTS = _vocab(
    ("standard", "Standard labelled dose"),
    ("unconfirmed", "Dose not confirmed"),
    ("adjusted", "Dose adjusted for this patient"),
    ("caution", "Use with caution"),
    ("not-recommended", "Not recommended for this patient: no dose"),
    ("no-labelled-dose", "No labelled dose for this patient"),
)
VERDICT_RANK = MappingProxyType({code: rank for rank, code in enumerate(VERDICTS)})
# What a hepatic, condition or interaction rule (or a mechanism flag's text) may do to the verdict.
# Renal rules act through their dose effect instead (standard, adjusted, no-labelled-dose).
RULE_VERDICTS = _vocab(
    ("standard", "Nothing: the dose stands"),
    ("unconfirmed", "Dose not confirmed (the renal basis is in doubt)"),
    ("caution", "Use with caution"),
    ("not-recommended", "Not recommended: no dose is shown"),
)
# Verdicts under which no dose number may be shown.
NO_DOSE_VERDICTS = frozenset({"not-recommended", "no-labelled-dose"})

DOSE_EFFECTS = _vocab(
    ("standard", "Standard dose"),
    ("adjusted", "Adjusted dose"),
    ("no-labelled-dose", "No labelled dose"),
)
DOSE_ADJUSTED = "adjusted"
DOSE_NONE = "no-labelled-dose"

# Renal bands of the contract; the numbers of each band are catalogue data (the renal rules).
BANDS = _vocab(
    ("normal", "normal renal function"),
    ("mild", "mild renal impairment"),
    ("moderate", "moderate renal impairment"),
    ("severe", "severe renal impairment"),
    ("no-data", "no labelled dose"),
)
UNKNOWN_BAND = "unknown"

# How the clearance the dose follows was obtained (renal.method and renal.estimates[].method).
RENAL_METHODS = _vocab(
    ("entered", "creatinine clearance as entered"),
    ("cockcroft-gault", "Cockcroft-Gault, actual body weight"),
    ("cockcroft-gault-adjusted-weight", "Cockcroft-Gault, adjusted body weight"),
    ("ckd-epi-2021-deindexed", "CKD-EPI 2021 eGFR, de-indexed to body-surface area"),
    ("egfr-lab", "lab eGFR (per 1.73 m², not de-indexed)"),
    ("egfr-lab-deindexed", "lab eGFR, de-indexed to body-surface area"),
    ("dialysis", "on dialysis"),
    ("unknown", "not given"),
)
# Methods a clinician may choose among when estimates disagree (renal.use_estimate).
ESTIMATE_METHODS = (
    "cockcroft-gault",
    "cockcroft-gault-adjusted-weight",
    "ckd-epi-2021-deindexed",
    "egfr-lab",
    "egfr-lab-deindexed",
)
# A clinician may make the dose follow any of these; an eGFR per 1.73 m² ("egfr-lab") is not a dosing
# clearance, so it is used only when it is the lowest estimate or the only one.
CHOOSABLE_ESTIMATES = tuple(m for m in ESTIMATE_METHODS if m != "egfr-lab")
EGFR_METHODS = frozenset({"ckd-epi-2021-deindexed", "egfr-lab", "egfr-lab-deindexed"})

CHILD_PUGH_CLASSES = _vocab(
    ("A", "Child-Pugh A (5–6 points)"),
    ("B", "Child-Pugh B (7–9 points)"),
    ("C", "Child-Pugh C (10–15 points)"),
)
ASCITES = _vocab(("none", "None"), ("mild", "Mild"), ("moderate-severe", "Moderate to severe"))
ENCEPHALOPATHY = _vocab(("none", "None"), ("grade-1-2", "Grade 1–2"), ("grade-3-4", "Grade 3–4"))
SEXES = _vocab(("female", "Female"), ("male", "Male"))

# Units, with the spelling clinicians read.
CREATININE_UNITS = _vocab(("mg/dL", "mg/dL"), ("umol/L", "µmol/L"))
WEIGHT_UNITS = _vocab(("kg", "kg"), ("lb", "lb"))
HEIGHT_UNITS = _vocab(("cm", "cm"), ("in", "in"))
BILIRUBIN_UNITS = _vocab(("mg/dL", "mg/dL"), ("umol/L", "µmol/L"))
ALBUMIN_UNITS = _vocab(("g/dL", "g/dL"), ("g/L", "g/L"))
# Units in running text ("a value in inches").
UNIT_WORDS = MappingProxyType({"in": "inches", "umol/L": "µmol/L"})
UNITS_SHOWN = MappingProxyType(
    {
        unit: shown
        for units in (CREATININE_UNITS, WEIGHT_UNITS, HEIGHT_UNITS, BILIRUBIN_UNITS, ALBUMIN_UNITS)
        for unit, shown in units.items()
    }
)

# Evidence ratings and study vocabularies (editorial).
STRENGTHS = _vocab(
    ("A", "A: consistent randomised evidence"),
    ("B", "B: limited or conflicting randomised evidence"),
    ("C", "C: non-randomised studies, case series or expert opinion"),
    ("none", "None: no usable evidence"),
)
EFFICACY = _vocab(
    ("effective", "Effective"),
    ("evidence-favours", "Evidence favours efficacy"),
    ("inconclusive", "Evidence is inconclusive"),
    ("ineffective", "Ineffective"),
)
RECOMMENDATIONS = _vocab(
    ("recommended", "Recommended (labelled use)"),
    ("selected-patients", "May be considered in selected patients"),
    ("insufficient-evidence", "Evidence insufficient to recommend"),
    ("not-recommended", "Not recommended"),
)
STATUSES = _vocab(("approved", "Approved (labelled)"), ("off-label", "Off-label"))
ROLES = _vocab(
    ("monotherapy", "Monotherapy"), ("ssri-augmentation", "SSRI augmentation"), ("adjunct", "Adjunct")
)
CATEGORIES = _vocab(
    ("dementia", "Dementia"),
    ("psychiatric", "Psychiatric"),
    ("pain", "Pain"),
    ("neurological", "Neurological"),
)
STUDY_DESIGNS = _vocab(
    ("randomised-controlled", "Randomised controlled trial"),
    ("open-label", "Open-label trial"),
    ("case-series", "Case series"),
    ("retrospective", "Retrospective study"),
    ("meta-analysis", "Meta-analysis"),
    ("systematic-review", "Systematic review"),
    ("pooled-analysis", "Pooled analysis of trials (not a meta-analysis)"),
)
# Short design names for the printed sheet's study lines.
STUDY_DESIGNS_SHORT = _vocab(
    ("randomised-controlled", "RCT"),
    ("open-label", "open-label"),
    ("case-series", "case series"),
    ("retrospective", "retrospective"),
    ("meta-analysis", "meta-analysis"),
    ("systematic-review", "systematic review"),
    ("pooled-analysis", "pooled analysis"),
)
# Controlled evidence: what the printed sheet lists study by study (the map shows every study).
CONTROLLED_DESIGNS = frozenset(
    {"randomised-controlled", "meta-analysis", "systematic-review", "pooled-analysis"}
)
# How the evidence map draws each design (shape) and result (fill); read in black and white.
DESIGN_SHAPES = MappingProxyType(
    {
        "meta-analysis": "diamond",
        "systematic-review": "diamond",
        "pooled-analysis": "hexagon",
        "randomised-controlled": "circle",
        "open-label": "square",
        "retrospective": "square",
        "case-series": "triangle",
    }
)
SHAPE_LABELS = _vocab(
    ("diamond", "Meta-analysis or systematic review"),
    ("circle", "Randomised controlled trial"),
    ("hexagon", "Pooled analysis of trials"),
    ("square", "Open-label or retrospective study"),
    ("triangle", "Case series"),
)
# The five elements an off-label entry is judged by (JMLA 2023), and the ones an editor may declare
# as not verifiable (with the reason) rather than fill with an unverified fact. A guideline entry
# ("none found") and a clinical-significance sentence ("unknown") can always be honest.
EVIDENCE_ELEMENTS = _vocab(
    ("guideline", "Guideline or consensus position"),
    ("study", "A study that can be opened (PMID or DOI)"),
    ("dose", "Dose studied"),
    ("statistics", "Statistics of a result"),
    ("significance", "Clinical significance"),
)
GAP_ELEMENTS = _vocab(
    ("study", "study that can be opened (PMID or DOI)"),
    ("dose", "dose studied"),
    ("statistics", "statistics of a study"),
)
GUIDELINE_POSITIONS = _vocab(
    ("recommends", "Recommends"),
    ("suggests-considering", "Suggests considering"),
    ("insufficient-evidence", "Insufficient evidence to recommend"),
    ("recommends-against", "Recommends against"),
    ("not-mentioned", "Read: does not mention memantine"),
    ("none-found", "No position found"),
)
# Plain-language notes for the patient and carer (the patient sheet): what each note is about. The
# sheet places each topic in its own part of the page; the texts are catalogue rows with sources.
PATIENT_TOPICS = _vocab(
    ("about", "What the medicine is"),
    ("approved", "What an approved use means"),
    ("off-label", "What an off-label use means"),
    ("no-use-chosen", "No use chosen on the form: the doctor will explain why"),
    ("how-to-take", "How to take it"),
    ("ask-for-dose", "No calendar: ask the doctor for the dose"),
    ("doctor-explains-dose", "The calendar cannot reach this patient's dose: the doctor will explain"),
    ("kidneys", "The dose may be lower because of the kidneys"),
    ("caution", "Use with caution: the doctor checks something first (no calendar)"),
    ("not-advised", "Not recommended or no labelled dose: not advised for now (no calendar)"),
    ("side-effects", "Side effects to watch for"),
    ("call-doctor", "When to call the doctor"),
    ("emergency", "When to call emergency services"),
)
# Every release must carry a note on each of these for each region (or for any region): the sheet
# must always be able to say them.
REQUIRED_PATIENT_TOPICS = tuple(PATIENT_TOPICS)
# An indication's status as the patient sheet says it.
PATIENT_STATUS_WORDS = _vocab(("approved", "approved use"), ("off-label", "off-label use"))

STUDY_RESULTS = _vocab(
    ("positive", "Positive"), ("negative", "Negative"), ("mixed", "Mixed"), ("inconclusive", "Inconclusive")
)

# Flags the engine raises by mechanism (their texts are catalogue rows, "flag texts").
STANDARD_FLAG_CODES = (
    "renal-function-unknown",
    "renal-estimates-disagree",
    "renal-estimate-check",
    "renal-egfr-used",
    "augmentation-without-ssri",
    "medication-not-recognized",
    "studied-dose-above-cap",
    "review-overdue",
)
# Every release must carry a text for these (augmentation-without-ssri only when an indication
# names a class it augments).
REQUIRED_STANDARD_FLAGS = tuple(c for c in STANDARD_FLAG_CODES if c != "augmentation-without-ssri")


# Fields whose change is a clinical change, highlighted for the reviewer and listed in the clinicians'
# "what changed" note: the editorial field names and the release snapshot's names for them.
CLINICAL_FIELDS = MappingProxyType(
    {
        **dict.fromkeys(
            (
                "start_mg_per_day",
                "max_mg_per_day",
                "ir_equivalent_max_mg_per_day",
                "regimen",
                "regimen_text",
                "titration",
                "strengths_mg",
                "crcl_min_ml_min",
                "crcl_max_ml_min",
                "lower_inclusive",
                "upper_inclusive",
                "titration_steps",
                "step_days",
                "min_step_days",
            ),
            "dose",
        ),
        **dict.fromkeys(
            ("strength_of_evidence", "strength", "efficacy", "recommendation", "status"), "rating"
        ),
        "dose_studied": "dose",
        "dose_studied_min_mg_per_day": "dose",
        "dose_studied_max_mg_per_day": "dose",
        "severity": "severity",
        "verdict": "verdict effect",
        "dose_effect": "verdict effect",
        # What decides whether a rule fires for a patient, and which drugs it fires for.
        **dict.fromkeys(
            (
                "band",
                "child_pugh_class",
                "condition",
                "drug_class",
                "also_requires_class",
                "classes",
                "components",
                "flag_code",
                "region",
                "formulation",
            ),
            "when it applies",
        ),
        # What a flag or the dose box tells the clinician.
        **dict.fromkeys(("title", "detail", "summary"), "flag wording"),
        # What a study found and what a guideline says (and which indication a study or caveat is of).
        **dict.fromkeys(("result", "position"), "evidence"),
        "indication": "when it applies",
    }
)
# Fields clinical only on some models: a drug's or brand name's spelling decides what is recognised.
CLINICAL_MODEL_FIELDS = MappingProxyType(
    {
        ("indications.drug", "name"): "when it applies",
        ("indications.drugname", "name"): "when it applies",
        ("indications.drugname", "drug"): "when it applies",
        ("indications.caveat", "text"): "caveat wording",
        ("indications.safetynote", "text"): "safety wording",
        ("indications.patientnote", "text"): "patient wording",
        ("indications.patientnote", "topic"): "when it applies",
        # What an EHR's code is read as (CDS Hooks): a wrong mapping changes the dose or the flags.
        **{
            ("indications.clinicalcode", name): "when it applies"
            for name in ("system", "code", "includes_subcodes", "means", "drug", "condition")
        },
        ("indications.drug", "rxnorm_code"): "when it applies",
    }
)
