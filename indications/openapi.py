"""The OpenAPI 3.1 description of the public API (shared/api-contract.md, v1 with its v1.1 additions),
served at ``/api/v1/openapi.json``.

Schemas use the JSON Schema 2020-12 dialect. Enumerations and plausible ranges are read from the code
that enforces them (``engine.vocabulary``, ``engine.factors.LIMITS``), so the description cannot drift
from the parser; request members are listed here one by one, with what each means, and
tests/api/test_openapi.py checks them against the parser. Catalogue data (indication and condition
slugs, flag codes a release may add) are plain strings. Response objects stay open
(``additionalProperties`` not set): members are only ever added within v1.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from django.conf import settings
from django.http import HttpResponse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from .engine import factors
from .engine import vocabulary as vocab
from .serializers import API_VERSION, NOT_REPORTED

OPENAPI_VERSION = "3.1.1"
DOCUMENT_VERSION = "1.1"  # the contract's version; the responses' api_version stays "1"
DIALECT = "https://json-schema.org/draft/2020-12/schema"
REF = "#/components/schemas/"

Schema = dict[str, Any]


def ref(name: str) -> Schema:
    return {"$ref": REF + name}


def nullable(schema: Schema) -> Schema:
    """The schema, or null (the parser reads a null member as absent)."""
    schema = dict(schema)
    kind = schema.get("type")
    if isinstance(kind, str):
        schema["type"] = [kind, "null"]
    if "enum" in schema:
        schema["enum"] = [*schema["enum"], None]
    return schema


def nullable_ref(name: str) -> Schema:
    """A referenced object, or null (a $ref cannot take a second type)."""
    return {"oneOf": [ref(name), {"type": "null"}]}


def enum(values, description: str = "", *, null: bool = False) -> Schema:
    schema: Schema = {"type": "string", "enum": list(values)}
    if description:
        schema["description"] = description
    return nullable(schema) if null else schema


def string(description: str = "") -> Schema:
    return {"type": "string", "description": description} if description else {"type": "string"}


def strings(description: str = "", **extra: Any) -> Schema:
    schema: Schema = {"type": "array", "items": {"type": "string"}, **extra}
    if description:
        schema["description"] = description
    return schema


def array(items: Schema, description: str = "", **extra: Any) -> Schema:
    schema: Schema = {"type": "array", "items": items, **extra}
    if description:
        schema["description"] = description
    return schema


def obj(properties: dict[str, Schema], *, required=(), description: str = "", **extra: Any) -> Schema:
    schema: Schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    if description:
        schema["description"] = description
    schema.update(extra)
    return schema


def in_range(key: str, description: str, *, null: bool = True) -> Schema:
    """A number within the parser's plausible range (factors.LIMITS[key], bounds included)."""
    limit = factors.LIMITS[key]
    unit = f" {limit.unit}" if limit.unit else ""
    schema: Schema = {
        "type": "number",
        "minimum": limit.low,
        "maximum": limit.high,
        "description": f"{description} ({limit.low:g}–{limit.high:g}{unit}).",
    }
    return nullable(schema) if null else schema


# ---------------------------------------------------------------- request

UNIT_DESCRIPTIONS = {
    "weight": "Body weight, in weight_unit",
    "height": "Height, in height_unit; optional (BMI, adjusted body weight, CKD-EPI de-indexing)",
    "serum_creatinine": "Serum creatinine, in creatinine_unit",
    "bilirubin": "Total bilirubin, in bilirubin_unit",
    "albumin": "Serum albumin, in albumin_unit",
}


