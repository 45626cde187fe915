"""The summary sheet: print page and PDF, from the intake form and from the API."""

import io
import json
import logging
import re

import pytest
from pypdf import PdfReader

from indications.models import CatalogueRelease

pytestmark = pytest.mark.django_db

TYPICAL = {
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
    "medications": "dextromethorphan, Frobnicil",
    "indications": ["ocd"],
    "conditions": ["seizure-disorder"],
}
API_BODY = {
    "renal": {
        "age_years": 80,
        "sex": "female",
        "weight_kg": 50,
        "serum_creatinine": 1.4,
        "creatinine_unit": "mg/dL",
    },
    "hepatic": {"child_pugh_class": "B"},
    "medications": ["sertraline", "dextromethorphan", "Frobnicil"],
    "indications": ["ocd"],
    "conditions": ["seizure-disorder"],
}


def pdf_text(content: bytes) -> tuple[PdfReader, str]:
    reader = PdfReader(io.BytesIO(content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return reader, re.sub(r"\s+", " ", text)


def version() -> str:
    return CatalogueRelease.objects.get().version


def test_print_page_has_the_sheet_and_print_styles(client):
    response = client.post("/summary/", TYPICAL)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'href="/static/app/summary.css"' in html
    assert "5 mg twice daily" in html
    assert "Patient name:" in html and "Date of birth:" in html
    assert "Severe renal impairment" in html and "Medication not recognised" in html
    assert re.search(r"<h2 id=\"s-refs\">References</h2>\s*<ol>\s*<li>", html)
    assert version() in html
    assert "About this sheet" in html


def test_print_stylesheet_has_paged_media_rules(client):
    css = b"".join(client.get("/static/app/summary.css").streaming_content).decode()
    assert "@page" in css and "counter(pages)" in css and "@media print" in css and "size: letter" in css


def test_pdf_of_a_typical_case(client):
    response = client.post("/summary.pdf", TYPICAL)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    reader, text = pdf_text(response.content)
    assert len(reader.pages) <= 2
    assert "5 mg twice daily" in text
    for title in (
        "Severe renal impairment",
        "Another NMDA antagonist",
        "Dextromethorphan with a serotonergic antidepressant",
        "Medication not recognised",
    ):
        assert title in text
    assert "References" in text and re.search(r"PMID \d+", text)  # short addresses, linked
    assert version() in text
    assert re.search(r"Page 1 of \d", text)


def test_pdf_is_tagged_titled_and_embeds_its_fonts(client):
    reader, _ = pdf_text(client.post("/summary.pdf", TYPICAL).content)
    root = reader.trailer["/Root"]
    assert "/StructTreeRoot" in root and root["/MarkInfo"]["/Marked"]
    assert root.get("/Lang")
    assert reader.metadata.title.startswith("Memantine decision support: summary")
    fonts = [f.get_object() for page in reader.pages for f in page["/Resources"]["/Font"].values()]
    assert fonts
    for font in fonts:
        descendant = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
        descriptor = descendant["/FontDescriptor"].get_object()
        assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))


@pytest.mark.parametrize(("paper", "width"), [("a4", 595), ("letter", 612)])
def test_paper_size_is_a_choice(client, paper, width):
    reader, _ = pdf_text(client.post("/summary.pdf", {**TYPICAL, "paper": paper}).content)
    assert int(float(reader.pages[0].mediabox.width)) == width


def test_paper_defaults_by_region(client):
    us, _ = pdf_text(client.post("/summary.pdf", {**TYPICAL}).content)
    eu, _ = pdf_text(client.post("/summary.pdf", {**TYPICAL, "region": "eu"}).content)
    assert int(float(us.pages[0].mediabox.width)) == 612
    assert int(float(eu.pages[0].mediabox.width)) == 595


