"""The intake form. It checks only what a web form must (numbers are numbers, choices are choices),
turns the answers into the JSON shape of the public API and hands them to the engine's
``parse_request``, the single source of truth for what is valid. Its errors come back beside the
field they concern. Its vocabularies come from the engine (regions, units, estimates) and from the
catalogue (indications, conditions, the tick boxes of drug classes)."""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Div, Field, Fieldset, Layout
from django import forms
from django.utils import timezone

from .engine import vocabulary as vocab
from .engine.catalogue import Catalogue
from .engine.factors import LIMITS, REQUIRED_MESSAGES, PatientFactors, parse_request

# Where an engine error path is shown on the form.
ERROR_FIELD = {
    "region": "region",
    "formulation": "formulation",
    "renal": "crcl_ml_min",
    "renal.crcl_ml_min": "crcl_ml_min",
    "renal.dialysis": "dialysis",
    "renal.age_years": "age_years",
    "renal.sex": "sex",
    "renal.weight": "weight",
    "renal.weight_kg": "weight",
    "renal.weight_unit": "weight_unit",
    "renal.height": "height",
    "renal.height_cm": "height",
    "renal.height_unit": "height_unit",
    "renal.serum_creatinine": "serum_creatinine",
    "renal.creatinine_unit": "creatinine_unit",
    "renal.egfr_ml_min_1_73m2": "egfr_ml_min_1_73m2",
    "renal.use_estimate": "use_estimate",
    "hepatic": "child_pugh_class",
    "hepatic.child_pugh_class": "child_pugh_class",
    "hepatic.bilirubin": "bilirubin",
    "hepatic.bilirubin_mg_dl": "bilirubin",
    "hepatic.bilirubin_unit": "bilirubin_unit",
    "hepatic.albumin": "albumin",
    "hepatic.albumin_g_dl": "albumin",
    "hepatic.albumin_unit": "albumin_unit",
    "hepatic.inr": "inr",
    "hepatic.ascites": "ascites",
    "hepatic.encephalopathy": "encephalopathy",
}


# What an incomplete group still needs, said as a note while the form is being filled in.
GROUP_NOTE = {
    "renal": "To estimate CrCl",
    "hepatic": "To calculate the Child-Pugh score (or choose the class)",
}
# The values of the Cockcroft-Gault group (left out of the assessment while it is incomplete).
CG_VALUES = frozenset(
    {
        "age_years",
        "sex",
        "weight",
        "weight_unit",
        "height",
        "height_unit",
        "serum_creatinine",
        "creatinine_unit",
        "use_estimate",
    }
)

# Where the note is shown beside its group (filled out of band by each htmx update).
GROUP_NOTE_HTML = (
    '<p id="group-note-{group}" class="form-text group-note mb-2" data-group-note="{group}">'
    "{{{{ form.group_notes.{group} }}}}</p>"
)
GROUP_VALUE_NAMES = {
    "renal.age_years": "age",
    "renal.sex": "sex",
    "renal.weight": "weight",
    "renal.serum_creatinine": "creatinine",
    "hepatic.bilirubin": "bilirubin",
    "hepatic.albumin": "albumin",
    "hepatic.inr": "INR",
    "hepatic.ascites": "ascites",
    "hepatic.encephalopathy": "encephalopathy",
}

NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:[.,][0-9]*)?|[.,][0-9]+)")  # ASCII digits only
AMBIGUOUS_COMMA = re.compile(r"[+-]?[1-9][0-9]{0,2},[0-9]{3}")  # 1,600: 1.6 or 1600?


def _unit_key(text: str) -> str:
    """A typed unit in one spelling: case, spaces, micro signs and superscripts ignored."""
    key = re.sub(r"\s+", "", text).lower()
    for before, after in (("µ", "u"), ("μ", "u"), ("micromol", "umol"), ("²", "2"), ("litre", "l")):
        key = key.replace(before, after)
    return key.replace("liter", "l")


