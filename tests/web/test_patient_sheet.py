"""The patient sheet (issue 13): one page for the patient and carer, as a print page and as a PDF, from
the intake form's answers and start date. Measured in the PDF itself: page count on A4 and US
Letter, the identifier lines on every page, the size of every piece of text (from the PDF's text
operators), and the reading grade of its words."""

import datetime
import io
import re
from unittest import mock

import pytest
from django.utils import timezone
from pypdf import PdfReader

from indications.models import CatalogueRelease
from indications.patient_sheet import PATIENT_SHEET_CSS
from indications.summary import pdf_bytes

pytestmark = pytest.mark.django_db

# The sheets are dated from "today" (a start date must be today or later, within a year): the tests
# fix today, so that their dates and weekdays stay true whenever they run.
TODAY = datetime.date(2026, 11, 28)


@pytest.fixture(autouse=True)
def today():
    with mock.patch.object(timezone, "localdate", return_value=TODAY):
        yield TODAY


TYPICAL = {
    "region": "us",
    "formulation": "ir",
    "crcl_ml_min": "60",
    "medications": "sertraline",
    "indications": ["ocd"],
    "start_date": "2026-12-01",
}
# As much as a confirmed dose can carry: a four-step calendar, several uses (approved and off-label),
# and many flags (none that asks for caution, which gives no calendar). The kidneys line comes with a
# two-step calendar (SEVERE), never with four since a moderate EU clearance gives no calendar.
BUSY_EU = {
    "region": "eu",
    "formulation": "ir",
    "crcl_ml_min": "60",
    "child_pugh_class": "B",
    "medications": "sertraline, metformin, warfarin",
    "indications": [
        "alzheimers-disease",
        "ocd",
        "ptsd",
        "fibromyalgia",
        "neuropathic-pain",
        "complex-regional-pain-syndrome",
    ],
    "conditions": [],
    "start_date": "2026-12-01",
}
BUSY_US = {**BUSY_EU, "region": "us", "crcl_ml_min": "60"}
NOT_RECOMMENDED = {**TYPICAL, "region": "eu", "child_pugh_class": "C"}  # EU severe hepatic impairment
UNCONFIRMED = {key: value for key, value in TYPICAL.items() if key != "crcl_ml_min"}  # no renal function
SEVERE = {**TYPICAL, "crcl_ml_min": "25"}

MG = re.compile(r"\d+(?:\.\d+)?\s*mg", re.IGNORECASE)


def pdf(client, data, paper=None) -> PdfReader:
    response = client.post("/patient-sheet.pdf", {**data, **({"paper": paper} if paper else {})})
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"] == "application/pdf"
    return PdfReader(io.BytesIO(response.content))


def page_texts(reader: PdfReader) -> list[str]:
    return [re.sub(r"\s+", " ", page.extract_text()) for page in reader.pages]


def text_sizes(reader: PdfReader) -> list[tuple[float, str]]:
    """Every piece of text drawn, with its size on the page in points: the size its text operator
    (Tf) sets, scaled by the text and graphics matrices (Tm, cm) in force."""
    found = []

    def visit(text, cm, tm, font, size):
        if text.strip():
            scale = abs(tm[3] * cm[3]) or abs(tm[0] * cm[0])
            found.append((round(size * scale, 2), text.strip()))

    for page in reader.pages:
        page.extract_text(visitor_text=visit)
    return found


def small_print(sizes, footer: str) -> list[tuple[float, str]]:
    """Text under 11 pt that is not the footer (catalogue version, date, sources) or the page number."""
    return [
        (s, t) for s, t in sizes if s < 11 and t not in footer and not re.fullmatch(r"Page \d+ of \d+", t)
    ]


def footer_text(client, data) -> str:
    html = client.post("/patient-sheet/", data).content.decode()
    footer = re.search(r'<footer class="ps-foot">(.*?)</footer>', html, re.S).group(1)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", footer)).replace("&#x27;", "'").replace("&quot;", '"')


# ------------------------------------------------------------------ one page, identifier, text size


