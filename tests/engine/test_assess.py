"""assess() on the test universe: every renal boundary, every flag raised and not raised."""

import datetime

import pytest

from indications.engine import PatientFactors, assess, match_medication, present, recognise
from indications.engine.factors import (
    Dialysis,
    HepaticClass,
    HepaticComponents,
    Measure,
    RenalEntered,
    RenalEstimate,
)
from indications.serializers import assessment_json

from .universe import universe

CAT = universe()
TODAY = datetime.date(2026, 11, 26)


def run(**kwargs):
    return assess(PatientFactors(**kwargs), CAT, today=TODAY)


def as_json(a):
    return assessment_json(a, present(a, CAT))


def est(age, sex, kg, scr, unit="mg/dL", *, height_cm=None, egfr=None, use=None):
    return RenalEstimate(
        age_years=age,
        sex=sex,
        weight=Measure(kg, "kg") if kg is not None else None,
        serum_creatinine=Measure(scr, unit) if scr is not None else None,
        height=Measure(height_cm, "cm") if height_cm is not None else None,
        egfr_ml_min_1_73m2=egfr,
        use_estimate=use,
    )


def components(bilirubin, albumin, inr, ascites="none", encephalopathy="none"):
    return HepaticComponents(
        Measure(bilirubin, "mg/dL"), Measure(albumin, "g/dL"), inr, ascites, encephalopathy
    )


def codes(assessment):
    return [f.code for f in assessment.flags]


# ------------------------------------------------------------------ renal boundaries

BANDS = [
    (4.9, "no-data"),
    (5, "severe"),
    (29.9, "severe"),
    (30, "moderate"),
    (49.9, "moderate"),
    (50, "mild"),
    (80, "mild"),
    (80.1, "normal"),
]
# (region, formulation) -> band -> (start, max, regimen)
EXPECTED_DOSE = {
    ("us", "ir"): {
        "no-data": (None, None, "No labelled dose"),
        "severe": (5, 10, "5 mg twice daily"),
        "moderate": (5, 20, "10 mg twice daily"),
        "mild": (5, 20, "10 mg twice daily"),
        "normal": (5, 20, "10 mg twice daily"),
    },
    ("us", "xr"): {
        "no-data": (None, None, "No labelled dose"),
        "severe": (7, 14, "14 mg once daily"),
        "moderate": (7, 28, "28 mg once daily"),
        "mild": (7, 28, "28 mg once daily"),
        "normal": (7, 28, "28 mg once daily"),
    },
    ("eu", "ir"): {
        "no-data": (None, None, "No labelled dose"),
        "severe": (5, 10, "10 mg once daily"),
        "moderate": (5, 20, "10 mg once daily; may increase to 20 mg"),
        "mild": (5, 20, "20 mg once daily"),
        "normal": (5, 20, "20 mg once daily"),
    },
}
RENAL_FLAG = {
    "no-data": "renal-no-data",
    "severe": "renal-severe",
    "moderate": "renal-moderate",
    "mild": None,
    "normal": None,
}


@pytest.mark.parametrize(("region", "formulation"), list(EXPECTED_DOSE))
@pytest.mark.parametrize(("crcl", "band"), BANDS)
def test_renal_band_dose_and_flag_at_every_boundary(region, formulation, crcl, band):
    a = run(region=region, formulation=formulation, renal=RenalEntered(crcl))
    assert a.renal.band == band
    assert a.renal.method == "entered"
    start, maximum, regimen = EXPECTED_DOSE[(region, formulation)][band]
    assert (a.dose.start_mg_per_day, a.dose.max_mg_per_day) == (start, maximum)
    if maximum is None:
        assert a.dose.regimen == "No dose: renal-no-data title"
        assert a.dose.verdict == "no-labelled-dose"
    else:
        assert a.dose.regimen == regimen
    renal_codes = [c for c in codes(a) if c.startswith("renal-")]
    assert renal_codes == ([RENAL_FLAG[band]] if RENAL_FLAG[band] else [])


def test_dialysis_is_the_no_data_band_with_no_dose():
    a = run(renal=Dialysis())
    assert (a.renal.band, a.renal.method, a.renal.crcl_ml_min) == ("no-data", "dialysis", None)
    assert a.dose.max_mg_per_day is None and a.dose.start_mg_per_day is None
    assert "renal-no-data" in codes(a)
    assert a.flags[0].severity == "critical"


def test_unknown_renal_function_is_said_not_assumed():
    a = run()
    assert (a.renal.band, a.renal.method) == ("unknown", "unknown")
    assert "renal-function-unknown" in codes(a)
    assert any(m.field == "renal" for m in a.inputs_missing)
    assert a.dose.max_mg_per_day == 20  # the standard dose, flagged as unconfirmed


