"""The intake form. It checks only what a web form must (numbers are numbers, choices are choices),
turns the answers into the JSON shape of the public API and hands them to the engine's
``parse_request``, the single source of truth for what is valid. Its errors come back beside the
field they concern."""

from __future__ import annotations

import re

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Div, Field, Fieldset, Layout
from django import forms

from .engine.catalogue import Catalogue
from .engine.factors import ASCITES, LIMITS, PatientFactors, parse_request
from .models import Condition

SSRI_SHORTCUTS = (
    ("sertraline", "Sertraline (Zoloft, Lustral)"),
    ("escitalopram", "Escitalopram (Lexapro, Cipralex)"),
    ("fluoxetine", "Fluoxetine (Prozac)"),
    ("fluvoxamine", "Fluvoxamine (Luvox, Faverin)"),
    ("paroxetine", "Paroxetine (Paxil, Seroxat)"),
    ("citalopram", "Citalopram (Celexa, Cipramil)"),
)

# Where an engine error path is shown on the form.
ERROR_FIELD = {
    "region": "region",
    "formulation": "formulation",
    "renal": "crcl_ml_min",
    "renal.crcl_ml_min": "crcl_ml_min",
    "renal.dialysis": "dialysis",
    "renal.age_years": "age_years",
    "renal.sex": "sex",
    "renal.weight_kg": "weight_kg",
    "renal.serum_creatinine": "serum_creatinine",
    "renal.creatinine_unit": "creatinine_unit",
    "renal.height_cm": "height_cm",
    "renal.egfr_ml_min_1_73m2": "egfr_ml_min_1_73m2",
    "hepatic": "child_pugh_class",
    "hepatic.child_pugh_class": "child_pugh_class",
    "hepatic.bilirubin_mg_dl": "bilirubin_mg_dl",
    "hepatic.albumin_g_dl": "albumin_g_dl",
    "hepatic.inr": "inr",
    "hepatic.ascites": "ascites",
    "hepatic.encephalopathy": "encephalopathy",
}


def number_field(label: str, limit_key: str, *, help_text: str = "") -> forms.FloatField:
    """A number typed as text (so a typo reaches the server and gets a message, rather than being
    dropped by the browser), with the plausible range shown to the user."""
    limit = LIMITS[limit_key]
    return forms.FloatField(
        label=label,
        required=False,
        help_text=help_text,
        error_messages={"invalid": f"Enter a number. {limit.message()}"},
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off", "spellcheck": "false"}),
    )


def split_medications(text: str) -> list[str]:
    return [part.strip() for part in re.split(r"[\n,;]+", text or "") if part.strip()]