@pytest.mark.parametrize("paper", ["a4", "letter"])
@pytest.mark.parametrize("case", [TYPICAL, BUSY_US, BUSY_EU], ids=["typical", "busy-us", "busy-eu"])
def test_one_page_with_the_identifier_and_readable_text(client, case, paper):
    reader = pdf(client, case, paper)
    assert len(reader.pages) == 1
    width = float(reader.pages[0].mediabox.width)
    assert round(width) == (612 if paper == "letter" else 595)
    for text in page_texts(reader):
        assert "Name:" in text and "Date of birth:" in text
    sizes = text_sizes(reader)
    assert sizes and min(s for s, _ in sizes) >= 9
    assert small_print(sizes, footer_text(client, case)) == []
    # The calendar is on it, and it is this case's.
    assert "Total each day" in page_texts(reader)[0]


def test_the_busy_cases_are_busy(client):
    html = client.post("/patient-sheet/", BUSY_EU).content.decode()
    assert html.count("off-label use") == 5 and "approved use" in html
    assert html.count("<tr>") == 5  # the heading and four steps


def test_the_text_size_check_finds_small_text(client):
    """The measurement above can fail: the same sheet with its notes set at 8 pt is caught."""
    html = client.post("/patient-sheet/", TYPICAL).content.decode()
    css = client.get("/static/app/patient_sheet.css")
    style = b"".join(css.streaming_content).decode() + "\n.ps p { font-size: 8pt; }"
    html = re.sub(r'<link rel="stylesheet" href="[^"]+">', f"<style>{style}</style>", html)
    sizes = text_sizes(PdfReader(io.BytesIO(pdf_bytes(html, PATIENT_SHEET_CSS))))
    small = small_print(sizes, footer_text(client, TYPICAL))
    assert small and all(s == 8 for s, _ in small)
    assert any("with or without food" in t for _, t in small)


def test_the_identifier_is_repeated_on_a_page_the_sheet_runs_onto(client):
    """Were a sheet ever to run over, its second page would carry the name and date-of-birth lines
    too (the page's top margin): forced here by a large type size."""
    html = client.post("/patient-sheet/", BUSY_EU).content.decode()
    style = b"".join(client.get("/static/app/patient_sheet.css").streaming_content).decode()
    style += "\n.ps p, .ps td, .ps th { font-size: 30pt; }"
    html = re.sub(r'<link rel="stylesheet" href="[^"]+">', f"<style>{style}</style>", html)
    reader = PdfReader(io.BytesIO(pdf_bytes(html, PATIENT_SHEET_CSS)))
    assert len(reader.pages) > 1
    for text in page_texts(reader):
        assert "Name:" in text and "Date of birth:" in text


# ------------------------------------------------------------------ what it says


def test_calendar_dates_follow_the_start_date(client):
    text = page_texts(pdf(client, TYPICAL))[0]
    assert "Tue 1 Dec to Mon 7 Dec 2026 5 mg once a day 5 mg" in text
    assert "Tue 8 Dec to Mon 14 Dec 2026 5 mg in the morning and 5 mg in the evening 10 mg" in text
    assert "Tue 15 Dec to Mon 21 Dec 2026 5 mg in the morning and 10 mg in the evening 15 mg" in text
    assert "From Tue 22 Dec 2026 on 10 mg in the morning and 10 mg in the evening 20 mg" in text


def test_without_a_start_date_the_calendar_counts_weeks_with_lines_for_dates(client):
    html = client.post("/patient-sheet/", {**TYPICAL, "start_date": ""}).content.decode()
    assert "Week 1<span" in html and "Week 4 and after<span" in html
    assert html.count('class="ps-dates"') == 4 and "Start date:" in html
    assert "Dec 2026" not in html


def test_uses_in_focus_are_named_with_approved_or_off_label(client):
    html = client.post(
        "/patient-sheet/", {**TYPICAL, "indications": ["alzheimers-disease", "ocd"]}
    ).content.decode()
    assert re.search(r"<strong>Alzheimer[^<]*</strong>: approved use", html)
    assert re.search(r"<strong>Obsessive-compulsive disorder[^<]*</strong>: off-label use", html)
    assert "An approved use is one the FDA has checked." in html
    assert "Off-label means the FDA has not approved memantine for this problem." in html
    none = client.post("/patient-sheet/", {**TYPICAL, "indications": []}).content.decode()
    assert "Your doctor will tell you why you are taking memantine." in none
    assert "Off-label means" not in none


