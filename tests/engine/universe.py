"""A small, documented catalogue for the pure engine tests (no database).

It mirrors the labelled rules of shared/reference/memantine-facts.md (renal bands per region and
formulation, hepatic rules, the interaction classes) with short placeholder texts, so that a test
failure points at a mechanism rather than at editorial wording. The seed catalogue itself is
tested through the database in tests/web and tests/api.

Universe:
- sources: "us-label", "eu-smpc", "study-x"
- indications: "ocd" (SSRI augmentation, augments class "sri-ocd"), "fibromyalgia"
  (monotherapy, review overdue on 2026-01-01), "alzheimers-disease" (approved)
- regimens: US IR 5->20 (10 mg twice daily), US XR 7->28, EU IR 5->20 (20 mg once daily)
- renal: [0,5) no-data, [5,30) severe, [30,50) moderate, [50,80] mild, (80,inf) normal per regimen;
  severe caps US IR at 10 (5 mg twice daily), US XR at 14, EU at 10; EU moderate starts at 10.
- drugs: sertraline (Zoloft; ssri, sri-ocd), clomipramine (tca, sri-ocd), dextromethorphan (nmda,
  dextromethorphan), amantadine (nmda), acetazolamide (alkaliniser), metformin (cationic),
  warfarin (vka), donepezil (no rule), memantine (Namenda), phenelzine (maoi), quetiapine
  (antipsychotic); products: olanzapine/fluoxetine (Symbyax), memantine/donepezil (Namzaric)
- verdict effects: US Child-Pugh C and US NMDA "caution", EU Child-Pugh C and EU NMDA
  "not-recommended", EU breastfeeding (critical) "caution", memantine already taken "caution";
  renal-function-unknown, renal-estimate-check, renal-egfr-used and medication-not-recognized
  "unconfirmed"
- doses studied (IR mg/day): ocd 10-20, fibromyalgia 20-30, alzheimers-disease 20-20; US XR 28 = IR 20
- conditions: the six of the contract
- titration steps (the patient calendar): US IR 5, 10 (5+5), 15 (5+10), 20 (10+10); US XR 7, 14,
  21, 28; EU IR 5, 10, 15, 20 mg/day, all once a day; 7 days a step
- patient notes: one "<topic> text." per patient-sheet topic for any region, plus an EU emergency
  note and a US off-label note
"""

from __future__ import annotations

import copy

from indications.engine.catalogue import Catalogue
from indications.engine.vocabulary import PATIENT_TOPICS

US = ["us-label"]
EU = ["eu-smpc"]


def flag(code, severity, sources=US, title=None, verdict="standard"):
    return {
        "code": code,
        "severity": severity,
        "title": title or f"{code} title",
        "detail": f"{code} detail",
        "sources": sources,
        "verdict": verdict,
    }


def renal(
    region,
    formulation,
    band,
    lo,
    lo_inc,
    hi,
    hi_inc,
    effect="standard",
    start=None,
    cap=None,
    regimen="",
    fl=None,
):
    sources = US if region == "us" else EU
    return {
        "region": region,
        "formulation": formulation,
        "band": band,
        "crcl_min_ml_min": lo,
        "lower_inclusive": lo_inc,
        "crcl_max_ml_min": hi,
        "upper_inclusive": hi_inc,
        "dose_effect": effect,
        "start_mg_per_day": start,
        "max_mg_per_day": cap,
        "regimen": regimen,
        "titration": "",
        "summary": f"{region} {formulation} {band}",
        "flag": fl,
        "sources": sources,
    }


def renal_set(region, formulation, *, severe_cap, severe_start, severe_regimen, moderate):
    sources = US if region == "us" else EU
    return [
        renal(
            region,
            formulation,
            "no-data",
            0,
            True,
            5,
            False,
            "no-labelled-dose",
            regimen="No labelled dose",
            fl=flag("renal-no-data", "critical", sources),
        ),
        renal(
            region,
            formulation,
            "severe",
            5,
            True,
            30,
            False,
            "adjusted",
            severe_start,
            severe_cap,
            severe_regimen,
            fl=flag("renal-severe", "warning", sources),
        ),
        moderate,
        renal(region, formulation, "mild", 50, True, 80, True),
        renal(region, formulation, "normal", 80, False, None, False),
    ]