def test_region_chooses_the_unknown_renal_text():
    assert run(region="us").flags[0].title == "us renal unknown"
    assert run(region="eu").flags[0].title == "eu renal unknown"


def test_bands_use_the_unrounded_value():
    # Cockcroft-Gault giving 29.96 must be severe even though it displays as 30.0
    a = run(renal=est(40, "male", 30.815, 1.428))
    assert a.renal.crcl_ml_min == pytest.approx(29.96, abs=0.02)
    assert a.renal.crcl_ml_min < 30
    assert a.renal.band == "severe"
    shown = as_json(a)["renal"]["crcl_ml_min"]
    assert shown < 30 and shown == pytest.approx(a.renal.crcl_ml_min, abs=0.01)


@pytest.mark.parametrize("unit,value", [("mg/dL", 1.4), ("umol/L", 1.4 * 88.4)])
def test_golden_label_case_in_both_creatinine_units(unit, value):
    # 80-year-old woman, 50 kg, creatinine 1.4 mg/dL -> CrCl 25.3 -> severe -> 5 mg twice daily (US IR)
    a = run(renal=est(80, "female", 50, value, unit))
    assert round(a.renal.crcl_ml_min, 1) == 25.3
    assert (a.renal.band, a.renal.method) == ("severe", "cockcroft-gault")
    assert (a.dose.regimen, a.dose.max_mg_per_day) == ("5 mg twice daily", 10)
    assert not a.dose.standard
    assert (a.dose.verdict, a.dose.verdict_reasons, a.dose.renal_confirmed) == (
        "adjusted",
        ("renal-severe",),
        True,
    )


def test_ckd_epi_beside_cockcroft_gault_flags_different_bands():
    a = run(renal=est(80, "female", 50, 1.4, height_cm=160))
    bands = {e.method: e.band for e in a.renal.estimates}
    assert bands == {"cockcroft-gault": "severe", "ckd-epi-2021-deindexed": "moderate"}
    assert (a.renal.method, a.renal.band, a.renal.chosen_by) == ("cockcroft-gault", "severe", "conservative")
    assert "renal-estimates-disagree" in codes(a)
    same = run(renal=est(50, "male", 80, 1.0, height_cm=180))
    assert len({e.band for e in same.renal.estimates}) == 1
    assert "renal-estimates-disagree" not in codes(same)


def test_lab_egfr_is_de_indexed_with_height_and_weight():
    a = run(renal=est(60, "male", 80, 1.0, height_cm=180, egfr=60))
    lab = a.renal.estimate("egfr-lab-deindexed")
    assert lab.source == "lab"
    assert lab.crcl_ml_min == pytest.approx(60 * 2.0 / 1.73, rel=0.01)


# ------------------------------------------------------------------ hepatic


@pytest.mark.parametrize(
    ("bilirubin", "albumin", "inr", "score", "cls", "flagged"),
    [
        (2.0, 3.6, 1.0, 6, "A", False),
        (2.0, 3.4, 1.0, 7, "B", False),
        (3.1, 2.8, 2.0, 9, "B", False),
        (3.1, 2.7, 2.0, 10, "C", True),
    ],
)
def test_child_pugh_boundaries(bilirubin, albumin, inr, score, cls, flagged):
    a = run(hepatic=components(bilirubin, albumin, inr))
    assert (a.hepatic.child_pugh_score, a.hepatic.child_pugh_class) == (score, cls)
    assert ("hepatic-severe" in codes(a)) is flagged


def test_hepatic_severe_severity_depends_on_region():
    us = [f for f in run(region="us", hepatic=HepaticClass("C")).flags if f.code == "hepatic-severe"]
    eu = [f for f in run(region="eu", hepatic=HepaticClass("C")).flags if f.code == "hepatic-severe"]
    assert us[0].severity == "warning" and eu[0].severity == "critical"


def test_hepatic_rule_joins_the_dose_basis_without_changing_the_dose():
    a = run(renal=RenalEntered(90), hepatic=HepaticClass("B"))
    assert a.dose.max_mg_per_day == 20
    assert any(n.text == "us B" for n in a.dose.basis)


# ------------------------------------------------------------------ medications and interactions


