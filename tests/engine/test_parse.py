"""parse_request: the one validation both the API and the form use. Implausible is invalid."""

import math

import pytest

from indications.engine.factors import (
    Dialysis,
    HepaticClass,
    HepaticComponents,
    Measure,
    RenalEntered,
    RenalEstimate,
    parse_request,
)

KNOWN = {"ocd", "ptsd", "alzheimers-disease"}
CONDITIONS = ("seizure-disorder", "pregnancy")


def parse(data):
    return parse_request(data, known_indications=KNOWN, known_conditions=CONDITIONS)


def cg(**overrides):
    renal = {
        "age_years": 80,
        "sex": "female",
        "weight_kg": 50,
        "serum_creatinine": 1.4,
        "creatinine_unit": "mg/dL",
    }
    renal.update(overrides)
    return {"renal": {k: v for k, v in renal.items() if v is not None}}


def errors(data, path):
    result = parse(data)
    assert result.factors is None, f"accepted: {data}"
    assert path in result.errors, result.errors
    return " ".join(result.errors[path])


def test_empty_object_is_valid_and_knows_nothing():
    result = parse({})
    assert result.ok
    f = result.factors
    assert (f.region, f.formulation, f.renal, f.hepatic, f.medications, f.conditions) == (
        "us",
        "ir",
        None,
        None,
        (),
        (),
    )


def test_each_renal_shape():
    assert parse({"renal": {"crcl_ml_min": 42}}).factors.renal == RenalEntered(42.0)
    assert parse({"renal": {"dialysis": True}}).factors.renal == Dialysis()
    est = parse(cg(serum_creatinine=124, creatinine_unit="umol/L")).factors.renal
    assert est == RenalEstimate(80, "female", Measure(50, "kg"), Measure(124, "umol/L"))
    assert parse({"renal": {"dialysis": False}}).factors.renal is None
    egfr = parse({"renal": {"egfr_ml_min_1_73m2": 45}}).factors.renal
    assert egfr == RenalEstimate(egfr_ml_min_1_73m2=45)


def test_weight_and_height_in_either_unit():
    renal = parse(cg(weight_kg=None, weight=132, weight_unit="lb", height=62, height_unit="in")).factors.renal
    assert renal.weight == Measure(132, "lb") and renal.height == Measure(62, "in")
    assert renal.weight_kg == pytest.approx(59.87, abs=0.01)
    assert renal.height_cm == pytest.approx(157.48)
    legacy = parse(cg(height_cm=160)).factors.renal
    assert (legacy.weight_kg, legacy.height_cm) == (50, 160)


def test_each_hepatic_shape():
    assert parse({"hepatic": {"child_pugh_class": "b"}}).factors.hepatic == HepaticClass("B")
    comp = {
        "bilirubin_mg_dl": 2.5,
        "albumin_g_dl": 3.0,
        "inr": 1.5,
        "ascites": "none",
        "encephalopathy": "grade-1-2",
    }
    assert parse({"hepatic": comp}).factors.hepatic == HepaticComponents(
        Measure(2.5, "mg/dL"), Measure(3.0, "g/dL"), 1.5, "none", "grade-1-2"
    )
    si = {**comp, "bilirubin_mg_dl": None, "albumin_g_dl": None}
    si.update(bilirubin=30, bilirubin_unit="umol/L", albumin=35, albumin_unit="g/L")
    hepatic = parse({"hepatic": si}).factors.hepatic
    assert (hepatic.bilirubin, hepatic.albumin) == (Measure(30, "umol/L"), Measure(35, "g/L"))


