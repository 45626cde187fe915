"""The dose verdict and the patients and slips that must never get a full dose (pure engine).

Universe: tests/engine/universe.py (US Child-Pugh C and US NMDA "caution"; EU Child-Pugh C and EU
NMDA "not-recommended"; renal-function-unknown, renal-estimate-check and renal-egfr-used
"unconfirmed")."""

import datetime

import pytest

from indications.engine import PatientFactors, assess, parse_request, present
from indications.engine.catalogue import Catalogue
from indications.engine.factors import Dialysis, HepaticClass, Measure, RenalEntered, RenalEstimate
from indications.engine.renal import shown_clearance
from indications.serializers import assessment_json

from .universe import universe, universe_snapshot

CAT = universe()
TODAY = datetime.date(2026, 11, 26)


def run(**kwargs):
    return assess(PatientFactors(**kwargs), CAT, today=TODAY)


def api(body):
    result = parse_request(
        body, known_indications=CAT.indications_by_slug, known_conditions=CAT.conditions_by_slug
    )
    assert result.ok, result.errors
    a = assess(result.factors, CAT, today=TODAY)
    return a, assessment_json(a, present(a, CAT))


def codes(a):
    return [f.code for f in a.flags]


def renal(age, sex, kg, scr, unit="mg/dL", height_cm=None, egfr=None, use=None):
    return RenalEstimate(
        age_years=age,
        sex=sex,
        weight=Measure(kg, "kg") if kg is not None else None,
        serum_creatinine=Measure(scr, unit) if scr is not None else None,
        height=Measure(height_cm, "cm") if height_cm is not None else None,
        egfr_ml_min_1_73m2=egfr,
        use_estimate=use,
    )


# ------------------------------------------------------------------ the verdict


def test_standard_with_confirmed_renal_function():
    a = run(renal=RenalEntered(90))
    assert (a.dose.verdict, a.dose.verdict_reasons, a.dose.renal_confirmed) == ("standard", (), True)
    assert present(a, CAT).dose.heading == "Standard labelled dose"


def test_unconfirmed_shows_the_labelled_regimen_under_a_plain_heading():
    a = run()
    assert (a.dose.verdict, a.dose.max_mg_per_day, a.dose.renal_confirmed) == ("unconfirmed", 20, False)
    box = present(a, CAT).dose
    assert box.heading == "Dose not confirmed: renal function not given"
    assert box.shows_dose and box.regimen == "10 mg twice daily"


def test_us_child_pugh_c_without_renal_input_is_caution_and_still_not_confirmed():
    a = run(region="us", hepatic=HepaticClass("C"))
    assert a.dose.verdict == "caution"
    assert a.dose.verdict_reasons == ("hepatic-severe", "renal-function-unknown")
    assert a.dose.renal_confirmed is False
    box = present(a, CAT).dose
    assert box.heading == "Use with caution"
    assert box.confirmation == "Dose not confirmed: renal function not given"
    assert box.shows_dose  # the labelled regimen, under the caution


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"hepatic": HepaticClass("C")}, "hepatic-severe"),
        ({"medications": ("amantadine",)}, "nmda-antagonist"),
        ({"medications": ("dextromethorphan",)}, "nmda-antagonist"),
    ],
)
def test_eu_not_recommended_carries_no_number_and_says_why(kwargs, reason):
    a = run(region="eu", renal=RenalEntered(90), **kwargs)
    assert a.dose.verdict == "not-recommended"
    assert (a.dose.start_mg_per_day, a.dose.max_mg_per_day, a.dose.titration) == (None, None, "")
    assert a.dose.verdict_reasons[0] == reason
    flag = a.flag(reason)
    assert flag.severity == "critical"
    assert a.dose.regimen == f"No dose: {flag.title}"
    box = present(a, CAT).dose
    assert not box.shows_dose and box.start == box.maximum == "none" and box.tone == "stop"
    assert box.heading == "Not recommended for this patient: no dose"


@pytest.mark.parametrize("medication", ["amantadine", "dextromethorphan"])
def test_us_nmda_antagonist_is_caution_with_the_dose(medication):
    a = run(region="us", renal=RenalEntered(90), medications=(medication,))
    assert (a.dose.verdict, a.dose.max_mg_per_day) == ("caution", 20)


def test_no_labelled_dose_outranks_not_recommended():
    a = run(region="eu", renal=Dialysis(), hepatic=HepaticClass("C"))
    assert a.dose.verdict == "no-labelled-dose"
    assert a.dose.verdict_reasons == ("renal-no-data", "hepatic-severe")
    assert a.dose.max_mg_per_day is None


