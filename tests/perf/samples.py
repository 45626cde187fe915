"""The patient both benchmarks send: the filled intake form (field names: indications/forms.py) and
the same patient as an API body."""

FORM = {
    "region": "us",
    "formulation": "ir",
    "creatinine_unit": "mg/dL",
    "age_years": "80",
    "sex": "female",
    "weight": "50",
    "weight_unit": "kg",
    "serum_creatinine": "1.4",
    "child_pugh_class": "B",
    "tick_ssri": ["sertraline"],
    "medications": "dextromethorphan, warfarin, Frobnicil",
    "indications": ["ocd"],
    "conditions": ["seizure-disorder"],
}
API = {
    "renal": {
        "age_years": 80,
        "sex": "female",
        "weight_kg": 50,
        "serum_creatinine": 1.4,
        "creatinine_unit": "mg/dL",
    },
    "hepatic": {"child_pugh_class": "B"},
    "medications": ["sertraline", "dextromethorphan", "warfarin", "Frobnicil"],
    "indications": ["ocd"],
    "conditions": ["seizure-disorder"],
}
