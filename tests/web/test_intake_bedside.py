"""The intake form as clinicians type: incomplete groups are notes, not errors; numbers with a decimal
comma or a unit after them; units by region; medications as read, with remove and "did you mean";
the answer line; a failed update keeps the earlier results (marked out of date by intake.js)."""

import datetime
import json
import re

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indications.forms import read_number

from .test_intake import HTMX, form_data, regimen

pytestmark = pytest.mark.django_db


def post(client, **fields):
    response = client.post("/", form_data(**fields), **HTMX)
    assert response.status_code == 200
    return response, response.content.decode()


def error_box(html: str, field: str) -> str:
    box = re.search(rf'<div id="id_{field}_error"[^>]*>(.*?)</div>', html, re.S)
    assert box, f"no error container for {field}"
    return box.group(1)


def group_note(html: str, group: str) -> str:
    return re.search(rf'<p id="group-note-{group}"[^>]*>(.*?)</p>', html, re.S).group(1).strip()


# ---------------------------------------------------------------- incomplete groups


@pytest.mark.parametrize(
    "fields, group, note",
    [
        ({"age_years": "80"}, "renal", "To estimate CrCl: sex, weight, creatinine."),
        ({"age_years": "80", "sex": "female"}, "renal", "To estimate CrCl: weight, creatinine."),
        ({"serum_creatinine": "1.4"}, "renal", "To estimate CrCl: age, sex, weight."),
        ({"weight": "70", "height": "170"}, "renal", "To estimate CrCl: age, sex, creatinine."),
        (
            {"bilirubin": "2"},
            "hepatic",
            "To calculate the Child-Pugh score (or choose the class): albumin, INR, ascites, encephalopathy.",
        ),
    ],
)
def test_an_incomplete_group_keeps_the_assessment_and_says_what_it_still_needs(client, fields, group, note):
    response, html = post(client, **fields)
    assert "HX-Reswap" not in response  # the results are replaced: this is an answer, not an error
    assert 'data-testid="dose-regimen"' in html
    assert group_note(html, group) == note
    # No field is marked: an untouched field is never red.
    assert not re.search(r'<div id="id_\w+_error"[^>]*>\s*<p', html)
    assert "Required to" not in html
    # The assessment says the group was not given, rather than guessing it.
    assert 'data-testid="inputs-missing"' in html


def test_the_same_incomplete_group_without_javascript_shows_results_and_the_note(client):
    html = client.post("/", form_data(age_years="80")).content.decode()
    assert 'data-testid="dose-regimen"' in html
    assert "To estimate CrCl: sex, weight, creatinine." in html
    assert 'aria-invalid="true"' not in html


def test_a_wrong_value_in_an_incomplete_group_is_an_error_beside_it_and_only_there(client):
    response, html = post(client, age_years="300")
    assert response["HX-Reswap"] == "none"
    assert "between 18 and 120" in error_box(html, "age_years")
    for untouched in ("sex", "weight", "serum_creatinine"):
        assert error_box(html, untouched).strip() == ""


def test_the_api_still_refuses_an_incomplete_group(client):
    response = client.post(
        "/api/v1/assess", json.dumps({"renal": {"age_years": 80}}), content_type="application/json"
    )
    assert response.status_code == 400
    assert "renal.weight" in response.json()["errors"]


def test_a_complete_group_clears_the_note(client):
    _, html = post(client, age_years="80", sex="female", weight="50", serum_creatinine="1.4")
    assert group_note(html, "renal") == ""
    assert regimen(html) == "5 mg twice daily"


# ---------------------------------------------------------------- numbers as typed


@pytest.mark.parametrize(
    "text, value, unit",
    [
        ("1.6", 1.6, None),
        ("1,6", 1.6, None),
        (" 0,75 ", 0.75, None),
        ("1,6 mg/dL", 1.6, "mg/dL"),
        ("124 µmol/L", 124, "umol/L"),
        ("124 μmol/l", 124, "umol/L"),
        ("124umol/L", 124, "umol/L"),
        ("124 micromol/L", 124, "umol/L"),
        ("1234", 1234, None),
        (".5", 0.5, None),
    ],
)
def test_read_number_understands_commas_and_units(text, value, unit):
    reading = read_number(text, {"mg/dl": "mg/dL", "umol/l": "umol/L"}, "mg/dL or µmol/L", "")
    assert reading.value == pytest.approx(value) and reading.unit == unit