class IntakeForm(forms.Form):
    region = forms.ChoiceField(
        label="Labelling region",
        choices=(("us", "US (FDA label)"), ("eu", "EU (EMA SmPC)")),
        initial="us",
        widget=forms.RadioSelect,
    )
    formulation = forms.ChoiceField(
        label="Formulation",
        choices=(("ir", "Immediate release"), ("xr", "Extended release (US only)")),
        initial="ir",
        widget=forms.RadioSelect,
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
    sex = forms.ChoiceField(
        label="Sex (for the formula)",
        required=False,
        choices=(("", "—"), ("female", "Female"), ("male", "Male")),
    )
    weight_kg = number_field("Weight (kg)", "weight_kg", help_text="Actual body weight, as in the label.")
    serum_creatinine = number_field("Serum creatinine", "serum_creatinine:mg/dL")
    creatinine_unit = forms.ChoiceField(
        label="Creatinine unit",
        required=False,
        choices=(("mg/dL", "mg/dL"), ("umol/L", "µmol/L")),
        initial="mg/dL",
    )
    height_cm = number_field(
        "Height (cm)",
        "height_cm",
        help_text="Optional: shows CKD-EPI 2021 (de-indexed) beside Cockcroft-Gault.",
    )
    egfr_ml_min_1_73m2 = number_field(
        "Lab eGFR (mL/min/1.73 m²)", "egfr_ml_min_1_73m2", help_text="Optional; needs the height."
    )
    dialysis = forms.BooleanField(label="On dialysis", required=False)
    child_pugh_class = forms.ChoiceField(
        label="Child-Pugh class",
        required=False,
        choices=(("", "—"), ("A", "A (5–6 points)"), ("B", "B (7–9 points)"), ("C", "C (10–15 points)")),
    )
    bilirubin_mg_dl = number_field("Total bilirubin (mg/dL)", "bilirubin_mg_dl")
    albumin_g_dl = number_field("Albumin (g/dL)", "albumin_g_dl")
    inr = number_field("INR", "inr")
    ascites = forms.ChoiceField(
        label="Ascites",
        required=False,
        choices=(("", "—"), *((a, a.replace("-", " to ").capitalize()) for a in ASCITES)),
    )
    encephalopathy = forms.ChoiceField(
        label="Encephalopathy",
        required=False,
        choices=(("", "—"), ("none", "None"), ("grade-1-2", "Grade 1–2"), ("grade-3-4", "Grade 3–4")),
    )
    ssris = forms.MultipleChoiceField(
        label="SSRIs",
        required=False,
        choices=SSRI_SHORTCUTS,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
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
        label="Relevant conditions",
        required=False,
        choices=Condition.choices,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, catalogue: Catalogue, **kwargs):
        super().__init__(*args, **kwargs)
        self.catalogue = catalogue
        self.factors: PatientFactors | None = None
        self.fields["indications"].choices = [(i.slug, i.name) for i in catalogue.indications]
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        self.helper.layout = Layout(
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
                    "Or estimate it (Cockcroft-Gault)",
                    Div(
                        Field("age_years", wrapper_class="col-6"),
                        Field("sex", wrapper_class="col-6"),
                        Field("weight_kg", wrapper_class="col-6"),
                        Field("height_cm", wrapper_class="col-6"),
                        Field("serum_creatinine", wrapper_class="col-6"),
                        Field("creatinine_unit", wrapper_class="col-6"),
                        Field("egfr_ml_min_1_73m2", wrapper_class="col-12"),
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
                        Field("bilirubin_mg_dl", wrapper_class="col-6"),
                        Field("albumin_g_dl", wrapper_class="col-6"),
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
                Field("ssris", template="indications/_ssri_shortcuts.html"),
                HTML('{% include "indications/_medication_search.html" %}'),
                "medications",
            ),
            Fieldset("Conditions and focus", "conditions", "indications"),
        )

    def as_request(self) -> dict:
        """The cleaned answers in the JSON shape of POST /api/v1/assess."""
        data = self.cleaned_data
        request: dict = {
            "region": data.get("region") or "us",
            "formulation": data.get("formulation") or "ir",
            "indications": list(data.get("indications") or []),
            "conditions": list(data.get("conditions") or []),
            "medications": list(
                dict.fromkeys([*data.get("ssris", []), *split_medications(data.get("medications", ""))])
            ),
        }
        renal: dict = {}
        if data.get("crcl_ml_min") is not None:
            renal["crcl_ml_min"] = data["crcl_ml_min"]
        estimate = {
            k: data.get(k)
            for k in ("age_years", "sex", "weight_kg", "serum_creatinine", "height_cm", "egfr_ml_min_1_73m2")
        }
        if any(v not in (None, "") for v in estimate.values()):
            renal.update({k: v for k, v in estimate.items() if v not in (None, "")})
            renal["creatinine_unit"] = data.get("creatinine_unit") or None  # never assumed
        if data.get("dialysis"):
            renal["dialysis"] = True
        if renal:
            request["renal"] = renal
        hepatic: dict = {}
        if data.get("child_pugh_class"):
            hepatic["child_pugh_class"] = data["child_pugh_class"]
        for key in ("bilirubin_mg_dl", "albumin_g_dl", "inr", "ascites", "encephalopathy"):
            if data.get(key) not in (None, ""):
                hepatic[key] = data[key]
        if hepatic:
            request["hepatic"] = hepatic
        return request

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        result = parse_request(self.as_request(), known_indications=self.catalogue.indications_by_slug)
        for path, messages in result.errors.items():
            field = ERROR_FIELD.get(path) or path.split("[")[0].split(".")[0]
            for message in messages:
                self.add_error(field if field in self.fields else None, message)
        self.factors = result.factors
        return cleaned