def measured(quantity: str) -> tuple[dict[str, Schema], list[Schema]]:
    """A unit-bearing quantity: its value, its unit field and (where there is one) its legacy fixed-unit
    field, with the value's range in each unit."""
    units = list(factors.UNITS[quantity])
    limits = [factors.LIMITS[f"{quantity}:{unit}"] for unit in units]
    unit_key = factors.UNIT_FIELDS[quantity]
    ranges = ", ".join(f"{lim.low:g}–{lim.high:g} {lim.unit}" for lim in limits)
    properties: dict[str, Schema] = {
        quantity: nullable(
            {
                "type": "number",
                "minimum": min(lim.low for lim in limits),
                "maximum": max(lim.high for lim in limits),
                "description": f"{UNIT_DESCRIPTIONS[quantity]} ({ranges}). Requires {unit_key}.",
            }
        ),
        unit_key: enum(
            units,
            f"The unit of {quantity} (read forgiving case and the micro sign). Never assumed: a value without"
            " its unit, or a unit without its value, is a 400.",
            null=True,
        ),
    }
    # The value's range is its unit's: one branch per unit, and one for a null (= absent) unit.
    # (Written as anyOf rather than if/then: Schemathesis generates from this form.)
    branches: list[Schema] = [
        {"properties": {unit_key: {"const": unit}, quantity: {"minimum": lim.low, "maximum": lim.high}}}
        for unit, lim in zip(units, limits, strict=True)
    ]
    branches.append({"properties": {unit_key: {"type": "null"}}})
    conditions = [{"anyOf": branches}]
    if quantity in factors.LEGACY_FIELDS:
        legacy, legacy_unit = factors.LEGACY_FIELDS[quantity]
        properties[legacy] = in_range(
            f"{quantity}:{legacy_unit}",
            f"{UNIT_DESCRIPTIONS[quantity].split(',')[0]} in {legacy_unit} (v1 member, still accepted; not"
            f" together with {quantity}, and {unit_key}, if given, must be {legacy_unit})",
        )
    return properties, conditions


def renal_request() -> Schema:
    properties: dict[str, Schema] = {
        "crcl_ml_min": in_range("crcl_ml_min", "Creatinine clearance as entered, in mL/min"),
        "dialysis": {"type": ["boolean", "null"], "description": "true: the patient is on dialysis."},
        "age_years": in_range("age_years", "Age, for Cockcroft-Gault and CKD-EPI"),
        "sex": enum(vocab.SEXES, "The sex used by the formulas.", null=True),
    }
    conditions: list[Schema] = []
    for quantity in ("weight", "height", "serum_creatinine"):
        members, rules = measured(quantity)
        properties.update(members)
        conditions += rules
    properties["egfr_ml_min_1_73m2"] = in_range(
        "egfr_ml_min_1_73m2",
        "A lab eGFR, in mL/min/1.73 m²; de-indexed when weight and height are given",
    )
    properties["use_estimate"] = enum(
        vocab.CHOOSABLE_ESTIMATES,
        "The clinician's choice among renal.estimates (the dose otherwise follows the lowest). Naming an"
        " estimate the input does not support, or one above 250 mL/min, is a 400.",
        null=True,
    )
    return obj(
        properties,
        description=(
            "ONE of these shapes, or absent (renal function not assessed): {crcl_ml_min}; the values to"
            " estimate it (age_years, sex, weight with weight_unit or weight_kg, serum_creatinine with"
            " creatinine_unit; optionally height and use_estimate), or a lab egfr_ml_min_1_73m2 (with"
            " weight and height to de-index it); or {dialysis: true}. Two shapes at once, a missing"
            " Cockcroft-Gault value, a calculated clearance above 250 mL/min or a body-mass index outside"
            " 10–90 kg/m² is a 400 naming the value and its unit. A null member counts as absent."
        ),
        additionalProperties=False,
        allOf=conditions,
    )


def hepatic_request() -> Schema:
    properties: dict[str, Schema] = {
        "child_pugh_class": enum(vocab.CHILD_PUGH_CLASSES, "The Child-Pugh class, if known.", null=True)
    }
    conditions: list[Schema] = []
    for quantity in ("bilirubin", "albumin"):
        members, rules = measured(quantity)
        properties.update(members)
        conditions += rules
    properties["inr"] = in_range("inr", "International normalised ratio")
    properties["ascites"] = enum(vocab.ASCITES, "Ascites, for the Child-Pugh score.", null=True)
    properties["encephalopathy"] = enum(
        vocab.ENCEPHALOPATHY, "Hepatic encephalopathy, for the Child-Pugh score.", null=True
    )
    return obj(
        properties,
        description=(
            "ONE of these shapes, or absent: {child_pugh_class}, or all five Child-Pugh components"
            " (bilirubin, albumin, inr, ascites, encephalopathy), each unit-bearing value with its unit or"
            " in its legacy field. The class and components together is a 400."
        ),
        additionalProperties=False,
        allOf=conditions,
    )


