"""The patient sheet's titration calendar and notes (indications.engine.patient), on the test universe.

Pure: no database. The safety rules first: no calendar (and so no dose number) under a verdict that
gives no dose, under an unconfirmed dose, or when the steps do not lead exactly to this patient's
dose; the calendar never goes above this patient's maximum.
"""

import datetime
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indications.engine import PatientFactors, assess
from indications.engine.catalogue import Catalogue
from indications.engine.checks import step_doses, step_mg_per_day, titration_step_problems
from indications.engine.factors import Dialysis, HepaticClass, RenalEntered
from indications.engine.patient import (
    NO_DOSE,
    NO_STEPS,
    NOT_REACHED,
    UNCONFIRMED,
    patient_sheet,
    titration_calendar,
)
from indications.engine.vocabulary import NO_DOSE_VERDICTS

from .universe import universe, universe_snapshot

CAT = universe()
TODAY = datetime.date(2026, 11, 26)
START = datetime.date(2026, 12, 1)


def run(catalogue=CAT, **kwargs):
    return assess(PatientFactors(**kwargs), catalogue, today=TODAY)


def sheet(catalogue=CAT, start=START, **kwargs):
    return patient_sheet(run(catalogue, **kwargs), catalogue, start=start)


# ------------------------------------------------------------------ reading the steps


@pytest.mark.parametrize(
    "text, doses, daily",
    [
        ("5 mg once a day", ((5, 1),), 5),
        ("5 mg twice daily", ((5, 2),), 10),
        ("5 mg in the morning and 10 mg in the evening", ((5, 1), (10, 1)), 15),
        ("10 mg in the morning and 10 mg in the evening", ((10, 1), (10, 1)), 20),
        ("28 mg once a day", ((28, 1),), 28),
    ],
)
def test_a_step_is_read_as_doses_with_how_often(text, doses, daily):
    assert step_doses(text) == doses
    assert step_mg_per_day(text) == daily


@pytest.mark.parametrize(
    "text",
    [
        "5 mg",  # no frequency
        "5 mg and 10 mg as separate doses",  # the label's words: not a schedule a patient can follow
        "10 mg twice daily, with food",  # something else besides the doses
        "5 mg in the morning and 10 mg",  # one dose without its time
        "five mg once a day",  # a dose in words
        "",
    ],
)
def test_a_step_that_is_not_a_schedule_is_not_read(text):
    assert step_mg_per_day(text) is None


def test_step_problems_name_each_broken_rule():
    ok = ["5 mg once a day", "5 mg twice a day", "10 mg twice a day"]
    assert titration_step_problems(ok, start_mg_per_day=5, max_mg_per_day=20, strengths=[5, 10]) == []
    problems = titration_step_problems(
        ["10 mg once a day", "5 mg twice a day"], start_mg_per_day=5, max_mg_per_day=20, strengths=[5, 10]
    )
    assert any("does not rise" in p for p in problems)
    assert any("first step (10 mg/day) is not the starting dose" in p for p in problems)
    assert any("last step (10 mg/day) is not the maximum" in p for p in problems)
    unmade = titration_step_problems(
        ["7 mg once a day", "14 mg once a day"], start_mg_per_day=7, max_mg_per_day=14, strengths=[5, 10]
    )
    assert any("7 mg cannot be made" in p for p in unmade)
    unread = titration_step_problems(
        ["5 mg", "10 mg twice a day"], start_mg_per_day=5, max_mg_per_day=20, strengths=[5, 10]
    )
    assert any("Step 1 “5 mg” is not read" in p for p in unread)


# ------------------------------------------------------------------ calendars


def test_us_ir_calendar_with_dates_from_the_start_date():
    cal = sheet(renal=RenalEntered(90)).calendar
    assert cal.withheld == ""
    assert [s.take for s in cal.steps] == [
        "5 mg once a day",
        "5 mg in the morning and 5 mg in the evening",
        "5 mg in the morning and 10 mg in the evening",
        "10 mg in the morning and 10 mg in the evening",
    ]
    assert [s.total for s in cal.steps] == ["5 mg", "10 mg", "15 mg", "20 mg"]
    # Day 1 is the start date; step k starts k weeks later; the last step has no end.
    assert [s.starts for s in cal.steps] == [START + datetime.timedelta(days=7 * k) for k in range(4)]
    assert [s.ends for s in cal.steps] == [
        datetime.date(2026, 12, 7),
        datetime.date(2026, 12, 14),
        datetime.date(2026, 12, 21),
        None,
    ]
    assert cal.steps[-1].is_last and not cal.steps[0].is_last


def test_without_a_start_date_the_calendar_counts_weeks():
    cal = sheet(renal=RenalEntered(90), start=None).calendar
    assert [s.starts for s in cal.steps] == [None] * 4
    assert [s.weeks for s in cal.steps] == ["Week 1", "Week 2", "Week 3", "Week 4 and after"]


