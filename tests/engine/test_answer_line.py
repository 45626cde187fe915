"""The answer line (pure engine): the verdict and the dose it allows, the critical and warning
counts, the studied-dose note for each indication in focus; never a number the verdict forbids."""

import datetime
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from indications.engine import PatientFactors, assess, present
from indications.engine.factors import Dialysis, HepaticClass, RenalEntered

from .universe import universe

CAT = universe()
TODAY = datetime.date(2026, 11, 26)


def answer(**kwargs):
    a = assess(PatientFactors(**kwargs), CAT, today=TODAY)
    return a, present(a, CAT)


def test_the_answer_line_is_the_dose_box_in_one_line():
    _, view = answer(renal=RenalEntered(25))
    line = view.answer
    assert line.verdict == view.dose.heading
    assert line.dose == view.dose.regimen == "5 mg twice daily"
    assert line.tone == view.dose.tone
    assert (line.critical, line.warning) == (view.counts["critical"], view.counts["warning"])
    assert line.flags_text == f"Flags: {line.critical} critical, {line.warning} warning"


def test_no_focus_no_studied_line_and_one_line_per_indication_in_focus():
    _, view = answer(renal=RenalEntered(90))
    assert view.answer.studied == ()
    _, view = answer(renal=RenalEntered(90), indications=("ocd", "alzheimers-disease"))
    assert len(view.answer.studied) == 2
    assert all("studied at" in s for s in view.answer.studied)


def test_a_use_studied_above_this_patients_maximum_says_so():
    _, view = answer(renal=RenalEntered(25), indications=("fibromyalgia",))
    (line,) = view.answer.studied
    assert line.startswith("Fibromyalgia: ")
    assert "20–30 mg/day" in line and "10 mg/day" in line
    assert line.endswith(view.indications[0].studied_above_cap)


def test_no_dose_in_the_answer_line_when_the_verdict_gives_none():
    for kwargs in (
        {"renal": Dialysis()},
        {"region": "eu", "renal": RenalEntered(90), "hepatic": HepaticClass("C")},
    ):
        _, view = answer(**kwargs)
        assert not view.dose.shows_dose
        assert view.answer.dose == ""
        assert not re.search(r"\d+ mg", view.answer.verdict)


@settings(max_examples=200, deadline=None)
@given(
    crcl=st.one_of(st.none(), st.floats(min_value=0, max_value=250)),
    dialysis=st.booleans(),
    child_pugh=st.sampled_from([None, "A", "B", "C"]),
    region=st.sampled_from(["us", "eu"]),
)
def test_the_answer_line_never_shows_a_dose_the_dose_box_does_not(crcl, dialysis, child_pugh, region):
    renal = Dialysis() if dialysis else (RenalEntered(crcl) if crcl is not None else None)
    hepatic = HepaticClass(child_pugh) if child_pugh else None
    _, view = answer(region=region, renal=renal, hepatic=hepatic)
    assert view.answer.dose == (view.dose.regimen if view.dose.shows_dose else "")
    assert view.answer.verdict == view.dose.heading
    assert view.answer.critical == sum(1 for f in view.flags if f.severity == "critical")


def test_not_confirmed_stays_in_the_answer_line_beside_a_stronger_verdict():
    """An unrecognised medicine with a caution flag: the verdict is "use with caution", and the line
    still says the dose is not confirmed (as the dose box does)."""
    _, view = answer(renal=RenalEntered(90), medications=("amantadine", "notadrug"))
    assert view.dose.verdict == "caution"
    assert view.answer.confirmations == view.dose.confirmations
    assert any("not checked" in line for line in view.answer.confirmations)


def test_an_extended_release_maximum_is_compared_with_doses_studied_as_immediate_release():
    _, view = answer(formulation="xr", renal=RenalEntered(25), indications=("fibromyalgia",))
    (line,) = view.answer.studied
    assert "(immediate release)" in line and "extended release" in line
    assert "14 mg/day extended release (10 mg/day as immediate release)" in line