def assess_request() -> Schema:
    return obj(
        {
            "region": enum(
                vocab.REGIONS, "us: FDA labelling (the default); eu: EMA SmPC. Case is forgiven.", null=True
            ),
            "formulation": enum(
                vocab.FORMULATIONS,
                "ir: immediate release (the default); xr: extended release, US only.",
                null=True,
            ),
            "indications": nullable(
                strings(
                    "Indication slugs of the catalogue in use to focus on (catalogue data, e.g. ocd);"
                    " absent or [] = every published indication. An unknown slug is a 400.",
                    maxItems=factors.MAX_LISTED,
                )
            ),
            "renal": nullable_ref("RenalInput"),
            "hepatic": nullable_ref("HepaticInput"),
            "medications": nullable(
                array(
                    {"type": "string", "maxLength": factors.MAX_MEDICATION_LENGTH},
                    "Generic or brand names, any case, as an EHR writes them (strength, route and form"
                    f" words allowed). Runs of white space count as one space and blank entries are"
                    f" dropped; at most {factors.MAX_MEDICATIONS} entries of up to"
                    f" {factors.MAX_MEDICATION_LENGTH} characters.",
                    maxItems=factors.MAX_MEDICATIONS,
                )
            ),
            "conditions": nullable(
                strings(
                    "Condition slugs of the catalogue in use (catalogue data; the seed: seizure-disorder,"
                    " pregnancy, breastfeeding, renal-tubular-acidosis, severe-proteus-uti,"
                    " cardiovascular-disease). An unknown slug is a 400.",
                    maxItems=factors.MAX_LISTED,
                )
            ),
        },
        description=(
            "Every member is optional; {} is a valid request (nothing known about the patient). A member"
            " given twice, NaN or Infinity, or a string that is not text is a 400."
        ),
        additionalProperties=False,
        # There is no extended-release product in the EU labelling.
        **{
            "if": {"properties": {"region": {"const": "eu"}}, "required": ["region"]},
            "then": {"properties": {"formulation": {"not": {"const": "xr"}}}},
        },
    )


# ---------------------------------------------------------------- responses

LINK = obj(
    {"label": string(), "url": {"type": "string", "pattern": "^https?://"}},
    required=("label", "url"),
    description="A source a clinician can open.",
)
NOTE = obj(
    {"text": string(), "sources": array(ref("Link"))},
    required=("text", "sources"),
)
BANDS = [*vocab.BANDS, vocab.UNKNOWN_BAND]
CHOSEN_BY = ("conservative", "clinician", "only-estimate")
NO_DOSE = sorted(vocab.NO_DOSE_VERDICTS, key=list(vocab.VERDICTS).index)


def estimate_response() -> Schema:
    return obj(
        {
            "method": enum([m for m in vocab.RENAL_METHODS if m != "unknown"]),
            "crcl_ml_min": {
                "type": ["number", "null"],
                "description": "mL/min (eGFR methods: as their method says); null for dialysis.",
            },
            "band": enum(BANDS),
            "weight": enum(("actual", "adjusted"), "Cockcroft-Gault: the body weight used."),
            "weight_kg": {"type": "number", "description": "Cockcroft-Gault: the weight used, in kg."},
            "egfr_ml_min_1_73m2": {"type": "number", "description": "eGFR methods: before de-indexing."},
        },
        required=("method", "crcl_ml_min", "band"),
        allOf=[
            {
                "if": {"properties": {"method": {"const": "dialysis"}}},
                "then": {"properties": {"crcl_ml_min": {"type": "null"}}},
                "else": {"properties": {"crcl_ml_min": {"type": "number", "minimum": 0}}},
            }
        ],
    )


