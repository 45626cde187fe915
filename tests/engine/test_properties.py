"""Property-based: no input crashes parse_request or assess, and the dose never exceeds the renal cap."""

import datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from indications.engine import assess, parse_request
from indications.engine.catalogue import DOSE_NONE

from .universe import universe

CAT = universe()
TODAY = datetime.date(2026, 11, 26)
KNOWN = CAT.indications_by_slug

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
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
renal = st.one_of(
    st.none(),
    st.fixed_dictionaries({"crcl_ml_min": numbers}),
    st.fixed_dictionaries({"dialysis": st.one_of(st.booleans(), st.none(), st.text(max_size=3))}),
    st.fixed_dictionaries(
        {
            "age_years": numbers,
            "sex": st.sampled_from(["female", "male", "x"]),
            "weight_kg": numbers,
            "serum_creatinine": numbers,
            "creatinine_unit": st.sampled_from(["mg/dL", "umol/L", "g"]),
        },
        optional={"height_cm": numbers, "egfr_ml_min_1_73m2": numbers},
    ),
    anything,
)
hepatic = st.one_of(
    st.none(),
    st.fixed_dictionaries({"child_pugh_class": st.sampled_from(["A", "B", "C", "c", "D", 3])}),
    st.fixed_dictionaries(
        {
            "bilirubin_mg_dl": numbers,
            "albumin_g_dl": numbers,
            "inr": numbers,
            "ascites": st.sampled_from(["none", "mild", "moderate-severe", "x"]),
            "encephalopathy": st.sampled_from(["none", "grade-1-2", "grade-3-4", "x"]),
        }
    ),
    anything,
)
requests = st.fixed_dictionaries(
    {},
    optional={
        "region": st.sampled_from(["us", "eu", "uk", 1]),
        "formulation": st.sampled_from(["ir", "xr", "er"]),
        "renal": renal,
        "hepatic": hepatic,
        "medications": st.lists(
            st.sampled_from(["Zoloft", "amantadine", "warfarin", "  ", "unknown drug", "metformin 500mg"])
            | st.text(max_size=12),
            max_size=6,
        ),
        "conditions": st.lists(
            st.sampled_from(["pregnancy", "seizure-disorder", "renal-tubular-acidosis", "flu"]), max_size=3
        ),
        "indications": st.lists(st.sampled_from(["ocd", "fibromyalgia", "nope"]), max_size=2),
    },
)


@settings(max_examples=400, deadline=None)
@given(anything)
def test_parse_never_crashes_on_any_json(data):
    result = parse_request(data, known_indications=KNOWN)
    assert (result.factors is None) == bool(result.errors)


@settings(max_examples=600, deadline=None)
@given(requests)
def test_valid_input_never_crashes_and_never_exceeds_the_renal_cap(data):
    result = parse_request(data, known_indications=KNOWN)
    if not result.ok:
        assert result.errors
        return
    factors = result.factors
    a = assess(factors, CAT, today=TODAY)
    a.as_dict()
    regimen = CAT.regimen(factors.region, factors.formulation)
    rules = CAT.renal_rules_for(factors.region, factors.formulation)
    if a.renal.band == "unknown":
        assert a.dose.max_mg_per_day == regimen.max_mg_per_day
        return
    rule = next(r for r in rules if r.band == a.renal.band)
    if rule.dose_effect == DOSE_NONE:
        assert a.dose.max_mg_per_day is None and a.dose.start_mg_per_day is None
    else:
        cap = rule.max_mg_per_day if rule.max_mg_per_day is not None else regimen.max_mg_per_day
        assert a.dose.max_mg_per_day <= cap <= regimen.max_mg_per_day
        assert a.dose.start_mg_per_day <= a.dose.max_mg_per_day
