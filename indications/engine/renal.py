"""Renal function: every estimate the input supports, the one the dose follows, and its band.

The labels define their bands by Cockcroft-Gault creatinine clearance. Real patients bring more than
one estimate (actual and adjusted body weight in obesity, the CKD-EPI 2021 eGFR de-indexed to their
body-surface area, a lab eGFR); they can fall in different bands. The dose then follows the lowest
estimate, which is always in the most conservative band, unless the clinician chose another.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from . import calculators
from .catalogue import RenalRule
from .factors import (
    CALCULATED_CRCL_CHECK,
    Dialysis,
    PatientFactors,
    RenalEntered,
    RenalEstimate,
    adjusted_weight,
    check_clearance,
    compute_estimates,
)
from .vocabulary import UNKNOWN_BAND


def rule_for(rules: list[RenalRule], crcl: float) -> RenalRule | None:
    for rule in rules:
        if rule.contains(crcl):
            return rule
    return None


def shown_clearance(value: float, rule: RenalRule | None) -> float:
    """The clearance as reported: one decimal, unless that would put it on the other side of its
    band's edge (29.97 in the severe band is shown as 29.97, never 30.0). Never -0."""
    for digits in (1, 2, 3):
        shown = round(value, digits) + 0.0
        if rule is None or rule.contains(shown):
            return shown
    # Still across the edge at three decimals (4.99999 -> 5.000): cut towards the band instead.
    down, up = math.floor(value * 1000) / 1000 + 0.0, math.ceil(value * 1000) / 1000 + 0.0
    return down if rule.contains(down) else up


@dataclass(frozen=True)
class Estimate:
    method: str  # vocabulary.RENAL_METHODS
    crcl_ml_min: float  # unrounded; the band is decided on this value
    rule: RenalRule | None
    weight: str | None = None  # "actual" | "adjusted" for Cockcroft-Gault
    weight_kg: float | None = None
    indexed_ml_min_1_73m2: float | None = None  # eGFR before de-indexing
    source: str = ""  # "lab" | "calculated" for eGFR

    @property
    def band(self) -> str:
        return self.rule.band if self.rule else UNKNOWN_BAND

    @property
    def shown(self) -> float:
        return shown_clearance(self.crcl_ml_min, self.rule)


@dataclass(frozen=True)
class RenalResult:
    method: str  # of the estimate used, "dialysis" or "unknown"
    used: Estimate | None  # None for dialysis and unknown
    estimates: tuple[Estimate, ...]
    chosen_by: str | None  # conservative | clinician | only-estimate; None when not given or dialysis
    rule: RenalRule | None  # the rule that applies (dialysis: the no-data rule)
    bsa_m2: float | None = None
    bmi: float | None = None
    ideal_weight_kg: float | None = None
    adjusted_weight_kg: float | None = None
    check_crcl_ml_min: float | None = None  # the Cockcroft-Gault value the plausibility check used

    @property
    def crcl_ml_min(self) -> float | None:
        return None if self.used is None else self.used.crcl_ml_min

    @property
    def crcl_shown(self) -> float | None:
        return None if self.used is None else self.used.shown

    @property
    def band(self) -> str:
        if self.method == "dialysis":
            return self.rule.band if self.rule else "no-data"
        return self.used.band if self.used else UNKNOWN_BAND

    @property
    def given(self) -> bool:
        return self.method != "unknown"

    @property
    def disagree(self) -> bool:
        return len({e.band for e in self.estimates}) > 1

    @property
    def needs_check(self) -> bool:
        return self.check_crcl_ml_min is not None and self.check_crcl_ml_min > CALCULATED_CRCL_CHECK

    def estimate(self, method: str) -> Estimate | None:
        return next((e for e in self.estimates if e.method == method), None)

    @property
    def lowest(self) -> Estimate | None:
        return min(self.estimates, key=lambda e: e.crcl_ml_min) if self.estimates else None

    @property
    def less_conservative_than_lowest(self) -> bool:
        """The dose follows an estimate above the lowest (the clinician chose it)."""
        return (
            self.used is not None
            and self.lowest is not None
            and self.used.crcl_ml_min > self.lowest.crcl_ml_min
        )


UNKNOWN = RenalResult(method="unknown", used=None, estimates=(), chosen_by=None, rule=None)


def assess_renal(factors: PatientFactors, rules: list[RenalRule]) -> RenalResult:
    renal = factors.renal
    if renal is None:
        return UNKNOWN
    if isinstance(renal, Dialysis):
        rule = next((r for r in rules if r.band == "no-data"), None)
        return RenalResult(method="dialysis", used=None, estimates=(), chosen_by=None, rule=rule)
    if isinstance(renal, RenalEntered):
        entered = Estimate("entered", renal.crcl_ml_min, rule_for(rules, renal.crcl_ml_min))
        return RenalResult(
            method="entered", used=entered, estimates=(entered,), chosen_by="only-estimate", rule=entered.rule
        )
    assert isinstance(renal, RenalEstimate)
    return _from_estimate(renal, rules)


def _from_estimate(renal: RenalEstimate, rules: list[RenalRule]) -> RenalResult:
    estimates = [
        Estimate(
            e.method,
            e.crcl_ml_min,
            rule_for(rules, e.crcl_ml_min),
            weight=e.weight,
            weight_kg=e.weight_kg,
            indexed_ml_min_1_73m2=e.indexed_ml_min_1_73m2,
            source=e.source,
        )
        for e in compute_estimates(renal)
    ]
    weight, height = renal.weight_kg, renal.height_cm
    bsa = bmi = ibw = None
    if weight is not None and height is not None:
        bsa = calculators.body_surface_area_m2(height_cm=height, weight_kg=weight)
        bmi = calculators.body_mass_index(weight_kg=weight, height_cm=height)
    adjusted = adjusted_weight(renal)
    if adjusted is not None:
        ibw = calculators.ideal_body_weight_kg(sex=renal.sex, height_cm=height)
    if renal.use_estimate is not None:
        used = next(e for e in estimates if e.method == renal.use_estimate)  # parse_request checked it
        chosen_by = "clinician"
    elif len(estimates) == 1:
        used, chosen_by = estimates[0], "only-estimate"
    else:
        used, chosen_by = min(estimates, key=lambda e: e.crcl_ml_min), "conservative"
    return RenalResult(
        method=used.method,
        used=used,
        estimates=tuple(estimates),
        chosen_by=chosen_by,
        rule=used.rule,
        bsa_m2=bsa,
        bmi=bmi,
        ideal_weight_kg=ibw,
        adjusted_weight_kg=adjusted,
        check_crcl_ml_min=check_clearance(renal),
    )