def test_all_indications_when_none_in_focus(client):
    data = {k: v for k, v in TYPICAL.items() if k != "indications"}
    _reader, text = pdf_text(client.post("/summary.pdf", data).content)
    assert "All indications (11)" in text
    assert "Spasticity" in text and "Fibromyalgia" in text


def test_same_answers_same_sheet_apart_from_the_print_time(client):
    first = client.post("/summary/", TYPICAL).content.decode()
    second = client.post("/summary/", TYPICAL).content.decode()
    strip = lambda html: re.sub(r"Printed [^·]+·|nonce=\"[^\"]+\"|\d{1,2} \w{3} \d{4}", "", html)  # noqa: E731
    assert strip(first) == strip(second)


def test_bad_input_returns_the_form_with_errors_not_a_pdf(client):
    response = client.post("/summary.pdf", {**TYPICAL, "weight": "-3"})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert 'id="intake-form"' in html and "between 20 and 350" in html
    page = client.post("/summary/", {**TYPICAL, "crcl_ml_min": "lots"})
    assert page.status_code == 400 and "Enter a number" in page.content.decode()


def test_summary_needs_post(client):
    assert client.get("/summary/").status_code == 405
    assert client.get("/summary.pdf").status_code == 405


def test_api_summary_pdf(client):
    response = client.post("/api/v1/summary.pdf", json.dumps(API_BODY), content_type="application/json")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    reader, text = pdf_text(response.content)
    assert len(reader.pages) <= 2
    assert "5 mg twice daily" in text and version() in text


def test_api_summary_pdf_bad_input_is_a_400_with_errors(client):
    response = client.post(
        "/api/v1/summary.pdf", json.dumps({"renal": {"crcl_ml_min": -1}}), content_type="application/json"
    )
    assert response.status_code == 400
    assert "renal.crcl_ml_min" in response.json()["errors"]
    assert client.get("/api/v1/summary.pdf").status_code == 405


def test_nothing_about_the_patient_is_logged(client, caplog):
    caplog.set_level(logging.DEBUG)
    client.post("/summary.pdf", {**TYPICAL, "medications": "Frobnicil-unique-name"})
    client.post(
        "/api/v1/assess",
        json.dumps({"medications": ["Frobnicil-unique-name"], "renal": {"crcl_ml_min": 17.3}}),
        content_type="application/json",
    )
    client.post("/", {**TYPICAL, "weight": "-3"}, HTTP_HX_REQUEST="true")
    logged = caplog.text
    assert "Frobnicil-unique-name" not in logged and "17.3" not in logged


def test_nothing_about_the_patient_is_stored(client):
    from django.apps import apps

    def counts():
        return {m._meta.label: m.objects.count() for m in apps.get_models() if not m._meta.proxy}

    before = counts()
    client.post("/", TYPICAL)
    client.post("/", TYPICAL, HTTP_HX_REQUEST="true")
    client.post("/summary/", TYPICAL)
    client.post("/summary.pdf", TYPICAL)
    client.post("/api/v1/assess", json.dumps(API_BODY), content_type="application/json")
    assert counts() == before
    assert not client.cookies.get("sessionid")


def test_the_pdf_renderer_fetches_nothing(tmp_path):
    """A URL that ever reached a sheet's HTML (an image, a stylesheet, a CSS url()) is not fetched:
    neither the network (a local server counts its requests) nor a local file."""
    import http.server
    import threading

    from indications import summary

    hits = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET-FILE-CONTENT")
    html = (
        f'<p>x</p><img src="{base}/x.png" alt=""><link rel="stylesheet" href="{base}/x.css">'
        f'<div style="background: url({base}/bg.png)"></div>'
        f'<object data="file://{secret}"></object><iframe src="file://{secret}"></iframe>'
    )
    try:
        pdf = summary.pdf_bytes(html)
    finally:
        server.shutdown()
    assert pdf[:5] == b"%PDF-"
    assert hits == []
    assert "SECRET-FILE-CONTENT" not in pdf_text(pdf)[1]