def study(key, result):
    pmid = str(10_000_000 + sum(ord(c) * 31**i for i, c in enumerate(key)) % 89_999_999)
    return {
        "key": key,
        "citation": "J Test 1:1",
        "first_author": key.title(),
        "year": 2020,
        "design": "randomised-controlled",
        "participants": 40,
        "dose": "20 mg/day",
        "duration": "8 weeks",
        "result": result,
        "finding": f"{key} finding",
        "statistics": "difference 3.1 points (95% CI 0.4 to 5.8), p=0.03",
        "pmid": pmid,
        "doi": "",
        "url": f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/",
    }


def indication(
    slug,
    *,
    status="off-label",
    role="monotherapy",
    augments=None,
    next_review_due="2027-11-26",
    studied=(20, 20),
):
    return {
        "slug": slug,
        "name": slug.replace("-", " ").title(),
        "category": "psychiatric",
        "status": status,
        "therapeutic_role": role,
        "augments_class": augments,
        "mechanism_rationale": "rationale",
        "dose_studied": "20 mg/day",
        "dose_studied_min_mg_per_day": studied[0] if studied else None,
        "dose_studied_max_mg_per_day": studied[1] if studied else None,
        "evidence": (
            {"strength": "B", "efficacy": "effective", "recommendation": "recommended"}
            if status == "approved"
            else {"strength": "B", "efficacy": "inconclusive", "recommendation": "insufficient-evidence"}
        ),
        "evidence_summary": f"{slug} summary with a negative trial",
        "clinical_significance": f"What the {slug} effect means for a patient is unknown.",
        "guidelines": [
            {
                "body": "Test body",
                "title": f"{slug} guideline",
                "year": 2020,
                "position": "insufficient-evidence",
                "statement": f"Evidence on {slug} is insufficient.",
                "sources": ["study-x"],
            }
        ],
        "caveats": [{"text": f"{slug} caveat", "sources": ["study-x"]}],
        "studies": [study(f"{slug}-positive", "positive"), study(f"{slug}-negative", "negative")],
        "sources": ["us-label"],
        "last_reviewed": "2025-11-26",
        "next_review_due": next_review_due,
    }


def drug(name, classes, other_names=(), components=()):
    return {
        "name": name,
        "rxnorm_code": "",
        "classes": list(classes),
        "other_names": list(other_names),
        "components": list(components),
        "name_sources": {n: "us-label" for n in other_names},
        "name_kinds": {n: "brand" for n in other_names},
    }


