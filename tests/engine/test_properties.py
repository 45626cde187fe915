"""Properties (hypothesis) that reach the clinical paths of the engine.

- No input crashes parse_request or assess.
- The maximum dose never rises as renal function falls (entered clearance or creatinine).
- A flag whose effect is "not recommended" (or a renal rule with no labelled dose) always leaves
  the dose without a number, and the dose box shows none.
- Adding a medication never makes the verdict less restrictive, and never confirms a dose.
- The dose never exceeds the regimen's maximum, nor a renal rule's cap.

The same properties run against the published seed catalogue in tests/web/test_verdict_seed.py.
"""

import datetime
from dataclasses import replace

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from indications.engine import PatientFactors, assess, parse_request, present
from indications.engine.assess import labelled_dose
from indications.engine.calculators import CM_PER_IN, KG_PER_LB
from indications.engine.factors import (
    Dialysis,
    HepaticClass,
    Measure,
    RenalEntered,
    RenalEstimate,
    check_clearance,
    compute_estimates,
)
from indications.engine.vocabulary import CHOOSABLE_ESTIMATES, DOSE_NONE, NO_DOSE_VERDICTS, VERDICT_RANK

from .universe import universe

CAT = universe()
TODAY = datetime.date(2026, 11, 26)
KNOWN = CAT.indications_by_slug
CONDITIONS = CAT.conditions_by_slug

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.integers(min_value=10**300, max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
)
anything = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)

numbers = st.one_of(
    st.integers(-50, 3000),
    st.floats(-50, 3000, allow_nan=False),
    st.text(max_size=4),
    st.none(),
    st.booleans(),
)
renal_json = st.one_of(
    st.none(),
    st.fixed_dictionaries({"crcl_ml_min": numbers}),
    st.fixed_dictionaries({"dialysis": st.one_of(st.booleans(), st.none(), st.text(max_size=3))}),
    st.fixed_dictionaries(
        {
            "age_years": numbers,
            "sex": st.sampled_from(["female", "male", "x"]),
            "serum_creatinine": numbers,
            "creatinine_unit": st.sampled_from(["mg/dL", "umol/L", "g"]),
        },
        optional={
            "weight_kg": numbers,
            "weight": numbers,
            "weight_unit": st.sampled_from(["kg", "lb", "st"]),
            "height_cm": numbers,
            "height": numbers,
            "height_unit": st.sampled_from(["cm", "in"]),
            "egfr_ml_min_1_73m2": numbers,
            "use_estimate": st.sampled_from(
                [
                    "cockcroft-gault",
                    "cockcroft-gault-adjusted-weight",
                    "ckd-epi-2021-deindexed",
                    "egfr-lab",
                    "x",
                ]
            ),
        },
    ),
    st.fixed_dictionaries(
        {"egfr_ml_min_1_73m2": numbers}, optional={"weight_kg": numbers, "height_cm": numbers}
    ),
    anything,
)
hepatic_json = st.one_of(
    st.none(),
    st.fixed_dictionaries({"child_pugh_class": st.sampled_from(["A", "B", "C", "c", "D", 3])}),
    st.fixed_dictionaries(
        {
            "inr": numbers,
            "ascites": st.sampled_from(["none", "mild", "moderate-severe", "x"]),
            "encephalopathy": st.sampled_from(["none", "grade-1-2", "grade-3-4", "x"]),
        },
        optional={
            "bilirubin_mg_dl": numbers,
            "bilirubin": numbers,
            "bilirubin_unit": st.sampled_from(["mg/dL", "umol/L", "mmol/L"]),
            "albumin_g_dl": numbers,
            "albumin": numbers,
            "albumin_unit": st.sampled_from(["g/dL", "g/L"]),
        },
    ),
    anything,
)
MEDICATION_NAMES = [
    "Zoloft",
    "amantadine",
    "warfarin",
    "  ",
    "unknown drug",
    "metformin 500mg",
    "Symbyax",
    "Namzaric",
    "dextromethorphan",
    "phenelzine",
    "clomipramine",
    "quetiapine",
    "sertaline",
    "foo/sertraline",
    "acetazolamide",
]
requests = st.fixed_dictionaries(
    {},
    optional={
        "region": st.sampled_from(["us", "eu", "uk", 1]),
        "formulation": st.sampled_from(["ir", "xr", "er"]),
        "renal": renal_json,
        "hepatic": hepatic_json,
        "medications": st.lists(st.sampled_from(MEDICATION_NAMES) | st.text(max_size=12), max_size=6),
        "conditions": st.lists(
            st.sampled_from(
                ["pregnancy", "seizure-disorder", "renal-tubular-acidosis", "breastfeeding", "flu"]
            ),
            max_size=3,
        ),
        "indications": st.lists(st.sampled_from(["ocd", "fibromyalgia", "nope"]), max_size=2),
    },
)


