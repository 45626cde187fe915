"""The printed summary sheet as a clinician gets it on paper (WeasyPrint PDF): at most two pages for
a typical patient with any two indications in focus, on A4 and US Letter; the patient's name and date
of birth to write on every page; the answer line at the top; a block for the clinician's decision and
signature; the time printed in the service's time zone; and no text smaller than 9 pt."""

import io
import itertools
import re

import pytest
from django.test import override_settings
from django.utils import timezone
from pypdf import PdfReader
from pypdf.generic import ContentStream

from indications.models import CatalogueRelease
from indications.snapshot import published_catalogue

from .test_summary import TYPICAL

pytestmark = pytest.mark.django_db

MIN_PT = 9.0
IDENTITY = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


def _mul(m, n):
    a, b, c, d, e, f = m
    A, B, C, D, E, F = n
    return (a * A + b * C, a * B + b * D, c * A + d * C, c * B + d * D, e * A + f * C + E, e * B + f * D + F)


def _text_sizes(reader, stream, resources, ctm, sizes):
    """The printed height in points of every text-showing operator: the font size (Tf) scaled by the
    text matrix (Tm) and the current transformation (cm), inside form XObjects too (WeasyPrint draws
    inline SVG in them)."""
    stack = []
    tm = IDENTITY
    font_size = 0.0
    for operands, operator in ContentStream(stream, reader).operations:
        if operator == b"q":
            stack.append(ctm)
        elif operator == b"Q":
            ctm = stack.pop()
        elif operator == b"cm":
            ctm = _mul(tuple(float(x) for x in operands), ctm)
        elif operator == b"BT":
            tm = IDENTITY
        elif operator == b"Tf":
            font_size = float(operands[1])
        elif operator == b"Tm":
            tm = tuple(float(x) for x in operands)
        elif operator in (b"Tj", b"TJ", b"'", b'"'):
            c, d = _mul(tm, ctm)[2:4]
            sizes.append(font_size * (c * c + d * d) ** 0.5)
        elif operator == b"Do":
            xobject = resources["/XObject"][operands[0]].get_object()
            if xobject.get("/Subtype") == "/Form":
                matrix = tuple(float(x) for x in xobject.get("/Matrix", IDENTITY))
                inner = xobject.get("/Resources", resources).get_object()
                _text_sizes(reader, xobject, inner, _mul(matrix, ctm), sizes)
    return sizes


def smallest_text_pt(reader: PdfReader) -> float:
    sizes = []
    for page in reader.pages:
        _text_sizes(reader, page.get_contents(), page["/Resources"].get_object(), IDENTITY, sizes)
    assert sizes, "no text found: the measure would prove nothing"
    return min(sizes)


def page_texts(content: bytes) -> tuple[PdfReader, list[str]]:
    reader = PdfReader(io.BytesIO(content))
    return reader, [re.sub(r"\s+", " ", page.extract_text()) for page in reader.pages]


def html_text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def seed_indication_slugs() -> list[str]:
    return sorted(published_catalogue().indications_by_slug)


# The seed catalogue's indications (fixtures/catalogue/04_indications.yaml); checked against the
# published catalogue below, so a new indication cannot be left out silently.
SLUGS = (
    "alzheimers-disease",
    "bipolar-disorder",
    "complex-regional-pain-syndrome",
    "fibromyalgia",
    "major-depressive-disorder",
    "neuropathic-pain",
    "ocd",
    "phantom-limb-pain",
    "ptsd",
    "spasticity",
    "vascular-dementia",
)
PAIRS = list(itertools.combinations(SLUGS, 2))


def test_the_pairs_cover_every_indication_of_the_seed_catalogue():
    assert seed_indication_slugs() == list(SLUGS)
    assert len(PAIRS) == 55


@pytest.mark.parametrize("paper", ["a4", "letter"])
@pytest.mark.parametrize("pair", PAIRS, ids=["+".join(p) for p in PAIRS])
def test_two_indications_fit_two_pages_in_9pt_with_the_patient_lines_on_every_page(client, pair, paper):
    response = client.post("/summary.pdf", {**TYPICAL, "indications": list(pair), "paper": paper})
    assert response.status_code == 200
    reader, pages = page_texts(response.content)
    assert int(float(reader.pages[0].mediabox.width)) == {"a4": 595, "letter": 612}[paper]
    assert len(pages) <= 2, f"{len(pages)} pages"
    for number, text in enumerate(pages, start=1):
        assert "Patient name: ___" in text and "Date of birth: ___" in text, f"page {number}"
        assert f"Page {number} of {len(pages)}" in text
    names = [published_catalogue().indications_by_slug[slug].name for slug in pair]
    whole = " ".join(pages)
    for name in names:
        assert name in whole
    assert "Clinician, decision and signature" in whole and "References" in whole
    assert smallest_text_pt(reader) >= MIN_PT


def test_patient_lines_on_every_page_of_a_longer_sheet(client):
    """Three pages (every indication in focus): the name and date of birth lines are on each."""
    response = client.post("/summary.pdf", {**TYPICAL, "indications": list(SLUGS), "paper": "a4"})
    reader, pages = page_texts(response.content)
    assert len(pages) > 2
    for number, text in enumerate(pages, start=1):
        assert "Patient name: ___" in text and "Date of birth: ___" in text, f"page {number}"
    assert smallest_text_pt(reader) >= MIN_PT


def test_no_text_below_9pt_in_the_table_of_all_indications(client):
    data = {k: v for k, v in TYPICAL.items() if k != "indications"}
    reader, pages = page_texts(client.post("/summary.pdf", data).content)
    assert "All indications (11)" in " ".join(pages)
    assert len(pages) <= 2
    assert smallest_text_pt(reader) >= MIN_PT