@pytest.mark.parametrize(
    ("medications", "raised", "not_raised"),
    [
        (["amantadine"], ["nmda-antagonist"], ["ssri-no-interaction"]),
        (["dextromethorphan"], ["nmda-antagonist"], ["serotonergic-dextromethorphan"]),
        (
            ["Zoloft", "dextromethorphan"],
            ["serotonergic-dextromethorphan", "ssri-no-interaction", "nmda-antagonist"],
            [],
        ),
        (["sertraline"], ["ssri-no-interaction"], ["nmda-antagonist", "serotonergic-dextromethorphan"]),
        (["acetazolamide"], ["urine-alkalinization"], []),
        (["sodium bicarbonate"], ["urine-alkalinization"], []),
        (["metformin"], ["renal-cationic-secretion"], []),
        (["warfarin"], ["warfarin-inr"], []),
        (["donepezil"], [], ["medication-not-recognized"]),
        (["no-such-drug"], ["medication-not-recognized"], []),
        ([], [], ["medication-not-recognized", "ssri-no-interaction"]),
    ],
)
def test_interaction_flags_raised_and_not_raised(medications, raised, not_raised):
    got = codes(run(renal=RenalEntered(90), medications=tuple(medications)))
    for code in raised:
        assert code in got
    for code in not_raised:
        assert code not in got


def test_nmda_severity_follows_region():
    assert [
        f.severity for f in run(region="eu", medications=("amantadine",)).flags if f.code == "nmda-antagonist"
    ] == ["critical"]
    assert [
        f.severity for f in run(region="us", medications=("amantadine",)).flags if f.code == "nmda-antagonist"
    ] == ["warning"]


@pytest.mark.parametrize(
    "entered",
    [
        "sertraline",
        "SERTRALINE",
        "  Zoloft  ",
        "lustral",
        "Sertraline 50 mg",
        "sertraline 50mg daily",
        "sertraline HCl",
        "Sertraline hydrochloride 100 mg",
        "sertraline-hcl",
        "Zoloft®",
        "sertraline ER",
        "sertraline (Zoloft)",
    ],
)
def test_medication_matching_ignores_case_space_salt_release_and_strength(entered):
    match = recognise(entered, CAT)
    assert [d.name for d in match.drugs] == ["sertraline"] and not match.unrecognised


def test_unknown_medication_is_reported_never_dropped():
    a = run(medications=("sertraline", "Zolpidem", "xyz 10 mg"))
    assert a.unrecognized_medications == ("Zolpidem", "xyz 10 mg")
    flag = next(f for f in a.flags if f.code == "medication-not-recognized")
    assert len(flag.triggers) == 2 and "Zolpidem" in flag.triggers[0]
    assert [m.entered for m in a.medications] == ["sertraline", "Zolpidem", "xyz 10 mg"]


def test_a_drug_name_is_not_matched_by_a_prefix():
    assert match_medication("sert", CAT) is None
    assert match_medication("50 mg", CAT) is None


# ------------------------------------------------------------------ conditions


@pytest.mark.parametrize(
    ("condition", "code"),
    [
        ("seizure-disorder", "seizure-disorder"),
        ("pregnancy", "pregnancy"),
        ("breastfeeding", "breastfeeding"),
        ("renal-tubular-acidosis", "urine-alkalinization"),
        ("severe-proteus-uti", "urine-alkalinization"),
        ("cardiovascular-disease", "cardiovascular-disease"),
    ],
)
def test_each_condition_raises_its_flag_and_only_when_present(condition, code):
    assert code in codes(run(renal=RenalEntered(90), conditions=(condition,)))
    assert code not in codes(run(renal=RenalEntered(90)))


def test_region_specific_condition_text_wins():
    us = next(
        f for f in run(region="us", conditions=("seizure-disorder",)).flags if f.code == "seizure-disorder"
    )
    eu = next(
        f for f in run(region="eu", conditions=("seizure-disorder",)).flags if f.code == "seizure-disorder"
    )
    assert (us.title, eu.title) == ("us seizure", "eu seizure")


def test_one_flag_per_code_with_every_trigger():
    a = run(
        renal=RenalEntered(90),
        medications=("acetazolamide",),
        conditions=("renal-tubular-acidosis", "severe-proteus-uti"),
    )
    flags = [f for f in a.flags if f.code == "urine-alkalinization"]
    assert len(flags) == 1
    assert len(flags[0].triggers) == 3


def test_flags_are_ordered_by_severity():
    a = run(region="eu", renal=Dialysis(), medications=("metformin", "sertraline", "warfarin"))
    ranks = [{"critical": 0, "warning": 1, "info": 2}[f.severity] for f in a.flags]
    assert ranks == sorted(ranks)
    assert a.flags[0].severity == "critical"


# ------------------------------------------------------------------ indications


def test_all_indications_when_none_in_focus():
    assert [r.indication.slug for r in run().indications] == ["alzheimers-disease", "ocd", "fibromyalgia"]


