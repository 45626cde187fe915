"""The intake form. It checks only what a web form must (numbers are numbers, choices are choices),
turns the answers into the JSON shape of the public API and hands them to the engine's
``parse_request``, the single source of truth for what is valid. Its errors come back beside the
field they concern. Its vocabularies come from the engine (regions, units, estimates) and from the
catalogue (indications, conditions, the tick boxes of drug classes)."""

from __future__ import annotations

import functools
import re

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Div, Field, Fieldset, Layout
from django import forms

from .engine import vocabulary as vocab
from .engine.catalogue import Catalogue
from .engine.factors import LIMITS, PatientFactors, parse_request

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


PLAIN_NUMBER = re.compile(r"^\s*[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)\s*$")  # ASCII digits only


class NumberField(forms.FloatField):
    """Digits with an optional decimal point, nothing else: Python's float() would also read
    "2_5" as 25, "1e2" as 100 and Arabic-Indic digits, none of which a clinician means."""

    def to_python(self, value):
        if value not in self.empty_values and not PLAIN_NUMBER.match(str(value)):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


def number_field(label: str, limit_key: str | None = None, *, help_text: str = "") -> forms.FloatField:
    """A number typed as text (so a typo reaches the server and gets a message, rather than being
    dropped by the browser). Ranges are checked by the engine, in the unit chosen."""
    message = "Enter a number with a decimal point (e.g. 1.4), and choose its unit beside it."
    if limit_key:
        message = f"Enter a number with a decimal point (e.g. 42.5). {LIMITS[limit_key].message()}"
    return NumberField(
        label=label,
        required=False,
        help_text=help_text,
        error_messages={"invalid": message},
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off", "spellcheck": "false"}),
    )


def unit_field(label: str, units) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label, required=False, choices=list(units.items()), initial=next(iter(units))
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
        "Creatinine clearance (mL/min)", "crcl_ml_min", help_text="Cockcroft-Gault, as the label uses."
    )
    age_years = number_field("Age (years)", "age_years")
    sex = forms.ChoiceField(label="Sex (for the formula)", required=False, choices=_dash(vocab.SEXES))
    weight = number_field(
        "Weight",
        help_text="Actual body weight, as the label's formula uses; with a height, adjusted weight too.",
    )
    weight_unit = unit_field("Weight unit", vocab.WEIGHT_UNITS)
    height = number_field("Height", help_text="Optional: adds BMI, adjusted weight and CKD-EPI 2021.")
    height_unit = unit_field("Height unit", vocab.HEIGHT_UNITS)
    serum_creatinine = number_field("Serum creatinine")
    creatinine_unit = unit_field("Creatinine unit", vocab.CREATININE_UNITS)
    egfr_ml_min_1_73m2 = number_field(
        "Lab eGFR (mL/min/1.73 m²)",
        "egfr_ml_min_1_73m2",
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
    bilirubin = number_field("Total bilirubin")
    bilirubin_unit = unit_field("Bilirubin unit", vocab.BILIRUBIN_UNITS)
    albumin = number_field("Albumin")
    albumin_unit = unit_field("Albumin unit", vocab.ALBUMIN_UNITS)
    inr = number_field("INR", "inr")
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

    def __init__(self, *args, catalogue: Catalogue, **kwargs):
        super().__init__(*args, **kwargs)
        self.catalogue = catalogue
        self.factors: PatientFactors | None = None
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
                    css_class="estimate",
                ),
            ),
            Fieldset(
                "Current medications",
                *(Field(name, template="indications/_ssri_shortcuts.html") for name in self.tick_fields),
                HTML('{% include "indications/_medication_search.html" %}'),
                "medications",
            ),
            Fieldset("Conditions and focus", "conditions", "indications"),
        )
        return helper

    def as_request(self) -> dict:
        """The cleaned answers in the JSON shape of POST /api/v1/assess. A unit is sent only with
        its value; nothing is sent for what was left blank."""
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
        if data.get("crcl_ml_min") is not None:
            renal["crcl_ml_min"] = data["crcl_ml_min"]
        for key in ("age_years", "sex", "egfr_ml_min_1_73m2", "use_estimate"):
            if data.get(key) not in (None, ""):
                renal[key] = data[key]
        for key, unit_key in (
            ("weight", "weight_unit"),
            ("height", "height_unit"),
            ("serum_creatinine", "creatinine_unit"),
        ):
            if data.get(key) is not None:
                renal[key] = data[key]
                renal[unit_key] = data.get(unit_key) or None  # never assumed
        if data.get("dialysis"):
            renal["dialysis"] = True
        if renal:
            request["renal"] = renal
        hepatic: dict = {}
        if data.get("child_pugh_class"):
            hepatic["child_pugh_class"] = data["child_pugh_class"]
        for key in ("inr", "ascites", "encephalopathy"):
            if data.get(key) not in (None, ""):
                hepatic[key] = data[key]
        for key in ("bilirubin", "albumin"):
            if data.get(key) is not None:
                hepatic[key] = data[key]
                hepatic[f"{key}_unit"] = data.get(f"{key}_unit") or None
        if hepatic:
            request["hepatic"] = hepatic
        return request

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        result = parse_request(
            self.as_request(),
            known_indications=self.catalogue.indications_by_slug,
            known_conditions=self.catalogue.conditions_by_slug,
        )
        for path, messages in result.errors.items():
            field = ERROR_FIELD.get(path) or path.split("[")[0].split(".")[0]
            for message in messages:
                self.add_error(field if field in self.fields else None, message)
        self.factors = result.factors
        return cleaned
