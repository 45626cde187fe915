"""What a pharmacist, a clinician and an attacker found when they tried the verdict cold, written as
the requests they sent (pure engine: parse_request, assess, present)."""

import datetime

import pytest

from indications.engine import assess, parse_request, present
from indications.serializers import assessment_json

from .universe import universe

CAT = universe()
TODAY = datetime.date(2026, 11, 26)


def parse(body):
    return parse_request(
        body, known_indications=CAT.indications_by_slug, known_conditions=CAT.conditions_by_slug
    )


def run(body):
    result = parse(body)
    assert result.ok, result.errors
    a = assess(result.factors, CAT, today=TODAY)
    return a, present(a, CAT)


def refused(body, path):
    result = parse(body)
    assert result.factors is None, f"accepted: {body}"
    assert path in result.errors, result.errors
    return " ".join(result.errors[path])


def cg(**fields):
    renal = {"age_years": 80, "sex": "female", "serum_creatinine": 2.0, "creatinine_unit": "mg/dL"}
    renal.update(fields)
    return {"renal": renal}


# ------------------------------------------------------------------ a unit is never ignored


@pytest.mark.parametrize(
    ("group", "fields", "path"),
    [
        ("renal", {"weight_kg": 154, "weight_unit": "lb"}, "renal.weight_unit"),
        ("renal", {"weight_kg": 70, "weight_unit": "stone"}, "renal.weight_unit"),
        ("renal", {"weight_kg": 70, "height_cm": 170, "height_unit": "in"}, "renal.height_unit"),
        ("renal", {"weight_kg": 70, "height_unit": "cm"}, "renal.height_unit"),  # a unit without its value
    ],
)
def test_a_legacy_field_with_a_contradicting_or_unknown_unit_is_refused(group, fields, path):
    # 80 y, female, 154 lb sent as weight_kg with weight_unit lb: twice her weight, half her dose cap.
    assert refused(cg(**fields), path)


@pytest.mark.parametrize(
    ("fields", "path"),
    [
        ({"bilirubin_mg_dl": 2.0, "bilirubin_unit": "umol/L"}, "hepatic.bilirubin_unit"),
        ({"bilirubin_mg_dl": 2.0, "albumin_unit": "furlongs"}, "hepatic.albumin_unit"),
    ],
)
def test_hepatic_legacy_fields_with_contradicting_units_are_refused(fields, path):
    hepatic = {"albumin_g_dl": 3.0, "inr": 1.2, "ascites": "none", "encephalopathy": "none", **fields}
    assert refused({"hepatic": hepatic}, path)


def test_a_legacy_field_with_its_own_unit_is_accepted_and_the_micro_sign_is_read():
    assert parse(cg(weight_kg=70, weight_unit="KG")).ok
    assert parse(cg(weight=70, weight_unit="kg", serum_creatinine=150, creatinine_unit="µmol/L")).ok


# ------------------------------------------------------------------ the clinician's choice of estimate


def test_choosing_a_lab_egfr_over_a_no_data_cockcroft_gault_is_never_standard_or_confirmed():
    # Attacker: CG 3 mL/min (no labelled dose), lab eGFR 120 chosen: must not be "standard".
    a, view = run(
        cg(
            age_years=90,
            weight=40,
            weight_unit="kg",
            height=150,
            height_unit="cm",
            serum_creatinine=8,
            egfr_ml_min_1_73m2=120,
            use_estimate="egfr-lab-deindexed",
        )
    )
    assert a.renal.method == "egfr-lab-deindexed" and a.renal.chosen_by == "clinician"
    assert a.flag("renal-egfr-used") is not None and a.flag("renal-estimates-disagree") is not None
    assert a.dose.verdict == "unconfirmed" and not a.dose.renal_confirmed
    assert "no labelled dose" in view.dose.renal_choice  # what the lowest would give, said


def test_an_indexed_lab_egfr_cannot_be_chosen():
    message = refused(
        cg(weight=45, weight_unit="kg", serum_creatinine=1.2, egfr_ml_min_1_73m2=40, use_estimate="egfr-lab"),
        "renal.use_estimate",
    )
    assert "egfr-lab-deindexed" in message


def test_choosing_the_labels_own_formula_over_adjusted_weight_is_allowed_and_said():
    a, view = run(
        {
            "formulation": "xr",
            "renal": {
                "age_years": 72,
                "sex": "male",
                "weight_kg": 125,
                "height_cm": 178,
                "serum_creatinine": 3.4,
                "creatinine_unit": "mg/dL",
                "use_estimate": "cockcroft-gault",
            },
        }
    )
    assert (a.dose.verdict, a.dose.max_mg_per_day, a.dose.renal_confirmed) == ("standard", 28, True)
    assert "chosen by the clinician" in view.dose.renal_choice
    assert "would give 14 mg once daily (maximum 14 mg/day)" in view.dose.renal_choice
    disagree = a.flag("renal-estimates-disagree")
    assert disagree and "chosen by the clinician" in disagree.triggers[0]