@pytest.mark.parametrize(
    ("data", "path"),
    [
        ({"renal": {"crcl_ml_min": -1}}, "renal.crcl_ml_min"),
        ({"renal": {"crcl_ml_min": "42"}}, "renal.crcl_ml_min"),
        ({"renal": {"crcl_ml_min": True}}, "renal.crcl_ml_min"),
        ({"renal": {"crcl_ml_min": math.inf}}, "renal.crcl_ml_min"),
        ({"renal": {"crcl_ml_min": math.nan}}, "renal.crcl_ml_min"),
        ({"renal": {"crcl_ml_min": 900}}, "renal.crcl_ml_min"),
        ({"renal": {"crcl_ml_min": 10**400}}, "renal.crcl_ml_min"),
        (cg(age_years=200), "renal.age_years"),
        (cg(weight_kg=0), "renal.weight_kg"),
        (cg(creatinine_unit=None), "renal.creatinine_unit"),
        (cg(sex="other"), "renal.sex"),
        ({"renal": {"age_years": 70}}, "renal.weight"),
        ({"renal": {"age_years": 70}}, "renal.serum_creatinine"),
        ({"renal": {"crcl_ml_min": 40, "age_years": 70}}, "renal"),
        ({"renal": {"crcl_ml_min": 40, "dialysis": True}}, "renal"),
        ({"renal": {"egfr_ml_min_1_73m2": 45, "dialysis": True}}, "renal"),
        ({"renal": {"dialysis": "yes"}}, "renal.dialysis"),
        ({"renal": {"crcl": 40}}, "renal.crcl"),
        ({"renal": [40]}, "renal"),
        (cg(weight_kg=None, weight=60), "renal.weight_unit"),
        (cg(weight_kg=None, weight=60, weight_unit="stone"), "renal.weight_unit"),
        (cg(weight=60, weight_unit="kg"), "renal.weight"),  # weight and weight_kg both
        (cg(height=160), "renal.height_unit"),
        (cg(height=300, height_unit="cm"), "renal.height"),
        (cg(egfr_ml_min_1_73m2=0), "renal.egfr_ml_min_1_73m2"),
        (cg(use_estimate="mdrd"), "renal.use_estimate"),
        ({"hepatic": {"child_pugh_class": "D"}}, "hepatic.child_pugh_class"),
        ({"hepatic": {"child_pugh_class": "B", "inr": 1.2}}, "hepatic"),
        ({"hepatic": {"bilirubin_mg_dl": 2}}, "hepatic.albumin"),
        ({"hepatic": {"bilirubin": 2}}, "hepatic.bilirubin_unit"),
        (
            {
                "hepatic": {
                    "bilirubin_mg_dl": 2,
                    "albumin_g_dl": 3,
                    "inr": 1,
                    "ascites": "lots",
                    "encephalopathy": "none",
                }
            },
            "hepatic.ascites",
        ),
        ({"region": "uk"}, "region"),
        ({"formulation": "er"}, "formulation"),
        ({"region": "eu", "formulation": "xr"}, "formulation"),
        ({"indications": ["ocd", "migraine"]}, "indications[1]"),
        ({"indications": "ocd"}, "indications"),
        ({"medications": ["sertraline", 5]}, "medications[1]"),
        ({"medications": ["x" * 201]}, "medications[0]"),
        ({"medications": [f"drug {i}" for i in range(41)]}, "medications"),
        ({"conditions": ["diabetes"]}, "conditions[0]"),
        ({"patient_name": "Jane"}, "patient_name"),
    ],
)
def test_bad_input_is_an_error_at_its_path(data, path):
    result = parse(data)
    assert result.factors is None
    assert path in result.errors, result.errors
    assert all(isinstance(m, str) and m for m in result.errors[path])


# ------------------------------------------------------------------ slips that must never be computed


def test_the_issue_example_creatinine_9_5_typed_as_umol_is_refused_not_computed():
    # 80 y, female, 60 kg, creatinine 9.5 entered as µmol/L: Cockcroft-Gault would say ~395 mL/min.
    message = errors(
        cg(weight_kg=60, serum_creatinine=9.5, creatinine_unit="umol/L"), "renal.serum_creatinine"
    )
    assert "18" in message and "µmol/L" in message
    assert "mg/dL" in message  # 9.5 would be ordinary in mg/dL: said so


@pytest.mark.parametrize(
    ("value", "unit"), [(0.19, "mg/dL"), (17.9, "umol/L"), (0.1, "mg/dL"), (9, "umol/L")]
)
def test_creatinine_below_the_adult_floor_is_refused(value, unit):
    assert "serum creatinine" in errors(
        cg(serum_creatinine=value, creatinine_unit=unit), "renal.serum_creatinine"
    )


def test_creatinine_in_the_wrong_unit_says_so():
    message = errors(cg(serum_creatinine=124, creatinine_unit="mg/dL"), "renal.serum_creatinine")
    assert "µmol/L" in message and "check the value and its unit" in message


def test_a_calculated_clearance_above_250_is_refused_on_the_creatinine():
    # 30 y, male, 90 kg, creatinine 0.5 mg/dL: 275 mL/min is no kidney's; refused, naming value and unit.
    message = errors(
        cg(age_years=30, sex="male", weight_kg=90, serum_creatinine=0.5), "renal.serum_creatinine"
    )
    assert "275 mL/min" in message and "0.5 mg/dL" in message and "unit" in message


def test_a_clearance_just_under_the_limit_is_accepted():
    # 30 y, male, 90 kg, creatinine 0.56 mg/dL -> 245.5 mL/min: plausible enough, flagged later.
    assert parse(cg(age_years=30, sex="male", weight_kg=90, serum_creatinine=0.56)).ok