def renal_response() -> Schema:
    return obj(
        {
            "crcl_ml_min": {
                "type": ["number", "null"],
                "description": "The clearance the dose follows, reported to one decimal (more only to stay"
                " inside its band); null when not given or on dialysis.",
            },
            "band": enum(BANDS),
            "method": enum(vocab.RENAL_METHODS, "How the clearance the dose follows was obtained."),
            "chosen_by": enum(CHOSEN_BY, "Absent when renal function was not given."),
            "estimates": array(ref("RenalEstimate"), "Every estimate the input supports; [] when not given."),
            "ckd_epi_2021": obj(
                {
                    "egfr_ml_min": {"type": "number"},
                    "band": enum(BANDS),
                    "egfr_from": enum(("lab", "calculated")),
                    "bsa_m2": {"type": ["number", "null"]},
                    "formula": string(),
                },
                required=("egfr_ml_min", "band", "egfr_from", "bsa_m2", "formula"),
                description="v1 member: the eGFR (lab, de-indexed, or CKD-EPI 2021), when there is one.",
            ),
            "formula": string("The formula of the method used (calculated methods)."),
            "formula_source": ref("Link"),
            "bmi_kg_m2": {"type": "number"},
            "bsa_m2": {"type": "number"},
            "ideal_body_weight_kg": {"type": "number"},
            "adjusted_body_weight_kg": {"type": "number"},
        },
        required=("crcl_ml_min", "band", "method", "estimates"),
        allOf=[
            {
                "if": {"properties": {"method": {"const": "unknown"}}},
                "then": {
                    "properties": {
                        "crcl_ml_min": {"type": "null"},
                        "band": {"const": vocab.UNKNOWN_BAND},
                        "estimates": {"maxItems": 0},
                    },
                    "not": {"required": ["chosen_by"]},
                },
                "else": {"required": ["chosen_by"], "properties": {"estimates": {"minItems": 1}}},
            },
            {
                "if": {"properties": {"method": {"const": "dialysis"}}},
                "then": {"properties": {"crcl_ml_min": {"type": "null"}, "estimates": {"maxItems": 1}}},
            },
        ],
    )


def hepatic_response() -> Schema:
    return obj(
        {
            "child_pugh_class": enum(vocab.CHILD_PUGH_CLASSES, null=True),
            "child_pugh_score": {"type": ["integer", "null"], "minimum": 5, "maximum": 15},
            "method": enum(("entered", "child-pugh-score", "unknown")),
            "formula": string("The Child-Pugh table used (when the score was calculated)."),
        },
        required=("child_pugh_class", "child_pugh_score", "method"),
        allOf=[
            {
                "if": {"properties": {"method": {"const": "unknown"}}},
                "then": {
                    "properties": {"child_pugh_class": {"type": "null"}, "child_pugh_score": {"type": "null"}}
                },
            },
            {
                "if": {"properties": {"method": {"const": "entered"}}},
                "then": {
                    "properties": {
                        "child_pugh_class": {"type": "string"},
                        "child_pugh_score": {"type": "null"},
                    }
                },
            },
            {
                "if": {"properties": {"method": {"const": "child-pugh-score"}}},
                "then": {
                    "required": ["formula"],
                    "properties": {
                        "child_pugh_class": {"type": "string"},
                        "child_pugh_score": {"type": "integer"},
                    },
                },
            },
        ],
    )


def dose_response() -> Schema:
    mg = {"type": ["integer", "null"], "minimum": 1}
    return obj(
        {
            "formulation": enum(vocab.FORMULATIONS),
            "start_mg_per_day": mg,
            "max_mg_per_day": mg | {"description": "null when no labelled dose applies."},
            "regimen": string("The regimen, or why there is no dose."),
            "titration": string(),
            "standard": {
                "type": "boolean",
                "description": "The labelled regimen, unchanged by a renal rule.",
            },
            "verdict": enum(vocab.VERDICTS, "The most restrictive effect of everything that fired."),
            "verdict_reasons": strings("Flag codes behind the verdict, most restrictive first."),
            "renal_confirmed": {
                "type": "boolean",
                "description": "false whenever renal function was not given, whatever the verdict.",
            },
            "heading": string("The words of the dose box."),
            "basis": array(ref("Note"), "The regimen, renal and hepatic rules this dose rests on."),
        },
        required=(
            "formulation",
            "start_mg_per_day",
            "max_mg_per_day",
            "regimen",
            "titration",
            "standard",
            "verdict",
            "verdict_reasons",
            "renal_confirmed",
            "heading",
            "basis",
        ),
        allOf=[
            {
                "if": {"properties": {"verdict": {"enum": NO_DOSE}}},
                "then": {
                    "properties": {"start_mg_per_day": {"type": "null"}, "max_mg_per_day": {"type": "null"}}
                },
                "else": {
                    "properties": {
                        "start_mg_per_day": {"type": "integer"},
                        "max_mg_per_day": {"type": "integer"},
                    }
                },
            }
        ],
    )


