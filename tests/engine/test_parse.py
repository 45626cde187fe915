"""parse_request: the one validation both the API and the form use."""

import math

import pytest

from indications.engine.factors import (
    Dialysis,
    HepaticClass,
    HepaticComponents,
    RenalEntered,
    RenalEstimate,
    parse_request,
)

KNOWN = {"ocd", "ptsd", "alzheimers-disease"}


def parse(data):
    return parse_request(data, known_indications=KNOWN)


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
    est = parse(
        {
            "renal": {
                "age_years": 80,
                "sex": "female",
                "weight_kg": 50,
                "serum_creatinine": 124,
                "creatinine_unit": "umol/L",
            }
        }
    )
    assert est.factors.renal == RenalEstimate(80, "female", 50, 124, "umol/L")
    assert parse({"renal": {"dialysis": False}}).factors.renal is None


def test_each_hepatic_shape():
    assert parse({"hepatic": {"child_pugh_class": "b"}}).factors.hepatic == HepaticClass("B")
    comp = {
        "bilirubin_mg_dl": 2.5,
        "albumin_g_dl": 3.0,
        "inr": 1.5,
        "ascites": "none",
        "encephalopathy": "grade-1-2",
    }
    assert parse({"hepatic": comp}).factors.hepatic == HepaticComponents(2.5, 3.0, 1.5, "none", "grade-1-2")


@pytest.mark.parametrize(
    ("data", "path"),
    [
        ({"renal": {"crcl_ml_min": -1}}, "renal.crcl_ml_min"),
        ({"renal": {"crcl_ml_min": "42"}}, "renal.crcl_ml_min"),
        ({"renal": {"crcl_ml_min": True}}, "renal.crcl_ml_min"),
        ({"renal": {"crcl_ml_min": math.inf}}, "renal.crcl_ml_min"),
        ({"renal": {"crcl_ml_min": 900}}, "renal.crcl_ml_min"),
        (
            {
                "renal": {
                    "age_years": 200,
                    "sex": "male",
                    "weight_kg": 70,
                    "serum_creatinine": 1,
                    "creatinine_unit": "mg/dL",
                }
            },
            "renal.age_years",
        ),
        (
            {
                "renal": {
                    "age_years": 70,
                    "sex": "male",
                    "weight_kg": 0,
                    "serum_creatinine": 1,
                    "creatinine_unit": "mg/dL",
                }
            },
            "renal.weight_kg",
        ),
        (
            {"renal": {"age_years": 70, "sex": "male", "weight_kg": 70, "serum_creatinine": 1}},
            "renal.creatinine_unit",
        ),
        (
            {
                "renal": {
                    "age_years": 70,
                    "sex": "other",
                    "weight_kg": 70,
                    "serum_creatinine": 1,
                    "creatinine_unit": "mg/dL",
                }
            },
            "renal.sex",
        ),
        ({"renal": {"age_years": 70}}, "renal.weight_kg"),
        ({"renal": {"crcl_ml_min": 40, "age_years": 70}}, "renal"),
        ({"renal": {"crcl_ml_min": 40, "dialysis": True}}, "renal"),
        (
            {
                "renal": {
                    "age_years": 70,
                    "sex": "male",
                    "weight_kg": 70,
                    "serum_creatinine": 1,
                    "creatinine_unit": "mg/dL",
                    "egfr_ml_min_1_73m2": 50,
                }
            },
            "renal.height_cm",
        ),
        ({"renal": {"dialysis": "yes"}}, "renal.dialysis"),
        ({"renal": {"crcl": 40}}, "renal.crcl"),
        ({"renal": [40]}, "renal"),
        ({"hepatic": {"child_pugh_class": "D"}}, "hepatic.child_pugh_class"),
        ({"hepatic": {"child_pugh_class": "B", "inr": 1.2}}, "hepatic"),
        ({"hepatic": {"bilirubin_mg_dl": 2}}, "hepatic.albumin_g_dl"),
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
        ({"medications": ["x" * 101]}, "medications[0]"),
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


def test_creatinine_in_the_wrong_unit_says_so():
    result = parse(
        {
            "renal": {
                "age_years": 80,
                "sex": "female",
                "weight_kg": 50,
                "serum_creatinine": 124,
                "creatinine_unit": "mg/dL",
            }
        }
    )
    messages = " ".join(result.errors["renal.serum_creatinine"])
    assert "umol/L" in messages and "check the unit" in messages


def test_body_must_be_an_object():
    assert "body" in parse([1, 2]).errors


def test_medications_are_trimmed_and_blank_entries_ignored_not_dropped():
    f = parse({"medications": ["  Zoloft ", "", "  ", "foo   bar"]}).factors
    assert f.medications == ("Zoloft", "foo bar")


def test_case_is_forgiven_for_choices():
    f = parse(
        {
            "region": "EU",
            "formulation": "IR",
            "renal": {
                "age_years": 70,
                "sex": "Female",
                "weight_kg": 60,
                "serum_creatinine": 80,
                "creatinine_unit": "UMOL/L",
            },
        }
    ).factors
    assert (f.region, f.formulation, f.renal.sex, f.renal.creatinine_unit) == ("eu", "ir", "female", "umol/L")