def test_steps_longer_than_a_week_are_counted_in_weeks_or_days():
    snapshot = universe_snapshot()
    snapshot["regimens"][0]["step_days"] = 14
    cat = Catalogue.from_snapshot(snapshot, version="t")
    cal = sheet(cat, start=None, renal=RenalEntered(90)).calendar
    assert [s.weeks for s in cal.steps] == [
        "Weeks 1 to 2",
        "Weeks 3 to 4",
        "Weeks 5 to 6",
        "Week 7 and after",
    ]
    with_dates = sheet(cat, renal=RenalEntered(90)).calendar
    assert with_dates.steps[1].starts == START + datetime.timedelta(days=14)
    snapshot["regimens"][0]["step_days"] = 10
    cal = sheet(Catalogue.from_snapshot(snapshot, version="t"), start=None, renal=RenalEntered(90)).calendar
    assert [s.weeks for s in cal.steps][:2] == ["Day 1 to 10", "Day 11 to 20"]
    assert cal.steps[-1].weeks == "Day 31 and after"


@pytest.mark.parametrize(
    "region, formulation, totals",
    [("us", "xr", ["7 mg", "14 mg", "21 mg", "28 mg"]), ("eu", "ir", ["5 mg", "10 mg", "15 mg", "20 mg"])],
)
def test_each_regimen_has_its_own_calendar(region, formulation, totals):
    cal = sheet(region=region, formulation=formulation, renal=RenalEntered(90)).calendar
    assert [s.total for s in cal.steps] == totals


@pytest.mark.parametrize(
    "region, formulation, last",
    [("us", "ir", "5 mg in the morning and 5 mg in the evening"), ("us", "xr", "14 mg once a day"),
     ("eu", "ir", "10 mg once a day")],
)  # fmt: skip
def test_severe_renal_impairment_stops_the_calendar_at_the_renal_cap_and_names_the_kidneys(
    region, formulation, last
):
    result = sheet(region=region, formulation=formulation, renal=RenalEntered(25))
    assert result.calendar.steps[-1].take == last
    assert (
        result.calendar.steps[-1].mg_per_day
        == run(region=region, formulation=formulation, renal=RenalEntered(25)).dose.max_mg_per_day
    )
    assert len(result.calendar.steps) == 2
    assert result.kidneys
    assert [n.key for n in result.topic("kidneys")] == ["p-kidneys"]


def test_normal_kidneys_do_not_print_the_kidneys_line():
    assert not sheet(renal=RenalEntered(90)).kidneys
    assert not sheet(renal=RenalEntered(40)).kidneys  # US moderate: no change


# ------------------------------------------------------------------ no calendar, no number


def test_renal_function_not_given_gives_no_calendar():
    result = sheet()
    assert result.calendar.withheld == UNCONFIRMED
    assert result.calendar.steps == ()
    assert [n.key for n in result.withheld_notes] == ["p-ask-for-dose"]


def test_an_unrecognised_medication_gives_no_calendar_even_under_a_stronger_verdict():
    # US Child-Pugh C makes the verdict "caution"; the unrecognised name still leaves the dose unconfirmed.
    a = run(renal=RenalEntered(90), hepatic=HepaticClass("C"), medications=("notadrug",))
    assert a.dose.verdict == "caution"
    assert patient_sheet(a, CAT, start=START).calendar.withheld == UNCONFIRMED


@pytest.mark.parametrize(
    "factors",
    [
        {"renal": Dialysis()},
        {"renal": RenalEntered(3)},
        {"region": "eu", "renal": RenalEntered(90), "hepatic": HepaticClass("C")},  # not recommended
        {"region": "eu", "renal": RenalEntered(90), "medications": ("amantadine",)},
    ],
)
def test_no_dose_verdicts_give_no_calendar_and_no_kidneys_line(factors):
    a = run(**factors)
    assert a.dose.verdict in NO_DOSE_VERDICTS
    result = patient_sheet(a, CAT, start=START)
    assert result.calendar.withheld == NO_DOSE and result.calendar.steps == ()
    assert not result.kidneys
    assert [n.key for n in result.withheld_notes] == ["p-ask-for-dose"]


def test_a_release_without_steps_gives_no_calendar():
    snapshot = universe_snapshot()
    for regimen in snapshot["regimens"]:
        regimen.pop("titration_steps")
    cat = Catalogue.from_snapshot(snapshot, version="old")
    assert sheet(cat, renal=RenalEntered(90)).calendar.withheld == NO_STEPS