def test_the_font_size_measure_sees_small_text(client):
    """The measure is not blind: the screen's evidence map (axis labels of 8 units in a 360-unit-wide
    drawing) printed at 64 mm wide has text of about 4 pt, and the measure finds it."""
    from weasyprint import HTML

    from indications.templatetags.clinical import evidence_map

    response = client.post("/summary/", {**TYPICAL, "indications": ["ocd"]})
    card = next(c for c in response.context["view"].indications if c.slug == "ocd")
    html = f'<div style="width: 64mm">{evidence_map(card.evidence_map)}</div>'
    html = html.replace('width="360" height="132"', 'style="width: 64mm; height: auto"')
    reader = PdfReader(io.BytesIO(HTML(string=html).write_pdf()))
    assert 3.5 < smallest_text_pt(reader) < 4.5


def test_signature_block(client):
    response = client.post("/summary/", TYPICAL)
    html = response.content.decode()
    assert '<h2 id="s-signature">Clinician, decision and signature</h2>' in html
    block = html_text(html.split('id="s-signature"', 1)[1].split("</section>", 1)[0])
    for line in ("Clinician name:", "Decision (start / do not start / dose chosen):", "Signature:", "Date:"):
        assert line in block
    _reader, pages = page_texts(client.post("/summary.pdf", TYPICAL).content)
    last = pages[-1]
    assert "Clinician, decision and signature" in last
    lines = r"Clinician name: .*Decision \(start / do not start / dose chosen\): .*Signature: .*Date:"
    assert re.search(lines, last)


def test_the_answer_line_is_printed_first_as_on_screen(client):
    response = client.post("/summary.pdf", {**TYPICAL, "indications": ["ocd", "fibromyalgia"]})
    answer = response.context["view"].answer
    assert answer.dose == "5 mg twice daily" and len(answer.studied) == 2
    _reader, pages = page_texts(response.content)
    first = pages[0]
    top = first[: first.index("Patient values used")]
    for text in (answer.verdict, answer.dose, answer.flags_text, *answer.studied):
        assert text in top, text
    assert top.index(answer.verdict) < top.index(answer.flags_text) < top.index(answer.studied[0])
    html = client.post("/summary/", {**TYPICAL, "indications": ["ocd", "fibromyalgia"]}).content.decode()
    section = html.split('data-testid="answer-line"', 1)[1].split("</section>", 1)[0]
    assert html.index('data-testid="answer-line"') < html.index('id="s-inputs"')
    for text in (answer.verdict, answer.dose, answer.flags_text, *answer.studied):
        assert text.replace("'", "&#x27;") in section, text


@pytest.mark.parametrize(
    "changes",
    [
        {"serum_creatinine": "9"},  # CrCl under 5 mL/min: no labelled dose
        {"region": "eu", "child_pugh_class": "C"},  # EU SmPC: not recommended in severe hepatic impairment
    ],
    ids=["no-labelled-dose", "not-recommended"],
)
def test_no_dose_number_in_the_answer_when_the_verdict_gives_none(client, changes):
    data = {**TYPICAL, "indications": ["ocd", "spasticity"], **changes}
    response = client.post("/summary/", data)
    answer = response.context["view"].answer
    assert answer.dose == "" and answer.tone == "stop", answer
    html = response.content.decode()
    verdict = html.split('id="s-answer"', 1)[1].split("</h2>", 1)[0]
    assert answer.verdict.replace("'", "&#x27;") in verdict
    assert not re.search(r"\d\s*mg", verdict), verdict
    reader, pages = page_texts(client.post("/summary.pdf", data).content)
    top = pages[0][: pages[0].index(answer.flags_text)]
    assert answer.verdict in top and not re.search(r"\d\s*mg", top), top
    assert len(pages) <= 2 and smallest_text_pt(reader) >= MIN_PT


@pytest.mark.parametrize(("zone", "shown"), [("Asia/Tokyo", "Asia/Tokyo (JST)"), ("UTC", "UTC")])
def test_printed_time_is_in_the_service_time_zone(client, zone, shown):
    with override_settings(TIME_ZONE=zone):
        before = timezone.localtime()
        html = html_text(client.post("/summary/", TYPICAL).content.decode())
        _reader, pages = page_texts(client.post("/summary.pdf", TYPICAL).content)
        after = timezone.localtime()
    assert before.tzname() == after.tzname()
    stamps = {f"Printed {t:%-d %b %Y, %H:%M} {shown} ·" for t in (before, after)}
    assert any(stamp in html for stamp in stamps), (stamps, html[:400])
    assert any(stamp in pages[0] for stamp in stamps), (stamps, pages[0][:400])
    if zone != "UTC":
        assert "UTC" not in pages[0][:300]


def test_references_keep_an_address_a_clinician_can_open(client):
    response = client.post("/summary.pdf", {**TYPICAL, "indications": ["ocd", "fibromyalgia"]})
    reader, pages = page_texts(response.content)
    refs = response.context["refs"].entries
    assert refs
    links = {
        annotation.get_object()["/A"]["/URI"]
        for page in reader.pages
        for annotation in page.get("/Annots", [])
        if "/A" in annotation.get_object() and "/URI" in annotation.get_object()["/A"]
    }
    whole = " ".join(pages).replace(" ", "")
    for ref in refs:
        assert ref.url in links, ref.url
        assert ref.short.replace(" ", "") in whole, ref.short
        assert ref.short.startswith(("PMID ", "doi:10.")) or ref.short in ref.url
    assert CatalogueRelease.objects.get().version in " ".join(pages)