@pytest.mark.parametrize("case", [NOT_RECOMMENDED, UNCONFIRMED], ids=["not-recommended", "unconfirmed"])
def test_no_dose_number_when_the_dose_is_not_given_or_not_confirmed(client, case):
    text = page_texts(pdf(client, case))[0]
    body = text.split("Printed ")[0]  # the footer names the sources, not doses; checked apart
    assert MG.findall(body) == []
    assert "Total each day" not in text
    if case is NOT_RECOMMENDED:
        # Not a guide to taking it: the verdict's own note, its reason, no how-to-take advice.
        assert "Memantine is not advised for you at the moment. Do not start it." in text
        assert "For your doctor to explain: Severe hepatic impairment" in text
        assert "with or without food" not in text and "This sheet does not give your dose" not in text
    else:
        assert "This sheet does not give your dose. Ask your doctor how much to take and when." in text
    html = client.post("/patient-sheet/", case).content.decode()
    assert MG.findall(re.sub(r"<[^>]+>", " ", html)) == []


@pytest.mark.parametrize(
    "case, reason",
    [
        ({**TYPICAL, "medications": "Namzaric"}, "memantine"),  # already taking memantine
        ({**TYPICAL, "medications": "memantine"}, "memantine"),
        ({**TYPICAL, "medications": "amantadine"}, "amantadine"),
        ({**TYPICAL, "medications": "Delsym"}, "dextromethorphan"),
        ({**TYPICAL, "medications": "acetazolamide"}, ""),
        ({**TYPICAL, "conditions": ["pregnancy"]}, ""),
        ({**TYPICAL, "child_pugh_class": "C"}, ""),
        ({**TYPICAL, "region": "eu", "formulation": "ir", "conditions": ["seizure-disorder"]}, ""),
    ],
)
def test_use_with_caution_gives_no_calendar_and_says_why(client, case, reason):
    """A verdict of "use with caution" is the doctor's to settle: the sheet prints no calendar and no
    dose, says plainly that something needs care, and names the reasons for the doctor to explain."""
    html = client.post("/patient-sheet/", case).content.decode()
    assert 'data-advice="caution"' in html
    assert "Total each day" not in html and 'class="ps-calendar"' not in html
    assert MG.findall(re.sub(r"<[^>]+>", " ", html.split("<footer")[0])) == []
    assert "Your doctor found something that needs care with memantine." in html
    explained = re.search(r"For your doctor to explain: ([^<]+)", html).group(1)
    assert reason.lower() in explained.lower()


def test_a_conditional_renal_regimen_is_the_doctors_to_explain(client):
    """EU moderate renal impairment: "10 mg; up to 20 mg only after 7 days at 10 mg if tolerated" is not
    the standard steps, so no calendar to 20 mg: the doctor explains the dose; the kidneys line stays."""
    case = {**TYPICAL, "region": "eu", "crcl_ml_min": "40"}
    text = page_texts(pdf(client, case))[0]
    assert "Total each day" not in text and "20 mg" not in text.split("Printed ")[0]
    assert "Your dose is not the usual one. Your doctor will explain how much to take and when." in text
    assert "So your dose may be lower than usual." in text


def test_dates_across_the_new_year_carry_both_years(client):
    text = page_texts(pdf(client, {**TYPICAL, "start_date": "2026-12-28"}))[0]
    assert "Mon 28 Dec 2026 to Sun 3 Jan 2027" in text
    assert "Mon 4 Jan to Sun 10 Jan 2027" in text


@pytest.mark.parametrize("start", ["2026-11-27", "2025-12-01", "2027-11-30"])
def test_a_start_date_in_the_past_or_beyond_a_year_is_refused(client, start):
    response = client.post("/patient-sheet/", {**TYPICAL, "start_date": start})
    assert response.status_code == 400
    field = response.content.decode().split('id="id_start_date"')[1][:1500]
    assert "in the past" in field or "within a year of today" in field
    assert client.post("/patient-sheet/", {**TYPICAL, "start_date": TODAY.isoformat()}).status_code == 200


def test_severe_renal_impairment_stops_at_the_lower_dose_and_says_why(client):
    text = page_texts(pdf(client, SEVERE))[0]
    assert "5 mg in the morning and 5 mg in the evening 10 mg" in text
    assert "10 mg in the morning and 10 mg in the evening" not in text and "20 mg" not in text
    assert "So your dose may be lower than usual." in text
    assert "So your dose may be lower than usual." not in page_texts(pdf(client, TYPICAL))[0]


def test_region_decides_the_emergency_number(client):
    assert "Call 911 at once" in client.post("/patient-sheet/", TYPICAL).content.decode()
    eu = client.post("/patient-sheet/", {**TYPICAL, "region": "eu"}).content.decode()
    assert "Call 112 at once" in eu and "911" not in eu


