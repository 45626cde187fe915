"""Parts of an indication's card are rendered once per catalogue and reused (once_per_catalogue):
they must never carry one patient's answers into another patient's page, nor one catalogue's text
into another's."""

import pytest

from indications.snapshot import published_catalogue

pytestmark = pytest.mark.django_db

ON_SERTRALINE = {"region": "us", "formulation": "ir", "indications": ["ocd"], "tick_ssri": ["sertraline"]}
ON_NO_SSRI = {"region": "us", "formulation": "ir", "indications": ["ocd"]}


def card(client, data) -> str:
    html = client.post("/", data, HTTP_HX_REQUEST="true").content.decode()
    start = html.index('id="indication-ocd"')
    return html[start : html.index("</article>", start)]


def test_a_reused_card_keeps_each_patients_own_notes(client):
    first = card(client, ON_SERTRALINE)
    assert "listed (sertraline): the evidence is for adding memantine" in first
    second = card(client, ON_NO_SSRI)
    assert "For this patient" in second  # its own note: none of the class listed
    assert "(sertraline)" not in second and "No SSRI listed" in second
    again = card(client, ON_SERTRALINE)
    assert again == first
    # The same fragments served both patients: rendered once for the catalogue, not once per request.
    fragments = [k for k in published_catalogue()._memo if k[0] == "fragment"]
    assert {k[1] for k in fragments} >= {"card-head", "card-evidence", "card-details"}


def test_the_page_is_the_same_whether_its_fragments_were_reused_or_not(client):
    first = client.post("/", ON_SERTRALINE, HTTP_HX_REQUEST="true").content.decode()
    published_catalogue()._memo.clear()
    fresh = client.post("/", ON_SERTRALINE, HTTP_HX_REQUEST="true").content.decode()
    assert first == fresh
