"""FHIR R4 to the patient factors, and the assessment to cards: pure, no database, no HTTP.

The engine's own test catalogue (tests/engine/universe.py) with a few EHR codes added."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

import pytest

from cds_hooks.cards import CardContext, cards, md
from cds_hooks.fhir import FhirInvalid, Inputs, map_patient, validate
from indications.engine import assess, present
from indications.engine.catalogue import Catalogue
from tests.cds import fhir_samples as fx
from tests.cds.card_schema import response_problems
from tests.engine.universe import universe_snapshot

TODAY = dt.date.today()


def code(system, value, display, means, *, drug="", formulation="", condition="", subcodes=False):
    return {
        "system": system,
        "code": value,
        "display": display,
        "means": means,
        "drug": drug,
        "formulation": formulation,
        "condition": condition,
        "includes_subcodes": subcodes,
        "source": "us-label",
    }


def catalogue() -> Catalogue:
    snapshot = universe_snapshot()
    for d in snapshot["drugs"]:
        if d["name"] == "sertraline":
            d["rxnorm_code"] = "36437"
    snapshot["codes"] = [
        code("icd-10-cm", "N18.6", "End stage renal disease", "dialysis"),
        code("snomed", "84757009", "Epilepsy", "condition", condition="seizure-disorder"),
        code(
            "icd-10-cm",
            "G40",
            "Epilepsy and recurrent seizures",
            "condition",
            condition="seizure-disorder",
            subcodes=True,
        ),
        code(
            "rxnorm",
            "996571",
            "memantine hydrochloride 5 MG Oral Tablet",
            "drug",
            drug="memantine",
            formulation="ir",
        ),
        code(
            "rxnorm",
            "996561",
            "memantine hydrochloride 10 MG Oral Tablet",
            "drug",
            drug="memantine",
            formulation="ir",
        ),
        code(
            "rxnorm",
            "996594",
            "24 HR memantine hydrochloride 14 MG Extended Release Oral Capsule",
            "drug",
            drug="memantine",
            formulation="xr",
        ),
        code(
            "rxnorm",
            "1599803",
            "24 HR donepezil hydrochloride 10 MG / memantine hydrochloride 28 MG Extended Release"
            " Oral Capsule",
            "drug",
            drug="memantine/donepezil",
            formulation="xr",
        ),
        code(
            "rxnorm",
            "996609",
            "24 HR memantine hydrochloride 28 MG Extended Release Oral Capsule",
            "drug",
            drug="memantine",
            formulation="xr",
        ),
    ]
    return Catalogue.from_snapshot(snapshot, version="test-universe")


CATALOGUE = catalogue()


def inputs(prefetch: dict, *, draft: dict | None = None, patient_view=False) -> Inputs:
    def each(key):
        value = prefetch.get(key)
        if value is None:
            return []
        model = validate(value, key)
        if model.get_resource_type() == "Bundle":
            return [e.resource for e in model.entry or ()]
        return [model]

    patient = prefetch.get("patient")
    drafts = [(validate(draft, "draft"), draft)] if draft else []
    return Inputs(
        patient=validate(patient, "patient") if patient else None,
        observations=[r for k in ("creatinine", "egfr", "weight", "height") for r in each(k)],
        medications=[r for k in ("medicationRequests", "medicationStatements") for r in each(k)],
        conditions=[r for k in ("conditions", "procedures") for r in each(k)],
        drafts=drafts,
        patient_view=patient_view,
    )


def mapped(prefetch: dict, draft: dict | None = None, region="us", patient_view=False):
    if draft is None and not patient_view:
        draft = fx.medication_request()
    return map_patient(
        inputs(prefetch, draft=draft, patient_view=patient_view),
        CATALOGUE,
        region=region,
        today=TODAY,
        stale_days=90,
    )


def card_list(result):
    assessment = assess(result.factors, CATALOGUE, today=TODAY)
    view = present(assessment, CATALOGUE)
    found = cards(
        assessment, view, CardContext(result, "https://app.example/", "https://app.example/about"), CATALOGUE
    )
    assert response_problems({"cards": found}) == []
    return found


def test_cockcroft_gault_inputs_come_from_the_record():
    result = mapped(fx.severe_renal_patient())
    renal = result.request["renal"]
    assert renal["age_years"] == 80 and renal["sex"] == "female"
    assert (renal["weight"], renal["weight_unit"]) == (50, "kg")
    assert (renal["serum_creatinine"], renal["creatinine_unit"]) == (2.0, "mg/dL")
    assert any("LOINC 2160-0" in line for line in result.used)


def test_units_in_umol_and_pounds_give_the_same_clearance_as_mg_and_kg():
    metric = mapped(fx.severe_renal_patient())
    other = mapped(
        fx.prefetch(
            patient_resource=fx.patient(born=f"{TODAY.year - 80}-01-01"),
            creatinine_obs=fx.creatinine(176.8, "umol/L"),
            weight_obs=fx.weight(110.23, "lb"),
        )
    )
    a = assess(metric.factors, CATALOGUE, today=TODAY).renal.used.crcl_ml_min
    b = assess(other.factors, CATALOGUE, today=TODAY).renal.used.crcl_ml_min
    assert other.request["renal"]["creatinine_unit"] == "umol/L"
    assert other.request["renal"]["weight_unit"] == "lb"
    assert b == pytest.approx(a, rel=0.001)


def test_grams_and_metres_are_converted():
    result = mapped(
        fx.prefetch(
            patient_resource=fx.patient(),
            creatinine_obs=fx.creatinine(1.0),
            weight_obs=fx.weight(70000, "g"),
            height_obs=fx.observation("8302-2", 1.7, "m"),
        )
    )
    assert result.request["renal"]["weight"] == pytest.approx(70)
    assert result.request["renal"]["height"] == pytest.approx(170)


def test_a_stale_creatinine_is_named_and_not_used():
    data = fx.severe_renal_patient()
    data["creatinine"] = fx.bundle(fx.creatinine(2.0, days_ago=120))
    result = mapped(data)
    assert "serum_creatinine" not in result.request.get("renal", {})
    assert any("120 days old" in line and "stale" in line for line in result.not_used)
    found = card_list(result)
    assert found[0]["summary"].startswith("Memantine: dose not confirmed")
    assert "stale" in found[0]["detail"]


def test_stale_threshold_is_configurable():
    data = fx.severe_renal_patient()
    data["creatinine"] = fx.bundle(fx.creatinine(2.0, days_ago=20))
    result = map_patient(
        inputs(data, draft=fx.medication_request()), CATALOGUE, region="us", today=TODAY, stale_days=14
    )
    assert "serum_creatinine" not in result.request.get("renal", {})


def test_only_the_latest_creatinine_counts_even_when_an_older_one_is_usable():
    data = fx.severe_renal_patient()
    newest = fx.creatinine(2.0, days_ago=1, status="preliminary")
    data["creatinine"] = fx.bundle(fx.creatinine(0.8, days_ago=30), newest)
    result = mapped(data)
    assert "serum_creatinine" not in result.request.get("renal", {})
    assert any("preliminary" in line for line in result.not_used)


def test_a_value_in_an_unknown_unit_is_not_converted():
    data = fx.severe_renal_patient()
    data["weight"] = fx.bundle(fx.weight(9, "[stone_av]"))
    result = mapped(data)
    assert "weight" not in result.request.get("renal", {})
    assert any("not recognised" in line for line in result.not_used)


def test_implausible_creatinine_is_refused_with_the_engines_message_and_the_rest_assessed():
    data = fx.severe_renal_patient()
    data["creatinine"] = fx.bundle(fx.creatinine(0.05, "mg/dL"))  # a µmol/L-sized slip the other way
    result = mapped(data)
    assert "serum_creatinine" not in result.request.get("renal", {})
    assert any(line.startswith("Refused as implausible") for line in result.not_used)
    assert assess(result.factors, CATALOGUE, today=TODAY).dose.verdict == "unconfirmed"


def test_a_child_is_not_given_an_adult_clearance():
    data = fx.severe_renal_patient()
    data["patient"] = fx.patient(born=f"{TODAY.year - 12}-01-01")
    result = mapped(data)
    assert "age_years" not in result.request.get("renal", {})
    assert any("adult" in line for line in result.not_used)


def test_no_creatinine_means_renal_function_unknown_and_no_confirmed_dose():
    data = fx.prefetch(patient_resource=fx.patient(), weight_obs=fx.weight(70))
    result = mapped(data)
    assert "renal" not in result.request
    found = card_list(result)
    verdict = found[0]
    assert "renal function could not be estimated" in verdict["summary"]
    assert "Serum creatinine: none in the record" in verdict["detail"].replace("\\", "")


def test_gender_other_is_named_not_guessed():
    data = fx.severe_renal_patient()
    data["patient"] = fx.patient(gender="other")
    result = mapped(data)
    assert "sex" not in result.request.get("renal", {})
    assert any("“other”" in line for line in result.not_used)


def test_lab_egfr_alone_is_used_when_cockcroft_gault_cannot_be_computed():
    data = fx.prefetch(patient_resource=fx.patient(gender="unknown"), egfr_obs=fx.egfr(22))
    result = mapped(data)
    assert result.request["renal"] == {"egfr_ml_min_1_73m2": 22.0}
    assert any("Cockcroft-Gault clearance not estimated" in line for line in result.not_used)


def test_end_stage_kidney_disease_makes_the_renal_input_dialysis_whatever_the_labs():
    data = fx.severe_renal_patient()
    data["creatinine"] = fx.bundle(fx.creatinine(0.9))
    data["conditions"] = fx.bundle(fx.condition("N18.6", fx.ICD10CM, "End stage renal disease"))
    result = mapped(data)
    assert result.request["renal"] == {"dialysis": True}
    found = card_list(result)
    assert found[0]["indicator"] == "critical"
    assert "suggestions" not in found[0]
    assert "mg twice daily" not in found[0]["summary"]


def test_icd10_subcodes_map_through_their_parent_and_resolved_conditions_do_not():
    data = fx.severe_renal_patient()
    data["conditions"] = fx.bundle(
        fx.condition("G40.909", fx.ICD10CM), fx.condition("84757009", fx.SNOMED, status="resolved")
    )
    result = mapped(data)
    assert result.request["conditions"] == ["seizure-disorder"]
    assert sum("Seizure disorder" in line for line in result.used) == 1


def test_medications_by_rxnorm_code_first_and_by_name_second_and_never_dropped():
    data = fx.severe_renal_patient()
    data["medicationRequests"] = fx.bundle(
        fx.medication_request(None, rxnorm="36437", status="active", dose_mg=None),
        fx.medication_request("Amantadine 100 mg capsule", status="active", dose_mg=None),
        fx.medication_request("Zyxlofrin 5 mg", status="active", dose_mg=None),
    )
    result = mapped(data)
    names = result.request["medications"]
    assert names[0] == "sertraline"
    assert "Amantadine 100 mg capsule" in names
    assert "Zyxlofrin 5 mg" in names
    assessment = assess(result.factors, CATALOGUE, today=TODAY)
    assert "Zyxlofrin 5 mg" in assessment.unrecognized_medications


def test_a_medication_with_neither_name_nor_known_code_is_reported_not_checked():
    data = fx.severe_renal_patient()
    data["medicationStatements"] = fx.bundle(fx.medication_statement(None, rxnorm="999999999"))
    result = mapped(data)
    assert result.request["medications"] == ["medication coded rxnorm 999999999"]
    assessment = assess(result.factors, CATALOGUE, today=TODAY)
    assert assessment.unrecognized_medications


def test_extended_release_by_code_or_words():
    by_code = mapped(
        fx.severe_renal_patient(), draft=fx.medication_request(None, rxnorm="996609", dose_mg=28, per_day=1)
    )
    by_words = mapped(
        fx.severe_renal_patient(),
        draft=fx.medication_request("Namenda XR 28 mg capsule", dose_mg=28, per_day=1),
    )
    assert by_code.request["formulation"] == by_words.request["formulation"] == "xr"
    found = card_list(by_words)
    assert "14 mg" in found[0]["summary"]


def test_the_draft_order_dose_is_read_and_a_cap_suggestion_offered():
    result = mapped(fx.severe_renal_patient(), draft=fx.medication_request(dose_mg=10, per_day=2))
    assert result.subjects[0].daily_mg == 20
    found = card_list(result)
    verdict = found[0]
    suggestion = verdict["suggestions"][0]
    assert verdict["selectionBehavior"] == "at-most-one"
    action = suggestion["actions"][0]
    assert action["type"] == "update"
    dosage = action["resource"]["dosageInstruction"][0]
    assert dosage["doseAndRate"][0]["doseQuantity"]["value"] * dosage["timing"]["repeat"]["frequency"] == 10
    assert action["resource"]["id"] == result.subjects[0].reference.split("/")[1]
    # A 10 mg tablet cannot give 5 mg: the order becomes the 5 mg tablet of the catalogue's codes.
    assert action["resource"]["medicationCodeableConcept"]["coding"][0]["code"] == "996571"


def test_no_suggestion_without_a_product_of_the_capped_strength():
    snapshot_codes = [c for c in CATALOGUE.codes if c.code != "996571"]
    catalogue = dataclasses.replace(CATALOGUE, codes=tuple(snapshot_codes))
    result = map_patient(
        inputs(fx.severe_renal_patient(), draft=fx.medication_request(dose_mg=10, per_day=2)),
        catalogue,
        region="us",
        today=TODAY,
        stale_days=90,
    )
    assessment = assess(result.factors, catalogue, today=TODAY)
    view = present(assessment, catalogue)
    found = cards(
        assessment, view, CardContext(result, "https://a.example/", "https://a.example/about"), catalogue
    )
    assert "suggestions" not in found[0]
    assert "change the order by hand" in found[0]["detail"]


def test_an_order_within_the_cap_gets_no_suggestion():
    result = mapped(fx.severe_renal_patient(), draft=fx.medication_request(dose_mg=5, per_day=2))
    found = card_list(result)
    assert "suggestions" not in found[0]
    assert "within this patient's maximum" in found[0]["detail"]


def test_an_order_above_the_labelled_maximum_is_a_card_even_with_normal_kidneys():
    data = fx.prefetch(
        patient_resource=fx.patient(born="1960-01-01", gender="male"),
        creatinine_obs=fx.creatinine(0.9),
        weight_obs=fx.weight(80),
    )
    result = mapped(data, draft=fx.medication_request(dose_mg=20, per_day=2))
    found = card_list(result)
    assert "above this patient's maximum" in found[0]["summary"]
    assert (
        found[0]["suggestions"][0]["actions"][0]["resource"]["dosageInstruction"][0]["text"]
        == "10 mg twice daily"
    )


def test_eu_amantadine_is_not_recommended_and_shows_no_dose():
    data = fx.severe_renal_patient()
    data["medicationStatements"] = fx.bundle(fx.medication_statement("amantadine"))
    result = mapped(data, region="eu")
    found = card_list(result)
    assert found[0]["indicator"] == "critical"
    assert "Not recommended" in found[0]["summary"]
    assert "suggestions" not in found[0]


def test_patient_view_is_about_the_active_memantine_which_is_not_an_interaction_with_itself():
    data = fx.severe_renal_patient()
    data["medicationStatements"] = fx.bundle(fx.medication_statement("memantine 10 mg tablet"))
    result = mapped(data, patient_view=True)
    assert len(result.subjects) == 1
    assert result.request["medications"] == []


def test_record_text_is_markdown_escaped():
    data = fx.severe_renal_patient()
    data["medicationStatements"] = fx.bundle(
        fx.medication_statement("<img src=x onerror=alert(1)> [a](javascript:x)")
    )
    found = card_list(mapped(data))
    detail = "\n".join(c["detail"] for c in found)
    assert re.search(r"(?<!\\)<", detail) is None  # every < escaped: no raw HTML
    assert re.search(r"(?<!\\)\]\(javascript", detail) is None  # no link made of record text
    assert "\\<img" in detail
    assert md("a*b_c<d>") == "a\\*b\\_c\\<d\\>"


def test_info_flags_are_grouped_in_one_card():
    data = fx.severe_renal_patient()
    data["medicationStatements"] = fx.bundle(
        fx.medication_statement("sertraline"), fx.medication_statement("metformin")
    )
    found = card_list(mapped(data))
    info = [c for c in found if c["indicator"] == "info"]
    assert len(info) <= 1


def test_summaries_stay_under_140_characters_with_long_catalogue_text():
    from cds_hooks.cards import summary

    assert len(summary("word " * 60)) < 140
    assert summary("short") == "short"


def test_invalid_fhir_is_refused_with_where():
    with pytest.raises(FhirInvalid) as error:
        validate({"resourceType": "Observation", "status": "final"}, "prefetch.creatinine")
    assert "prefetch.creatinine" in error.value.errors
    with pytest.raises(FhirInvalid):
        validate({"resourceType": "NotAThing"}, "x")
    with pytest.raises(FhirInvalid):
        validate(["not", "a", "resource"], "x")


def test_of_two_results_on_one_day_the_later_is_used():
    early, late = fx.creatinine(0.8), fx.creatinine(2.0)
    day = (TODAY - dt.timedelta(days=2)).isoformat()
    early["effectiveDateTime"], late["effectiveDateTime"] = f"{day}T07:00:00Z", f"{day}T18:30:00Z"
    for order in ((early, late), (late, early)):
        data = fx.severe_renal_patient()
        data["creatinine"] = fx.bundle(*order)
        assert mapped(data).request["renal"]["serum_creatinine"] == 2.0


# ---------------------------------------------------------------- the pharmacist's review, as tests


def normal_patient():
    return fx.prefetch(
        patient_resource=fx.patient(born="1950-01-01", gender="male"),
        creatinine_obs=fx.creatinine(0.9),
        weight_obs=fx.weight(80),
    )


def detail_text(card) -> str:
    return card["detail"].replace("\\", "")


def test_no_labelled_dose_never_reads_as_within_a_maximum():
    data = fx.severe_renal_patient()
    data["conditions"] = fx.bundle(fx.condition("N18.6", fx.ICD10CM))
    card = card_list(mapped(data))[0]
    assert "within" not in detail_text(card)
    assert "cannot be checked against a maximum" in detail_text(card)


def test_an_unconfirmed_maximum_is_never_called_the_patients_maximum():
    data = fx.severe_renal_patient()
    data["weight"] = fx.bundle(fx.weight(50, days_ago=200))  # stale: no Cockcroft-Gault
    card = card_list(mapped(data, draft=fx.medication_request(dose_mg=10, per_day=2)))[0]
    assert card["summary"] == (
        "Memantine: dose not confirmed: renal function could not be estimated from the record"
    )
    assert "within" not in detail_text(card)
    assert "maximum is not confirmed" in detail_text(card)
    assert "suggestions" not in card


def test_units_are_read_whatever_their_case():
    data = fx.severe_renal_patient()
    data["creatinine"] = fx.bundle(fx.observation("2160-0", 2.0, "mg/dl"))
    assert mapped(data).request["renal"]["creatinine_unit"] == "mg/dL"


def test_an_implausible_value_is_said_in_the_summary():
    data = fx.severe_renal_patient()
    data["creatinine"] = fx.bundle(fx.creatinine(0.05))
    card = card_list(mapped(data))[0]
    assert card["summary"].endswith("(a value was refused as implausible)")


def test_an_order_naming_a_medication_resource_is_recognised():
    order = fx.medication_request(None, dose_mg=10, per_day=2)
    del order["medicationCodeableConcept"]
    order["medicationReference"] = {"reference": "Medication/med-123"}
    medication = {
        "resourceType": "Medication",
        "id": "med-123",
        "code": {"coding": [{"system": fx.RXNORM, "code": "996561"}], "text": "memantine 10 mg tablet"},
    }
    data = inputs(fx.severe_renal_patient(), draft=order)
    data.medication_resources = {"Medication/med-123": validate(medication, "m")}
    result = map_patient(data, CATALOGUE, region="us", today=TODAY, stale_days=90)
    assert len(result.subjects) == 1
    # Known only by the display of its reference: still recognised by name.
    order["medicationReference"] = {"reference": "Medication/elsewhere", "display": "Namenda 10 mg tablet"}
    assert len(mapped(fx.severe_renal_patient(), draft=order).subjects) == 1


@pytest.mark.parametrize(
    "text",
    [
        "Namzaric 28 mg-10 mg capsule",
        "Namzaric",
        "memantine 28 mg capsule",
        "memantine SR 28 mg",
        "Namenda XR",
    ],
)
def test_extended_release_is_recognised_by_strength_or_words(text):
    subject = mapped(normal_patient(), draft=fx.medication_request(text, dose_mg=28, per_day=1)).subjects[0]
    assert subject.formulation == "xr" and subject.formulation_known


def test_a_formulation_nothing_names_is_assessed_as_immediate_release_and_never_changed():
    result = mapped(
        fx.severe_renal_patient(), draft=fx.medication_request("memantine", dose_mg=20, per_day=1)
    )
    assert result.request["formulation"] == "ir"
    assert any("Formulation of memantine: not identified" in line for line in result.not_used)
    assert "suggestions" not in card_list(result)[0]


def test_an_extended_release_cap_suggests_the_14_mg_capsule():
    draft = fx.medication_request(None, rxnorm="996609", dose_mg=28, per_day=1)
    card = card_list(mapped(fx.severe_renal_patient(), draft=draft))[0]
    resource = card["suggestions"][0]["actions"][0]["resource"]
    assert resource["medicationCodeableConcept"]["coding"][0]["code"] == "996594"
    assert resource["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["value"] == 14


def test_mixed_formulations_get_no_suggestion():
    result = mapped(
        fx.severe_renal_patient(), draft=fx.medication_request(None, rxnorm="996609", dose_mg=28, per_day=1)
    )
    other = fx.medication_request("memantine 10 mg tablet", dose_mg=10, per_day=2)
    data = inputs(fx.severe_renal_patient(), draft=other)
    data.drafts.append((validate(result.subjects[0].resource, "d"), result.subjects[0].resource))
    both = map_patient(data, CATALOGUE, region="us", today=TODAY, stale_days=90)
    card = card_list(both)[0]
    assert all(
        s["actions"][0]["resource"]["id"] != result.subjects[0].reference.split("/")[1]
        for s in card.get("suggestions", ())
    )


def test_a_child_gets_one_card_and_no_dose():
    from cds_hooks.cards import minor_card

    data = fx.severe_renal_patient()
    data["patient"] = fx.patient(born=f"{TODAY.year - 12}-01-01")
    result = mapped(data)
    assert result.minor_age == 11 or result.minor_age == 12
    card = minor_card(result, CardContext(result, "https://a/", "https://a/about"), "v1")
    assert response_problems({"cards": [card]}) == []
    assert "no dose" in card["summary"] and "mg" not in card["summary"]


def test_eu_with_an_extended_release_order_is_assessed_as_immediate_release():
    result = mapped(
        fx.severe_renal_patient(),
        draft=fx.medication_request("Namenda XR 28 mg", dose_mg=28, per_day=1),
        region="eu",
    )
    assert result.request["formulation"] == "ir"
    card = card_list(result)[0]
    assert "Check the product" in detail_text(card)
    assert "suggestions" not in card


@pytest.mark.parametrize(
    ("dosage", "daily"),
    [
        (
            {
                "timing": {"repeat": {"frequency": 2, "period": 1, "periodUnit": "d"}},
                "doseAndRate": [{"doseQuantity": {"value": 2, "unit": "tablet"}}],
            },
            40,
        ),
        (
            {
                "timing": {"repeat": {"when": ["MORN", "HS"]}},
                "doseAndRate": [{"doseQuantity": {"value": 10, "unit": "mg"}}],
            },
            20,
        ),
        (
            {
                "timing": {"repeat": {"frequency": 1, "frequencyMax": 2, "period": 1, "periodUnit": "d"}},
                "doseAndRate": [{"doseQuantity": {"value": 10, "unit": "mg"}}],
            },
            20,
        ),
        (
            {
                "timing": {"repeat": {"timeOfDay": ["08:00:00", "20:00:00"]}},
                "doseAndRate": [{"doseQuantity": {"value": 10, "unit": "mg"}}],
            },
            20,
        ),
        ({"text": "10 mg twice daily"}, 20),
        (
            {
                "timing": {"code": {"coding": [{"code": "BID"}]}},
                "doseAndRate": [{"doseQuantity": {"value": 10, "unit": "milligram"}}],
            },
            20,
        ),
    ],
)
def test_the_daily_dose_of_an_order_is_read_as_the_most_it_allows(dosage, daily):
    draft = fx.medication_request("memantine 10 mg tablet", dose_mg=None)
    draft["dosageInstruction"] = [dosage]
    assert mapped(normal_patient(), draft=draft).subjects[0].daily_mg == daily


def test_an_order_whose_dose_cannot_be_read_is_a_card_even_when_the_dose_is_standard():
    draft = fx.medication_request("memantine 10 mg tablet", dose_mg=None)
    draft["dosageInstruction"] = [{"text": "as directed"}]
    cards_ = card_list(mapped(normal_patient(), draft=draft))
    assert cards_ and "could not be read" in cards_[0]["summary"]


def test_a_titration_gets_no_suggestion():
    draft = fx.medication_request("memantine 10 mg tablet", dose_mg=None)
    draft["dosageInstruction"] = [
        {"text": "5 mg daily week 1", "doseAndRate": [{"doseQuantity": {"value": 5, "unit": "mg"}}]},
        {"text": "then 10 mg twice daily", "doseAndRate": [{"doseQuantity": {"value": 10, "unit": "mg"}}]},
    ]
    card = card_list(mapped(fx.severe_renal_patient(), draft=draft))[0]
    assert "suggestions" not in card
    assert "could not be read" in detail_text(card)


def test_two_memantine_orders_are_memantine_twice():
    first = fx.medication_request("memantine 10 mg tablet", dose_mg=10, per_day=2)
    data = inputs(normal_patient(), draft=first)
    second = fx.medication_request("Namenda XR 28 mg capsule", dose_mg=28, per_day=1)
    data.drafts.append((validate(second, "d"), second))
    result = map_patient(data, CATALOGUE, region="us", today=TODAY, stale_days=90)
    assessment = assess(result.factors, CATALOGUE, today=TODAY)
    assert "memantine-already-taken" in {f.code for f in assessment.flags}


def test_current_memantine_and_a_new_order_do_not_read_as_within():
    data = normal_patient()
    data["medicationStatements"] = fx.bundle(fx.medication_statement("Namenda XR 28 mg"))
    card = card_list(mapped(data, draft=fx.medication_request(dose_mg=5, per_day=2)))[0]
    text = detail_text(card)
    assert "Memantine more than once" in text and "total daily dose could not be read" in text
    assert "within this patient's maximum" not in text


def test_a_new_start_above_the_starting_dose_is_a_card():
    card = card_list(mapped(normal_patient(), draft=fx.medication_request(dose_mg=10, per_day=2)))[0]
    assert card["summary"].startswith("Memantine: new start at 20 mg/day")
    assert not card_list(mapped(normal_patient(), draft=fx.medication_request(dose_mg=5, per_day=1)))


def test_two_results_of_one_day_without_time_give_the_lower_clearance():
    day = (TODAY - dt.timedelta(days=2)).isoformat()
    low, high = fx.creatinine(0.8), fx.creatinine(2.0)
    low["effectiveDateTime"] = high["effectiveDateTime"] = day
    for order in ((low, high), (high, low)):
        data = fx.severe_renal_patient()
        data["creatinine"] = fx.bundle(*order)
        assert mapped(data).request["renal"]["serum_creatinine"] == 2.0


def test_record_text_on_a_card_is_bounded():
    data = fx.severe_renal_patient()
    data["medicationStatements"] = fx.bundle(
        *(fx.medication_statement(f"drug{i} " + "x" * 150) for i in range(60))
    )
    card = card_list(mapped(data))[0]
    assert len(card["detail"]) < 40_000


def test_the_total_of_several_memantine_orders_is_checked_against_the_maximum():
    data = fx.severe_renal_patient()
    current = fx.medication_statement("memantine 10 mg tablet")
    current["dosage"] = [{"text": "5 mg twice daily"}]
    data["medicationStatements"] = fx.bundle(current)
    card = card_list(mapped(data, draft=fx.medication_request(dose_mg=5, per_day=2)))[0]
    text = detail_text(card)
    assert "20 mg/day in all, above this patient's maximum" in text
    assert card["summary"].startswith("Memantine order above this patient's maximum")
    assert "suggestions" not in card  # which order to change is the clinician's call


@pytest.mark.parametrize(
    "text",
    [
        "10 mg in the morning and at night",
        "10 mg daily, morning and evening",
        "10 mg daily x2",
        "5 mg daily for 1 week then increase",
    ],
)
def test_words_that_say_more_than_one_dose_and_frequency_are_not_read(text):
    draft = fx.medication_request("memantine 10 mg tablet", dose_mg=None)
    draft["dosageInstruction"] = [{"text": text}]
    card = card_list(mapped(fx.severe_renal_patient(), draft=draft))[0]
    assert "could not be read" in detail_text(card)
    assert "within" not in detail_text(card)


def test_the_instruction_counts_when_it_says_more_than_the_structured_dose():
    draft = fx.medication_request("memantine 10 mg tablet", dose_mg=10, per_day=1)
    draft["dosageInstruction"][0]["text"] = "10 mg twice daily"
    assert mapped(normal_patient(), draft=draft).subjects[0].daily_mg == 20


def test_a_titration_pack_is_never_within():
    draft = fx.medication_request("Namenda XR Titration Pak", dose_mg=7, per_day=1)
    card = card_list(mapped(fx.severe_renal_patient(), draft=draft))[0]
    assert "could not be read" in detail_text(card) and "titration pack" in detail_text(card)


def test_a_combination_named_by_brand_is_not_read_as_its_donepezil_strength():
    draft = fx.medication_request("Namzaric 28 mg/10 mg capsule", dose_mg=None)
    draft["dosageInstruction"] = [
        {
            "timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}},
            "doseAndRate": [{"doseQuantity": {"value": 1, "unit": "capsule"}}],
        }
    ]
    subject = mapped(fx.severe_renal_patient(), draft=draft).subjects[0]
    assert subject.daily_mg is None and subject.formulation == "xr"
    spelled = fx.medication_request("memantine ER 28 mg / donepezil 10 mg capsule", dose_mg=None)
    spelled["dosageInstruction"] = draft["dosageInstruction"]
    subject = mapped(fx.severe_renal_patient(), draft=spelled).subjects[0]
    assert subject.daily_mg == 28 and subject.formulation == "xr"


def test_an_oral_solution_by_code_keeps_its_product():
    from cds_hooks.cards import _product

    solution = dataclasses.replace(
        mapped(fx.severe_renal_patient()).subjects[0], solution=True, unit_strength=None
    )
    assert _product(solution, 5, CATALOGUE) == {}


def test_a_result_with_a_comparator_is_not_a_value():
    data = fx.severe_renal_patient()
    obs = fx.egfr(15)
    obs["valueQuantity"]["comparator"] = "<"
    data["egfr"] = fx.bundle(obs)
    result = mapped(data)
    assert "egfr_ml_min_1_73m2" not in result.request["renal"]
    assert any("not a value" in line for line in result.not_used)


def test_a_timed_and_an_untimed_result_of_one_day_give_the_lower_clearance():
    day = (TODAY - dt.timedelta(days=2)).isoformat()
    timed, untimed = fx.creatinine(0.8), fx.creatinine(2.0)
    timed["effectiveDateTime"], untimed["effectiveDateTime"] = f"{day}T08:00:00Z", day
    data = fx.severe_renal_patient()
    data["creatinine"] = fx.bundle(timed, untimed)
    assert mapped(data).request["renal"]["serum_creatinine"] == 2.0


def test_a_birth_year_alone_that_may_be_a_minor_gets_no_dose():
    data = fx.severe_renal_patient()
    data["patient"] = fx.patient(born=str(TODAY.year - 18))
    assert mapped(data).minor_age is not None


def test_an_order_naming_no_medication_is_reported_not_dropped():
    order = fx.medication_request(None, dose_mg=10, per_day=2)
    del order["medicationCodeableConcept"]
    order["medicationReference"] = {"reference": "Medication/not-sent"}
    result = mapped(fx.severe_renal_patient(), draft=order)
    assert not result.subjects and result.unidentified == [f"MedicationRequest/{order['id']}"]


def test_words_saying_more_than_the_structured_dose_are_never_read_as_within():
    draft = fx.medication_request("memantine 5 mg tablet", dose_mg=5, per_day=1)
    draft["dosageInstruction"][0]["text"] = "5 mg in the morning and 5 mg at night"
    card = card_list(mapped(fx.severe_renal_patient(), draft=draft))[0]
    assert "could not be read" in detail_text(card)
    assert "within" not in detail_text(card)
    # Words that say no dose ("with food") leave the structured dose as it is.
    draft["dosageInstruction"][0]["text"] = "Take with food"
    assert mapped(fx.severe_renal_patient(), draft=draft).subjects[0].daily_mg == 5


# ---------------------------------------------------------------- properties over generated patients

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

PRODUCTS = [
    ("memantine 10 mg tablet", None),
    ("memantine 5 mg tablet", None),
    (None, "996609"),
    (None, "996594"),
    ("Namzaric 28 mg/10 mg capsule", None),
    ("memantine 2 mg/mL oral solution", None),
    ("memantine", None),
]


@st.composite
def patients(draw):
    unit = draw(st.sampled_from(["mg/dL", "umol/L"]))
    creatinine = draw(st.floats(0.3, 12.0)) * (88.4 if unit == "umol/L" else 1)
    weight_unit = draw(st.sampled_from(["kg", "lb", "g"]))
    weight = draw(st.floats(35, 180)) * {"kg": 1, "lb": 2.2046, "g": 1000}[weight_unit]
    data = fx.prefetch(
        patient_resource=fx.patient(
            born=f"{TODAY.year - draw(st.integers(20, 100))}-01-01",
            gender=draw(st.sampled_from(["female", "male", "other", None])),
        ),
        creatinine_obs=fx.creatinine(round(creatinine, 2), unit, days_ago=draw(st.integers(0, 200))),
        weight_obs=fx.weight(round(weight, 1), weight_unit, days_ago=draw(st.integers(0, 200))),
        egfr_obs=fx.egfr(draw(st.floats(3, 120))) if draw(st.booleans()) else None,
    )
    if draw(st.booleans()):
        data["conditions"] = fx.bundle(fx.condition("N18.6", fx.ICD10CM))
    meds = draw(
        st.lists(st.sampled_from(["amantadine", "sertraline", "acetazolamide", "Zyxlofrin"]), max_size=3)
    )
    if meds:
        data["medicationStatements"] = fx.bundle(*(fx.medication_statement(m) for m in meds))
    text, code = draw(st.sampled_from(PRODUCTS))
    draft = fx.medication_request(
        text,
        rxnorm=code,
        dose_mg=draw(st.sampled_from([5, 7, 10, 14, 20, 28])),
        per_day=draw(st.sampled_from([1, 2])),
    )
    return data, draft, draw(st.sampled_from(["us", "eu"]))


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(case=patients())
def test_no_card_suggests_above_the_cap_or_calls_an_unconfirmed_maximum_within(case):
    """Whatever the record: a suggested dose is within this patient's maximum (and the label's); no
    card says "within" a maximum that does not exist or is not confirmed; no dose under no-dose."""
    data, draft, region = case
    result = mapped(data, draft=draft, region=region)
    if result.minor_age is not None:
        return
    assessment = assess(result.factors, CATALOGUE, today=TODAY)
    view = present(assessment, CATALOGUE)
    found = cards(assessment, view, CardContext(result, "https://a/", "https://a/about"), CATALOGUE)
    assert response_problems({"cards": found}) == []
    maximum = assessment.dose.max_mg_per_day
    labelled = CATALOGUE.regimen(assessment.region, assessment.formulation).max_mg_per_day
    for card in found:
        text = card["detail"].replace("\\", "")
        if maximum is None or view.dose.not_confirmed:
            assert "within this patient's maximum" not in text
        for suggestion in card.get("suggestions", ()):
            assert maximum is not None and not view.dose.not_confirmed
            for action in suggestion["actions"]:
                line = action["resource"]["dosageInstruction"][0]
                daily = (
                    line["doseAndRate"][0]["doseQuantity"]["value"] * line["timing"]["repeat"]["frequency"]
                )
                assert daily <= maximum <= labelled
        if assessment.dose.verdict in ("not-recommended", "no-labelled-dose"):
            assert "suggestions" not in card
