"""POST /api/v1/assess against shared/api-contract.md, on the seed catalogue."""

import json

import pytest

from indications.models import CatalogueRelease

pytestmark = pytest.mark.django_db

URL = "/api/v1/assess"


def post(client, body, **extra):
    payload = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post(URL, payload, content_type="application/json", **extra)


def flag(data, code):
    return next((f for f in data["flags"] if f["code"] == code), None)


def test_empty_request_is_valid_and_knows_nothing(client):
    response = post(client, {})
    assert response.status_code == 200
    data = response.json()
    assert data["api_version"] == "1"
    assert data["catalogue_version"] == CatalogueRelease.objects.get().version
    assert data["region"] == "us"
    assert data["renal"] == {"crcl_ml_min": None, "band": "unknown", "method": "unknown", "estimates": []}
    assert data["hepatic"]["child_pugh_class"] is None
    assert flag(data, "renal-function-unknown")["severity"] == "warning"
    assert len(data["indications"]) == 11
    assert data["dose"]["max_mg_per_day"] == 20
    assert (data["dose"]["verdict"], data["dose"]["renal_confirmed"]) == ("unconfirmed", False)
    assert data["dose"]["verdict_reasons"] == ["renal-function-unknown"]
    assert data["unrecognized_medications"] == []
    assert data["medication_suggestions"] == {}


def test_contract_example_cockcroft_gault_severe(client):
    body = {
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
    }
    data = post(client, body).json()
    assert data["renal"]["crcl_ml_min"] == 25.3
    assert (data["renal"]["band"], data["renal"]["method"]) == ("severe", "cockcroft-gault")
    assert data["renal"]["chosen_by"] == "only-estimate"
    assert data["hepatic"]["child_pugh_class"] == "C"
    dose = data["dose"]
    assert (dose["formulation"], dose["start_mg_per_day"], dose["max_mg_per_day"], dose["regimen"]) == (
        "ir",
        5,
        10,
        "5 mg twice daily",
    )
    # US Child-Pugh C is "use with caution": the verdict says so beside the renal cap.
    assert (dose["verdict"], dose["verdict_reasons"], dose["renal_confirmed"]) == (
        "caution",
        ["hepatic-severe", "renal-severe"],
        True,
    )
    assert dose["titration"]
    assert flag(data, "renal-severe")["severity"] == "warning"
    assert flag(data, "hepatic-severe")["severity"] == "warning"
    assert flag(data, "ssri-no-interaction")["severity"] == "info"
    assert flag(data, "augmentation-without-ssri") is None
    assert [i["slug"] for i in data["indications"]] == ["ocd"]
    ocd = data["indications"][0]
    assert ocd["status"] == "off-label"
    assert set(ocd["evidence"]) >= {"strength", "efficacy", "recommendation"}
    assert ocd["caveats"] and ocd["studies"] and ocd["summary"]
    assert any(s["result"] == "negative" for s in ocd["studies"])
    assert data["inputs_used"]["medications"] == ["sertraline", "Lexapro"]


