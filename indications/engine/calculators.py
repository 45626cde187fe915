"""Clinical calculators. Pure functions; each carries the formula and source shown to clinicians.

Sources (shared/reference/memantine-facts.md section 8):
- Cockcroft DW, Gault MH. Nephron 1976;16:31-41; as printed in the US memantine label, with
  actual body weight and x 0.85 for women.
- Child-Pugh: bilirubin, albumin, INR, ascites, encephalopathy, 1-3 points each; A 5-6, B 7-9, C 10-15.
- CKD-EPI 2021 creatinine equation (race-free): Inker LA et al. N Engl J Med 2021;385:1737-49.
- Ideal body weight (Devine) and adjusted body weight (IBW + 0.4 x (TBW - IBW)) for Cockcroft-Gault in
  obesity: shared/reference/evidence-additions.md section 8 (a local convention, not label text).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

UMOL_PER_MG_DL = 88.4  # serum creatinine: 1 mg/dL = 88.4 umol/L
KG_PER_LB = 0.45359237
CM_PER_IN = 2.54


@dataclass(frozen=True)
class Method:
    name: str
    formula: str
    source_label: str
    source_url: str


COCKCROFT_GAULT = Method(
    name="Cockcroft-Gault creatinine clearance",
    formula=(
        "CrCl (mL/min) = (140 − age) × weight (kg) / (72 × serum creatinine (mg/dL)), × 0.85 if female;"
        " actual body weight, as in the US memantine label; creatinine in µmol/L ÷ 88.4 = mg/dL;"
        " serum creatinine should be at steady state"
    ),
    source_label="Cockcroft DW, Gault MH. Nephron 1976;16:31-41",
    source_url="https://pubmed.ncbi.nlm.nih.gov/1244564/",
)

COCKCROFT_GAULT_ADJUSTED = Method(
    name="Cockcroft-Gault creatinine clearance with adjusted body weight",
    formula=(
        "As Cockcroft-Gault, with adjusted body weight when BMI is 30 kg/m² or more: ideal body weight"
        " (Devine) 50 kg (male) or 45.5 kg (female) + 2.3 kg per inch of height over 60 inches (less"
        " 2.3 kg per inch under it, and not computed when that falls below 20 kg);"
        " adjusted weight = IBW + 0.4 × (actual weight − IBW). The memantine label uses actual weight;"
        " adjusted weight is a common local convention in obesity, where actual weight overestimates"
        " clearance"
    ),
    source_label=(
        "Demirovic JA, Pai AB, Pai MP. Estimation of creatinine clearance in morbidly obese patients."
        " Am J Health Syst Pharm 2009;66:642-8"
    ),
    source_url="https://www.medscape.com/viewarticle/590271",
)

CKD_EPI_2021 = Method(
    name="CKD-EPI 2021 eGFR, de-indexed to the patient's body-surface area",
    formula=(
        "eGFR = 142 × min(SCr/κ, 1)^α × max(SCr/κ, 1)^−1.200 × 0.9938^age × 1.012 if female"
        " (κ 0.7 female / 0.9 male; α −0.241 female / −0.302 male), in mL/min/1.73 m²;"
        " de-indexed: × BSA / 1.73 (BSA by Mosteller: √(height cm × weight kg / 3600))"
    ),
    source_label="Inker LA et al. N Engl J Med 2021;385:1737-49",
    source_url="https://pubmed.ncbi.nlm.nih.gov/34554658/",
)

CHILD_PUGH = Method(
    name="Child-Pugh score",
    formula=(
        "1–3 points each for bilirubin (< 2, 2–3, > 3 mg/dL; < 34, 34–51, > 51 µmol/L),"
        " albumin (> 3.5, 2.8–3.5, < 2.8 g/dL; > 35, 28–35, < 28 g/L),"
        " INR (< 1.7, 1.7–2.3, > 2.3), ascites (none, mild, moderate-severe) and encephalopathy"
        " (none, grade 1–2, grade 3–4); class A 5–6, B 7–9, C 10–15"
    ),
    source_label="Child-Pugh classification (Pugh RN et al. Br J Surg 1973;60:646-9)",
    source_url="https://pubmed.ncbi.nlm.nih.gov/4541913/",
)


def creatinine_mg_dl(value: float, unit: str) -> float:
    """Serum creatinine in mg/dL from mg/dL or umol/L."""
    if unit == "mg/dL":
        return value
    if unit == "umol/L":
        return value / UMOL_PER_MG_DL
    raise ValueError(f"unknown creatinine unit {unit!r}")


def weight_kg(value: float, unit: str) -> float:
    if unit == "kg":
        return value
    if unit == "lb":
        return value * KG_PER_LB
    raise ValueError(f"unknown weight unit {unit!r}")


def height_cm(value: float, unit: str) -> float:
    if unit == "cm":
        return value
    if unit == "in":
        return value * CM_PER_IN
    raise ValueError(f"unknown height unit {unit!r}")


def body_mass_index(*, weight_kg: float, height_cm: float) -> float:
    return weight_kg / (height_cm / 100) ** 2


OBESITY_BMI = 30.0  # from this BMI on, Cockcroft-Gault is also computed with adjusted body weight


def ideal_body_weight_kg(*, sex: str, height_cm: float) -> float:
    """Devine: 50 kg (male) or 45.5 kg (female) + 2.3 kg per inch over 60 inches."""
    base = 50.0 if sex == "male" else 45.5
    return base + 2.3 * (height_cm / CM_PER_IN - 60)


def adjusted_body_weight_kg(*, sex: str, height_cm: float, weight_kg: float) -> float | None:
    """IBW + 0.4 x (actual - IBW) when the actual weight is above the ideal weight, else None."""
    ibw = ideal_body_weight_kg(sex=sex, height_cm=height_cm)
    if weight_kg <= ibw:
        return None
    return ibw + 0.4 * (weight_kg - ibw)


def cockcroft_gault(*, age_years: float, sex: str, weight_kg: float, serum_creatinine_mg_dl: float) -> float:
    """Creatinine clearance in mL/min (actual body weight; female x 0.85)."""
    if serum_creatinine_mg_dl <= 0:
        raise ValueError("serum creatinine must be positive")
    crcl = (140 - age_years) * weight_kg / (72 * serum_creatinine_mg_dl)
    if sex == "female":
        crcl *= 0.85
    return max(crcl, 0.0)


def ckd_epi_2021(*, age_years: float, sex: str, serum_creatinine_mg_dl: float) -> float:
    """eGFR in mL/min/1.73 m² (CKD-EPI 2021 creatinine, race-free)."""
    if serum_creatinine_mg_dl <= 0:
        raise ValueError("serum creatinine must be positive")
    female = sex == "female"
    kappa = 0.7 if female else 0.9
    alpha = -0.241 if female else -0.302
    ratio = serum_creatinine_mg_dl / kappa
    egfr = 142 * min(ratio, 1) ** alpha * max(ratio, 1) ** -1.200 * 0.9938**age_years
    if female:
        egfr *= 1.012
    return egfr


def body_surface_area_m2(*, height_cm: float, weight_kg: float) -> float:
    """Mosteller body-surface area."""
    return math.sqrt(height_cm * weight_kg / 3600)


def deindex_egfr(*, egfr_ml_min_1_73m2: float, bsa_m2: float) -> float:
    """eGFR in absolute mL/min for drug dosing: eGFR x BSA / 1.73."""
    return egfr_ml_min_1_73m2 * bsa_m2 / 1.73


# Albumin: this service uses the 2.8-3.5 g/dL middle band (CCJM and most calculators). Harrison's
# prints 3.0-3.5 g/dL; the two disagree only for albumin 2.8-2.99 g/dL (2 vs 3 points).
ALBUMIN_BAND_NOTE = (
    "Albumin bands used: > 3.5 g/dL 1 point, 2.8–3.5 g/dL 2 points, < 2.8 g/dL 3 points"
    " (some tables use 3.0–3.5 g/dL for 2 points)."
)

ASCITES_POINTS = {"none": 1, "mild": 2, "moderate-severe": 3}
ENCEPHALOPATHY_POINTS = {"none": 1, "grade-1-2": 2, "grade-3-4": 3}


UMOL_PER_MG_DL_BILIRUBIN = 17.1  # bilirubin: 1 mg/dL = 17.1 umol/L
G_PER_L_PER_G_DL = 10.0  # albumin: 1 g/dL = 10 g/L

# Bilirubin bands in each unit, as the Child-Pugh tables print them (the SI table is not an exact
# conversion: 34 umol/L is 1.99 mg/dL, yet it scores 2 points in the SI table).
BILIRUBIN_BANDS = {"mg/dL": (2.0, 3.0), "umol/L": (34.0, 51.0)}


def bilirubin_points(value: float, unit: str) -> int:
    low, high = BILIRUBIN_BANDS[unit]
    if value < low:
        return 1
    if value <= high:
        return 2
    return 3


def bilirubin_mg_dl(value: float, unit: str) -> float:
    if unit == "mg/dL":
        return value
    if unit == "umol/L":
        return value / UMOL_PER_MG_DL_BILIRUBIN
    raise ValueError(f"unknown bilirubin unit {unit!r}")


def albumin_g_dl(value: float, unit: str) -> float:
    if unit == "g/dL":
        return value
    if unit == "g/L":
        return value / G_PER_L_PER_G_DL
    raise ValueError(f"unknown albumin unit {unit!r}")


def child_pugh_score(
    *,
    bilirubin: float,
    bilirubin_unit: str,
    albumin_g_dl: float,
    inr: float,
    ascites: str,
    encephalopathy: str,
) -> int:
    """Child-Pugh points, 5-15."""
    bilirubin = bilirubin_points(bilirubin, bilirubin_unit)
    if albumin_g_dl > 3.5:
        albumin = 1
    elif albumin_g_dl >= 2.8:
        albumin = 2
    else:
        albumin = 3
    if inr < 1.7:
        inr_points = 1
    elif inr <= 2.3:
        inr_points = 2
    else:
        inr_points = 3
    return bilirubin + albumin + inr_points + ASCITES_POINTS[ascites] + ENCEPHALOPATHY_POINTS[encephalopathy]


def child_pugh_class(score: int) -> str:
    if score <= 6:
        return "A"
    if score <= 9:
        return "B"
    return "C"