@pytest.mark.parametrize(
    ("weight", "weight_unit", "height", "height_unit"),
    [
        (60, "lb", 180, "cm"),  # BMI 8.4: a weight in lb typed for a tall adult
        (330, "kg", 150, "cm"),  # BMI 146.7
    ],
)
def test_implausible_weight_for_height_is_refused_naming_both_units(weight, weight_unit, height, height_unit):
    data = cg(weight_kg=None, weight=weight, weight_unit=weight_unit, height=height, height_unit=height_unit)
    result = parse(data)
    assert result.factors is None
    text = " ".join(m for messages in result.errors.values() for m in messages)
    assert "kg" in text and ("cm" in text or "in" in text)


def test_bmi_message_names_the_values_and_both_units():
    message = errors(
        cg(weight_kg=None, weight=60, weight_unit="lb", height=180, height_unit="cm"), "renal.weight"
    )
    assert "60 lb" in message and "180 cm" in message and "8.4" in message
    assert "kg or lb" in message and "cm or in" in message


def test_a_height_in_the_wrong_unit_says_so():
    assert "in cm" in errors(cg(height=170, height_unit="in"), "renal.height")
    assert "in inches" in errors(cg(height=62, height_unit="cm"), "renal.height")


@pytest.mark.parametrize(("value", "unit", "other"), [(35, "g/dL", "g/L"), (3.5, "g/L", "g/dL")])
def test_albumin_in_the_wrong_unit_says_so(value, unit, other):
    data = {
        "hepatic": {
            "bilirubin": 1,
            "bilirubin_unit": "mg/dL",
            "albumin": value,
            "albumin_unit": unit,
            "inr": 1,
            "ascites": "none",
            "encephalopathy": "none",
        }
    }
    assert f"in {other}" in errors(data, "hepatic.albumin")


def test_use_estimate_must_be_one_of_this_patients_estimates():
    # No height: no CKD-EPI estimate to choose.
    message = errors(cg(use_estimate="ckd-epi-2021-deindexed"), "renal.use_estimate")
    assert "Cockcroft-Gault, actual body weight" in message and "height" in message
    assert parse(cg(height_cm=160, use_estimate="ckd-epi-2021-deindexed")).ok
    # BMI under 30: no adjusted-weight estimate.
    assert "use_estimate" in " ".join(
        parse(cg(height_cm=160, use_estimate="cockcroft-gault-adjusted-weight")).errors
    )


def test_lab_egfr_no_longer_needs_the_height():
    assert parse(cg(egfr_ml_min_1_73m2=50)).ok


def test_body_must_be_an_object():
    assert "body" in parse([1, 2]).errors


def test_medications_are_trimmed_and_blank_entries_ignored_not_dropped():
    f = parse({"medications": ["  Zoloft ", "", "  ", "foo   bar"]}).factors
    assert f.medications == ("Zoloft", "foo bar")


def test_conditions_come_from_the_catalogue_in_use():
    assert parse({"conditions": ["pregnancy"]}).ok
    assert not parse_request({"conditions": ["pregnancy"]}, known_indications=KNOWN, known_conditions=()).ok


def test_case_is_forgiven_for_choices():
    f = parse(
        {
            "region": "EU",
            "formulation": "IR",
            "renal": {
                "age_years": 70,
                "sex": "Female",
                "weight": 60,
                "weight_unit": "KG",
                "serum_creatinine": 80,
                "creatinine_unit": "UMOL/L",
            },
        }
    ).factors
    assert (f.region, f.formulation, f.renal.sex, f.renal.serum_creatinine.unit, f.renal.weight.unit) == (
        "eu",
        "ir",
        "female",
        "umol/L",
        "kg",
    )


@pytest.mark.parametrize(
    "data",
    [
        {f"unknown-{i:05d}": 1 for i in range(5000)},
        {"renal": {f"unknown-{i:05d}": 1 for i in range(5000)}},
        {"x" * 60_000: 1},
        {"medications": ["m" * 390] * 160},
        {"medications": [1] * 160, "indications": [1] * 20, "conditions": [1] * 20},
    ],
)
def test_errors_never_grow_with_the_input(data):
    errors = parse(data).errors
    assert len(errors) <= 21  # at most 20 members, then "body" counts the rest
    assert all(len(path) <= 80 for path in errors)
    assert len(repr(errors)) < 6000


def test_the_problems_not_listed_are_counted():
    errors = parse({f"unknown-{i:05d}": 1 for i in range(5000)}).errors
    assert errors["body"] == ["4980 more problems not listed."]
    assert "Allowed here" in errors["unknown-00000"][0] and errors["unknown-00001"] == ["Unknown field."]
