"""The OpenAPI 3.1 description (indications/openapi.py) in step with the code.

- It is a valid OpenAPI 3.1 document, and describes exactly the API's routes.
- Request: its members are the members the parser accepts (factors.TOP_LEVEL, RENAL_KEYS, HEPATIC_KEYS);
  the parser refuses any other; at the edges of every plausible range, for every unit, and for every
  enumerated value, the schema and the parser give the same verdict.
- Responses: real answers (200 for a range of patients, 400, 405, 413, 503, the PDF, /healthz) validate
  against the schema described for their status (Draft 2020-12); every member they carry is described,
  and every member described is carried by at least one of them (no phantom members).
- /api/v1/openapi.json serves the same document.
"""

from __future__ import annotations

import json
from typing import Any
from unittest import mock

import pytest
import schemathesis
from django.db import OperationalError, connection
from django.test import Client
from django.urls import resolve
from jsonschema import Draft202012Validator
from openapi_spec_validator import OpenAPIV31SpecValidator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from indications import api, openapi, views
from indications.db_guards import release_guards_lifted
from indications.engine import factors, parse_request
from indications.models import CatalogueRelease
from indications.snapshot import published_catalogue

pytestmark = pytest.mark.django_db

DOC = openapi.openapi_document()
BASE = "urn:memantine-openapi"
REGISTRY = Registry().with_resource(BASE, Resource.from_contents(DOC, default_specification=DRAFT202012))
ASSESS, PDF, HEALTH = "/api/v1/assess", "/api/v1/summary.pdf", "/healthz"


def escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def validator_at(*pointer: str) -> Draft202012Validator:
    """A validator for the schema at this JSON pointer of the document, its $refs resolved in it."""
    return Draft202012Validator(
        {"$ref": f"{BASE}#/" + "/".join(escape(p) for p in pointer)}, registry=REGISTRY
    )


def component(name: str) -> Draft202012Validator:
    return validator_at("components", "schemas", name)