def flag_response() -> Schema:
    return obj(
        {
            "code": string(
                "A flag code of the contract (renal-severe, nmda-antagonist, ...); releases may add codes."
            ),
            "severity": enum(reversed(vocab.SEVERITIES), "The CDS Hooks card indicator."),
            "title": string(),
            "detail": string(),
            "triggers": strings("The patient values that raised it."),
            "sources": array(ref("Link"), minItems=1),
        },
        required=("code", "severity", "title", "detail", "triggers", "sources"),
    )


def medication_response() -> Schema:
    return obj(
        {
            "entered": string("The entry as given (white space collapsed)."),
            "recognized": {"type": "boolean"},
            "generic_name": {"type": ["string", "null"]},
            "classes": strings("Class names of every drug checked."),
            "recognized_as": string("What the entry was recognised as, in words; empty when nothing was."),
            "components": array(
                obj(
                    {"generic_name": string(), "classes": strings()},
                    required=("generic_name", "classes"),
                ),
                "Each drug of a combination product or a typed combination.",
            ),
            "not_checked": strings("Parts of a recognised entry that matched nothing: NOT checked."),
        },
        required=("entered", "recognized", "generic_name", "classes", "recognized_as"),
    )


def study_response() -> Schema:
    participants = {"type": ["integer", "null"], "minimum": 0}
    return obj(
        {
            "citation": string('"Author Year, Journal".'),
            "design": enum(vocab.STUDY_DESIGNS),
            "participants": participants,
            "n": participants | {"description": "The same number as participants."},
            "dose": string(),
            "dose_studied": string("The same text as dose."),
            "duration": string(),
            "result": enum(vocab.STUDY_RESULTS),
            "finding": string(),
            "statistics": string(
                "The effect with its CI and/or p as reported, or that none was reported; releases"
                f' published before v1.1 say "{NOT_REPORTED}".'
            ),
            "pmid": {"type": ["string", "null"]},
            "doi": {"type": ["string", "null"]},
            "url": string("The PubMed or doi.org page."),
        },
        required=(
            "citation",
            "design",
            "participants",
            "n",
            "dose",
            "dose_studied",
            "duration",
            "result",
            "finding",
            "statistics",
            "pmid",
            "doi",
            "url",
        ),
    )


def indication_response() -> Schema:
    return obj(
        {
            "slug": string("Catalogue data (e.g. ocd)."),
            "name": string(),
            "status": enum(vocab.STATUSES),
            "category": enum(vocab.CATEGORIES),
            "therapeutic_role": enum(vocab.ROLES),
            "evidence": obj(
                {
                    "strength": enum(vocab.STRENGTHS),
                    "efficacy": enum(vocab.EFFICACY),
                    "recommendation": enum(vocab.RECOMMENDATIONS),
                },
                required=("strength", "efficacy", "recommendation"),
            ),
            "summary": string(),
            "mechanism_rationale": string(),
            "dose_studied": string(),
            "dose_studied_range": {
                "oneOf": [
                    obj(
                        {
                            "min_mg_per_day": {"type": "integer", "minimum": 0},
                            "max_mg_per_day": {"type": "integer", "minimum": 0},
                        },
                        required=("min_mg_per_day", "max_mg_per_day"),
                    ),
                    {"type": "null"},
                ],
                "description": "Immediate-release-equivalent mg/day studied; null when not verified.",
            },
            "studied_above_cap": {"type": "boolean"},
            "caveats": strings(),
            "notes": strings("What this patient's data mean for the indication."),
            "studies": array(ref("Study")),
            "guidelines": array(
                obj(
                    {
                        "body": string(),
                        "title": string(),
                        "year": {"type": ["integer", "null"]},
                        "position": enum(vocab.GUIDELINE_POSITIONS),
                        "statement": string(),
                        "sources": array(ref("Link")),
                    },
                    required=("body", "title", "year", "position", "statement", "sources"),
                )
            ),
            "clinical_significance": string(),
            "evidence_gaps": array(
                obj({"element": enum(vocab.GAP_ELEMENTS), "reason": string()}, required=("element", "reason"))
            ),
            "caveat_details": array(ref("Note"), "The caveats with their sources, in the order of caveats."),
            "safety": array(ref("Note"), "The labels' adverse-effect profile and warnings."),
            "sources": array(ref("Link"), minItems=1),
            "last_reviewed": string("ISO date."),
            "next_review_due": {"type": ["string", "null"], "description": "ISO date, or null when not set."},
            "review_overdue": {"type": "boolean"},
        },
        required=(
            "slug",
            "name",
            "status",
            "category",
            "therapeutic_role",
            "evidence",
            "summary",
            "mechanism_rationale",
            "dose_studied",
            "dose_studied_range",
            "studied_above_cap",
            "caveats",
            "notes",
            "studies",
            "guidelines",
            "clinical_significance",
            "evidence_gaps",
            "caveat_details",
            "safety",
            "sources",
            "last_reviewed",
            "next_review_due",
            "review_overdue",
        ),
    )