def test_an_estimate_above_250_cannot_be_chosen():
    body = cg(
        age_years=18,
        sex="male",
        weight=350,
        weight_unit="kg",
        height=200,
        height_unit="cm",
        serum_creatinine=1.35,
        use_estimate="cockcroft-gault",
    )
    assert "above the plausible 250" in refused(body, "renal.use_estimate")


def test_a_de_indexed_lab_egfr_in_a_large_patient_is_not_followed_above_the_reported_value():
    # eGFR 25 per 1.73 m², 150 kg, 170 cm: de-indexed 38.5 (moderate); the reported 25 (severe) is lower.
    a, _ = run({"renal": {"egfr_ml_min_1_73m2": 25, "weight_kg": 150, "height_cm": 170}})
    assert [e.method for e in a.renal.estimates] == ["egfr-lab", "egfr-lab-deindexed"]
    assert (a.renal.method, a.renal.band, a.dose.max_mg_per_day) == ("egfr-lab", "severe", 10)


def test_no_adjusted_weight_below_five_feet():
    a, _ = run(cg(weight=30, weight_unit="kg", height=100, height_unit="cm", serum_creatinine=1.6))
    assert "cockcroft-gault-adjusted-weight" not in [e.method for e in a.renal.estimates]
    assert a.renal.adjusted_weight_kg is None and a.renal.ideal_weight_kg is None


def test_a_lab_egfr_with_age_but_no_creatinine_uses_the_egfr_and_says_what_is_missing():
    a, view = run({"renal": {"egfr_ml_min_1_73m2": 35, "age_years": 85, "sex": "female", "weight_kg": 42}})
    assert a.renal.method == "egfr-lab"
    assert any("Serum creatinine not given" in m for m in view.missing)


def test_the_estimates_flag_is_kept_for_bands_that_change_the_dose():
    same_dose, _ = run(cg(age_years=72, sex="male", weight_kg=80, height_cm=178, serum_creatinine=1.0))
    assert {e.band for e in same_dose.renal.estimates} == {"mild", "normal"}
    assert same_dose.flag("renal-estimates-disagree") is None  # both give 10 mg twice daily
    different, _ = run(cg(weight_kg=50, height_cm=160, serum_creatinine=1.4))
    assert different.flag("renal-estimates-disagree") is not None


def test_an_entered_clearance_is_never_rounded_across_a_band_edge_in_a_trigger():
    a, _ = run({"renal": {"crcl_ml_min": 4.99}})
    assert a.flag("renal-no-data").triggers == ("CrCl 4.99 mL/min (entered)",)
    b, _ = run({"renal": {"crcl_ml_min": 29.97}})
    assert b.flag("renal-severe").triggers == ("CrCl 29.97 mL/min (entered)",)


def test_clinician_facing_text_names_methods_in_words_not_codes():
    a, view = run(cg(weight_kg=50, height_cm=160, serum_creatinine=1.4))
    text = " ".join(
        [*a.flag("renal-estimates-disagree").triggers, view.dose.renal_line, view.dose.renal_choice]
    )
    assert "cockcroft-gault" not in text and "ckd-epi-2021" not in text
    assert "Cockcroft-Gault, actual body weight" in text


def test_an_egfr_is_called_an_egfr():
    _, view = run({"renal": {"egfr_ml_min_1_73m2": 45}})
    assert view.dose.renal_line.startswith("eGFR 45.0 mL/min/1.73 m²")


def test_a_weight_in_pounds_is_also_shown_in_kilograms():
    _, view = run(cg(weight=154, weight_unit="lb"))
    assert "154 lb (69.9 kg)" in view.dose.renal_inputs


# ------------------------------------------------------------------ medications


@pytest.mark.parametrize(
    "entered",
    [
        "Amantadine HCl 100 mg PO BID",
        "amantadine 100mg po",
        "1. amantadine 100mg",
        "amantadine 100 mg nocte",
        "Amantadine ( 100 mg )",
        "ａｍａｎｔａｄｉｎｅ",  # full-width letters
    ],
)
def test_amantadine_as_charts_write_it_is_recognised(entered):
    a, _ = run({"region": "eu", "renal": {"crcl_ml_min": 90}, "medications": [entered]})
    assert a.unrecognized_medications == ()
    assert a.dose.verdict == "not-recommended"


@pytest.mark.parametrize(
    "entered",
    ["dextromethorphan 30mg q6h prn", "dextromethorphan syrup", "dextromethorphan polistirex 12 hour"],
)
def test_dextromethorphan_as_written_is_recognised(entered):
    a, _ = run({"medications": [entered]})
    assert [d.name for d in a.medications[0].drugs] == ["dextromethorphan"]