# What may be typed after a number, per field: spelling -> the unit chosen (None: the field's own
# fixed unit), and how the accepted units are named in a message. A unit not listed for the field is
# refused, never guessed.
_MASS = {"mg/dl": "mg/dL", "umol/l": "umol/L"}
TYPED_UNITS: dict[str, tuple[dict[str, str | None], str]] = {
    "crcl_ml_min": ({"ml/min": None}, "mL/min"),
    "egfr_ml_min_1_73m2": ({"ml/min/1.73m2": None, "ml/min/1.73m^2": None}, "mL/min/1.73 m²"),
    "age_years": ({"y": None, "yr": None, "yrs": None, "year": None, "years": None}, "years"),
    "weight": ({"kg": "kg", "kgs": "kg", "lb": "lb", "lbs": "lb", "pounds": "lb"}, "kg or lb"),
    "height": ({"cm": "cm", "in": "in", "inch": "in", "inches": "in", '"': "in"}, "cm or in"),
    "serum_creatinine": (_MASS, "mg/dL or µmol/L"),
    "bilirubin": (_MASS, "mg/dL or µmol/L"),
    "albumin": ({"g/dl": "g/dL", "g/l": "g/L"}, "g/dL or g/L"),
    "inr": ({}, ""),
}
UNIT_OF = {
    "weight": "weight_unit",
    "height": "height_unit",
    "serum_creatinine": "creatinine_unit",
    "bilirubin": "bilirubin_unit",
    "albumin": "albumin_unit",
}


@dataclass(frozen=True)
class Reading:
    """A number as typed, with the unit typed after it (None: none typed)."""

    value: float
    unit: str | None = None


def read_number(text: str, units: dict[str, str | None], units_shown: str, example: str) -> Reading:
    """A number as clinicians type it: "1.6", "1,6" (decimal comma), "25 mL/min", "70kg", "1.6 mg/dL".
    What could mean two things is refused with the reason, never guessed: "1,600" (1.6 or 1600?), a
    unit this field does not take, two numbers, letters. Python's float() alone would also read "2_5"
    as 25, "1e2" as 100 and Arabic-Indic digits, none of which a clinician means."""
    text = text.strip()
    match = NUMBER.match(text)
    number = match.group(0) if match else ""
    rest = text[len(number) :].strip()
    if rest[:1] in set("0123456789.,"):
        number = ""
    if not number or number.count(",") + number.count(".") > 1 or not any(c.isdigit() for c in number):
        raise forms.ValidationError(f"Enter a number{example}.", code="invalid")
    if AMBIGUOUS_COMMA.fullmatch(number):
        raise forms.ValidationError(
            f"“{number}” could be {number.replace(',', '.')} or {number.replace(',', '')}: write it with a"
            " decimal point, or without the comma.",
            code="ambiguous",
        )
    unit = None
    if rest:
        key = _unit_key(rest)
        if key not in units:
            if not units_shown:
                raise forms.ValidationError(f"Enter the number alone{example}.", code="unit")
            raise forms.ValidationError(
                f"“{rest[:20]}” is not a unit for this value: type {units_shown} after the number,"
                " or the number alone.",
                code="unit",
            )
        unit = units[key]
    value = float(number.replace(",", "."))
    if not math.isfinite(value):
        raise forms.ValidationError(f"Enter a number{example}.", code="invalid")
    return Reading(value, unit)


MAX_NUMBER_CHARS = 40  # "124 micromol/L" is 14


class NumberField(forms.Field):
    """A number typed as text, read by ``read_number``; cleaned to a ``Reading``."""

    def __init__(self, *, name: str, example: str, limit_key: str | None, **kwargs):
        self.units, self.units_shown = TYPED_UNITS[name]
        self.limit_key = limit_key
        self.example = f" (e.g. {example})"
        super().__init__(**kwargs)

    def to_python(self, value):
        text = "" if value in self.empty_values else str(value).strip()
        if not text:
            return None
        if len(text) > MAX_NUMBER_CHARS:  # refused, never cut: a cut could drop the unit typed after it
            raise forms.ValidationError(
                f"Enter a number{self.example}: this is too long to be one.", code="invalid"
            )
        try:
            return read_number(text, self.units, self.units_shown, self.example)
        except forms.ValidationError as error:
            if self.limit_key and error.code == "invalid":
                message = f"{error.message} {LIMITS[self.limit_key].message()}"
                raise forms.ValidationError(message, code="invalid") from None
            raise


