"""Clinical calculators. Pure functions; each carries the formula and source shown to clinicians.

Sources (shared/reference/memantine-facts.md section 8):
- Cockcroft DW, Gault MH. Nephron 1976;16:31-41; as printed in the US memantine label, with
  actual body weight and x 0.85 for women.
- Child-Pugh: bilirubin, albumin, INR, ascites, encephalopathy, 1-3 points each; A 5-6, B 7-9, C 10-15.
- CKD-EPI 2021 creatinine equation (race-free): Inker LA et al. N Engl J Med 2021;385:1737-49.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

UMOL_PER_MG_DL = 88.4  # serum creatinine: 1 mg/dL = 88.4 umol/L


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
    source_url="https://pubmed.ncbi.nlm.nih.gov/?term=Cockcroft+Gault+Nephron+1976+creatinine+clearance",
)

CKD_EPI_2021 = Method(
    name="CKD-EPI 2021 eGFR, de-indexed to the patient's body-surface area",
    formula=(
        "eGFR = 142 × min(SCr/κ, 1)^α × max(SCr/κ, 1)^−1.200 × 0.9938^age × 1.012 if female"
        " (κ 0.7 female / 0.9 male; α −0.241 female / −0.302 male), in mL/min/1.73 m²;"
        " de-indexed: × BSA / 1.73 (BSA by Mosteller: √(height cm × weight kg / 3600))"
    ),
    source_label="Inker LA et al. N Engl J Med 2021;385:1737-49",
    source_url="https://kidney.org/ckd-epi-creatinine-equation-2021",
)

CHILD_PUGH = Method(
    name="Child-Pugh score",
    formula=(
        "1–3 points each for bilirubin (< 2, 2–3, > 3 mg/dL), albumin (> 3.5, 2.8–3.5, < 2.8 g/dL),"
        " INR (< 1.7, 1.7–2.3, > 2.3), ascites (none, mild, moderate-severe) and encephalopathy"
        " (none, grade 1–2, grade 3–4); class A 5–6, B 7–9, C 10–15"
    ),
    source_label="Child-Pugh classification (Pugh RN et al. Br J Surg 1973;60:646-9)",
    source_url="https://pubmed.ncbi.nlm.nih.gov/?term=Pugh+Br+J+Surg+1973+transection+oesophagus",
)


def creatinine_mg_dl(value: float, unit: str) -> float:
    """Serum creatinine in mg/dL from mg/dL or umol/L."""
    if unit == "mg/dL":
        return value
    if unit == "umol/L":
        return value / UMOL_PER_MG_DL
    raise ValueError(f"unknown creatinine unit {unit!r}")


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


def child_pugh_score(
    *, bilirubin_mg_dl: float, albumin_g_dl: float, inr: float, ascites: str, encephalopathy: str
) -> int:
    """Child-Pugh points, 5-15."""
    if bilirubin_mg_dl < 2:
        bilirubin = 1
    elif bilirubin_mg_dl <= 3:
        bilirubin = 2
    else:
        bilirubin = 3
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