@pytest.mark.parametrize("entered", ["memantine oral solution", "Namenda titration pak", "memantine 10mg bd"])
def test_memantine_as_written_raises_memantine_already_taken_and_caution(entered):
    a, view = run({"renal": {"crcl_ml_min": 90}, "medications": [entered]})
    assert a.flag("memantine-already-taken") is not None
    assert a.dose.verdict == "caution"
    assert view.dose.heading == "Use with caution"


@pytest.mark.parametrize(
    ("entered", "not_checked"),
    [
        ("sertraline + potassium citrate", "potassium citrate"),
        ("sertraline (sodium citrate)", "sodium citrate"),
        ("sertraline / sodium", "sodium"),
        ("sertraline + sodium citrate", "sodium citrate"),
    ],
)
def test_a_part_that_is_only_a_salt_is_reported_never_dropped(entered, not_checked):
    a, _ = run({"medications": [entered]})
    assert [d.name for d in a.medications[0].drugs] == ["sertraline"]
    assert a.unrecognized_medications == (not_checked,)


def test_a_product_name_typed_with_its_slash_is_still_the_product():
    a, _ = run({"medications": ["olanzapine/fluoxetine"]})
    assert a.medications[0].product is not None and a.unrecognized_medications == ()


def test_unknown_parts_are_each_reported_and_a_list_in_one_entry_is_reported_whole():
    a, _ = run({"medications": ["sertraline/abc/def"]})
    assert a.unrecognized_medications == ("abc", "def")
    b, _ = run({"medications": ["sertraline/abc/def/ghi/jkl/mno"]})
    assert b.unrecognized_medications == ("sertraline/abc/def/ghi/jkl/mno",)
    assert [d.name for d in b.medications[0].drugs] == ["sertraline"]


def test_an_unchecked_medication_makes_the_dose_not_confirmed_without_touching_renal_confirmation():
    a, view = run({"renal": {"crcl_ml_min": 90}, "medications": ["Frobnicil 20 mg"]})
    assert (a.dose.verdict, a.dose.renal_confirmed) == ("unconfirmed", True)
    assert view.dose.heading == "Dose not confirmed: 1 medication not checked (“Frobnicil 20 mg”)"
    b, view = run({"renal": {"crcl_ml_min": 20}, "medications": ["Frobnicil"]})
    assert b.dose.verdict == "adjusted"  # a stronger verdict stands, and the box still says it
    assert view.dose.confirmation == "Dose not confirmed: 1 medication not checked (“Frobnicil”)"
    data = assessment_json(b, view)
    assert data["dose"]["verdict_reasons"] == ["renal-severe", "medication-not-recognized"]


# ------------------------------------------------------------------ text that is not text


def test_a_lone_surrogate_is_refused_not_echoed():
    for body, path in (
        ({"medications": ["\ud800"]}, "medications[0]"),
        ({"indications": ["\udfff"]}, "indications[0]"),
        ({"region": "\ud800"}, "region"),
    ):
        assert refused(body, path)


def test_lists_are_bounded_and_their_errors_summarised():
    assert "at most 20" in refused({"indications": ["x"] * 21}, "indications")
    result = parse({"conditions": [f"c{i}" for i in range(20)]})
    assert len([p for p in result.errors if p.startswith("conditions[")]) == 5
    assert "15 more unknown condition" in " ".join(result.errors["conditions"])


def test_minus_zero_is_read_as_zero():
    a, _ = run({"renal": {"crcl_ml_min": -0.0}})
    assert str(a.inputs_used["renal"]["crcl_ml_min"]) == "0.0"


@pytest.mark.parametrize(("value", "shown"), [(4.99999, 4.999), (29.9999, 29.999), (80.00001, 80.001)])
def test_a_value_that_rounds_across_the_edge_at_three_decimals_is_cut_towards_its_band(value, shown):
    a, view = run({"renal": {"crcl_ml_min": value}})
    assert a.renal.crcl_shown == shown
    assert f"{shown:.3f}" in view.dose.renal_line


def test_adjusted_weight_has_no_cliff_at_five_feet():
    # 60 y, female, 70 kg, creatinine 1.8: 152.4 cm and 152.3 cm give the same kind of answer.
    def at(height):
        a, _ = run(cg(age_years=60, weight_kg=70, serum_creatinine=1.8, height_cm=height))
        return a

    tall, short = at(152.4), at(152.3)
    assert {e.method for e in tall.renal.estimates} == {e.method for e in short.renal.estimates}
    assert short.renal.adjusted_weight_kg == pytest.approx(tall.renal.adjusted_weight_kg, abs=0.1)
    assert tall.dose.max_mg_per_day == short.dose.max_mg_per_day