@pytest.mark.parametrize(
    "field, text, message",
    [
        ("serum_creatinine", "1,600", "could be 1.600 or 1600"),
        ("crcl_ml_min", "2,500", "could be 2.500 or 2500"),
        ("weight", "70 stone", "not a unit for this value: type kg or lb"),
        ("weight", "70 mg/dL", "not a unit for this value"),
        ("crcl_ml_min", "25 mg/dL", "type mL/min"),
        ("serum_creatinine", "1.4 g/L", "type mg/dL or µmol/L"),
        ("albumin", "35 mg/dL", "type g/dL or g/L"),
        ("inr", "1.2 s", "Enter the number alone"),
        ("serum_creatinine", "1.2.3", "Enter a number"),
        ("serum_creatinine", "1,2.3", "Enter a number"),
        ("serum_creatinine", "1.4 1.5", "Enter a number"),
        ("height", "5'8\"", "not a unit for this value"),
        ("age_years", "eighty", "Enter a number"),
        ("age_years", "1e2", "not a unit"),
        ("age_years", "٨٠", "Enter a number"),
        ("weight", "2_5", "not a unit"),
    ],
)
def test_what_could_mean_two_things_is_refused_beside_the_field(client, field, text, message):
    others = {"age_years": "80", "sex": "female", "weight": "50", "serum_creatinine": "1.4"}
    others.pop(field, None)
    if field in ("crcl_ml_min",):
        others = {}
    response, html = post(client, **{**others, field: text})
    assert response["HX-Reswap"] == "none", html[:2000]
    assert message in error_box(html, field)


@pytest.mark.parametrize(
    "fields, expected",
    [
        ({"crcl_ml_min": "25 mL/min"}, "5 mg twice daily"),
        ({"crcl_ml_min": "25ml/min"}, "5 mg twice daily"),
        ({"crcl_ml_min": "29,5"}, "5 mg twice daily"),
        ({"crcl_ml_min": "30,5"}, "10 mg twice daily"),
        # The unit typed wins over the one chosen beside the field, and is shown in the renal inputs.
        (
            {
                "age_years": "80 years",
                "sex": "female",
                "weight": "50kg",
                "weight_unit": "lb",
                "serum_creatinine": "1,4 mg/dL",
                "creatinine_unit": "umol/L",
            },
            "5 mg twice daily",
        ),
        (
            {
                "age_years": "80",
                "sex": "female",
                "weight": "110 lb",
                "weight_unit": "kg",
                "serum_creatinine": "124 µmol/L",
                "creatinine_unit": "mg/dL",
            },
            "5 mg twice daily",
        ),
    ],
)
def test_numbers_as_clinicians_type_them(client, fields, expected):
    response, html = post(client, **fields)
    assert "HX-Reswap" not in response, html[:2000]
    assert regimen(html) == expected


def test_a_unit_typed_is_what_the_renal_inputs_line_shows(client):
    _, html = post(
        client,
        age_years="80",
        sex="female",
        weight="50kg",
        weight_unit="lb",
        serum_creatinine="1,4 mg/dL",
        creatinine_unit="umol/L",
    )
    renal = re.search(r'data-testid="renal">(.*?)</dd>', html, re.S).group(1)
    assert "50 kg" in renal and "1.4 mg/dL" in renal


def test_unit_selects_carry_the_regional_defaults(client):
    html = client.get("/").content.decode()
    select = re.search(r'<select name="creatinine_unit"[^>]*>', html).group(0)
    assert 'data-region-us="mg/dL"' in select and 'data-region-eu="umol/L"' in select
    assert re.search(r'<select name="albumin_unit"[^>]*data-region-eu="g/L"', html)
    assert re.search(r'<option value="mg/dL" selected>', html)  # the page opens on US labelling


# ---------------------------------------------------------------- medications