@pytest.mark.parametrize(
    ("body", "band", "max_mg", "regimen", "code", "severity"),
    [
        (
            {"region": "us", "renal": {"crcl_ml_min": 4.9}},
            "no-data",
            None,
            "No dose: No labelled dose below CrCl 5 mL/min or on dialysis",
            "renal-no-data",
            "critical",
        ),
        (
            {"region": "us", "renal": {"dialysis": True}},
            "no-data",
            None,
            "No dose: No labelled dose below CrCl 5 mL/min or on dialysis",
            "renal-no-data",
            "critical",
        ),
        (
            {"region": "us", "renal": {"crcl_ml_min": 5}},
            "severe",
            10,
            "5 mg twice daily",
            "renal-severe",
            "warning",
        ),
        (
            {"region": "us", "formulation": "xr", "renal": {"crcl_ml_min": 29.9}},
            "severe",
            14,
            "14 mg once daily",
            "renal-severe",
            "warning",
        ),
        (
            {"region": "eu", "renal": {"crcl_ml_min": 29.9}},
            "severe",
            10,
            "10 mg once daily",
            "renal-severe",
            "warning",
        ),
        (
            {"region": "us", "renal": {"crcl_ml_min": 30}},
            "moderate",
            20,
            "10 mg twice daily",
            "renal-moderate",
            "info",
        ),
        ({"region": "eu", "renal": {"crcl_ml_min": 49.9}}, "moderate", 20, None, "renal-moderate", "warning"),
        (
            {"region": "us", "formulation": "xr", "renal": {"crcl_ml_min": 50}},
            "mild",
            28,
            "28 mg once daily",
            None,
            None,
        ),
        ({"region": "eu", "renal": {"crcl_ml_min": 80}}, "mild", 20, "20 mg once daily", None, None),
        ({"region": "eu", "renal": {"crcl_ml_min": 80.1}}, "normal", 20, "20 mg once daily", None, None),
    ],
)
def test_label_golden_cases(client, body, band, max_mg, regimen, code, severity):
    data = post(client, body).json()
    assert data["renal"]["band"] == band
    assert data["dose"]["max_mg_per_day"] == max_mg
    if regimen:
        assert data["dose"]["regimen"] == regimen
    renal_flags = [f for f in data["flags"] if f["code"].startswith("renal-")]
    if code:
        assert [(f["code"], f["severity"]) for f in renal_flags] == [(code, severity)]
    else:
        assert renal_flags == []


def test_eu_moderate_starts_at_5_holds_10_and_may_rise_to_20(client):
    # The contract's corrected line: EU moderate renal impairment starts at 5 mg/day like everyone.
    dose = post(client, {"region": "eu", "renal": {"crcl_ml_min": 40}}).json()["dose"]
    assert (dose["start_mg_per_day"], dose["max_mg_per_day"], dose["verdict"]) == (5, 20, "adjusted")
    assert "7 days" in dose["regimen"]
    assert dose["titration"].startswith("Week 1: 5 mg once daily")


def test_hepatic_severe_is_critical_in_the_eu(client):
    assert (
        flag(post(client, {"region": "eu", "hepatic": {"child_pugh_class": "C"}}).json(), "hepatic-severe")[
            "severity"
        ]
        == "critical"
    )


def test_child_pugh_components_are_scored(client):
    body = {
        "hepatic": {
            "bilirubin_mg_dl": 2.5,
            "albumin_g_dl": 3.0,
            "inr": 1.5,
            "ascites": "none",
            "encephalopathy": "none",
        }
    }
    hepatic = post(client, body).json()["hepatic"]
    assert (hepatic["child_pugh_class"], hepatic["child_pugh_score"]) == ("B", 7)


@pytest.mark.parametrize(
    ("medications", "conditions", "code"),
    [
        (["amantadine"], [], "nmda-antagonist"),
        (["Spravato"], [], "nmda-antagonist"),
        (["Auvelity"], [], "nmda-antagonist"),
        (["Nuedexta"], [], "renal-cationic-secretion"),
        (["acetazolamide"], [], "urine-alkalinization"),
        (["sodium bicarbonate"], [], "urine-alkalinization"),
        ([], ["renal-tubular-acidosis"], "urine-alkalinization"),
        ([], ["severe-proteus-uti"], "urine-alkalinization"),
        (["HCTZ"], [], "renal-cationic-secretion"),
        (["metformin"], [], "renal-cationic-secretion"),
        (["quinine"], [], "renal-cationic-secretion"),
        (["Prozac"], [], "ssri-no-interaction"),
        (["Zoloft", "dextromethorphan"], [], "serotonergic-dextromethorphan"),
        (["warfarin"], [], "warfarin-inr"),
        ([], ["seizure-disorder"], "seizure-disorder"),
        ([], ["pregnancy"], "pregnancy"),
        ([], ["breastfeeding"], "breastfeeding"),
        ([], ["cardiovascular-disease"], "cardiovascular-disease"),
        (["Frobnicil"], [], "medication-not-recognized"),
    ],
)
def test_every_flag_code_is_raised_by_the_seed(client, medications, conditions, code):
    data = post(
        client, {"renal": {"crcl_ml_min": 90}, "medications": medications, "conditions": conditions}
    ).json()
    raised = flag(data, code)
    assert raised is not None, [f["code"] for f in data["flags"]]
    assert raised["sources"] and all(s["url"].startswith(("https://", "http://")) for s in raised["sources"])
    assert raised["title"] and raised["detail"]


