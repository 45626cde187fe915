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
                "bilirubin_unit": "mg/dL",
                "bilirubin": 1.0,
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
                "bilirubin_unit": "mg/dL",
                "bilirubin": 2.0,
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
                "bilirubin_unit": "mg/dL",
                "bilirubin": 2.0,
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
                "bilirubin_unit": "mg/dL",
                "bilirubin": 3.0,
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
                "bilirubin_unit": "mg/dL",
                "bilirubin": 3.1,
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
                "bilirubin_unit": "mg/dL",
                "bilirubin": 5,
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
    base = {
        "bilirubin_unit": "mg/dL",
        "bilirubin": 1.0,
        "inr": 1.0,
        "ascites": "none",
        "encephalopathy": "none",
    }
    assert c.child_pugh_score(albumin_g_dl=2.9, **base) == 6  # 2 points with the 2.8-3.5 band
    assert c.child_pugh_score(albumin_g_dl=2.79, **base) == 7


@pytest.mark.parametrize(
    ("value", "unit", "points"),
    [
        (1.99, "mg/dL", 1),
        (2.0, "mg/dL", 2),
        (3.0, "mg/dL", 2),
        (3.01, "mg/dL", 3),
        (33.9, "umol/L", 1),
        (34, "umol/L", 2),  # the SI table's own edge (34 umol/L is 1.99 mg/dL)
        (51, "umol/L", 2),
        (51.1, "umol/L", 3),
    ],
)
def test_bilirubin_points_use_each_units_own_table(value, unit, points):
    assert c.bilirubin_points(value, unit) == points


def test_bilirubin_30_umol_is_one_point_not_three():
    # 30 umol/L read as mg/dL would be 3 points (and turn Child-Pugh B into C).
    assert c.bilirubin_points(30, "umol/L") == 1
    assert c.bilirubin_points(30, "mg/dL") == 3


def test_albumin_units():
    assert c.albumin_g_dl(35, "g/L") == 3.5
    assert c.albumin_g_dl(3.5, "g/dL") == 3.5


def test_units_of_weight_and_height():
    assert c.weight_kg(132, "lb") == pytest.approx(59.87, abs=0.01)
    assert c.height_cm(62, "in") == pytest.approx(157.48)
    with pytest.raises(ValueError):
        c.weight_kg(1, "st")


def test_devine_ideal_and_adjusted_body_weight():
    # 178 cm = 70.08 in: IBW 50 + 2.3 x 10.08 = 73.2 kg; AdjBW = 73.2 + 0.4 x (125 - 73.2) = 93.9 kg
    assert c.ideal_body_weight_kg(sex="male", height_cm=178) == pytest.approx(73.18, abs=0.01)
    assert c.adjusted_body_weight_kg(sex="male", height_cm=178, weight_kg=125) == pytest.approx(
        93.9, abs=0.05
    )
    assert c.ideal_body_weight_kg(sex="female", height_cm=152.4) == pytest.approx(45.5)
    assert c.adjusted_body_weight_kg(sex="female", height_cm=170, weight_kg=50) is None  # below ideal


def test_body_mass_index():
    assert c.body_mass_index(weight_kg=125, height_cm=178) == pytest.approx(39.45, abs=0.01)


def test_formula_sources_are_documents_not_searches():
    for method in (c.COCKCROFT_GAULT, c.COCKCROFT_GAULT_ADJUSTED, c.CKD_EPI_2021, c.CHILD_PUGH):
        assert method.source_url.startswith("https://")
        assert "term=" not in method.source_url and "search" not in method.source_url