def test_each_medication_shows_what_it_was_read_as_with_a_remove_button(client):
    _, html = post(client, medications="Zoloft\nsertralin", tick_ssri=["fluoxetine"])
    pattern = r'<div id="medication-entries"[^>]*hx-swap-oob="true">(.*?)</div>'
    entries = re.search(pattern, html, re.S).group(1)
    assert re.search(r"Zoloft</span>.*?→.*?sertraline", entries, re.S)
    assert 'data-med-remove="Zoloft"' in entries and 'data-med-remove="fluoxetine"' in entries
    assert "“sertralin”: not recognised, not checked." in entries
    assert 'data-med-replace="sertralin" data-med-with="sertraline"' in entries


# ---------------------------------------------------------------- the answer line


def test_the_answer_line_comes_with_every_update(client):
    _, html = post(client, crcl_ml_min="25", indications=["ocd"])
    line = re.search(r'<div id="answer-line"[^>]*hx-swap-oob="true">(.*?)</div>', html, re.S).group(1)
    assert "5 mg twice daily" in line
    assert re.search(r"Flags: \d+ critical, \d+ warning", line)
    assert "Obsessive" in line and "studied at" in line


def test_the_answer_line_shows_no_number_when_the_verdict_gives_no_dose(client):
    _, html = post(client, region="eu", crcl_ml_min="90", child_pugh_class="C")
    line = re.search(r'<div id="answer-line"[^>]*>(.*?)</div>', html, re.S).group(1)
    assert "Not recommended" in line
    assert not re.search(r"\d+ mg", line)


# ---------------------------------------------------------------- start date


def test_a_start_date_far_from_today_is_a_slip_that_holds_up_only_the_patient_sheet(client):
    far = timezone.localdate() + datetime.timedelta(days=3650)
    response, html = post(client, crcl_ml_min="25", start_date=far.isoformat())
    assert "HX-Reswap" not in response  # the assessment does not use it: the answer stands
    assert regimen(html) == "5 mg twice daily"
    assert "within a year of today" in error_box(html, "start_date")
    fields = form_data(crcl_ml_min="25", start_date=far.isoformat())
    assert client.post("/summary/", fields).status_code == 200
    sheet = client.post("/patient-sheet/", fields)
    assert sheet.status_code == 400 and "within a year of today" in sheet.content.decode()
    near = timezone.localdate() + datetime.timedelta(days=7)
    response, html = post(client, crcl_ml_min="25", start_date=near.isoformat())
    assert "HX-Reswap" not in response


def test_an_incomplete_group_leaves_out_only_its_own_values(client):
    """A lab eGFR typed beside Cockcroft-Gault values still being typed is used: only the incomplete
    values wait."""
    _, html = post(client, egfr_ml_min_1_73m2="20", age_years="80", weight="70", serum_creatinine="1.0")
    assert group_note(html, "renal") == "To estimate CrCl: sex."
    assert "renal function not given" not in html.lower()
    assert re.search(r'data-testid="renal">[^<]*eGFR', html)


@pytest.mark.parametrize("door", ["/summary/", "/summary.pdf", "/patient-sheet/", "/patient-sheet.pdf"])
def test_printables_wait_until_a_group_is_finished_or_cleared(client, door):
    fields = {"egfr_ml_min_1_73m2": "20", "age_years": "80", "weight": "70", "serum_creatinine": "1.0"}
    response = client.post(door, form_data(**fields))
    assert response.status_code == 400
    html = response.content.decode()
    assert "To estimate CrCl: sex. Finish these values, or clear them, before printing." in html
    assert client.post(door, form_data(**fields, sex="female")).status_code == 200


def test_a_long_value_is_refused_not_cut(client):
    """Cutting "70 <58 spaces> lb" at 60 characters would drop the unit and read 70 kg."""
    response, html = post(
        client, age_years="80", sex="female", weight="70" + " " * 58 + "lb", serum_creatinine="1.0"
    )
    assert response["HX-Reswap"] == "none"
    assert "too long" in error_box(html, "weight")


