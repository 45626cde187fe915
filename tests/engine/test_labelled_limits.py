"""Doses against the labelled limits, and the clinicians' "what changed" lines (pure)."""

import copy

import pytest
from hypothesis import given
from hypothesis import strategies as st

from indications.engine.checks import (
    clinical_change_lines,
    dose_limit_problems,
    made_of_strengths,
    text_dose_problems,
    word_diff,
)

from .universe import universe_snapshot


def with_regimen(**fields) -> dict:
    snapshot = universe_snapshot()
    regimen = next(r for r in snapshot["regimens"] if (r["region"], r["formulation"]) == ("us", "ir"))
    regimen.update(fields)
    return snapshot


def test_the_universe_is_within_its_limits():
    assert dose_limit_problems(universe_snapshot()) == []


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {"max_mg_per_day": 200},
            "the maximum (200 mg/day) is above the labelled maximum for IR (20 mg/day)",
        ),
        ({"max_mg_per_day": 25}, "the maximum (25 mg/day) is above the labelled maximum"),
        (
            {"max_mg_per_day": 12},
            "the maximum (12 mg/day) cannot be made of the available IR strengths (5, 10 mg)",
        ),
        ({"start_mg_per_day": 7}, "the start (7 mg/day) cannot be made of the available IR strengths"),
        ({"start_mg_per_day": 20, "max_mg_per_day": 10}, "the start is above the maximum"),
    ],
)
def test_regimen_doses_outside_the_labelling_are_refused(fields, expected):
    problems = dose_limit_problems(with_regimen(**fields))
    assert any(expected in p for p in problems), problems


def test_renal_rule_doses_are_checked_against_the_same_limits():
    snapshot = universe_snapshot()
    rule = next(r for r in snapshot["renal_rules"] if r["max_mg_per_day"] and r["formulation"] == "ir")
    rule["max_mg_per_day"] = 40
    problems = dose_limit_problems(snapshot)
    assert any("the maximum (40 mg/day) is above the labelled maximum" in p for p in problems)
    rule["max_mg_per_day"] = 3
    rule["start_mg_per_day"] = None
    problems = dose_limit_problems(snapshot)
    assert any("cannot be made of" in p for p in problems)
    assert any("is above its maximum (3 mg/day)" in p for p in problems)


def test_an_xr_dose_must_be_a_capsule_strength_and_its_ir_equivalent_within_the_ir_maximum():
    snapshot = universe_snapshot()
    xr = next(r for r in snapshot["regimens"] if r["formulation"] == "xr")
    xr["max_mg_per_day"] = 30
    xr["ir_equivalent_max_mg_per_day"] = 40
    problems = " ".join(dose_limit_problems(snapshot))
    assert "above the labelled maximum for XR (28 mg/day)" in problems
    assert "cannot be made of the available XR strengths (7, 14, 21, 28 mg)" in problems
    assert "immediate-release equivalent (40 mg/day)" in problems


def test_a_regimen_without_limits_for_its_formulation_is_refused():
    snapshot = universe_snapshot()
    snapshot["labelled_limits"] = [lim for lim in snapshot["labelled_limits"] if lim["formulation"] != "xr"]
    assert any("no labelled limits for its formulation" in p for p in dose_limit_problems(snapshot))


@given(st.integers(min_value=1, max_value=400))
def test_made_of_strengths_is_exactly_the_multiples(dose):
    assert made_of_strengths(dose, [5, 10]) == (dose % 5 == 0)
    assert made_of_strengths(dose, [7, 14, 21, 28]) == (dose % 7 == 0)


def test_clinical_change_lines_name_doses_ratings_severities_and_rules():
    old = universe_snapshot()
    new = copy.deepcopy(old)
    new["regimens"][0]["max_mg_per_day"] = 10
    new["indications"][0]["evidence"]["strength"] = "C"
    new["indications"][0]["evidence_summary"] += " More words."  # not a clinical change
    flagged = next(r for r in new["interaction_rules"] if r["flag"])
    flagged["flag"]["severity"] = "info"
    removed = new["hepatic_rules"].pop()
    lines = clinical_change_lines(old, new)
    regimen = new["regimens"][0]
    assert f"Regimen {regimen['region']} {regimen['formulation']}: maximum (mg/day) 20 → 10." in lines
    slug, strength = new["indications"][0]["slug"], old["indications"][0]["evidence"]["strength"]
    assert f"Indication {slug}: strength of evidence {strength} → C." in lines
    assert any("severity" in line and "→ info" in line for line in lines)
    assert any(
        line.startswith("Hepatic rule removed:") and removed["child_pugh_class"] in line for line in lines
    )
    assert not any("summary" in line for line in lines)
    assert clinical_change_lines(old, copy.deepcopy(old)) == []


def test_word_diff_marks_only_the_changed_words():
    assert word_diff("take 10 mg twice daily", "take 5 mg twice daily") == [
        ("same", "take"),
        ("del", "10"),
        ("ins", "5"),
        ("same", "mg twice daily"),
    ]


@pytest.mark.parametrize(
    ("text", "maximum", "expected"),
    [
        ("20 mg twice daily", 10, "“20 mg twice daily” (40 mg/day), above its maximum (10 mg/day)"),
        ("Week 4: up to 40 mg/day", 20, "“40 mg/day” (40 mg/day), above its maximum (20 mg/day)"),
        ("28 mg twice daily", 28, "(56 mg/day), above its maximum (28 mg/day)"),
        ("one 30 mg capsule", 28, "“30 mg”, above the labelled maximum (28 mg/day)"),
    ],
)
def test_doses_written_in_words_are_checked_against_the_numbers(text, maximum, expected):
    problems = text_dose_problems(text, "Renal rule US IR severe: the regimen", maximum, maximum)
    assert any(expected in p for p in problems), problems


@pytest.mark.parametrize(
    "text",
    [
        "5 mg twice daily (10 mg/day)",
        "Week 3: 5 mg and 10 mg as separate doses.",
        "oral solution 2 mg/mL; 7 mg/day then 14 mg/day",
        "No labelled dose",
    ],
)
def test_doses_within_the_numbers_pass(text):
    assert text_dose_problems(text, "x", 20, 20) == []


@pytest.mark.parametrize(
    "text",
    [
        "20 mg daily",
        "10 mg BID",
        "10 mg bd",
        "10 mg b.i.d.",
        "10 mg twice-daily",
        "10 mg, twice daily",
        "10 mg every 12 hours",
        "20 mg qd",
        "20 mg/d",
        "20 mg/24 h",
        "20 mgs/day",
        "20 milligrams per day",
        "2 x 10 mg twice daily",
        "8 mg tds",
    ],
)
def test_doses_written_every_way_a_prescriber_writes_them_are_read(text):
    """The second attack review's list: each is more than 10 mg/day."""
    assert text_dose_problems(text, "Renal rule US IR severe: the regimen", 10, 20), text


def test_a_dose_in_words_is_refused_so_that_it_can_be_checked():
    [problem] = text_dose_problems("twenty mg/day", "x", 20, 20)
    assert "write doses in digits" in problem
