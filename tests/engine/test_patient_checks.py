"""Publishing checks on what the patient sheet prints (pure engine): titration steps read in linear
time and within bounds, the labelled interval between steps, and no amount of medicine in a note."""

import copy

import pytest

from indications.engine.checks import (
    MAX_STEPS,
    dose_limit_problems,
    made_of_strengths,
    patient_note_problems,
    regimen_doses,
    step_mg_per_day,
    titration_step_problems,
)

from .universe import universe_snapshot


@pytest.mark.parametrize(
    "text, mg",
    [
        ("5 mg once a day", 5),
        ("Take 5 mg once a day by mouth.", 5),
        ("5 mg" + "\u00a0" * 150 + "once a day", 5),  # a run of non-breaking spaces reads as one space
        ("  5   mg   twice   daily  ", 10),
        ("5 mg in the morning and 10 mg in the evening", 15),
    ],
)
def test_steps_are_read_whatever_the_spacing(text, mg):
    assert step_mg_per_day(text) == mg


def test_a_step_too_long_to_be_one_is_not_read():
    assert regimen_doses("5 mg " + " " * 5000 + "once a day", whole=True) is None
    assert step_mg_per_day("5 mg once a day" + " x" * 200) is None


def test_an_absurd_amount_is_refused_without_a_table_that_size():
    assert made_of_strengths(10**9, [5, 10]) is False
    assert made_of_strengths(1000, [5, 10]) is True
    problems = titration_step_problems(
        ["5 mg once a day", "10000000 mg once a day"],
        start_mg_per_day=5,
        max_mg_per_day=20,
        strengths=[5, 10],
    )
    assert any("cannot be made of the available strengths" in p for p in problems)


def test_at_most_twelve_steps():
    steps = [f"{5 * n} mg once a day" for n in range(1, MAX_STEPS + 2)]
    assert titration_step_problems(steps, start_mg_per_day=5, max_mg_per_day=65, strengths=[5]) == [
        f"{MAX_STEPS + 1} titration steps: at most {MAX_STEPS}."
    ]


def test_a_step_shorter_than_the_labelled_interval_is_refused():
    snapshot = universe_snapshot()
    assert not [p for p in dose_limit_problems(snapshot) if "at least" in p and "days" in p]
    short = copy.deepcopy(snapshot)
    short["regimens"][0]["step_days"] = 1
    assert any("must last at least 7 days" in p for p in dose_limit_problems(short))
    stricter = copy.deepcopy(snapshot)
    for limit in stricter["labelled_limits"]:
        limit["min_step_days"] = 14
    assert any("must last at least 14 days" in p for p in dose_limit_problems(stricter))


@pytest.mark.parametrize(
    "text",
    [
        "Take 20 mg in the morning and 20 mg in the evening.",
        "Take two 10 mg tablets twice a day",
        "Take 5 tablets each day",
        "10mg x4 daily",
        "0.02 g once a day",
        "20000 micrograms once a day",
        "4O mg",
        "half a tablet at night",
        "one capsule",
    ],
)
def test_a_patient_note_may_state_no_amount(text):
    snapshot = universe_snapshot()
    note = copy.deepcopy(snapshot["patient_notes"][0])
    note.update(key="attack", text=text)
    snapshot["patient_notes"].append(note)
    assert any("“attack” states an amount" in p for p in patient_note_problems(snapshot))


def test_the_seed_style_notes_pass():
    snapshot = universe_snapshot()
    assert not [p for p in patient_note_problems(snapshot) if "states an amount" in p]