@settings(max_examples=400, deadline=None)
@given(anything)
def test_parse_never_crashes_on_any_json(data):
    result = parse_request(data, known_indications=KNOWN, known_conditions=CONDITIONS)
    assert (result.factors is None) == bool(result.errors)


def check_dose_invariants(a, catalogue):
    """What must hold of every assessment."""
    dose = a.dose
    regimen = catalogue.regimen(a.region, a.formulation)
    view = present(a, catalogue)
    if dose.verdict in NO_DOSE_VERDICTS:
        assert dose.max_mg_per_day is None and dose.start_mg_per_day is None
        assert not view.dose.shows_dose and view.dose.maximum == "none"
    else:
        assert dose.max_mg_per_day is not None
        assert dose.start_mg_per_day <= dose.max_mg_per_day <= regimen.max_mg_per_day
        if a.renal.rule is not None and a.renal.rule.max_mg_per_day is not None:
            assert dose.max_mg_per_day <= a.renal.rule.max_mg_per_day
    for flag in a.flags:
        # Every flag's effect is reflected in the verdict: never a dose box that reassures beside it.
        assert VERDICT_RANK[dose.verdict] >= VERDICT_RANK[flag.verdict]
        if flag.verdict in NO_DOSE_VERDICTS:
            assert dose.max_mg_per_day is None
        if flag.verdict != "standard":
            assert flag.code in dose.verdict_reasons
    if a.renal.rule is not None and a.renal.rule.dose_effect == DOSE_NONE:
        assert dose.max_mg_per_day is None
    label_formula = a.renal.estimate("cockcroft-gault")
    if label_formula is not None and a.renal.used is not None and dose.max_mg_per_day is not None:
        # A dose above what the label's own formula (Cockcroft-Gault, actual weight) would allow is
        # never presented as confirmed, whichever estimate was followed.
        labelled = labelled_dose(regimen, label_formula.rule)
        if labelled.max_mg_per_day is None or dose.max_mg_per_day > labelled.max_mg_per_day:
            assert not dose.renal_confirmed and dose.verdict != "standard"
    if not a.renal.given:
        assert not dose.renal_confirmed
        assert view.dose.heading.startswith("Dose not confirmed") or view.dose.confirmation
    assert view.status_line


@settings(max_examples=600, deadline=None)
@given(requests)
def test_valid_input_never_crashes_and_keeps_every_dose_invariant(data):
    result = parse_request(data, known_indications=KNOWN, known_conditions=CONDITIONS)
    if not result.ok:
        assert result.errors
        return
    check_dose_invariants(assess(result.factors, CAT, today=TODAY), CAT)


# ------------------------------------------------------------------ clinical paths on factors

labelling = st.sampled_from([("us", "ir"), ("us", "xr"), ("eu", "ir")])
hepatic = st.one_of(st.none(), st.sampled_from([HepaticClass("A"), HepaticClass("B"), HepaticClass("C")]))
medications = st.lists(st.sampled_from(MEDICATION_NAMES), max_size=4, unique=True)
conditions = st.lists(st.sampled_from(sorted(CONDITIONS)), max_size=3, unique=True)
focus = st.lists(st.sampled_from(sorted(KNOWN)), max_size=2, unique=True)


def factors(region_formulation, renal=None, **kwargs):
    region, formulation = region_formulation
    return PatientFactors(region=region, formulation=formulation, renal=renal, **kwargs)


def max_dose(a) -> int:
    return a.dose.max_mg_per_day or 0


@settings(max_examples=400, deadline=None)
@given(labelling, st.floats(0, 250), st.floats(0, 250), hepatic, medications, conditions, focus)
def test_maximum_never_rises_as_entered_clearance_falls(rf, c1, c2, hep, meds, conds, ind):
    high, low = max(c1, c2), min(c1, c2)
    common = {
        "hepatic": hep,
        "medications": tuple(meds),
        "conditions": tuple(conds),
        "indications": tuple(ind),
    }
    a_high = assess(factors(rf, RenalEntered(high), **common), CAT, today=TODAY)
    a_low = assess(factors(rf, RenalEntered(low), **common), CAT, today=TODAY)
    assert max_dose(a_low) <= max_dose(a_high)
    check_dose_invariants(a_low, CAT)
    check_dose_invariants(a_high, CAT)


@settings(max_examples=300, deadline=None)
@given(
    labelling,
    st.floats(18, 120),
    st.sampled_from(["female", "male"]),
    st.floats(40, 200),
    st.one_of(st.none(), st.floats(140, 200)),
    st.floats(0.3, 15),
    st.floats(1.0, 4.0),
)
def test_maximum_never_rises_as_creatinine_rises(rf, age, sex, kg, height, scr, factor):
    def renal(creatinine):
        return RenalEstimate(
            age_years=age,
            sex=sex,
            weight=Measure(kg, "kg"),
            serum_creatinine=Measure(creatinine, "mg/dL"),
            height=Measure(height, "cm") if height else None,
        )

    better = assess(factors(rf, renal(scr)), CAT, today=TODAY)
    worse = assess(factors(rf, renal(min(scr * factor, 20))), CAT, today=TODAY)
    assert max_dose(worse) <= max_dose(better)
    # With several estimates the dose follows the lowest unless chosen otherwise.
    if worse.renal.chosen_by == "conservative":
        assert worse.renal.crcl_ml_min == min(e.crcl_ml_min for e in worse.renal.estimates)