def number_field(
    name: str, label: str, limit_key: str | None = None, *, example: str = "1.4", help_text: str = ""
) -> NumberField:
    """A number typed as text (so a typo reaches the server and gets a message, rather than being
    dropped by the browser), with a unit after it where the field takes one. Ranges are checked by
    the engine, in the unit chosen."""
    return NumberField(
        name=name,
        example=example,
        limit_key=limit_key,
        label=label,
        required=False,
        help_text=help_text,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off", "spellcheck": "false"}),
    )


# The unit each region's laboratories report in, chosen by default beside the field. Switching the
# region changes the unit only beside an empty field (intake.js): a typed value is never re-read.
REGION_UNITS = {
    "creatinine_unit": {"us": "mg/dL", "eu": "umol/L"},
    "bilirubin_unit": {"us": "mg/dL", "eu": "umol/L"},
    "albumin_unit": {"us": "g/dL", "eu": "g/L"},
}


def unit_field(name: str, label: str, units) -> forms.ChoiceField:
    by_region = REGION_UNITS.get(name, {})
    attrs = {f"data-region-{region}": unit for region, unit in by_region.items()}
    return forms.ChoiceField(
        label=label,
        required=False,
        choices=list(units.items()),
        initial=by_region.get("us", next(iter(units))),
        widget=forms.Select(attrs={"data-unit-select": "", **attrs}),
    )


def split_medications(text: str) -> list[str]:
    """One entry per line, comma or semicolon, except inside brackets: "Nuedexta (dextromethorphan,
    quinidine)" stays one entry, as the API would receive it."""
    entries, current, depth = [], [], 0
    for char in text or "":
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth = max(0, depth - 1)
        if char == "\n" or (char in ",;" and depth == 0):
            entries.append("".join(current))
            current, depth = [], 0 if char == "\n" else depth
            continue
        current.append(char)
    entries.append("".join(current))
    return [entry.strip() for entry in entries if entry.strip()]


def _dash(choices) -> list[tuple[str, str]]:
    return [("", "—"), *choices.items()]


# Fields only a printable uses (the patient sheet's start date): a mistake in one is shown beside it
# and refuses that printable, but does not hold up the assessment.
PRINT_ONLY_FIELDS = frozenset({"start_date"})