SNAPSHOT = {
    "sources": [
        {
            "key": "us-label",
            "label": "US label",
            "url": "https://dailymed.nlm.nih.gov/x",
            "kind": "us-label",
            "version": "",
        },
        {
            "key": "eu-smpc",
            "label": "EU SmPC",
            "url": "https://www.ema.europa.eu/x",
            "kind": "eu-smpc",
            "version": "",
        },
        {
            "key": "study-x",
            "label": "Study X",
            "url": "https://doi.org/10.1/x",
            "kind": "study",
            "version": "",
        },
    ],
    "indications": [
        indication("alzheimers-disease", status="approved"),
        indication("ocd", role="ssri-augmentation", augments="sri-ocd", studied=(10, 20)),
        indication("fibromyalgia", next_review_due="2026-01-01", studied=(20, 30)),
    ],
    "labelled_limits": [
        {"formulation": "ir", "max_mg_per_day": 20, "strengths_mg": [5, 10], "sources": ["us-label"]},
        {"formulation": "xr", "max_mg_per_day": 28, "strengths_mg": [7, 14, 21, 28], "sources": ["us-label"]},
    ],
    "regimens": [
        {
            "region": "us",
            "formulation": "ir",
            "start_mg_per_day": 5,
            "max_mg_per_day": 20,
            "regimen": "10 mg twice daily",
            "titration": "us ir titration",
            "titration_steps": [
                "5 mg once a day",
                "5 mg in the morning and 5 mg in the evening",
                "5 mg in the morning and 10 mg in the evening",
                "10 mg in the morning and 10 mg in the evening",
            ],
            "step_days": 7,
            "sources": US,
        },
        {
            "region": "us",
            "formulation": "xr",
            "start_mg_per_day": 7,
            "max_mg_per_day": 28,
            "ir_equivalent_max_mg_per_day": 20,
            "regimen": "28 mg once daily",
            "titration": "us xr titration",
            "titration_steps": [
                "7 mg once a day",
                "14 mg once a day",
                "21 mg once a day",
                "28 mg once a day",
            ],
            "step_days": 7,
            "sources": US,
        },
        {
            "region": "eu",
            "formulation": "ir",
            "start_mg_per_day": 5,
            "max_mg_per_day": 20,
            "regimen": "20 mg once daily",
            "titration": "eu titration",
            "titration_steps": [
                "5 mg once a day",
                "10 mg once a day",
                "15 mg once a day",
                "20 mg once a day",
            ],
            "step_days": 7,
            "sources": EU,
        },
    ],
    "renal_rules": [
        *renal_set(
            "us",
            "ir",
            severe_cap=10,
            severe_start=5,
            severe_regimen="5 mg twice daily",
            moderate=renal("us", "ir", "moderate", 30, True, 50, False, fl=flag("renal-moderate", "info")),
        ),
        *renal_set(
            "us",
            "xr",
            severe_cap=14,
            severe_start=7,
            severe_regimen="14 mg once daily",
            moderate=renal("us", "xr", "moderate", 30, True, 50, False, fl=flag("renal-moderate", "info")),
        ),
        *renal_set(
            "eu",
            "ir",
            severe_cap=10,
            severe_start=5,
            severe_regimen="10 mg once daily",
            moderate=renal(
                "eu",
                "ir",
                "moderate",
                30,
                True,
                50,
                False,
                "adjusted",
                5,
                20,
                "10 mg once daily; may increase to 20 mg",
                fl=flag("renal-moderate", "warning", EU),
            ),
        ),
    ],
    "hepatic_rules": [
        *(
            {
                "region": r,
                "child_pugh_class": c,
                "summary": f"{r} {c}",
                "flag": None,
                "sources": US if r == "us" else EU,
            }
            for r in ("us", "eu")
            for c in ("A", "B")
        ),
        {
            "region": "us",
            "child_pugh_class": "C",
            "summary": "us C",
            "flag": flag("hepatic-severe", "warning", verdict="caution"),
            "sources": US,
        },
        {
            "region": "eu",
            "child_pugh_class": "C",
            "summary": "eu C",
            "flag": flag("hepatic-severe", "critical", EU, verdict="not-recommended"),
            "sources": EU,
        },
    ],
    "condition_rules": [
        {
            "condition": "seizure-disorder",
            "region": "us",
            "flag": flag("seizure-disorder", "warning", title="us seizure"),
        },
        {
            "condition": "seizure-disorder",
            "region": "eu",
            "flag": flag("seizure-disorder", "warning", EU, title="eu seizure"),
        },
        {"condition": "pregnancy", "region": "any", "flag": flag("pregnancy", "warning")},
        {"condition": "breastfeeding", "region": "us", "flag": flag("breastfeeding", "warning")},
        {
            "condition": "breastfeeding",
            "region": "eu",
            "flag": flag("breastfeeding", "critical", EU, verdict="caution"),
        },
        {
            "condition": "renal-tubular-acidosis",
            "region": "any",
            "flag": flag("urine-alkalinization", "warning"),
        },
        {"condition": "severe-proteus-uti", "region": "any", "flag": flag("urine-alkalinization", "warning")},
        {
            "condition": "cardiovascular-disease",
            "region": "any",
            "flag": flag("cardiovascular-disease", "warning"),
        },
    ],
    "interaction_rules": [
        {
            "drug_class": "nmda-antagonist",
            "also_requires_class": None,
            "region": "us",
            "flag": flag("nmda-antagonist", "warning", verdict="caution"),
        },
        {
            "drug_class": "nmda-antagonist",
            "also_requires_class": None,
            "region": "eu",
            "flag": flag("nmda-antagonist", "critical", EU, verdict="not-recommended"),
        },
        {
            "drug_class": "urine-alkaliniser",
            "also_requires_class": None,
            "region": "any",
            "flag": flag("urine-alkalinization", "warning"),
        },
        {
            "drug_class": "renal-cationic",
            "also_requires_class": None,
            "region": "any",
            "flag": flag("renal-cationic-secretion", "info"),
        },
        {
            "drug_class": "ssri",
            "also_requires_class": None,
            "region": "any",
            "flag": flag("ssri-no-interaction", "info"),
        },
        {
            "drug_class": "ssri",
            "also_requires_class": "dextromethorphan",
            "region": "any",
            "flag": flag("serotonergic-dextromethorphan", "warning"),
        },
        {
            "drug_class": "maoi",
            "also_requires_class": "dextromethorphan",
            "region": "any",
            "flag": flag("serotonergic-dextromethorphan", "critical", title="maoi dxm", verdict="caution"),
        },
        {
            "drug_class": "tca",
            "also_requires_class": "dextromethorphan",
            "region": "any",
            "flag": flag("serotonergic-dextromethorphan", "warning"),
        },
        {
            "drug_class": "memantine",
            "also_requires_class": None,
            "region": "any",
            "flag": flag("memantine-already-taken", "warning", verdict="caution"),
        },
        {
            "drug_class": "antipsychotic",
            "also_requires_class": None,
            "region": "any",
            "flag": flag("pharmacodynamic-interaction", "info"),
        },
        {
            "drug_class": "vitamin-k-antagonist",
            "also_requires_class": None,
            "region": "any",
            "flag": flag("warfarin-inr", "warning"),
        },
    ],
    "standard_flags": [
        {
            "region": "us",
            "flag": flag(
                "renal-function-unknown", "warning", title="us renal unknown", verdict="unconfirmed"
            ),
        },
        {
            "region": "eu",
            "flag": flag(
                "renal-function-unknown", "warning", EU, title="eu renal unknown", verdict="unconfirmed"
            ),
        },
        {"region": "any", "flag": flag("renal-estimates-disagree", "warning")},
        {"region": "any", "flag": flag("renal-estimate-check", "warning", verdict="unconfirmed")},
        {"region": "any", "flag": flag("renal-egfr-used", "warning", verdict="unconfirmed")},
        {"region": "any", "flag": flag("studied-dose-above-cap", "warning", title="studied above cap.")},
        {"region": "any", "flag": flag("augmentation-without-ssri", "warning")},
        {"region": "any", "flag": flag("medication-not-recognized", "warning", verdict="unconfirmed")},
        {"region": "any", "flag": flag("review-overdue", "info")},
    ],
    "safety_notes": [
        {"key": "common", "text": "Dizziness 7% vs 5% on placebo.", "sources": ["us-label"]},
    ],
    # One short note per patient-sheet topic (region "any"), plus a region's own text for two topics.
    "patient_notes": [
        *(
            {
                "key": f"p-{topic}",
                "topic": topic,
                "text": f"{topic} text.",
                "sources": ["us-label"],
                "region": "any",
            }
            for topic in PATIENT_TOPICS
        ),
        {"key": "p-emergency-eu", "topic": "emergency", "text": "Call 112.", "sources": EU, "region": "eu"},
        {"key": "p-off-label-us", "topic": "off-label", "text": "Not FDA.", "sources": US, "region": "us"},
    ],
    "conditions": [
        {"slug": c, "label": c.replace("-", " ").capitalize()}
        for c in (
            "seizure-disorder",
            "pregnancy",
            "breastfeeding",
            "renal-tubular-acidosis",
            "severe-proteus-uti",
            "cardiovascular-disease",
        )
    ],
    "drug_classes": [
        {
            "code": c,
            "name": c.replace("-", " ").upper() if c == "ssri" else c.replace("-", " "),
            "show_on_intake": c == "ssri",
        }
        for c in (
            "ssri",
            "sri-ocd",
            "tca",
            "maoi",
            "memantine",
            "antipsychotic",
            "nmda-antagonist",
            "dextromethorphan",
            "urine-alkaliniser",
            "renal-cationic",
            "vitamin-k-antagonist",
            "cholinesterase-inhibitor",
        )
    ],
    "drugs": [
        drug("sertraline", ["ssri", "sri-ocd"], ["Zoloft", "Lustral"]),
        drug("clomipramine", ["sri-ocd", "tca"], ["Anafranil"]),
        drug("dextromethorphan", ["nmda-antagonist", "dextromethorphan"]),
        drug("amantadine", ["nmda-antagonist"]),
        drug("acetazolamide", ["urine-alkaliniser"]),
        drug("metformin", ["renal-cationic"]),
        drug("warfarin", ["vitamin-k-antagonist"]),
        drug("donepezil", ["cholinesterase-inhibitor"]),
        drug("sodium bicarbonate", ["urine-alkaliniser"]),
        drug("memantine", ["memantine"], ["Namenda"]),
        drug("phenelzine", ["maoi"]),
        drug("quetiapine", ["antipsychotic"]),
        drug("olanzapine", ["antipsychotic"]),
        drug("fluoxetine", ["ssri", "sri-ocd"]),
        drug("olanzapine/fluoxetine", [], ["Symbyax"], components=["fluoxetine", "olanzapine"]),
        drug("memantine/donepezil", [], ["Namzaric"], components=["donepezil", "memantine"]),
    ],
}


def universe_snapshot() -> dict:
    return copy.deepcopy(SNAPSHOT)


def universe() -> Catalogue:
    return Catalogue.from_snapshot(universe_snapshot(), version="test-universe")