def test_catalogue_version_and_paper_default_by_region(client):
    version = CatalogueRelease.objects.get().version
    assert version in page_texts(pdf(client, TYPICAL))[0]
    assert round(float(pdf(client, TYPICAL).pages[0].mediabox.width)) == 612  # US: Letter
    assert round(float(pdf(client, {**TYPICAL, "region": "eu"}).pages[0].mediabox.width)) == 595  # EU: A4


# ------------------------------------------------------------------ reading age


def syllables(word: str) -> int:
    word = word.lower().strip(".,;:!?()\"'")
    if not word:
        return 0
    groups = re.findall(r"[aeiouy]+", word)
    count = len(groups)
    if word.endswith("e") and not word.endswith(("le", "ee", "ye")) and count > 1:
        count -= 1  # a silent final e ("make", "take")
    return max(count, 1)


def flesch_kincaid_grade(text: str) -> float:
    sentences = [s for s in re.split(r"[.!?:]+\s", text) if re.search(r"[A-Za-z]", s)]
    words = re.findall(r"[A-Za-z][A-Za-z'-]*", text)
    return 0.39 * len(words) / len(sentences) + 11.8 * sum(syllables(w) for w in words) / len(words) - 15.59


def test_the_grade_formula_tells_plain_from_dense_text():
    plain = "You can take it with or without food. Take it at about the same time each day."
    dense = (
        "Pharmacokinetic characteristics necessitate individualised titration considering renal"
        " elimination, concomitant medications and hepatic impairment classification."
    )
    assert flesch_kincaid_grade(plain) < 4 < 14 < flesch_kincaid_grade(dense)


@pytest.mark.parametrize("case", [TYPICAL, BUSY_EU, UNCONFIRMED], ids=["typical", "busy-eu", "unconfirmed"])
def test_reading_grade_is_about_eleven_years_old(client, case):
    html = client.post("/patient-sheet/", case).content.decode()
    notes = re.findall(
        r"<p>(?:<strong>)?([^<]+)(?:</strong>)?</p>", html.split("<main>")[1].split("</main>")[0]
    )
    text = " ".join(notes)
    assert len(text) > 400  # the sheet's sentences, not a fragment
    assert flesch_kincaid_grade(text) <= 7


# ------------------------------------------------------------------ errors, methods, privacy


def test_a_bad_start_date_answers_400_with_the_error_beside_the_field(client):
    for door in ("/patient-sheet/", "/patient-sheet.pdf"):
        response = client.post(door, {**TYPICAL, "start_date": "2028-01-01"})
        assert response.status_code == 400
        html = response.content.decode()
        assert response["Content-Type"].startswith("text/html")
        assert re.search(
            r'id="id_start_date"[^>]*aria-invalid="true"|aria-invalid="true"[^>]*id="id_start_date"', html
        ) or ('id="id_start_date"' in html and "within a year of today" in html)
        field = html.split('id="id_start_date"')[1][:1500]
        assert "within a year of today" in field
    response = client.post("/patient-sheet/", {**TYPICAL, "start_date": "1 December"})
    assert response.status_code == 400 and "Enter a date" in response.content.decode()


def test_patient_sheet_needs_post(client):
    assert client.get("/patient-sheet/").status_code == 405
    assert client.get("/patient-sheet.pdf").status_code == 405


def test_the_intake_page_offers_both_buttons(client):
    html = client.get("/").content.decode()
    assert re.search(r'formaction="/patient-sheet/"[^>]*formtarget="_blank"[^>]*data-native-submit', html)
    assert re.search(r'formaction="/patient-sheet.pdf"[^>]*data-native-submit', html)
    assert "Print patient sheet" in html and "Patient sheet PDF" in html


def test_nothing_about_the_patient_is_logged_or_stored(client, caplog):
    from indications.models import EDITORIAL_MODELS

    counts = [m.objects.count() for m in EDITORIAL_MODELS] + [CatalogueRelease.objects.count()]
    caplog.set_level("DEBUG")
    client.post("/patient-sheet/", {**TYPICAL, "medications": "Frobnicil-unique-name"})
    client.post("/patient-sheet.pdf", {**TYPICAL, "medications": "Frobnicil-unique-name"})
    assert "Frobnicil-unique-name" not in caplog.text and "2026-12-01" not in caplog.text
    assert [m.objects.count() for m in EDITORIAL_MODELS] + [CatalogueRelease.objects.count()] == counts