def test_adjusted_and_caution_keep_the_renal_cap():
    a = run(region="us", renal=RenalEntered(20), hepatic=HepaticClass("C"))
    assert (a.dose.verdict, a.dose.max_mg_per_day, a.dose.regimen) == ("caution", 10, "5 mg twice daily")
    assert a.dose.verdict_reasons == ("hepatic-severe", "renal-severe")


def test_a_critical_condition_makes_the_verdict_caution_not_standard():
    # EU breastfeeding is critical ("should not breast-feed"): never a bare "standard" beside it.
    a = run(region="eu", renal=RenalEntered(90), conditions=("breastfeeding",))
    assert a.flag("breastfeeding").severity == "critical"
    assert a.dose.verdict == "caution"


def test_what_a_rule_does_is_catalogue_data_not_code():
    snap = universe_snapshot()
    for rule in snap["hepatic_rules"]:
        if (rule["region"], rule["child_pugh_class"]) == ("us", "C"):
            rule["flag"]["verdict"] = "not-recommended"
            rule["flag"]["severity"] = "critical"
    edited = Catalogue.from_snapshot(snap, version="edited")
    a = assess(PatientFactors(renal=RenalEntered(90), hepatic=HepaticClass("C")), edited, today=TODAY)
    assert (a.dose.verdict, a.dose.max_mg_per_day) == ("not-recommended", None)


# ------------------------------------------------------------------ renal estimates


def test_obese_patient_follows_the_lowest_estimate_into_the_severe_band():
    # The patient: 72 y, male, 125 kg, 178 cm, creatinine 3.4 mg/dL, extended release.
    # Actual-weight Cockcroft-Gault says moderate (XR 28 mg); adjusted weight and CKD-EPI say severe.
    a = run(formulation="xr", renal=renal(72, "male", 125, 3.4, height_cm=178))
    by_method = {e.method: (round(e.crcl_ml_min, 1), e.band) for e in a.renal.estimates}
    assert by_method == {
        "cockcroft-gault": (34.7, "moderate"),
        "cockcroft-gault-adjusted-weight": (26.1, "severe"),
        "ckd-epi-2021-deindexed": (26.5, "severe"),
    }
    assert (a.renal.method, a.renal.chosen_by) == ("cockcroft-gault-adjusted-weight", "conservative")
    assert (a.dose.max_mg_per_day, a.dose.regimen, a.dose.verdict) == (14, "14 mg once daily", "adjusted")
    assert "renal-estimates-disagree" in codes(a)
    box = present(a, CAT).dose
    lines = {e.method: e for e in box.estimates}
    assert lines["cockcroft-gault-adjusted-weight"].used
    assert (
        lines["cockcroft-gault"].gives == "28 mg once daily (maximum 28 mg/day)"
    )  # what the other would give
    assert "lowest" in box.renal_choice


def test_the_clinician_may_choose_another_estimate():
    a = run(formulation="xr", renal=renal(72, "male", 125, 3.4, height_cm=178, use="cockcroft-gault"))
    assert (a.renal.method, a.renal.chosen_by, a.dose.max_mg_per_day) == ("cockcroft-gault", "clinician", 28)
    assert "renal-estimates-disagree" in codes(a)  # still said


def test_no_adjusted_weight_below_bmi_30():
    a = run(renal=renal(72, "male", 80, 1.2, height_cm=178))  # BMI 25
    assert [e.method for e in a.renal.estimates] == ["cockcroft-gault", "ckd-epi-2021-deindexed"]


def test_lab_egfr_alone_is_accepted_indexed_and_not_confirmed():
    a, data = api({"renal": {"egfr_ml_min_1_73m2": 45}})
    assert (a.renal.method, a.renal.band, a.renal.crcl_ml_min) == ("egfr-lab", "moderate", 45)
    assert "renal-egfr-used" in codes(a)
    assert (a.dose.verdict, a.dose.renal_confirmed) == ("unconfirmed", False)
    assert data["renal"]["estimates"] == [
        {"method": "egfr-lab", "crcl_ml_min": 45.0, "band": "moderate", "egfr_ml_min_1_73m2": 45.0}
    ]


def test_lab_egfr_alone_is_de_indexed_with_weight_and_height():
    a = run(renal=RenalEstimate(weight=Measure(50, "kg"), height=Measure(150, "cm"), egfr_ml_min_1_73m2=45))
    assert a.renal.method == "egfr-lab-deindexed"
    assert a.renal.crcl_ml_min == pytest.approx(45 * (150 * 50 / 3600) ** 0.5 / 1.73, rel=1e-6)


