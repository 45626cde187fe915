"""Calculators against worked values from the fact sheet (section 8)."""

import pytest

from indications.engine import calculators as c


def test_cockcroft_gault_male_matches_formula():
    # (140 - 60) * 70 / (72 * 1.0) = 77.78
    assert c.cockcroft_gault(
        age_years=60, sex="male", weight_kg=70, serum_creatinine_mg_dl=1.0
    ) == pytest.approx(77.777, abs=0.01)


def test_cockcroft_gault_female_is_085_of_male():
    male = c.cockcroft_gault(age_years=80, sex="male", weight_kg=50, serum_creatinine_mg_dl=1.4)
    female = c.cockcroft_gault(age_years=80, sex="female", weight_kg=50, serum_creatinine_mg_dl=1.4)
    assert female == pytest.approx(male * 0.85)
    assert female == pytest.approx(25.3, abs=0.05)  # the contract's worked example


def test_creatinine_units_give_the_same_clearance():
    mg = c.cockcroft_gault(age_years=70, sex="male", weight_kg=80, serum_creatinine_mg_dl=1.2)
    umol = c.cockcroft_gault(
        age_years=70,
        sex="male",
        weight_kg=80,
        serum_creatinine_mg_dl=c.creatinine_mg_dl(1.2 * 88.4, "umol/L"),
    )
    assert umol == pytest.approx(mg)


def test_creatinine_unit_must_be_known():
    with pytest.raises(ValueError):
        c.creatinine_mg_dl(1.0, "mmol/L")


def test_ckd_epi_2021_worked_example():
    # female, 55 y, SCr 0.9 mg/dL -> about 76 mL/min/1.73 m2 (kidney.org / fact sheet 8.3)
    assert c.ckd_epi_2021(age_years=55, sex="female", serum_creatinine_mg_dl=0.9) == pytest.approx(76, abs=1)


def test_ckd_epi_male_constants():
    # SCr at kappa (0.9): min term and max term are 1 -> 142 * 0.9938^age
    assert c.ckd_epi_2021(age_years=40, sex="male", serum_creatinine_mg_dl=0.9) == pytest.approx(
        142 * 0.9938**40
    )


def test_deindexing_by_body_surface_area():
    bsa = c.body_surface_area_m2(height_cm=180, weight_kg=80)
    assert bsa == pytest.approx(2.0, abs=0.01)  # Mosteller sqrt(180*80/3600) = 2.0
    assert c.deindex_egfr(egfr_ml_min_1_73m2=60, bsa_m2=bsa) == pytest.approx(60 * 2.0 / 1.73, rel=0.01)


@pytest.mark.parametrize(
    ("values", "score", "cls"),
    [
        (
            {
                "bilirubin_mg_dl": 1.0,
                "albumin_g_dl": 4.0,
                "inr": 1.0,
                "ascites": "none",
                "encephalopathy": "none",
            },
            5,
            "A",
        ),
        (
            {
                "bilirubin_mg_dl": 2.0,
                "albumin_g_dl": 4.0,
                "inr": 1.0,
                "ascites": "none",
                "encephalopathy": "none",
            },
            6,
            "A",
        ),
        (
            {
                "bilirubin_mg_dl": 2.0,
                "albumin_g_dl": 3.5,
                "inr": 1.0,
                "ascites": "none",
                "encephalopathy": "none",
            },
            7,
            "B",
        ),
        (
            {
                "bilirubin_mg_dl": 3.0,
                "albumin_g_dl": 2.8,
                "inr": 2.3,
                "ascites": "mild",
                "encephalopathy": "none",
            },
            9,
            "B",
        ),
        (
            {
                "bilirubin_mg_dl": 3.1,
                "albumin_g_dl": 2.8,
                "inr": 2.3,
                "ascites": "mild",
                "encephalopathy": "none",
            },
            10,
            "C",
        ),
        (
            {
                "bilirubin_mg_dl": 5,
                "albumin_g_dl": 2.0,
                "inr": 3,
                "ascites": "moderate-severe",
                "encephalopathy": "grade-3-4",
            },
            15,
            "C",
        ),
    ],
)
def test_child_pugh_score_and_class_at_the_6_7_and_9_10_boundaries(values, score, cls):
    assert c.child_pugh_score(**values) == score
    assert c.child_pugh_class(score) == cls


def test_albumin_band_uses_2_8_to_3_5():
    base = {"bilirubin_mg_dl": 1.0, "inr": 1.0, "ascites": "none", "encephalopathy": "none"}
    assert c.child_pugh_score(albumin_g_dl=2.9, **base) == 6  # 2 points with the 2.8-3.5 band
    assert c.child_pugh_score(albumin_g_dl=2.79, **base) == 7