def test_focus_selects_indications():
    assert [r.indication.slug for r in run(indications=("ocd",)).indications] == ["ocd"]


def test_augmentation_without_ssri_flag_only_when_ocd_in_focus_and_no_sri():
    assert "augmentation-without-ssri" in codes(run(indications=("ocd",)))
    assert "augmentation-without-ssri" not in codes(run(indications=("ocd",), medications=("Zoloft",)))
    assert "augmentation-without-ssri" not in codes(run(indications=("ocd",), medications=("clomipramine",)))
    assert "augmentation-without-ssri" not in codes(run())  # not in focus: a note on the card only
    assert "augmentation-without-ssri" not in codes(run(indications=("fibromyalgia",)))


def test_ocd_note_says_whether_the_augmentation_evidence_applies():
    a = run(indications=("ocd",), medications=("Zoloft",))
    with_ssri = present(a, CAT).indications[0]
    assert "sertraline (entered as “Zoloft”)" in with_ssri.notes[0]
    without = present(run(indications=("ocd",)), CAT).indications[0]
    assert without.notes == ("augmentation-without-ssri title",)


def test_review_overdue_is_marked_on_the_indication():
    results = {r.indication.slug: r for r in run().indications}
    assert results["fibromyalgia"].review_overdue is not None
    assert results["ocd"].review_overdue is None
    fibro = next(i for i in as_json(run())["indications"] if i["slug"] == "fibromyalgia")
    assert fibro["caveats"][0].startswith("review-overdue title")


def test_negative_studies_travel_with_the_indication():
    ocd = as_json(run(indications=("ocd",)))["indications"][0]
    assert {s["result"] for s in ocd["studies"]} == {"positive", "negative"}


# ------------------------------------------------------------------ the whole answer


def test_every_flag_and_indication_carries_a_source_url():
    a = run(
        region="eu",
        renal=Dialysis(),
        hepatic=HepaticClass("C"),
        medications=("Zoloft", "dextromethorphan", "nope", "warfarin", "metformin", "acetazolamide"),
        conditions=("pregnancy", "breastfeeding", "seizure-disorder", "cardiovascular-disease"),
        indications=("ocd",),
    )
    data = as_json(a)
    assert data["flags"]
    for item in data["flags"] + data["indications"]:
        assert item["sources"] and all(s["url"].startswith("https://") for s in item["sources"])


def test_inputs_used_and_missing_are_reported():
    a = run(renal=RenalEntered(42), medications=("Zoloft",))
    data = as_json(a)
    assert data["inputs_used"]["renal"] == {"crcl_ml_min": 42}
    assert data["inputs_used"]["medications"] == ["Zoloft"]
    assert {m["field"] for m in data["inputs_missing"]} == {"hepatic", "conditions"}


def test_a_gap_in_the_renal_rules_is_never_a_silent_standard_dose():
    from indications.engine.catalogue import Catalogue

    from .universe import universe_snapshot

    snap = universe_snapshot()
    snap["renal_rules"] = [
        r for r in snap["renal_rules"] if not (r["region"] == "us" and r["band"] == "moderate")
    ]
    gappy = Catalogue.from_snapshot(snap, version="gap")
    a = assess(PatientFactors(renal=RenalEntered(40)), gappy, today=TODAY)
    assert a.renal.band == "unknown"
    flag = next(f for f in a.flags if f.code == "renal-function-unknown")
    assert "No renal rule covers CrCl 40" in flag.triggers[0]


def test_two_texts_with_one_code_keep_their_own_triggers():
    # A drug is never listed under a text that is not about it: each text keeps its triggers.
    from indications.engine.catalogue import Catalogue

    from .universe import universe_snapshot

    snap = universe_snapshot()
    for rule in snap["condition_rules"]:
        if rule["condition"] == "severe-proteus-uti":
            rule["flag"] = {
                **rule["flag"],
                "severity": "critical",
                "title": "critical alkaline",
                "verdict": "caution",
            }
    cat = Catalogue.from_snapshot(snap, version="sev")
    a = assess(
        PatientFactors(medications=("acetazolamide",), conditions=("severe-proteus-uti",)), cat, today=TODAY
    )
    flags = [f for f in a.flags if f.code == "urine-alkalinization"]
    assert [(f.severity, f.title, len(f.triggers)) for f in flags] == [
        ("critical", "critical alkaline", 1),
        ("warning", "urine-alkalinization title", 1),
    ]
    assert "Severe proteus uti" in flags[0].triggers[0] and "acetazolamide" in flags[1].triggers[0]
    assert a.dose.verdict_reasons.count("urine-alkalinization") == 1