def inputs_used_response() -> Schema:
    number = {"type": "number"}
    return obj(
        {
            "region": enum(vocab.REGIONS),
            "formulation": enum(vocab.FORMULATIONS),
            "indications": strings(),
            "renal": {
                "oneOf": [
                    obj(
                        {
                            "crcl_ml_min": number,
                            "dialysis": {"const": True},
                            "age_years": number,
                            "sex": enum(vocab.SEXES),
                            "serum_creatinine": number,
                            "creatinine_unit": enum(vocab.CREATININE_UNITS),
                            "weight": number,
                            "weight_unit": enum(vocab.WEIGHT_UNITS),
                            "weight_kg": number,
                            "height": number,
                            "height_unit": enum(vocab.HEIGHT_UNITS),
                            "height_cm": number,
                            "egfr_ml_min_1_73m2": number,
                            "use_estimate": enum(vocab.CHOOSABLE_ESTIMATES),
                        }
                    ),
                    {"type": "null"},
                ]
            },
            "hepatic": {
                "oneOf": [
                    obj(
                        {
                            "child_pugh_class": enum(vocab.CHILD_PUGH_CLASSES),
                            "bilirubin": number,
                            "bilirubin_unit": enum(vocab.BILIRUBIN_UNITS),
                            "bilirubin_mg_dl": number,
                            "albumin": number,
                            "albumin_unit": enum(vocab.ALBUMIN_UNITS),
                            "albumin_g_dl": number,
                            "inr": number,
                            "ascites": enum(vocab.ASCITES),
                            "encephalopathy": enum(vocab.ENCEPHALOPATHY),
                        }
                    ),
                    {"type": "null"},
                ]
            },
            "medications": strings(),
            "conditions": strings(),
        },
        required=("region", "formulation", "indications", "renal", "hepatic", "medications", "conditions"),
        description="The normalised inputs the engine used (FDA CDS criterion 4), in the request's names.",
    )


def assess_response() -> Schema:
    return obj(
        {
            "api_version": {"const": API_VERSION, "description": 'Stays "1" within v1 (v1.1 is additive).'},
            "catalogue_version": string("Identifies the published catalogue content used."),
            "region": enum(vocab.REGIONS),
            "inputs_used": ref("InputsUsed"),
            "inputs_missing": array(
                obj({"field": string(), "message": string()}, required=("field", "message")),
                "What was not given, and what the answer assumes instead.",
            ),
            "renal": ref("Renal"),
            "hepatic": ref("Hepatic"),
            "dose": ref("Dose"),
            "flags": array(ref("Flag"), "Most severe first."),
            "medications": array(ref("Medication"), "One per entry, in the order given."),
            "unrecognized_medications": strings("Entries (or parts) that matched nothing: NOT checked."),
            "medication_suggestions": {
                "type": "object",
                "additionalProperties": strings(maxItems=3),
                "description": "Near misses for unrecognised names; never substituted.",
            },
            "indications": array(ref("Indication")),
        },
        required=(
            "api_version",
            "catalogue_version",
            "region",
            "inputs_used",
            "inputs_missing",
            "renal",
            "hepatic",
            "dose",
            "flags",
            "medications",
            "unrecognized_medications",
            "medication_suggestions",
            "indications",
        ),
        allOf=[
            {  # renal_confirmed is false whenever renal function was not given
                "if": {"properties": {"renal": {"properties": {"method": {"const": "unknown"}}}}},
                "then": {"properties": {"dose": {"properties": {"renal_confirmed": {"const": False}}}}},
            }
        ],
    )


