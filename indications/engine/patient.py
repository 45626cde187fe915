"""The patient sheet: a titration calendar with dates, and the plain-language notes that go with it.

Pure like the rest of the engine (no Django, no I/O, no clock: the caller passes the start date).
The calendar is made only from the catalogue's structured titration steps (``DoseRegimen
.titration_steps``) and the engine's dose for this patient. A false reassurance is the worst defect
this sheet can have, so it shows no calendar and no dose number at all whenever the dose is not
firmly given:

- the verdict gives no dose (``NO_DOSE_VERDICTS``);
- the dose is not confirmed: the verdict is "unconfirmed", renal function was not given or is in
  doubt, or any flag casts doubt on the dose (a medication not recognised, ...);
- the verdict is "use with caution" (another medicine, memantine already taken, a condition, the
  liver): the doctor decides the dose, and the sheet says why in the catalogue's words;
- the regimen has no titration steps, a step cannot be read, the steps up to this patient's maximum
  do not begin at this patient's starting dose and end exactly at this patient's maximum, or the
  dose's own regimen is not one dose the last step gives (a renal rule's conditional regimen, such
  as "10 mg; up to 20 mg only after 7 days if tolerated").

The sheet then says plainly to ask the doctor for the dose (the catalogue's "ask-for-dose" or
"doctor-explains-dose" note). Every word the patient reads comes from the catalogue; this module
only decides which steps and notes apply and when each step starts.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, timedelta

from .assess import Assessment, Dose
from .catalogue import Catalogue, PatientNote
from .checks import step_mg_per_day
from .vocabulary import ANY_REGION, DOSE_ADJUSTED, NO_DOSE_VERDICTS, PATIENT_STATUS_WORDS

# Why a sheet has no calendar (the note it prints instead is the catalogue's, by topic).
NO_DOSE = "no-dose"  # the verdict gives no dose
UNCONFIRMED = "unconfirmed"  # the dose is not confirmed for this patient
NO_STEPS = "no-steps"  # the regimen has no titration steps (a release made before them)
NOT_REACHED = "not-reached"  # the steps do not lead to this patient's dose
CAUTION = "caution"  # "use with caution": the doctor decides the dose
WITHHELD_TOPICS = {
    NO_DOSE: "ask-for-dose",
    UNCONFIRMED: "ask-for-dose",
    CAUTION: "ask-for-dose",
    NO_STEPS: "ask-for-dose",
    NOT_REACHED: "doctor-explains-dose",
}


@dataclass(frozen=True)
class CalendarStep:
    """One step of the calendar: when it starts (and ends), what to take, and the total a day."""

    number: int  # 1, 2, ...
    first_day: int  # the day of treatment it starts on (day 1 = the start date)
    last_day: int | None  # None for the last step ("and after")
    starts: date | None  # the dates, when a start date was given
    ends: date | None
    take: str  # the catalogue's words: "5 mg in the morning and 10 mg in the evening"
    mg_per_day: float

    @property
    def is_last(self) -> bool:
        return self.last_day is None

    @property
    def total(self) -> str:
        return f"{self.mg_per_day:g} mg"

    @property
    def weeks(self) -> str:
        """ "Week 1", or "Day 1 to 10" when a step is not a whole number of weeks; the last step
        "Week 4 and after" (for a calendar without dates)."""
        if (self.first_day - 1) % 7 == 0 and (self.last_day is None or self.last_day % 7 == 0):
            first = (self.first_day - 1) // 7 + 1
            if self.last_day is None:
                return f"Week {first} and after"
            last = self.last_day // 7
            return f"Week {first}" if first == last else f"Weeks {first} to {last}"
        if self.last_day is None:
            return f"Day {self.first_day} and after"
        return f"Day {self.first_day} to {self.last_day}"


@dataclass(frozen=True)
class Calendar:
    steps: tuple[CalendarStep, ...]  # empty when withheld
    withheld: str  # "" when there is a calendar, else why not (NO_DOSE, UNCONFIRMED, ...)
    step_days: int = 7

    @property
    def shown(self) -> bool:
        return bool(self.steps)


def _withheld(reason: str) -> Calendar:
    return Calendar(steps=(), withheld=reason)


def titration_calendar(dose: Dose, *, start: date | None, doubt: bool = False) -> Calendar:
    """The calendar for this patient's dose: the regimen's steps whose daily dose is at most this
    patient's maximum, day 1 being ``start`` (no start: the steps are counted in weeks). ``doubt``:
    something outside the dose (a flag) says the dose is not confirmed. See the module docstring for
    every case in which no calendar is given."""
    if dose.verdict in NO_DOSE_VERDICTS or dose.max_mg_per_day is None or dose.start_mg_per_day is None:
        return _withheld(NO_DOSE)
    if dose.verdict == "unconfirmed" or not dose.renal_confirmed or doubt:
        return _withheld(UNCONFIRMED)
    if dose.verdict not in ("standard", "adjusted"):
        return _withheld(CAUTION)
    regimen = dose.labelled
    if regimen is None or not regimen.titration_steps or regimen.step_days < 1:
        return _withheld(NO_STEPS)
    read = [(text, step_mg_per_day(text)) for text in regimen.titration_steps]
    if any(mg is None for _, mg in read):
        return _withheld(NOT_REACHED)
    kept = [(text, mg) for text, mg in read if mg <= dose.max_mg_per_day]
    daily = [mg for _, mg in kept]
    if (
        not kept
        or daily[0] != dose.start_mg_per_day
        or daily[-1] != dose.max_mg_per_day
        or any(after <= before for before, after in itertools.pairwise(daily))
        or step_mg_per_day(dose.regimen) != daily[-1]
    ):
        return _withheld(NOT_REACHED)
    days = regimen.step_days
    steps = []
    for index, (text, mg) in enumerate(kept):
        last = index == len(kept) - 1
        first_day = index * days + 1
        last_day = None if last else (index + 1) * days
        steps.append(
            CalendarStep(
                number=index + 1,
                first_day=first_day,
                last_day=last_day,
                starts=None if start is None else start + timedelta(days=first_day - 1),
                ends=None if start is None or last_day is None else start + timedelta(days=last_day - 1),
                take=text,
                mg_per_day=mg,
            )
        )
    return Calendar(steps=tuple(steps), withheld="", step_days=days)


@dataclass(frozen=True)
class Use:
    """An indication in focus as the patient reads it: its name and whether it is approved."""

    name: str
    status: str  # approved | off-label
    status_words: str  # "approved use" | "off-label use"


@dataclass(frozen=True)
class PatientSheet:
    catalogue_version: str
    region: str
    formulation: str
    uses: tuple[Use, ...]  # the indications in focus (none: the "no-use-chosen" note is printed)
    calendar: Calendar
    kidneys: bool  # a renal rule lowered (or may lower) the dose: the "kidneys" note is printed
    advice: str  # "caution" or "not-advised" when the verdict says so (its notes are printed), else ""
    reasons: tuple[str, ...]  # the titles of the flags behind that verdict, for the doctor to explain
    notes: dict[str, tuple[PatientNote, ...]]  # topic -> the notes for this region, in order

    def topic(self, name: str) -> tuple[PatientNote, ...]:
        return self.notes.get(name, ())

    @property
    def withheld_notes(self) -> tuple[PatientNote, ...]:
        """What the sheet says instead of a calendar."""
        if self.calendar.shown:
            return ()
        return self.topic(WITHHELD_TOPICS[self.calendar.withheld])

    @property
    def printed(self) -> dict[str, tuple[PatientNote, ...]]:
        """The notes this sheet prints, by topic: what it always says, and what applies to this
        patient (the uses in focus, the verdict's advice, why there is no calendar, the kidneys). No
        how-to-take advice when memantine is not advised."""
        topics = ["about"]
        if self.uses:
            topics += [
                t for t, on in (("approved", self.has_approved), ("off-label", self.has_off_label)) if on
            ]
        else:
            topics.append("no-use-chosen")
        if self.advice:
            topics.append(self.advice)
        if not self.calendar.shown and self.advice != "not-advised":
            topics.append(WITHHELD_TOPICS[self.calendar.withheld])
        if self.kidneys:
            topics.append("kidneys")
        if self.advice != "not-advised":
            topics.append("how-to-take")
        topics += ["side-effects", "call-doctor", "emergency"]
        return {topic: self.topic(topic) for topic in dict.fromkeys(topics)}

    @property
    def sources(self) -> tuple:
        """The sources of every note printed, once each, in the order they first appear."""
        return tuple(dict.fromkeys(s for notes in self.printed.values() for n in notes for s in n.sources))

    @property
    def has_off_label(self) -> bool:
        return any(u.status == "off-label" for u in self.uses)

    @property
    def has_approved(self) -> bool:
        return any(u.status == "approved" for u in self.uses)


def patient_sheet(assessment: Assessment, catalogue: Catalogue, *, start: date | None) -> PatientSheet:
    """Everything the patient sheet prints for this assessment, from the catalogue of its release."""
    region = assessment.region
    doubt = any(f.verdict == "unconfirmed" for f in assessment.flags)
    verdict = assessment.dose.verdict
    advice = "not-advised" if verdict in NO_DOSE_VERDICTS else "caution" if verdict == "caution" else ""
    reasons = tuple(
        dict.fromkeys(
            f"{f.title.rstrip('.')} ({', '.join(f.triggers)})" if f.triggers else f.title.rstrip(".")
            for f in assessment.flags
            if advice and f.verdict == verdict
        )
    )
    calendar = titration_calendar(assessment.dose, start=start, doubt=doubt)
    rule = assessment.renal.rule
    kidneys = (
        rule is not None
        and rule.dose_effect == DOSE_ADJUSTED
        and assessment.dose.verdict not in NO_DOSE_VERDICTS
    )
    uses = tuple(
        Use(r.indication.name, r.indication.status, PATIENT_STATUS_WORDS.get(r.indication.status, ""))
        for r in assessment.indications
        if r.in_focus
    )
    notes: dict[str, list[PatientNote]] = {}
    for note in catalogue.patient_notes:
        if note.region in (ANY_REGION, region):
            notes.setdefault(note.topic, []).append(note)
    return PatientSheet(
        catalogue_version=assessment.catalogue_version,
        region=region,
        formulation=assessment.formulation,
        uses=uses,
        calendar=calendar,
        kidneys=kidneys,
        advice=advice,
        reasons=reasons,
        notes={topic: tuple(items) for topic, items in notes.items()},
    )