def resolved(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = REGISTRY.resolver(BASE).lookup(BASE + schema["$ref"]).contents
    return schema


def check_response(response, path: str, method: str, status: int | None = None) -> None:
    """The response's status is described for this operation, and its body validates against it."""
    status = status or response.status_code
    described = DOC["paths"][path][method]["responses"]
    assert str(status) in described, f"{method.upper()} {path} answered {status}, not described"
    content = described[str(status)]["content"]
    media_type = response["Content-Type"].split(";")[0]
    assert media_type in content, f"{media_type} not described for {status}"
    for header, spec in described[str(status)].get("headers", {}).items():
        assert header in response or not spec.get("required"), header
        if header in response:
            errors = list(Draft202012Validator(spec["schema"]).iter_errors(response[header]))
            assert not errors, (header, errors)
    if media_type == "application/json":
        schema = validator_at(
            "paths", path, method, "responses", str(status), "content", media_type, "schema"
        )
        errors = [
            f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in schema.iter_errors(response.json())
        ]
        assert not errors, errors[:10]


def post(client, path: str, body: Any, **extra):
    payload = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post(path, payload, content_type="application/json", **extra)


# ---------------------------------------------------------------- the document


def test_the_document_is_valid_openapi_3_1():
    OpenAPIV31SpecValidator(DOC).validate()
    assert DOC["openapi"].startswith("3.1.")
    assert DOC["jsonSchemaDialect"] == "https://json-schema.org/draft/2020-12/schema"
    assert DOC["info"]["version"] == "1.1"
    for schema in DOC["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)
    loaded = schemathesis.openapi.from_dict(DOC)
    operations = {(op.method.upper(), op.path) for op in (r.ok() for r in loaded.get_all_operations())}
    assert operations == {
        ("POST", ASSESS),
        ("POST", PDF),
        ("GET", HEALTH),
        ("GET", "/api/v1/openapi.json"),
    }


def test_the_document_describes_the_api_routes_and_their_views():
    views_by_path = {
        ASSESS: api.assess_view,
        PDF: api.summary_pdf_view,
        HEALTH: views.healthz,
        "/api/v1/openapi.json": openapi.openapi_view,
    }
    assert set(DOC["paths"]) == set(views_by_path)
    for path, view in views_by_path.items():
        assert resolve(path).func is view, path
    # The request examples are valid requests, by the schema and by the parser.
    for path in (ASSESS, PDF):
        media = DOC["paths"][path]["post"]["requestBody"]["content"]["application/json"]
        for name, example in media["examples"].items():
            assert component("AssessRequest").is_valid(example["value"]), name
            assert parse(example["value"]).ok, (name, parse(example["value"]).errors)


def test_the_view_serves_the_same_document(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "max-age=" in response["Cache-Control"]
    assert response.json() == DOC
    assert client.post("/api/v1/openapi.json").status_code == 405


# ---------------------------------------------------------------- requests


def parse(body: Any):
    catalogue = published_catalogue()
    return parse_request(
        body, known_indications=catalogue.indications_by_slug, known_conditions=catalogue.conditions_by_slug
    )


def request_properties(name: str) -> set[str]:
    return set(DOC["components"]["schemas"][name]["properties"])


@pytest.mark.parametrize(
    ("schema", "accepted", "prefix", "inside"),
    [
        ("AssessRequest", factors.TOP_LEVEL, "", lambda members: members),
        ("RenalInput", factors.RENAL_KEYS, "renal.", lambda members: {"renal": members}),
        ("HepaticInput", factors.HEPATIC_KEYS, "hepatic.", lambda members: {"hepatic": members}),
    ],
)
def test_request_members_are_the_members_the_parser_accepts(schema, accepted, prefix, inside):
    assert request_properties(schema) == set(accepted)
    # A member outside the schema is refused by both; each described member may be null (= absent).
    for member in ("dose", "crcl", "weight_lb", "Region"):
        body = inside({member: 1})
        assert not component("AssessRequest").is_valid(body)
        assert "Unknown field" in " ".join(parse(body).errors.get(prefix + member, [])), member
    for member in accepted:
        body = inside({member: None})
        assert component("AssessRequest").is_valid(body), member
        assert parse(body).ok, (member, parse(body).errors)


CG = {"age_years": 110, "sex": "female", "weight": 40, "weight_unit": "kg"}
CG_CREATININE = {"serum_creatinine": 2.0, "creatinine_unit": "mg/dL"}
CHILD_PUGH = {
    "bilirubin": 1.0,
    "bilirubin_unit": "mg/dL",
    "albumin": 3.5,
    "albumin_unit": "g/dL",
    "inr": 1.0,
    "ascites": "none",
    "encephalopathy": "none",
}


def without(data: dict, *keys: str) -> dict:
    return {k: v for k, v in data.items() if k not in keys}


# (object, member, the quantity whose limits apply, unit field or None, the other members given)
RANGES = [
    ("renal", "crcl_ml_min", "crcl_ml_min", None, {}),
    ("renal", "age_years", "age_years", None, {**without(CG, "age_years"), **CG_CREATININE}),
    ("renal", "weight", "weight", "weight_unit", {**without(CG, "weight", "weight_unit"), **CG_CREATININE}),
    ("renal", "weight_kg", "weight", None, {**without(CG, "weight", "weight_unit"), **CG_CREATININE}),
    ("renal", "height", "height", "height_unit", {**CG, "weight": 70, **CG_CREATININE}),
    ("renal", "height_cm", "height", None, {**CG, "weight": 70, **CG_CREATININE}),
    ("renal", "serum_creatinine", "serum_creatinine", "creatinine_unit", CG),
    ("renal", "egfr_ml_min_1_73m2", "egfr_ml_min_1_73m2", None, {}),
    (
        "hepatic",
        "bilirubin",
        "bilirubin",
        "bilirubin_unit",
        without(CHILD_PUGH, "bilirubin", "bilirubin_unit"),
    ),
    ("hepatic", "bilirubin_mg_dl", "bilirubin", None, without(CHILD_PUGH, "bilirubin", "bilirubin_unit")),
    ("hepatic", "albumin", "albumin", "albumin_unit", without(CHILD_PUGH, "albumin", "albumin_unit")),
    ("hepatic", "albumin_g_dl", "albumin", None, without(CHILD_PUGH, "albumin", "albumin_unit")),
    ("hepatic", "inr", "inr", None, without(CHILD_PUGH, "inr")),
]


def edges(quantity: str) -> list[float]:
    """Every limit of the quantity, in every unit, and just beyond each."""
    limits = [lim for key, lim in factors.LIMITS.items() if key.split(":")[0] == quantity]
    values = set()
    for lim in limits:
        for bound in (lim.low, lim.high):
            step = max(abs(bound) * 1e-4, 1e-3)
            values |= {bound, bound - step, bound + step}
    return sorted(values)


@pytest.mark.parametrize(("where", "member", "quantity", "unit_key", "others"), RANGES, ids=lambda v: str(v))
def test_numeric_ranges_agree_with_the_parser_at_every_edge(where, member, quantity, unit_key, others):
    units = list(factors.UNITS[quantity]) if unit_key else [None]
    verdicts = set()
    for unit in units:
        for value in edges(quantity):
            members = {**others, member: value}
            if unit:
                members[unit_key] = unit
            body = {where: members}
            by_schema = component("AssessRequest").is_valid(body)
            by_parser = f"{where}.{member}" not in parse(body).errors
            assert by_schema == by_parser, (body, parse(body).errors)
            verdicts.add(by_parser)
    assert verdicts == {True, False}  # each member tried inside and outside its range


def enumerated_members() -> list[tuple[str, str, list[str], dict]]:
    found = []
    contexts = {
        "AssessRequest": ("", {}),
        "RenalInput": ("renal", {**CG, **CG_CREATININE}),
        "HepaticInput": ("hepatic", CHILD_PUGH),
    }
    for name, (where, others) in contexts.items():
        for member, schema in DOC["components"]["schemas"][name]["properties"].items():
            if "enum" in schema:
                found.append((where, member, [v for v in schema["enum"] if v is not None], others))
    return found


ENUMS = enumerated_members()


def test_every_enumerated_request_member_is_tried():
    assert {m for _, m, _, _ in ENUMS} == {
        "region",
        "formulation",
        "sex",
        "weight_unit",
        "height_unit",
        "creatinine_unit",
        "use_estimate",
        "child_pugh_class",
        "bilirubin_unit",
        "albumin_unit",
        "ascites",
        "encephalopathy",
    }


# Renal values giving every estimate (obese: adjusted weight; height: CKD-EPI; a lab eGFR too).
EVERY_ESTIMATE = {
    "age_years": 60,
    "sex": "male",
    "weight": 120,
    "weight_unit": "kg",
    "height": 170,
    "height_unit": "cm",
    "serum_creatinine": 1.5,
    "creatinine_unit": "mg/dL",
    "egfr_ml_min_1_73m2": 50,
}


@pytest.mark.parametrize(("where", "member", "values", "others"), ENUMS, ids=lambda v: str(v)[:30])
def test_every_enumerated_value_is_accepted_and_no_other(where, member, values, others):
    assert values
    for value in [*values, "not-a-choice"]:
        members = {**others, member: value}
        if member == "use_estimate":
            members = {**EVERY_ESTIMATE, member: value}
        elif member == "height_unit":
            members["height"] = 160 if value == "cm" else 63
        elif member == "weight_unit":
            members["weight"] = 40 if value == "kg" else 88
        elif member == "creatinine_unit":
            members["serum_creatinine"] = 2.0 if value == "mg/dL" else 177
        elif member == "bilirubin_unit":
            members["bilirubin"] = 1.0 if value == "mg/dL" else 17
        elif member == "albumin_unit":
            members["albumin"] = 3.5 if value == "g/dL" else 35
        elif member == "child_pugh_class":
            members = {member: value}
        body = {where: members} if where else members
        by_schema = component("AssessRequest").is_valid(body)
        path = f"{where}.{member}" if where else member
        by_parser = path not in parse(body).errors
        assert by_schema == by_parser == (value != "not-a-choice"), (body, parse(body).errors)


def test_eu_extended_release_is_refused_by_both():
    for body, valid in (
        ({"region": "eu", "formulation": "xr"}, False),
        ({"region": "eu", "formulation": "ir"}, True),
        ({"region": "us", "formulation": "xr"}, True),
        ({"formulation": "xr"}, True),
    ):
        assert component("AssessRequest").is_valid(body) == valid == parse(body).ok, body


def test_list_limits_agree_with_the_parser():
    schemas = DOC["components"]["schemas"]["AssessRequest"]["properties"]
    slug = next(iter(published_catalogue().indications_by_slug))
    for body in (
        {"indications": [slug] * factors.MAX_LISTED},
        {"indications": [slug] * (factors.MAX_LISTED + 1)},
        {"medications": ["sertraline"] * factors.MAX_MEDICATIONS},
        {"medications": ["sertraline"] * (factors.MAX_MEDICATIONS + 1)},
        {"medications": ["a" * factors.MAX_MEDICATION_LENGTH]},
        {"medications": ["a" * (factors.MAX_MEDICATION_LENGTH + 1)]},
        {"medications": [3]},
        {"indications": "ocd"},
    ):
        assert component("AssessRequest").is_valid(body) == parse(body).ok, (body, parse(body).errors)
    assert schemas["indications"]["maxItems"] == schemas["conditions"]["maxItems"] == factors.MAX_LISTED


# ---------------------------------------------------------------- responses

OBESE_SI = {
    "age_years": 58,
    "sex": "female",
    "weight": 280,
    "weight_unit": "lb",
    "height": 160,
    "height_unit": "cm",
    "serum_creatinine": 150,
    "creatinine_unit": "umol/L",
}
BODIES = {
    "nothing-known": {},
    "renal-severe-cockcroft-gault": {
        "renal": {
            "age_years": 80,
            "sex": "female",
            "weight_kg": 50,
            "serum_creatinine": 1.4,
            "creatinine_unit": "mg/dL",
        },
        "hepatic": {"child_pugh_class": "C"},
        "medications": ["sertraline", "Lexapro"],
        "indications": ["ocd"],
    },
    "renal-severe-entered-xr": {"formulation": "xr", "renal": {"crcl_ml_min": 29.97}},
    "renal-no-data-entered": {"renal": {"crcl_ml_min": 4.9}},
    "dialysis-eu": {"region": "eu", "renal": {"dialysis": True}, "hepatic": {"child_pugh_class": "C"}},
    "moderate-eu": {"region": "eu", "renal": {"crcl_ml_min": 42}, "conditions": ["seizure-disorder"]},
    "obese-every-estimate-clinician": {"renal": {**OBESE_SI, "use_estimate": "cockcroft-gault"}},
    "obese-conservative": {"renal": OBESE_SI},
    "lab-egfr-deindexed": {
        "renal": {"egfr_ml_min_1_73m2": 45, "weight_kg": 45, "height_cm": 150},
        "indications": ["alzheimers-disease", "complex-regional-pain-syndrome"],
    },
    "lab-egfr-alone": {"renal": {"egfr_ml_min_1_73m2": 25}},
    "hepatic-components-si": {
        "renal": {"crcl_ml_min": 60},
        "hepatic": {
            "bilirubin": 60,
            "bilirubin_unit": "umol/L",
            "albumin": 25,
            "albumin_unit": "g/L",
            "inr": 2.5,
            "ascites": "moderate-severe",
            "encephalopathy": "grade-1-2",
        },
    },
    "hepatic-components-legacy-eu": {
        "region": "eu",
        "hepatic": without(CHILD_PUGH, "bilirubin", "bilirubin_unit", "albumin", "albumin_unit")
        | {"bilirubin_mg_dl": 3.5, "albumin_g_dl": 2.5, "inr": 2.0, "ascites": "mild"},
    },
    "ssris-dextromethorphan-maoi": {
        "renal": {"crcl_ml_min": 90},
        "medications": ["Zoloft", "escitalopram 10 mg daily", "dextromethorphan", "phenelzine", "Nuedexta"],
        "indications": ["ocd", "major-depressive-disorder"],
    },
    "unknown-drug-and-combination": {
        "renal": {"crcl_ml_min": 90},
        "medications": ["sertaline", "Frobnicil 20mg", "sertraline + frobnicate", "memantine"],
    },
    "every-condition-eu": {
        "region": "eu",
        "renal": {"crcl_ml_min": 70},
        "medications": ["acetazolamide", "metformin", "warfarin", "baclofen", "haloperidol", "phenytoin"],
        "conditions": [
            "seizure-disorder",
            "pregnancy",
            "breastfeeding",
            "renal-tubular-acidosis",
            "severe-proteus-uti",
            "cardiovascular-disease",
        ],
    },
}
RESPONSE_200 = ("paths", ASSESS, "post", "responses", "200", "content", "application/json", "schema")


def branch_for(instance: Any, schema: dict[str, Any]) -> dict[str, Any] | None:
    """The branch of a oneOf that describes this instance (by its JSON type)."""
    schema = resolved(schema)
    if "oneOf" not in schema:
        return schema
    for option in schema["oneOf"]:
        option = resolved(option)
        kind = option.get("type")
        if (instance is None and kind == "null") or (isinstance(instance, dict) and kind == "object"):
            return option
    return None


def walk(instance: Any, schema: dict[str, Any], path: str, seen: set[str], undescribed: list[str]) -> None:
    """Every member of the instance, matched with its schema: the paths seen, and those not described."""
    schema = branch_for(instance, schema)
    if schema is None:
        undescribed.append(path or "/")
        return
    if isinstance(instance, dict):
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        for key, value in instance.items():
            if key in properties:
                seen.add(f"{path}.{key}")
                walk(value, properties[key], f"{path}.{key}", seen, undescribed)
            elif isinstance(extra, dict):
                seen.add(f"{path}.*")
                walk(value, extra, f"{path}.*", seen, undescribed)
            else:
                undescribed.append(f"{path}.{key}")
    elif isinstance(instance, list) and "items" in schema:
        for item in instance:
            walk(item, schema["items"], f"{path}[]", seen, undescribed)


def described(schema: dict[str, Any], path: str = "", trail: tuple = ()) -> set[str]:
    """Every member path the schema describes (its if/then conditions add none)."""
    if "$ref" in schema:
        if schema["$ref"] in trail:
            return set()
        trail = (*trail, schema["$ref"])
    schema = resolved(schema)
    paths: set[str] = set()
    for option in schema.get("oneOf", []):
        paths |= described(option, path, trail)
    for key, value in schema.get("properties", {}).items():
        paths.add(f"{path}.{key}")
        paths |= described(value, f"{path}.{key}", trail)
    if isinstance(schema.get("additionalProperties"), dict):
        paths.add(f"{path}.*")
        paths |= described(schema["additionalProperties"], f"{path}.*", trail)
    if isinstance(schema.get("items"), dict):
        paths |= described(schema["items"], f"{path}[]", trail)
    return paths


@pytest.fixture
def assessments(client) -> dict[str, dict]:
    answers = {}
    for name, body in BODIES.items():
        assert component("AssessRequest").is_valid(body), name
        response = post(client, ASSESS, body)
        assert response.status_code == 200, (name, response.content[:500])
        check_response(response, ASSESS, "post")
        answers[name] = response.json()
    return answers


def test_every_member_of_real_assessments_is_described_and_every_described_member_occurs(assessments):
    schema = resolved({"$ref": "#/" + "/".join(escape(p) for p in RESPONSE_200)})
    seen: set[str] = set()
    for name, data in assessments.items():
        undescribed: list[str] = []
        walk(data, schema, "", seen, undescribed)
        assert not undescribed, (name, undescribed)
    never_emitted = described(schema) - seen
    assert not never_emitted, sorted(never_emitted)


def test_the_assessments_cover_the_shapes_the_schema_distinguishes(assessments):
    renal = {name: data["renal"]["method"] for name, data in assessments.items()}
    assert set(renal.values()) >= {
        "unknown",
        "entered",
        "cockcroft-gault",
        "cockcroft-gault-adjusted-weight",
        "egfr-lab",
        "egfr-lab-deindexed",
        "dialysis",
    }
    assert {data["hepatic"]["method"] for data in assessments.values()} == {
        "unknown",
        "entered",
        "child-pugh-score",
    }
    verdicts = {data["dose"]["verdict"] for data in assessments.values()}
    assert verdicts >= {"unconfirmed", "adjusted", "caution", "not-recommended", "no-labelled-dose"}
    chosen = {data["renal"].get("chosen_by") for data in assessments.values()}
    assert chosen == {None, "only-estimate", "conservative", "clinician"}


def test_a_response_that_breaks_the_contract_is_caught_by_the_schema(assessments):
    """The schema is not vacuous: answers altered the ways the contract forbids fail it."""
    schema = validator_at(*RESPONSE_200)
    data = assessments["dialysis-eu"]
    assert schema.is_valid(data)
    for alter in (
        lambda d: d["dose"].update(max_mg_per_day=10),  # no-labelled-dose carries no number
        lambda d: d["renal"].pop("chosen_by"),
        lambda d: d["flags"][0].update(severity="high"),
        lambda d: d["flags"][0].update(sources=[]),
        lambda d: d.pop("medication_suggestions"),
        lambda d: d["indications"][0]["studies"][0].update(participants="12"),
        lambda d: d["renal"]["estimates"][0].update(crcl_ml_min=3),
        lambda d: d.update(api_version="2"),
    ):
        altered = json.loads(json.dumps(data))
        alter(altered)
        assert not schema.is_valid(altered)
    unknown = json.loads(json.dumps(assessments["nothing-known"]))
    unknown["dose"]["renal_confirmed"] = True
    assert not schema.is_valid(unknown)
    unknown = json.loads(json.dumps(assessments["nothing-known"]))
    unknown["renal"]["chosen_by"] = "conservative"
    assert not schema.is_valid(unknown)
    unknown = json.loads(json.dumps(assessments["nothing-known"]))
    unknown["a_member_added_within_v1"] = {"anything": 1}  # additive members stay valid
    assert schema.is_valid(unknown)


@pytest.mark.parametrize("path", [ASSESS, PDF])
@pytest.mark.parametrize(
    ("body", "query", "content_type"),
    [
        ('{"region": "us",', "", "application/json"),
        ('{"region": "us", "region": "eu"}', "", "application/json"),
        ('{"renal": {"crcl_ml_min": NaN}}', "", "application/json"),
        ("[1, 2]", "", "application/json"),
        ('{"dose": 10}', "", "application/json"),
        ('{"region": "eu", "formulation": "xr"}', "", "application/json"),
        ('{"renal": {"crcl_ml_min": 40, "dialysis": true}}', "", "application/json"),
        ('{"renal": {"age_years": 200, "sex": "other"}, "indications": ["nope"]}', "", "application/json"),
        ('{"renal": {"weight": 70}}', "", "application/json"),
        ("{}", "?catalogue_version=1999-01-01.1", "application/json"),
        ("region=us", "", "application/x-www-form-urlencoded"),
        (b'{"region": "\xff"}', "", "application/json"),
    ],
)
def test_400_answers_match_the_schema(client, path, body, query, content_type):
    response = client.post(path + query, body, content_type=content_type)
    assert response.status_code == 400
    check_response(response, path, "post")


@pytest.mark.parametrize("path", [ASSESS, PDF])
@pytest.mark.parametrize("method", ["get", "put", "patch", "delete", "options"])
def test_405_answers_match_the_schema(client, path, method):
    response = getattr(client, method)(path)
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    check_response(response, path, "post")


@pytest.mark.parametrize("path", [ASSESS, PDF])
def test_413_answers_match_the_schema(client, path):
    response = post(client, path, {"medications": ["x" * 70_000]})
    assert response.status_code == 413
    check_response(response, path, "post")


def test_the_pdf_matches_its_description(client):
    response = post(client, PDF + "?paper=a4", BODIES["renal-severe-cockcroft-gault"])
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF-")
    check_response(response, PDF, "post")


def tamper_release_hash() -> None:
    with release_guards_lifted(connection), connection.cursor() as cursor:  # rolled back after the test
        cursor.execute("UPDATE indications_cataloguerelease SET content_hash = %s", ["0" * 64])


def delete_releases() -> None:
    with release_guards_lifted(connection), connection.cursor() as cursor:  # rolled back after the test
        cursor.execute(f"DELETE FROM {CatalogueRelease._meta.db_table}")


@pytest.mark.parametrize("break_it", [tamper_release_hash, delete_releases], ids=["integrity", "no-release"])
def test_503_answers_match_the_schema(client, break_it):
    version = CatalogueRelease.objects.get().version
    break_it()
    for path in (ASSESS, PDF):
        response = post(client, path, {})
        assert response.status_code == 503
        check_response(response, path, "post")
        assert "catalogue" in response.json()["errors"]
        if break_it is tamper_release_hash:
            assert response.json()["catalogue_version"] == version
    health = client.get(HEALTH)
    assert health.status_code == 503
    check_response(health, HEALTH, "get")


def database_down():
    return mock.patch.object(connection, "cursor", side_effect=OperationalError("connection refused"))


def test_503_answers_when_the_database_is_down_match_the_schema():
    client = Client(raise_request_exception=False)  # the answer Django's error handler gives
    for path in (ASSESS, PDF):
        with database_down():
            response = post(client, path, {})
        assert response.status_code == 503
        check_response(response, path, "post")
        assert "database" in response.json()["errors"]
        assert response["Retry-After"].isdigit()


def test_healthz_answers_match_the_schema(client):
    response = client.get(HEALTH)
    assert response.status_code == 200
    check_response(response, HEALTH, "get")
    with database_down():
        response = client.get(HEALTH)
    assert response.status_code == 503
    check_response(response, HEALTH, "get")
    assert response.json()["database"] == "unreachable"