ERRORS = obj(
    {
        "errors": {
            "type": "object",
            "minProperties": 1,
            "additionalProperties": strings(minItems=1),
            "description": 'Messages by field path ("renal.age_years", "medications[2]", "body").',
        }
    },
    required=("errors",),
)
UNAVAILABLE = {
    "allOf": [ref("Errors")],
    "properties": {
        "catalogue_version": {
            "type": ["string", "null"],
            "description": "The release refused, when its integrity check failed.",
        }
    },
    "description": (
        "No answer can be given: no catalogue release has been published (errors.catalogue), the release"
        " asked for fails its integrity check (errors.catalogue, with catalogue_version), or the database"
        " cannot be reached."
    ),
}
HEALTH = {
    "oneOf": [
        obj(
            {
                "status": {"const": "ok"},
                "database": {"const": "ok"},
                "catalogue_version": string("The newest published release."),
            },
            required=("status", "database", "catalogue_version"),
        ),
        obj(
            {
                "status": {"const": "unavailable"},
                "database": enum(("ok", "unreachable")),
                "catalogue_version": {"type": ["string", "null"]},
                "catalogue": string("Why the catalogue cannot be used (none published, or refused)."),
            },
            required=("status", "database", "catalogue_version"),
        ),
    ]
}

# ---------------------------------------------------------------- operations


def json_content(schema: Schema, **extra: Any) -> dict[str, Any]:
    return {"application/json": {"schema": schema, **extra}}


RETRY_AFTER = {
    "required": False,
    "description": "Seconds, when the database cannot be reached: try again shortly.",
    "schema": {"type": "string", "pattern": "^[0-9]+$"},
}


def error_responses() -> dict[str, Any]:
    return {
        "400": {
            "description": "Malformed JSON, wrong types, unknown members or slugs, impossible or"
            " out-of-range values, two renal shapes at once, an unknown catalogue_version, or a body"
            " that is not application/json.",
            "content": json_content(ref("Errors")),
        },
        "405": {
            "description": "Any method other than POST (answered on this path for every other method).",
            "headers": {"Allow": {"required": True, "schema": {"const": "POST"}}},
            "content": json_content(ref("Errors")),
        },
        "403": {
            "description": "The service requires https (DJANGO_HTTPS) and the call came over plain http:"
            " refused, never redirected.",
            "content": json_content(ref("Errors")),
        },
        "413": {
            "description": f"A body over {settings.API_MAX_BODY_BYTES // 1024} KiB.",
            "content": json_content(ref("Errors")),
        },
        "503": {
            "description": "No answer can be given (see the schema). Never computed from altered content.",
            "headers": {"Retry-After": RETRY_AFTER},
            "content": json_content(ref("Unavailable")),
        },
    }


REQUEST_EXAMPLES = {
    "nothing-known": {"summary": "Nothing known about the patient", "value": {}},
    "contract-example": {
        "summary": "Cockcroft-Gault (severe), Child-Pugh C, an SSRI, OCD in focus",
        "value": {
            "region": "us",
            "formulation": "ir",
            "indications": ["ocd"],
            "renal": {
                "age_years": 80,
                "sex": "female",
                "weight_kg": 50,
                "serum_creatinine": 1.4,
                "creatinine_unit": "mg/dL",
            },
            "hepatic": {"child_pugh_class": "C"},
            "medications": ["sertraline", "Lexapro"],
            "conditions": ["seizure-disorder"],
        },
    },
    "units-explicit": {
        "summary": "v1.1: units explicit, height given, Child-Pugh from SI components",
        "value": {
            "renal": {
                "age_years": 80,
                "sex": "female",
                "weight": 132,
                "weight_unit": "lb",
                "height": 62,
                "height_unit": "in",
                "serum_creatinine": 1.6,
                "creatinine_unit": "mg/dL",
            },
            "hepatic": {
                "bilirubin": 30,
                "bilirubin_unit": "umol/L",
                "albumin": 35,
                "albumin_unit": "g/L",
                "inr": 1.5,
                "ascites": "none",
                "encephalopathy": "none",
            },
            "medications": ["sertaline"],
        },
    },
    "dialysis-eu": {
        "summary": "EU labelling, on dialysis",
        "value": {"region": "eu", "renal": {"dialysis": True}},
    },
    "lab-egfr-xr": {
        "summary": "Extended release, a lab eGFR alone",
        "value": {"formulation": "xr", "renal": {"egfr_ml_min_1_73m2": 45}},
    },
}