@pytest.mark.parametrize(
    "steps",
    [
        ["5 mg once a day", "10 mg once a day", "15 mg once a day"],  # never reaches 20 (normal kidneys)
        ["5 mg once a day", "15 mg once a day", "20 mg once a day"],  # severe: nothing ends at 10
        ["10 mg once a day", "20 mg once a day"],  # does not start at 5
        ["5 mg once a day", "5 mg and 5 mg", "20 mg once a day"],  # a step that cannot be read
    ],
)
def test_steps_that_do_not_lead_to_this_patients_dose_give_no_calendar(steps):
    snapshot = universe_snapshot()
    snapshot["regimens"][0]["titration_steps"] = steps
    cat = Catalogue.from_snapshot(snapshot, version="t")
    results = [sheet(cat, renal=RenalEntered(90)), sheet(cat, renal=RenalEntered(25))]
    assert any(r.calendar.withheld == NOT_REACHED for r in results)
    for result in results:
        assert result.calendar.withheld in ("", NOT_REACHED)
        if result.calendar.withheld:
            assert [n.key for n in result.withheld_notes] == ["p-doctor-explains-dose"]


def test_a_dose_without_renal_confirmation_gives_no_calendar_even_if_the_verdict_is_standard():
    dose = run(renal=RenalEntered(90)).dose
    assert titration_calendar(dose, start=START).shown
    assert titration_calendar(replace(dose, renal_confirmed=False), start=START).withheld == UNCONFIRMED
    assert titration_calendar(dose, start=START, doubt=True).withheld == UNCONFIRMED


# ------------------------------------------------------------------ uses and notes


def test_uses_in_focus_say_approved_or_off_label():
    result = sheet(renal=RenalEntered(90), indications=("alzheimers-disease", "fibromyalgia"))
    assert [(u.name, u.status_words) for u in result.uses] == [
        ("Alzheimers Disease", "approved use"),
        ("Fibromyalgia", "off-label use"),
    ]
    assert result.has_approved and result.has_off_label
    assert sheet(renal=RenalEntered(90)).uses == ()


def test_notes_follow_the_region():
    us, eu = sheet(renal=RenalEntered(90)), sheet(region="eu", renal=RenalEntered(90))
    assert [n.key for n in us.topic("off-label")] == ["p-off-label", "p-off-label-us"]
    assert [n.key for n in eu.topic("off-label")] == ["p-off-label"]
    assert [n.key for n in eu.topic("emergency")] == ["p-emergency", "p-emergency-eu"]


# ------------------------------------------------------------------ properties

factors = st.builds(
    PatientFactors,
    region=st.sampled_from(["us", "eu"]),
    formulation=st.sampled_from(["ir", "xr"]),
    renal=st.one_of(
        st.none(),
        st.just(Dialysis()),
        st.floats(0, 200, allow_nan=False).map(RenalEntered),
    ),
    hepatic=st.one_of(st.none(), st.sampled_from("ABC").map(HepaticClass)),
    medications=st.lists(
        st.sampled_from(["sertraline", "amantadine", "notadrug", "acetazolamide"]), max_size=2
    ).map(tuple),
    conditions=st.lists(st.sampled_from(["pregnancy", "breastfeeding", "seizure-disorder"]), max_size=2).map(
        tuple
    ),
)


@settings(max_examples=300, deadline=None)
@given(
    factors=factors,
    start=st.one_of(st.none(), st.dates(datetime.date(2025, 1, 1), datetime.date(2028, 1, 1))),
)
def test_the_calendar_never_exceeds_the_maximum_and_never_shows_under_a_withheld_dose(factors, start):
    if factors.region == "eu" and factors.formulation == "xr":
        factors = replace(factors, formulation="ir")
    a = assess(factors, CAT, today=TODAY)
    result = patient_sheet(a, CAT, start=start)
    steps = result.calendar.steps
    doubt = any(f.verdict == "unconfirmed" for f in a.flags)
    if (
        a.dose.verdict in NO_DOSE_VERDICTS
        or a.dose.verdict not in ("standard", "adjusted")
        or not a.dose.renal_confirmed
        or doubt
    ):
        assert steps == ()
        assert result.withheld_notes  # the sheet says to ask the doctor instead
        if a.dose.verdict in NO_DOSE_VERDICTS or a.dose.verdict == "caution":
            # The verdict's own note, and the flags behind it for the doctor to explain.
            assert result.advice in ("not-advised", "caution") and result.reasons
        return
    if step_mg_per_day(a.dose.regimen) is None:
        assert steps == ()  # a conditional regimen ("10 mg; up to 20 mg only after ...") is the doctor's
        return
    assert steps, "a confirmed dose on a regimen whose steps reach it has a calendar"
    assert steps[-1].mg_per_day == a.dose.max_mg_per_day
    assert all(s.mg_per_day <= a.dose.max_mg_per_day for s in steps)
    assert steps[0].mg_per_day == a.dose.start_mg_per_day
    if start is not None:
        assert steps[0].starts == start


def test_the_sources_printed_are_those_of_the_notes_printed():
    plain = sheet(CAT, renal=RenalEntered(90))
    assert "kidneys" not in plain.printed and "ask-for-dose" not in plain.printed
    severe = sheet(CAT, renal=RenalEntered(25))
    assert "kidneys" in severe.printed
    for result in (plain, severe):
        printed = {s for notes in result.printed.values() for n in notes for s in n.sources}
        assert set(result.sources) == printed
