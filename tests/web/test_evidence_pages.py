"""Evidence on the clinician's pages: the evidence maps (inline SVG with a text alternative, also on
the printed sheet and in the PDF), guideline positions, clinical significance, statistics, the
safety profile, and no link to a search on any page."""

import io
import re
from html.parser import HTMLParser

import pytest
from pypdf import PdfReader

from indications.engine.checks import is_search_url
from indications.models import Indication, Source, Study

pytestmark = pytest.mark.django_db

ALL = [
    "alzheimers-disease",
    "ocd",
    "ptsd",
    "major-depressive-disorder",
    "bipolar-disorder",
    "vascular-dementia",
    "neuropathic-pain",
    "complex-regional-pain-syndrome",
    "fibromyalgia",
    "phantom-limb-pain",
    "spasticity",
]
FORM = {"region": "us", "formulation": "ir", "crcl_ml_min": "60", "indications": ALL}


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.urls += [v for k, v in attrs if k in ("href", "src", "action") and v]


def links(html: str) -> list[str]:
    parser = Links()
    parser.feed(html)
    return parser.urls + re.findall(r"https?://[^\s\"'<>)\]]+", html)


def results(client) -> str:
    response = client.post("/", FORM, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    return response.content.decode()


def test_every_card_has_its_evidence_map_with_a_text_alternative(client):
    html = results(client)
    assert set(ALL) == set(Indication.objects.filter(is_published=True).values_list("slug", flat=True))
    maps = re.findall(r"<svg class=\"evidence-map\".*?</svg>", html, flags=re.S)
    assert len(maps) == len(ALL)
    for svg in maps:
        ids = re.search(r'aria-labelledby="([^"]+)-title \1-desc"', svg)
        assert ids and 'role="img"' in svg, svg[:200]
        title = re.search(rf'<title id="{ids.group(1)}-title">([^<]+)</title>', svg).group(1)
        desc = re.search(rf'<desc id="{ids.group(1)}-desc">([^<]+)</desc>', svg).group(1)
        assert title.startswith("Evidence map: ")
        assert re.search(r"\d+ published stud(y|ies), \d{4}(–\d{4})?\.", desc), desc
        assert "<script" not in svg
    ocd = next(s for s in maps if "map-ocd-title" in s)
    marks = re.findall(r"<path d=", ocd)
    published = Study.objects.filter(indication__slug="ocd", is_published=True).count()
    approved = Study.objects.filter(indication__status="approved", is_published=True).count()
    assert len(marks) == published + approved
    assert "For comparison, the approved use" in ocd
    assert 'data-testid="evidence-legend"' in html


def test_cards_show_guidelines_significance_statistics_and_the_safety_profile(client):
    html = results(client)
    card = html[html.index('id="indication-vascular-dementia"') :]
    card = card[: card.index("</article>")]
    assert "What it means for a patient:" in card
    assert "Guidelines" in card and "NICE" in card
    assert 'class="statistics"' in card
    assert "Adverse effects and warnings" in card


def test_the_summary_sheet_draws_the_maps_of_the_indications_in_focus(client):
    response = client.post("/summary/", {**FORM, "indications": ["ocd", "fibromyalgia"]})
    html = response.content.decode()
    assert len(re.findall(r'<svg class="evidence-map"', html)) == 2
    assert "What it means for a patient:" in html
    assert "Adverse effects and warnings" in html
    pdf = client.post("/summary.pdf", {**FORM, "indications": ["ocd"]})
    assert pdf.status_code == 200
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "What it means for a patient" in re.sub(r"\s+", " ", text)


def test_no_page_links_to_a_search(client):
    pages = [
        client.get("/").content.decode(),
        results(client),
        client.post("/summary/", FORM).content.decode(),
        client.get("/about").content.decode(),
    ]
    urls = [u for html in pages for u in links(html)]
    assert any("doi.org" in u for u in urls)
    assert [u for u in urls if is_search_url(u)] == []


def test_no_source_or_study_in_the_catalogue_links_to_a_search():
    """Not even an unpublished draft: a search link is refused by the model's own validation."""
    urls = list(Source.objects.values_list("url", flat=True)) + list(
        Study.objects.exclude(url="").values_list("url", flat=True)
    )
    assert urls and [u for u in urls if is_search_url(u)] == []


def test_the_admin_refuses_a_search_link(admin_client):
    source = Source.objects.first()
    response = admin_client.post(
        f"/admin/indications/source/{source.pk}/change/",
        {
            "key": source.key,
            "label": source.label,
            "url": "https://pubmed.ncbi.nlm.nih.gov/?term=memantine",
            "kind": source.kind,
            "version": source.version,
            "notes": source.notes,
        },
    )
    assert response.status_code == 200
    assert "This is a link to a search" in response.content.decode()
    source.refresh_from_db()
    assert not is_search_url(source.url)


def test_the_admin_keeps_a_study_without_pmid_doi_or_statistics_unpublished(admin_client):
    ocd = Indication.objects.get(slug="ocd")
    form = {
        "indication": ocd.pk,
        "key": "registry-only",
        "first_author": "Nobody",
        "year": 2020,
        "design": "randomised-controlled",
        "result": "negative",
        "finding": "x",
        "url": "https://clinicaltrials.gov/study/NCT00638027",
        "order": 0,
        "is_published": "on",
    }
    html = admin_client.post("/admin/indications/study/add/", form).content.decode()
    assert "needs a PMID or a DOI" in html and "Give the statistics as reported" in html
    assert not Study.objects.filter(key="registry-only").exists()
    unpublished = {k: v for k, v in form.items() if k != "is_published"}
    response = admin_client.post("/admin/indications/study/add/", unpublished)
    assert response.status_code == 302
    assert Study.objects.get(key="registry-only").is_published is False


@pytest.mark.parametrize(
    "text",
    [
        "As Sepehrmanesh 2022 showed, it works.",
        "Sepehrmanesh et al., 2022 confirms the benefit.",
        "A trial (sepehrmanesh, 2022) was positive.",
    ],
)
def test_an_unpublished_study_named_in_published_text_is_refused(text):
    from indications.services import catalogue_problems

    ocd = Indication.objects.get(slug="ocd")
    assert Study.objects.filter(indication=ocd, first_author="Sepehrmanesh", is_published=False).exists()
    ocd.clinical_significance = text + " " + ocd.clinical_significance
    ocd.save()
    assert any("cites the unpublished study Sepehrmanesh" in p for p in catalogue_problems())


def test_a_study_dated_in_the_future_is_refused_at_publication():
    from indications.services import catalogue_problems

    study = Study.objects.filter(is_published=True).first()
    study.year = 2100
    study.save()
    assert any("after" in p and "2100" in p for p in catalogue_problems())