renal_any = st.one_of(
    st.none(),
    st.just(Dialysis()),
    st.floats(0, 250).map(RenalEntered),
)


@settings(max_examples=500, deadline=None)
@given(labelling, renal_any, hepatic, medications, st.sampled_from(MEDICATION_NAMES), conditions, focus)
def test_adding_a_medication_never_lowers_the_verdict(rf, renal, hep, meds, extra, conds, ind):
    common = {"hepatic": hep, "conditions": tuple(conds), "indications": tuple(ind)}
    before = assess(factors(rf, renal, medications=tuple(meds), **common), CAT, today=TODAY)
    after = assess(factors(rf, renal, medications=(*meds, extra), **common), CAT, today=TODAY)
    assert VERDICT_RANK[after.dose.verdict] >= VERDICT_RANK[before.dose.verdict]
    assert max_dose(after) <= max_dose(before)
    assert after.dose.renal_confirmed <= before.dose.renal_confirmed
    check_dose_invariants(after, CAT)


@settings(max_examples=300, deadline=None)
@given(labelling, renal_any, medications, conditions)
def test_a_not_recommended_rule_always_removes_the_number(rf, renal, meds, conds):
    # EU Child-Pugh C is "not recommended" (critical) in the universe; EU NMDA antagonists too.
    a = assess(
        factors(
            ("eu", "ir"), renal, hepatic=HepaticClass("C"), medications=tuple(meds), conditions=tuple(conds)
        ),
        CAT,
        today=TODAY,
    )
    assert a.dose.verdict in NO_DOSE_VERDICTS
    assert a.dose.max_mg_per_day is None and a.dose.start_mg_per_day is None
    assert a.dose.verdict_reasons[0] in ("hepatic-severe", "renal-no-data", "nmda-antagonist")
    assert not present(a, CAT).dose.shows_dose


@settings(max_examples=300, deadline=None)
@given(
    labelling,
    st.floats(18, 120),
    st.sampled_from(["female", "male"]),
    st.floats(40, 200),
    st.floats(140, 200),
    st.floats(0.3, 15),
)
def test_the_unit_a_weight_or_height_is_given_in_never_changes_the_estimates(rf, age, sex, kg, cm, scr):
    def renal(weight, height):
        return RenalEstimate(
            age_years=age, sex=sex, weight=weight, serum_creatinine=Measure(scr, "mg/dL"), height=height
        )

    metric = assess(factors(rf, renal(Measure(kg, "kg"), Measure(cm, "cm"))), CAT, today=TODAY)
    imperial = assess(
        factors(rf, renal(Measure(kg / KG_PER_LB, "lb"), Measure(cm / CM_PER_IN, "in"))), CAT, today=TODAY
    )
    assert [e.method for e in metric.renal.estimates] == [e.method for e in imperial.renal.estimates]
    for a, b in zip(metric.renal.estimates, imperial.renal.estimates, strict=True):
        assert a.crcl_ml_min == pytest.approx(b.crcl_ml_min, rel=1e-9)
    check_dose_invariants(imperial, CAT)


@settings(max_examples=400, deadline=None)
@given(
    labelling,
    st.floats(18, 120),
    st.sampled_from(["female", "male"]),
    st.floats(35, 200),
    st.one_of(st.none(), st.floats(140, 200)),
    st.floats(0.3, 15),
    st.one_of(st.none(), st.floats(1, 200)),
    st.data(),
)
def test_any_estimate_a_clinician_may_choose_keeps_every_invariant(rf, age, sex, kg, cm, scr, egfr, data):
    renal = RenalEstimate(
        age_years=age,
        sex=sex,
        weight=Measure(kg, "kg"),
        serum_creatinine=Measure(scr, "mg/dL"),
        height=Measure(cm, "cm") if cm else None,
        egfr_ml_min_1_73m2=egfr,
    )
    choices = [
        e.method for e in compute_estimates(renal) if e.method in CHOOSABLE_ESTIMATES and e.crcl_ml_min <= 250
    ]
    # Only what parse_request accepts: a plausible clearance and a choice among the estimates.
    assume(choices and check_clearance(renal) <= 250)
    use = data.draw(st.sampled_from(choices))
    a = assess(factors(rf, replace(renal, use_estimate=use)), CAT, today=TODAY)
    check_dose_invariants(a, CAT)