def assess_operation(*, operation_id: str, summary: str, ok: dict[str, Any]) -> dict[str, Any]:
    return {
        "operationId": operation_id,
        "summary": summary,
        "parameters": [
            {
                "name": "catalogue_version",
                "in": "query",
                "required": False,
                "description": "A published release to answer from (to reproduce an earlier answer);"
                " default: the newest. An unknown version is a 400.",
                "schema": {"type": "string"},
            }
        ],
        "requestBody": {
            "required": True,
            "content": json_content(ref("AssessRequest"), examples=REQUEST_EXAMPLES),
        },
        "responses": {"200": ok, **error_responses()},
    }


def build_document() -> dict[str, Any]:
    summary_pdf = assess_operation(
        operation_id="summaryPdf",
        summary="The printable summary sheet for the same request, as a PDF",
        ok={
            "description": "The summary sheet (the same content a clinician prints from the intake page).",
            "headers": {
                "Content-Disposition": {
                    "required": True,
                    "schema": {"type": "string", "pattern": "^attachment; filename="},
                }
            },
            "content": {
                "application/pdf": {"schema": {"type": "string", "contentMediaType": "application/pdf"}}
            },
        },
    )
    summary_pdf["parameters"].append(
        {
            "name": "paper",
            "in": "query",
            "required": False,
            "description": "Paper size (case is forgiven); any other value, or none, gives the region's"
            " default: letter for us, a4 for eu.",
            "schema": {"type": "string", "enum": ["a4", "letter"]},
        }
    )
    return {
        "openapi": OPENAPI_VERSION,
        "jsonSchemaDialect": DIALECT,
        "info": {
            "title": "Memantine decision support: assessment API",
            "version": DOCUMENT_VERSION,
            "summary": "The engine behind the intake form, as JSON and as a printable PDF.",
            "description": (
                'The public JSON contract (v1 with its v1.1 additions; api_version stays "1"). Field'
                " names, slugs and flag codes are a public contract: members are added freely, never renamed"
                " or removed without a new API version, so clients must ignore members they do not know."
                " Nothing a request carries is stored or logged. Never a 500: bad input gets a 400 naming"
                " the field."
            ),
        },
        "paths": {
            "/api/v1/assess": {
                "post": assess_operation(
                    operation_id="assess",
                    summary="Assess a patient: renal and hepatic function, the dose, flags, indications",
                    ok={
                        "description": "The assessment.",
                        "content": json_content(ref("AssessResponse")),
                    },
                )
            },
            "/api/v1/summary.pdf": {"post": summary_pdf},
            "/healthz": {
                "get": {
                    "operationId": "healthz",
                    "summary": "Is the database reachable and the newest release usable?",
                    "responses": {
                        "200": {"description": "Ready.", "content": json_content(ref("Health"))},
                        "503": {
                            "description": "The database cannot be reached, no release has been published, or"
                            " the newest release fails its integrity check (named in catalogue).",
                            "content": json_content(ref("Health")),
                        },
                    },
                }
            },
            "/api/v1/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This description",
                    "responses": {
                        "200": {
                            "description": "The OpenAPI 3.1 document.",
                            "content": json_content(
                                obj(
                                    {
                                        "openapi": {"type": "string"},
                                        "info": {"type": "object"},
                                        "paths": {"type": "object"},
                                    },
                                    required=("openapi", "info", "paths"),
                                )
                            ),
                        },
                        "403": error_responses()["403"],
                    },
                }
            },
        },
        "components": {
            "schemas": {
                "AssessRequest": assess_request(),
                "RenalInput": renal_request(),
                "HepaticInput": hepatic_request(),
                "AssessResponse": assess_response(),
                "InputsUsed": inputs_used_response(),
                "Renal": renal_response(),
                "RenalEstimate": estimate_response(),
                "Hepatic": hepatic_response(),
                "Dose": dose_response(),
                "Flag": flag_response(),
                "Medication": medication_response(),
                "Indication": indication_response(),
                "Study": study_response(),
                "Link": LINK,
                "Note": NOTE,
                "Errors": ERRORS,
                "Unavailable": UNAVAILABLE,
                "Health": HEALTH,
            }
        },
    }


@functools.cache
def _document_json() -> bytes:
    return json.dumps(build_document(), ensure_ascii=False, indent=1).encode()


def openapi_document() -> dict[str, Any]:
    """The document as a dict (a fresh copy: callers may change it)."""
    return json.loads(_document_json())


@require_GET
@cache_control(public=True, max_age=300)
def openapi_view(request) -> HttpResponse:
    return HttpResponse(_document_json(), content_type="application/json")