@pytest.mark.parametrize(
    "fields, beside",
    [
        ({"dialysis": "on", "age_years": "80"}, "dialysis"),
        ({"crcl_ml_min": "40", "age_years": "80"}, "crcl_ml_min"),
        ({"egfr_ml_min_1_73m2": "40", "crcl_ml_min": "40"}, "crcl_ml_min"),
    ],
)
def test_two_renal_inputs_are_refused_beside_a_field_that_was_filled_in(client, fields, beside):
    _, html = post(client, **fields)
    assert "Give only one renal input" in error_box(html, beside)
    for empty in {"crcl_ml_min", "dialysis", "age_years", "egfr_ml_min_1_73m2"} - set(fields):
        assert error_box(html, empty).strip() == ""


# ---------------------------------------------------------------- the typed forms reach the same dose


def typed(value: float, unit: str, style: str) -> tuple[str, str | None]:
    """One way a clinician types a value: (the text, the unit chosen beside it or None)."""
    number = f"{value:g}"
    if style == "comma":
        return number.replace(".", ","), unit
    if style == "unit-after":
        return f"{number} {UNIT_SPELLINGS[unit]}", None  # the select beside it says something else
    if style == "unit-glued":
        return f"{number}{UNIT_SPELLINGS[unit]}", None
    return number, unit


UNIT_SPELLINGS = {"kg": "kg", "lb": "lbs", "mg/dL": "mg/dl", "umol/L": "µmol/L"}
OTHER_UNIT = {"kg": "lb", "lb": "kg", "mg/dL": "umol/L", "umol/L": "mg/dL"}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    region=st.sampled_from(["us", "eu"]),
    age=st.integers(18, 100),
    sex=st.sampled_from(["female", "male"]),
    weight=st.one_of(
        st.tuples(st.integers(35, 160), st.just("kg")), st.tuples(st.integers(80, 350), st.just("lb"))
    ),
    creatinine=st.one_of(
        st.tuples(st.decimals("0.5", "9", places=1).map(float), st.just("mg/dL")),
        st.tuples(st.integers(45, 800).map(float), st.just("umol/L")),
    ),
    styles=st.tuples(*[st.sampled_from(["plain", "comma", "unit-after", "unit-glued"])] * 2),
)
def test_however_a_value_is_typed_the_dose_is_the_apis_for_the_same_patient(
    client, region, age, sex, weight, creatinine, styles
):
    """Every way of typing a number (decimal comma, a unit after it that overrides the one beside it)
    gives exactly the verdict and dose the JSON API gives for the same patient in plain numbers: the
    form adds no path to a dose above the cap or one a flag contradicts. The answer line says the same."""
    weight_text, weight_select = typed(*weight, styles[0])
    creatinine_text, creatinine_select = typed(*creatinine, styles[1])
    response, html = post(
        client,
        region=region,
        age_years=str(age),
        sex=sex,
        weight=weight_text,
        weight_unit=weight_select or OTHER_UNIT[weight[1]],
        serum_creatinine=creatinine_text,
        creatinine_unit=creatinine_select or OTHER_UNIT[creatinine[1]],
    )
    body = {
        "region": region,
        "renal": {
            "age_years": age,
            "sex": sex,
            "weight": weight[0],
            "weight_unit": weight[1],
            "serum_creatinine": creatinine[0],
            "creatinine_unit": creatinine[1],
        },
    }
    api = client.post("/api/v1/assess", json.dumps(body), content_type="application/json")
    if api.status_code == 400:  # implausible for the API (e.g. a clearance no adult has): so for the form
        assert response["HX-Reswap"] == "none"
        return
    dose = api.json()["dose"]
    assert "HX-Reswap" not in response, html[:1500]
    verdict = re.search(r'data-verdict="([^"]+)"', html).group(1)
    assert verdict == dose["verdict"]
    answer = re.search(r'<div id="answer-line"[^>]*hx-swap-oob="true">(.*?)</div>', html, re.S).group(1)
    if dose["max_mg_per_day"] is None:
        assert not re.search(r"\d+ mg", answer)
    else:
        assert regimen(html) == dose["regimen"]
        assert f" · {dose['regimen']}" in answer