def test_augmentation_without_ssri(client):
    assert flag(post(client, {"indications": ["ocd"]}).json(), "augmentation-without-ssri")
    assert (
        flag(
            post(client, {"indications": ["ocd"], "medications": ["clomipramine"]}).json(),
            "augmentation-without-ssri",
        )
        is None
    )


def test_unknown_medication_is_listed_not_dropped(client):
    data = post(client, {"medications": ["Zoloft", "Frobnicil 20mg"]}).json()
    assert data["unrecognized_medications"] == ["Frobnicil 20mg"]
    assert [m["recognized"] for m in data["medications"]] == [True, False]


def test_every_flag_and_indication_has_a_source(client):
    body = {
        "region": "eu",
        "renal": {"dialysis": True},
        "hepatic": {"child_pugh_class": "C"},
        "medications": [
            "Zoloft",
            "dextromethorphan",
            "warfarin",
            "metformin",
            "acetazolamide",
            "baclofen",
            "huh",
        ],
        "conditions": ["pregnancy", "breastfeeding", "seizure-disorder", "cardiovascular-disease"],
    }
    data = post(client, body).json()
    for item in data["flags"] + data["indications"]:
        assert item["sources"] and all(
            s["url"].startswith(("https://", "http://")) for s in item["sources"]
        ), item
    severities = [f["severity"] for f in data["flags"]]
    assert severities == sorted(severities, key=["critical", "warning", "info"].index)


# ------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ('{"renal": ', "body"),
        ("[1, 2]", "body"),
        ('{"renal": {"crcl_ml_min": NaN}}', "body"),
        ('{"renal": {"crcl_ml_min": Infinity}}', "body"),
        ({"renal": {"crcl_ml_min": -3}}, "renal.crcl_ml_min"),
        ({"renal": {"crcl_ml_min": "42"}}, "renal.crcl_ml_min"),
        (
            {
                "renal": {
                    "age_years": 80,
                    "sex": "female",
                    "weight_kg": 0,
                    "serum_creatinine": 1.4,
                    "creatinine_unit": "mg/dL",
                }
            },
            "renal.weight_kg",
        ),
        (
            {
                "renal": {
                    "age_years": 200,
                    "sex": "female",
                    "weight_kg": 50,
                    "serum_creatinine": 1.4,
                    "creatinine_unit": "mg/dL",
                }
            },
            "renal.age_years",
        ),
        ({"renal": {"crcl_ml_min": 42, "dialysis": True}}, "renal"),
        ({"renal": {"crcl_ml_min": 42, "age_years": 80}}, "renal"),
        ({"hepatic": {"child_pugh_class": "E"}}, "hepatic.child_pugh_class"),
        ({"indications": ["ocd", "migraine"]}, "indications[1]"),
        ({"conditions": ["gout"]}, "conditions[0]"),
        ({"medications": "sertraline"}, "medications"),
        ({"region": "eu", "formulation": "xr"}, "formulation"),
        ({"region": "jp"}, "region"),
        ({"medication": ["sertraline"]}, "medication"),
    ],
)
def test_bad_requests_are_400_with_field_errors(client, body, path):
    response = post(client, body)
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors.get(path), errors


def test_invalid_utf8_is_400(client):
    response = client.post(URL, b'{"region": "\xff"}', content_type="application/json")
    assert response.status_code == 400


def test_deeply_nested_json_is_400_not_500(client):
    response = post(client, "[" * 20000 + "]" * 20000)
    assert response.status_code in (400, 413)


def test_wrong_content_type_is_400(client):
    response = client.post(URL, "region=us", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400


def test_get_is_405(client):
    response = client.get(URL)
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert "errors" in response.json()


def test_body_over_64_kib_is_413(client):
    response = post(client, {"medications": ["x" * 70_000]})
    assert response.status_code == 413


def test_api_does_not_need_a_csrf_token(settings):
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post(URL, "{}", content_type="application/json")
    assert response.status_code == 200