def test_a_lower_lab_egfr_beside_cockcroft_gault_is_followed_without_the_egfr_only_flag():
    a = run(renal=renal(60, "male", 80, 1.0, egfr=25))  # CG 88.9, lab eGFR 25 (indexed)
    assert (a.renal.method, a.renal.band) == ("egfr-lab", "severe")
    assert "renal-egfr-used" not in codes(a) and "renal-estimates-disagree" in codes(a)
    assert a.dose.renal_confirmed


def test_a_calculated_clearance_above_150_is_flagged_and_not_confirmed():
    a = run(renal=renal(30, "male", 90, 0.6))  # 229 mL/min
    assert "renal-estimate-check" in codes(a)
    assert (a.dose.verdict, a.dose.renal_confirmed) == ("unconfirmed", False)
    assert present(a, CAT).dose.heading == "Dose not confirmed: renal-estimate-check title"


def test_a_clearance_at_150_is_not_flagged():
    a = run(renal=RenalEntered(200))  # an entered value is the clinician's own, not a calculation
    assert "renal-estimate-check" not in codes(a)


# ------------------------------------------------------------------ display never contradicts the band


@pytest.mark.parametrize(
    ("value", "band", "shown"),
    [(29.97, "severe", 29.97), (29.94, "severe", 29.9), (49.96, "moderate", 49.96), (80.04, "normal", 80.04)],
)
def test_a_shown_clearance_never_sits_across_its_band_edge(value, band, shown):
    a = run(renal=RenalEntered(value))
    assert a.renal.band == band
    assert a.renal.crcl_shown == shown
    data = assessment_json(a, present(a, CAT))
    assert data["renal"]["crcl_ml_min"] == shown
    assert "30.0" not in present(a, CAT).dose.renal_line


def test_minus_zero_is_zero():
    assert str(shown_clearance(-0.0, None)) == "0.0"
    assert str(shown_clearance(-0.04, None)) == "0.0"
    a = run(renal=RenalEntered(0))
    assert "-0" not in present(a, CAT).dose.renal_line


# ------------------------------------------------------------------ hepatic units


def test_bilirubin_in_umol_is_scored_on_the_si_table():
    # Bilirubin 30 µmol/L, albumin 30 g/L, INR 1.5, mild ascites: Child-Pugh B (1+2+1+2+1 = 7).
    # Read as mg/dL, 30 would score 3 points and make it C (9 -> B still; with albumin 27 g/L -> C).
    body = {
        "hepatic": {
            "bilirubin": 30,
            "bilirubin_unit": "umol/L",
            "albumin": 27,
            "albumin_unit": "g/L",
            "inr": 1.5,
            "ascites": "mild",
            "encephalopathy": "none",
        }
    }
    a, _ = api(body)
    assert (a.hepatic.child_pugh_score, a.hepatic.child_pugh_class) == (8, "B")
    as_mg = {**body["hepatic"], "bilirubin": 30, "bilirubin_unit": "mg/dL"}
    b, _ = api({"hepatic": as_mg})
    assert b.hepatic.child_pugh_class == "C"  # what the old fixed unit did to an EU clinician


# ------------------------------------------------------------------ medications


@pytest.mark.parametrize(
    ("entered", "drugs"),
    [
        ("Symbyax", ["fluoxetine", "olanzapine"]),
        ("olanzapine/fluoxetine", ["fluoxetine", "olanzapine"]),
        ("Namzaric", ["donepezil", "memantine"]),
        ("sertraline + quetiapine", ["sertraline", "quetiapine"]),
        ("sertraline/quetiapine 50/25 mg", ["sertraline", "quetiapine"]),
        ("Zoloft (sertraline) 50 mg", ["sertraline"]),
    ],
)
def test_combinations_count_as_each_component(entered, drugs):
    a = run(medications=(entered,))
    assert sorted(d.name for d in a.medications[0].drugs) == sorted(drugs)
    assert a.unrecognized_medications == ()


def test_a_combination_with_an_unknown_part_reports_the_part_never_drops_it():
    a = run(medications=("sertraline/frobnicil",))
    assert [d.name for d in a.medications[0].drugs] == ["sertraline"]
    assert a.unrecognized_medications == ("frobnicil",)
    assert "medication-not-recognized" in codes(a)


def test_memantine_already_taken_by_any_of_its_names():
    for name in ("memantine", "Namenda XR", "Namzaric", "memantine hydrochloride 10 mg"):
        assert "memantine-already-taken" in codes(run(medications=(name,))), name