class IntakeForm(forms.Form):
    region = forms.ChoiceField(
        label="Labelling region", choices=list(vocab.REGIONS.items()), initial="us", widget=forms.RadioSelect
    )
    formulation = forms.ChoiceField(
        label="Formulation", choices=list(vocab.FORMULATIONS.items()), initial="ir", widget=forms.RadioSelect
    )
    indications = forms.MultipleChoiceField(
        label="Indications of interest",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every indication is shown.",
    )
    crcl_ml_min = number_field(
        "crcl_ml_min",
        "Creatinine clearance (mL/min)",
        "crcl_ml_min",
        example="42.5",
        help_text="Cockcroft-Gault, as the label uses.",
    )
    age_years = number_field("age_years", "Age (years)", "age_years", example="78")
    sex = forms.ChoiceField(label="Sex (for the formula)", required=False, choices=_dash(vocab.SEXES))
    weight = number_field(
        "weight",
        "Weight",
        example="70 or 70 kg",
        help_text="Actual body weight, as the label's formula uses; with a height, adjusted weight too.",
    )
    weight_unit = unit_field("weight_unit", "Weight unit", vocab.WEIGHT_UNITS)
    height = number_field(
        "height",
        "Height",
        example="170 or 170 cm",
        help_text="Optional: adds BMI, adjusted weight and CKD-EPI 2021.",
    )
    height_unit = unit_field("height_unit", "Height unit", vocab.HEIGHT_UNITS)
    serum_creatinine = number_field("serum_creatinine", "Serum creatinine", example="1.4 or 1,4 mg/dL")
    creatinine_unit = unit_field("creatinine_unit", "Creatinine unit", vocab.CREATININE_UNITS)
    egfr_ml_min_1_73m2 = number_field(
        "egfr_ml_min_1_73m2",
        "Lab eGFR (mL/min/1.73 m²)",
        "egfr_ml_min_1_73m2",
        example="45",
        help_text="Optional, or on its own; de-indexed when weight and height are given.",
    )
    use_estimate = forms.ChoiceField(
        label="Dose follows",
        required=False,
        choices=[
            ("", "The lowest estimate (most conservative)"),
            *((m, vocab.sentence(vocab.RENAL_METHODS[m])) for m in vocab.CHOOSABLE_ESTIMATES),
        ],
        help_text="When the estimates disagree, choose the one that fits this patient.",
    )
    dialysis = forms.BooleanField(label="On dialysis", required=False)
    child_pugh_class = forms.ChoiceField(
        label="Child-Pugh class", required=False, choices=_dash(vocab.CHILD_PUGH_CLASSES)
    )
    bilirubin = number_field("bilirubin", "Total bilirubin", example="1.2")
    bilirubin_unit = unit_field("bilirubin_unit", "Bilirubin unit", vocab.BILIRUBIN_UNITS)
    albumin = number_field("albumin", "Albumin", example="3.5")
    albumin_unit = unit_field("albumin_unit", "Albumin unit", vocab.ALBUMIN_UNITS)
    inr = number_field("inr", "INR", "inr", example="1.2")
    ascites = forms.ChoiceField(label="Ascites", required=False, choices=_dash(vocab.ASCITES))
    encephalopathy = forms.ChoiceField(
        label="Encephalopathy", required=False, choices=_dash(vocab.ENCEPHALOPATHY)
    )
    medications = forms.CharField(
        label="Current medications",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off", "spellcheck": "false"}),
        help_text=(
            "Generic or brand names, one per line or separated by commas."
            " Names not recognised are reported as not checked."
        ),
    )
    conditions = forms.MultipleChoiceField(
        label="Relevant conditions", required=False, widget=forms.CheckboxSelectMultiple
    )
    start_date = forms.DateField(
        label="Start date",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": "Enter a date (e.g. 2026-12-01)."},
        help_text="For the patient's titration calendar; blank: the calendar counts weeks.",
    )

    def __init__(self, *args, catalogue: Catalogue, **kwargs):
        super().__init__(*args, **kwargs)
        self.catalogue = catalogue
        self.factors: PatientFactors | None = None
        self.group_notes: dict[str, str] = {}  # group ("renal", "hepatic") -> what it still needs
        self.fields["indications"].choices = [(i.slug, i.name) for i in catalogue.indications]
        self.fields["conditions"].choices = [(c.slug, c.label) for c in catalogue.conditions]
        # Tick boxes for the drug classes the catalogue marks for the intake form (e.g. SSRIs).
        self.tick_fields = []
        for drug_class, drugs in catalogue.intake_classes():
            name = f"tick_{drug_class.code}"
            self.fields[name] = forms.MultipleChoiceField(
                label=drug_class.name,
                required=False,
                choices=[
                    (d.name, d.name.capitalize() + (f" ({', '.join(d.brands[:2])})" if d.brands else ""))
                    for d in drugs
                ],
                widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
            )
            self.tick_fields.append(name)

    @functools.cached_property
    def helper(self) -> FormHelper:
        """The form's layout, for the full page only (an htmx update renders the results, not the form)."""
        helper = FormHelper()
        helper.form_tag = False
        helper.disable_csrf = True
        pair = "col-7", "col-5"
        helper.layout = Layout(
            Fieldset(
                "Labelling",
                Div(
                    Field("region", wrapper_class="col"),
                    Field("formulation", wrapper_class="col"),
                    css_class="row",
                ),
            ),
            Fieldset(
                "Renal function",
                "crcl_ml_min",
                Fieldset(
                    "Or estimate it (Cockcroft-Gault, CKD-EPI, lab eGFR)",
                    Div(
                        Field("age_years", wrapper_class="col-6"),
                        Field("sex", wrapper_class="col-6"),
                        Field("weight", wrapper_class=pair[0]),
                        Field("weight_unit", wrapper_class=pair[1]),
                        Field("height", wrapper_class=pair[0]),
                        Field("height_unit", wrapper_class=pair[1]),
                        Field("serum_creatinine", wrapper_class=pair[0]),
                        Field("creatinine_unit", wrapper_class=pair[1]),
                        Field("egfr_ml_min_1_73m2", wrapper_class="col-12"),
                        Field("use_estimate", wrapper_class="col-12"),
                        css_class="row",
                    ),
                    HTML(GROUP_NOTE_HTML.format(group="renal")),
                    css_class="estimate",
                ),
                "dialysis",
            ),
            Fieldset(
                "Hepatic function",
                "child_pugh_class",
                Fieldset(
                    "Or its components",
                    Div(
                        Field("bilirubin", wrapper_class=pair[0]),
                        Field("bilirubin_unit", wrapper_class=pair[1]),
                        Field("albumin", wrapper_class=pair[0]),
                        Field("albumin_unit", wrapper_class=pair[1]),
                        Field("inr", wrapper_class="col-6"),
                        Field("ascites", wrapper_class="col-6"),
                        Field("encephalopathy", wrapper_class="col-6"),
                        css_class="row",
                    ),
                    HTML(GROUP_NOTE_HTML.format(group="hepatic")),
                    css_class="estimate",
                ),
            ),
            Fieldset(
                "Current medications",
                *(Field(name, template="indications/_ssri_shortcuts.html") for name in self.tick_fields),
                HTML('{% include "indications/_medication_search.html" %}'),
                "medications",
                HTML('{% include "indications/_medication_entries.html" %}'),
            ),
            Fieldset("Conditions and focus", "conditions", "indications"),
        )
        return helper

    def _number(self, key: str) -> float | None:
        reading = self.cleaned_data.get(key)
        return None if reading is None else reading.value

    def _unit(self, key: str) -> str | None:
        """The unit typed after the value, else the one chosen beside it (never assumed)."""
        reading = self.cleaned_data.get(key)
        return (reading.unit if reading is not None else None) or self.cleaned_data.get(UNIT_OF[key]) or None

    def as_request(self, *, leave_out: tuple[str, ...] = ()) -> dict:
        """The cleaned answers in the JSON shape of POST /api/v1/assess. A unit is sent only with
        its value; nothing is sent for what was left blank, nor for the groups in ``leave_out``."""
        data = self.cleaned_data
        ticked = [name for field in self.tick_fields for name in data.get(field, [])]
        request: dict = {
            "region": data.get("region") or "us",
            "formulation": data.get("formulation") or "ir",
            "indications": list(data.get("indications") or []),
            "conditions": list(data.get("conditions") or []),
            "medications": list(dict.fromkeys([*ticked, *split_medications(data.get("medications", ""))])),
        }
        renal: dict = {}
        for key in ("crcl_ml_min", "age_years", "egfr_ml_min_1_73m2"):
            if self._number(key) is not None:
                renal[key] = self._number(key)
        for key in ("sex", "use_estimate"):
            if data.get(key) not in (None, ""):
                renal[key] = data[key]
        for key in ("weight", "height", "serum_creatinine"):
            if self._number(key) is not None:
                renal[key] = self._number(key)
                renal[UNIT_OF[key]] = self._unit(key)
        if data.get("dialysis"):
            renal["dialysis"] = True
        if "renal" in leave_out:
            # Only the Cockcroft-Gault values still being typed: a clearance, a lab eGFR or dialysis
            # given beside them still counts.
            renal = {k: v for k, v in renal.items() if k not in CG_VALUES}
        if renal:
            request["renal"] = renal
        hepatic: dict = {}
        if data.get("child_pugh_class"):
            hepatic["child_pugh_class"] = data["child_pugh_class"]
        if self._number("inr") is not None:
            hepatic["inr"] = self._number("inr")
        for key in ("ascites", "encephalopathy"):
            if data.get(key) not in (None, ""):
                hepatic[key] = data[key]
        for key in ("bilirubin", "albumin"):
            if self._number(key) is not None:
                hepatic[key] = self._number(key)
                hepatic[f"{key}_unit"] = self._unit(key)
        if hepatic and "hepatic" not in leave_out:
            request["hepatic"] = hepatic
        return request

    @property
    def assessable(self) -> bool:
        """Valid, or wrong only in a field the assessment does not use (the start date)."""
        return self.is_valid() or (self.factors is not None and set(self.errors) <= PRINT_ONLY_FIELDS)

    def _renal_error_field(self) -> str:
        """Where a message about the renal inputs as a whole goes ("give only one renal input"): beside
        a field the clinician filled in (dialysis first), never on an empty one."""
        data = self.cleaned_data
        if data.get("dialysis"):
            return "dialysis"
        if self._number("crcl_ml_min") is not None:
            return "crcl_ml_min"
        for name in ("egfr_ml_min_1_73m2", "serum_creatinine", "age_years", "weight", "sex"):
            if data.get(name) not in (None, ""):
                return name
        return "crcl_ml_min"

    def clean_start_date(self):
        """The calendar's first day: today or later (a calendar already under way would have the
        patient start on a later step), and within a year (further is a year typed wrong)."""
        value = self.cleaned_data.get("start_date")
        if value is None:
            return value
        today = timezone.localdate()
        if value < today:
            raise forms.ValidationError(
                "The start date is in the past: choose today or a later day, or leave it blank for a"
                " calendar counted in weeks."
            )
        if (value - today).days > 366:
            raise forms.ValidationError(
                "Choose a start date within a year of today (the year may be mistyped)."
            )
        return value

    def clean(self):
        """The engine's validation, with one difference for a form being filled in: a group still
        incomplete (the Cockcroft-Gault values, the Child-Pugh components) is not an error. It is left
        out of the assessment, which names it as not given, and ``group_notes`` says what it still
        needs. A value that is wrong is an error beside its field, in a complete group or not."""
        cleaned = super().clean()
        if any(name not in PRINT_ONLY_FIELDS for name in self.errors):
            return cleaned
        parse = functools.partial(
            parse_request,
            known_indications=self.catalogue.indications_by_slug,
            known_conditions=self.catalogue.conditions_by_slug,
        )
        result = parse(self.as_request())
        incomplete: dict[str, list[str]] = {}
        errors: dict[str, list[str]] = {}
        for path, messages in result.errors.items():
            group = path.split(".")[0]
            for message in messages:
                if message in REQUIRED_MESSAGES:
                    incomplete.setdefault(group, []).append(path)
                else:
                    errors.setdefault(path, []).append(message)
        if incomplete and not errors:
            result = parse(self.as_request(leave_out=tuple(incomplete)))
            errors = dict(result.errors)
        for group, paths in incomplete.items():
            needed = [GROUP_VALUE_NAMES.get(path, path.split(".")[-1]) for path in paths]
            self.group_notes[group] = f"{GROUP_NOTE[group]}: {', '.join(needed)}."
        for path, messages in errors.items():
            field = ERROR_FIELD.get(path) or path.split("[")[0].split(".")[0]
            if path == "renal":
                field = self._renal_error_field()
            for message in messages:
                self.add_error(field if field in self.fields else None, message)
        self.factors = result.factors if not errors else None
        return cleaned