def test_near_misses_get_suggestions_never_substitutions():
    a = run(medications=("sertaline", "Zolof", "amantidine", "xyz"))
    assert a.unrecognized_medications == ("sertaline", "Zolof", "amantidine", "xyz")
    assert a.medication_suggestions == {
        "sertaline": ["sertraline"],
        "Zolof": ["Zoloft"],
        "amantidine": ["amantadine"],
    }
    assert not any(m.recognised for m in a.medications)  # nothing was substituted
    assert "ssri-no-interaction" not in codes(a)
    flag = a.flag("medication-not-recognized")
    assert "did you mean sertraline?" in flag.triggers[0]


@pytest.mark.parametrize(
    ("medications", "severity"),
    [
        (("sertraline", "dextromethorphan"), "warning"),
        (("clomipramine", "dextromethorphan"), "warning"),  # a TCA
        (("phenelzine", "dextromethorphan"), "critical"),  # an MAOI
        (("Zoloft", "phenelzine", "dextromethorphan"), "critical"),
    ],
)
def test_dextromethorphan_with_any_serotonergic_antidepressant(medications, severity):
    a = run(renal=RenalEntered(90), medications=medications)
    flag = a.flag("serotonergic-dextromethorphan")
    assert flag is not None and flag.severity == severity
    assert "serotonergic-dextromethorphan" not in codes(
        run(renal=RenalEntered(90), medications=("phenelzine",))
    )


def test_eu_named_pharmacodynamic_class_fires_the_flag():
    a = run(medications=("quetiapine", "Symbyax"))
    flag = a.flag("pharmacodynamic-interaction")
    assert (
        flag
        and any("quetiapine" in t for t in flag.triggers)
        and any("olanzapine" in t for t in flag.triggers)
    )


# ------------------------------------------------------------------ each indication against this patient


def test_studied_dose_above_the_cap_is_flagged_for_an_indication_in_focus():
    # Severe renal impairment caps IR at 10 mg/day; the OCD trials used 10-20 mg/day.
    a = run(renal=RenalEntered(20), indications=("ocd",), medications=("sertraline",))
    flag = a.flag("studied-dose-above-cap")
    assert flag is not None and "Ocd: studied at 10–20 mg/day" in flag.triggers[0]
    assert "maximum is 10 mg/day" in flag.triggers[0]
    card = present(a, CAT).indications[0]
    assert card.studied_above_cap.startswith("studied above cap.") and "10 mg/day" in card.studied_above_cap
    assert a.dose.verdict == "adjusted"  # the note does not change the dose


def test_studied_dose_compares_in_immediate_release_equivalents():
    # XR severe: 14 mg XR = 10 mg IR. Fibromyalgia was studied at up to 30 mg/day.
    a = run(formulation="xr", renal=RenalEntered(20), indications=("fibromyalgia",))
    assert (
        "maximum is 10 mg/day (immediate-release equivalent)" in a.flag("studied-dose-above-cap").triggers[0]
    )
    normal = run(formulation="xr", renal=RenalEntered(90), indications=("ocd",), medications=("sertraline",))
    assert normal.flag("studied-dose-above-cap") is None  # 28 XR = 20 IR: not above 20


def test_no_studied_dose_note_without_a_dose_or_for_the_approved_use():
    assert run(renal=Dialysis(), indications=("ocd",)).flag("studied-dose-above-cap") is None
    assert (
        run(renal=RenalEntered(20), indications=("alzheimers-disease",)).flag("studied-dose-above-cap")
        is None
    )


def test_not_in_focus_the_card_still_says_it_but_no_flag():
    a = run(renal=RenalEntered(20))
    cards = {c.slug: c for c in present(a, CAT).indications}
    assert cards["ocd"].studied_above_cap and a.flag("studied-dose-above-cap") is None


# ------------------------------------------------------------------ one presentation step


def test_a_study_without_a_year_is_cited_without_none():
    snap = universe_snapshot()
    snap["indications"][1]["studies"][0].update(first_author="Iranian pilot RCT", year=None, citation="")
    cat = Catalogue.from_snapshot(snap, version="v")
    a = assess(PatientFactors(indications=("ocd",)), cat, today=TODAY)
    citations = [s["citation"] for s in assessment_json(a, present(a, cat))["indications"][0]["studies"]]
    assert citations[0] == "Iranian pilot RCT"
    assert all("None" not in c for c in citations)


def test_band_labels_come_from_the_catalogues_numbers():
    snap = universe_snapshot()
    for rule in snap["renal_rules"]:
        if rule["band"] == "severe":
            rule["crcl_max_ml_min"] = 25
        if rule["band"] == "moderate":
            rule["crcl_min_ml_min"] = 25
    cat = Catalogue.from_snapshot(snap, version="v")
    a = assess(PatientFactors(renal=RenalEntered(20)), cat, today=TODAY)
    assert "severe renal impairment (CrCl 5 to under 25 mL/min)" in present(a, cat).dose.renal_line
