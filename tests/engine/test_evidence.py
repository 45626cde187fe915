"""Evidence a clinician can weigh (pure engine, no database): the publishing checks that refuse
unsourced, unlinked or overclaimed evidence, search links, and the evidence map's geometry and words."""

from __future__ import annotations

import re

import pytest

from indications.engine import vocabulary as vocab
from indications.engine.catalogue import Catalogue
from indications.engine.checks import evidence_problems, is_search_url, snapshot_problems
from indications.engine.evidence_map import FILLS, YearScale, evidence_map

from .universe import universe_snapshot


def _ind(snapshot, slug="ocd"):
    return next(i for i in snapshot["indications"] if i["slug"] == slug)


def _problems_after(change) -> list[str]:
    snapshot = universe_snapshot()
    change(snapshot)
    return snapshot_problems(snapshot)


# ---------------------------------------------------------------- search links


@pytest.mark.parametrize(
    "url",
    [
        "https://pubmed.ncbi.nlm.nih.gov/?term=memantine&sort=date",
        "https://pubmed.ncbi.nlm.nih.gov/?TERM=memantine",
        "https://dailymed.nlm.nih.gov/dailymed/search.cfm?labeltype=all&query=namenda+xr",
        "https://dailymed.nlm.nih.gov/dailymed/search.cfm",
        "https://www.google.com/search?q=memantine",
        "https://example.org/find?q=memantine",
        "https://www.ncbi.nlm.nih.gov/pmc/?term=memantine",
        "https://clinicaltrials.gov/search?cond=ocd",
        "https://www.ema.europa.eu/en/search/search?search_api_views_fulltext=ebixa",
        # found by the cold attack review
        "https://clinicaltrials.gov/ct2/results?cond=ocd&intr=memantine",
        "https://www.ema.europa.eu/en/medicines?search_api_fulltext=memantine",
        "https://www.ncbi.nlm.nih.gov/entrez/query.fcgi?cmd=Search&TermToSearch=memantine",
        "https://scholar.google.com/scholar?as_q=memantine",
        "https://scholar.google.com/scholar_lookup?title=memantine",
        "https://www.tripdatabase.com/Searchresult?criteria=memantine",
        "https://onlinelibrary.wiley.com/action/doSearch?AllField=memantine",
        "https://www.accessdata.fda.gov/scripts/cder/daf/index.cfm?event=BasicSearch.process",
        "https://dailymed.nlm.nih.gov/dailymed/services/v2/spls.json?drug_name=memantine",
        "https://pubmed.ncbi.nlm.nih.gov/advanced/",
        "https://www.google.com/#q=memantine",
        " https://pubmed.ncbi.nlm.nih.gov/?term=memantine",
    ],
)
def test_search_links_are_recognised(url):
    assert is_search_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://pubmed.ncbi.nlm.nih.gov/29865079/",
        "https://doi.org/10.1002/14651858.CD003154.pub6",
        "https://dailymed.nlm.nih.gov/dailymed/drugInfo.cfm?setid=b9f27baf-aa2a-443a-9ef5-e002d23407ba",
        "https://www.ema.europa.eu/en/medicines/human/EPAR/ebixa",
        "https://www.nice.org.uk/guidance/ng97",
        "https://clinicaltrials.gov/study/NCT00638027",
        "https://research.example.org/researchers/memantine",  # "research" is not "search"
        "https://doi.org/10.1007/s00213-search-2019",  # a DOI is an identifier, whatever its words
        "https://link.springer.com/article/10.1007/s00213-019-05227-3",
        "https://www.who.int/publications/i/item/9789241549790",
    ],
)
def test_document_links_are_not_searches(url):
    assert not is_search_url(url)


def test_a_search_link_anywhere_in_a_release_is_refused():
    def source(snapshot):
        snapshot["sources"][0]["url"] = "https://pubmed.ncbi.nlm.nih.gov/?term=memantine"

    def study(snapshot):
        _ind(snapshot)["studies"][0]["url"] = "https://pubmed.ncbi.nlm.nih.gov/?term=ocd+memantine"

    assert any("links to a search" in p for p in _problems_after(source))
    assert any("links to a search" in p for p in _problems_after(study))


# ---------------------------------------------------------------- studies, caveats, guidelines


def test_the_universe_passes_the_evidence_checks():
    assert evidence_problems(universe_snapshot()) == []


def test_a_published_study_needs_a_pmid_or_doi():
    def no_identifier(snapshot):
        first = _ind(snapshot)["studies"][0]
        first.update(pmid="", doi="", url="https://clinicaltrials.gov/study/NCT00638027")

    assert any("has no PMID or DOI" in p for p in _problems_after(no_identifier))


@pytest.mark.parametrize("blank", ["", "   "])
def test_a_published_study_needs_its_statistics_or_a_statement_that_none_were_reported(blank):
    def no_statistics(snapshot):
        _ind(snapshot)["studies"][0]["statistics"] = blank

    assert any("needs its statistics" in p for p in _problems_after(no_statistics))


def test_a_published_study_needs_its_year_and_a_known_design():
    def no_year(snapshot):
        _ind(snapshot)["studies"][0]["year"] = None

    def old_design(snapshot):
        _ind(snapshot)["studies"][0]["design"] = "rct"

    assert any("needs its year" in p for p in _problems_after(no_year))
    assert any("unknown design" in p for p in _problems_after(old_design))


def test_a_caveat_without_a_source_is_refused():
    def unsourced(snapshot):
        _ind(snapshot)["caveats"][0]["sources"] = []

    def dangling(snapshot):
        _ind(snapshot)["caveats"][0]["sources"] = ["no-such-source"]

    assert any("has no source" in p for p in _problems_after(unsourced))
    assert any("has no source" in p for p in _problems_after(dangling))


def test_an_off_label_use_needs_a_guideline_entry_and_a_clinical_significance_sentence():
    def no_guideline(snapshot):
        _ind(snapshot)["guidelines"] = []

    def no_significance(snapshot):
        _ind(snapshot)["clinical_significance"] = " "

    assert any("needs a guideline entry" in p for p in _problems_after(no_guideline))
    assert any("clinical significance" in p for p in _problems_after(no_significance))


def test_every_evidence_check_applies_to_the_approved_use_too():
    """Marking a use "approved" skips nothing (attack: flip an off-label use to approved)."""

    def approved_bare(snapshot):
        ind = _ind(snapshot, "alzheimers-disease")
        ind["guidelines"], ind["clinical_significance"] = [], ""

    problems = [p for p in _problems_after(approved_bare) if "Alzheimers" in p]
    assert any("guideline entry" in p for p in problems)
    assert any("clinical significance" in p for p in problems)


@pytest.mark.parametrize(
    "status, efficacy, recommendation, expected",
    [
        ("off-label", "inconclusive", "recommended", "only for a labelled use"),
        ("off-label", "effective", "insufficient-evidence", "“effective” is only for a labelled use"),
        ("approved", "effective", "selected-patients", "approved (labelled) use is rated"),
    ],
)
def test_labelled_ratings_belong_to_labelled_uses(status, efficacy, recommendation, expected):
    def rate(snapshot):
        ind = _ind(snapshot, "fibromyalgia")
        ind["status"] = status
        ind["evidence"].update(efficacy=efficacy, recommendation=recommendation)

    assert any(expected in p for p in _problems_after(rate))


def test_an_approved_use_names_the_label_that_approves_it():
    def no_label(snapshot):
        ind = _ind(snapshot, "fibromyalgia")
        ind["status"] = "approved"
        ind["evidence"].update(efficacy="effective", recommendation="recommended")
        ind["sources"] = ["study-x"]

    assert any("needs the label that approves it" in p for p in _problems_after(no_label))


def test_a_guideline_entry_needs_a_known_position_a_statement_and_a_source():
    def bad(field, value):
        def change(snapshot):
            _ind(snapshot)["guidelines"][0][field] = value

        return change

    assert any("unknown position" in p for p in _problems_after(bad("position", "endorses")))
    assert any("needs who issued it and a statement" in p for p in _problems_after(bad("statement", "")))
    assert any("needs who issued it and a statement" in p for p in _problems_after(bad("body", " ")))
    assert any("has no source" in p for p in _problems_after(bad("sources", [])))


def test_a_safety_note_needs_a_source():
    def unsourced(snapshot):
        snapshot["safety_notes"][0]["sources"] = []

    assert any("Safety note" in p for p in _problems_after(unsourced))


# ---------------------------------------------------------------- ratings that match the evidence


def _rated(efficacy, studies):
    def change(snapshot):
        ind = _ind(snapshot)
        ind["evidence"]["efficacy"] = efficacy
        template = ind["studies"][0]
        ind["studies"] = [
            {**template, "key": f"s{n}", "design": design, "result": result, "pmid": f"{900 + n}"}
            for n, (design, result) in enumerate(studies)
        ]
        for study in ind["studies"]:
            study["url"] = f"https://pubmed.ncbi.nlm.nih.gov/{study['pmid']}/"

    return [p for p in _problems_after(change) if "needs more than one positive" in p]


@pytest.mark.parametrize("efficacy", ["evidence-favours", "effective"])
def test_one_positive_trial_does_not_carry_an_efficacy_rating(efficacy):
    assert _rated(efficacy, [("randomised-controlled", "positive")])
    assert _rated(efficacy, [("randomised-controlled", "positive"), ("randomised-controlled", "negative")])
    # a pooled analysis of trials, open-label studies and a negative meta-analysis do not count
    assert _rated(
        efficacy,
        [
            ("randomised-controlled", "positive"),
            ("pooled-analysis", "positive"),
            ("open-label", "positive"),
            ("case-series", "positive"),
            ("meta-analysis", "negative"),
            ("randomised-controlled", "mixed"),
        ],
    )


def test_two_positive_trials_or_a_positive_meta_analysis_carry_it():
    assert not _rated(
        "evidence-favours", [("randomised-controlled", "positive"), ("randomised-controlled", "positive")]
    )
    assert not _rated("evidence-favours", [("meta-analysis", "positive")])
    assert not _rated("inconclusive", [("case-series", "positive")])


# ---------------------------------------------------------------- the evidence map


def _catalogue():
    return Catalogue.from_snapshot(universe_snapshot(), version="t")


def _map(indication, catalogue):
    approved = tuple(i for i in catalogue.indications if i.status == "approved")
    return evidence_map(
        indication,
        approved=approved,
        scale=YearScale.covering(catalogue.indications),
        map_id=f"map-{indication.slug}",
    )


def test_every_design_has_a_shape_and_every_result_a_fill_that_reads_in_black_and_white():
    assert set(vocab.DESIGN_SHAPES) == set(vocab.STUDY_DESIGNS)
    assert set(vocab.DESIGN_SHAPES.values()) == set(vocab.SHAPE_LABELS)
    # results differ by fill pattern (black, white, half, grey), not by hue
    fills = {**FILLS, "mixed": "half"}
    assert set(fills) == set(vocab.STUDY_RESULTS)
    assert len(set(fills.values())) == len(fills)
    assert all(re.fullmatch(r"#([0-9a-f])\1\1", f) for r, f in FILLS.items()), "grey levels only"


def test_a_map_draws_one_mark_per_study_with_shape_by_design_and_fill_by_result():
    snapshot = universe_snapshot()
    ind = _ind(snapshot)
    template = ind["studies"][0]
    ind["studies"] = [
        {
            **template,
            "key": "a",
            "first_author": "A",
            "year": 2009,
            "participants": 15,
            "design": "open-label",
            "result": "positive",
        },
        {**template, "key": "b", "first_author": "B", "year": 2013, "participants": 42, "result": "positive"},
        {**template, "key": "c", "first_author": "C", "year": 2022, "participants": 70, "result": "negative"},
        {
            **template,
            "key": "d",
            "first_author": "D",
            "year": 2018,
            "participants": 97,
            "design": "meta-analysis",
        },
        {**template, "key": "e", "first_author": "E", "year": 2010, "participants": None, "result": "mixed"},
    ]
    catalogue = Catalogue.from_snapshot(snapshot, version="t")
    ocd = catalogue.indications_by_slug["ocd"]
    drawn = _map(ocd, catalogue)
    own = [m for m in drawn.marks if not m.comparison]
    assert len(own) == 5
    by_label = {m.label.split(":")[0]: m for m in own}
    assert by_label["C 2022"].fill == "#fff" and by_label["B 2013"].fill == "#000"
    assert by_label["E 2010"].fill == f"url(#{drawn.half_fill_id})"
    assert " a" not in by_label["A 2009"].path  # a square: straight edges, no arc
    assert " a" in by_label["B 2013"].path  # a circle (arc)
    # bigger trials sit higher (smaller y), later ones further right; no n sits on its own row
    y = {k: float(re.match(r"M[-\d.]+,([-\d.]+)", m.path).group(1)) for k, m in by_label.items()}
    assert y["C 2022"] < y["B 2013"] < y["A 2009"]
    assert y["E 2010"] > max(y["A 2009"], y["B 2013"])
    # the words say the same as the picture
    words = drawn.description
    assert "5 published studies, 2009–2022" in words
    assert (
        "Randomised controlled trial: 1 positive (n=42), 1 mixed (n not reported), 1 negative (n=70)" in words
    )
    assert "Meta-analysis or systematic review: 1 positive (n=97)" in words
    assert "Open-label or retrospective study: 1 positive (n=15)" in words
    assert "For comparison, the approved use (Alzheimers Disease)" in words
    assert any(m.comparison for m in drawn.marks)


def test_studies_in_the_same_place_stay_visible_and_the_approved_use_has_no_comparison_of_itself():
    catalogue = _catalogue()
    approved = catalogue.indications_by_slug["alzheimers-disease"]
    drawn = _map(approved, catalogue)
    assert not any(m.comparison for m in drawn.marks)
    paths = [m.path for m in drawn.marks]
    assert len(set(paths)) == len(paths), "two studies of the same year and size are drawn apart"


def test_an_indication_without_dated_studies_has_no_map():
    snapshot = universe_snapshot()
    _ind(snapshot)["studies"] = []
    catalogue = Catalogue.from_snapshot(snapshot, version="t")
    assert _map(catalogue.indications_by_slug["ocd"], catalogue) is None


def test_releases_made_before_v1_1_still_load():
    """Published releases are immutable: old caveat and design shapes are read, not rewritten."""
    snapshot = universe_snapshot()
    for ind in snapshot["indications"]:
        ind.pop("guidelines")
        ind.pop("clinical_significance")
        for caveat in ind["caveats"]:
            caveat["source"] = caveat.pop("sources")[0]
        for study in ind["studies"]:
            study.pop("statistics")
            study["design"] = "rct"
    snapshot.pop("safety_notes")
    catalogue = Catalogue.from_snapshot(snapshot, version="old")
    ocd = catalogue.indications_by_slug["ocd"]
    assert ocd.caveats[0].sources[0].key == "study-x"
    assert {s.design for s in ocd.studies} == {"randomised-controlled"}
    assert ocd.guidelines == () and catalogue.safety_notes == ()


# ---------------------------------------------------------------- found by the cold attack review


def _study_change(**fields):
    def change(snapshot):
        _ind(snapshot)["studies"][0].update(fields)

    return _problems_after(change)


def test_the_same_publication_entered_twice_is_refused_and_counts_once():
    def duplicate(snapshot):
        ind = _ind(snapshot)
        first = {**ind["studies"][0], "result": "positive", "design": "randomised-controlled"}
        ind["studies"] = [first, {**first, "key": "again", "first_author": "Again"}]
        ind["evidence"]["efficacy"] = "evidence-favours"

    problems = _problems_after(duplicate)
    assert any("is the same publication as" in p for p in problems)
    assert any("needs more than one positive" in p for p in problems)


@pytest.mark.parametrize(
    "fields, expected",
    [
        ({"url": "https://clinicaltrials.gov/study/NCT00000001"}, "must link to its PubMed or doi.org page"),
        ({"url": "https://pubmed.ncbi.nlm.nih.gov/99999999/"}, "must link to its PubMed or doi.org page"),
        ({"url": "http://example.com/"}, "must link to its PubMed or doi.org page"),
        ({"pmid": " ", "doi": ""}, "has no PMID or DOI"),
        ({"pmid": "pending"}, "is not a PubMed number"),
        ({"pmid": "", "doi": "see registry"}, "is not a DOI"),
        ({"year": 3000}, "is not plausible"),
        ({"year": 1800}, "is not plausible"),
        ({"participants": 0}, "at least 1"),
        ({"statistics": "n/a"}, "neither a reported statistic"),
        ({"statistics": " ."}, "neither a reported statistic"),
        ({"result": "promising"}, "unknown result"),
    ],
)
def test_a_study_row_that_would_mislead_is_refused(fields, expected):
    assert any(expected in p for p in _study_change(**fields)), fields


def test_statistics_may_say_plainly_that_none_were_reported():
    problems = _study_change(statistics="Case series: no statistical testing reported.")
    assert not any("statistic" in p and "Ocd" in p for p in problems), problems


@pytest.mark.parametrize("text", ["TBD", "Unknown", "", "x x x x x x x x x x x x x x x x x x x x x"])
def test_a_placeholder_is_not_a_clinical_significance_sentence(text):
    def placeholder(snapshot):
        _ind(snapshot)["clinical_significance"] = text

    assert any("clinical significance" in p for p in _problems_after(placeholder))


def test_strength_a_needs_consistent_positive_randomised_evidence():
    def strong(snapshot):
        _ind(snapshot)["evidence"]["strength"] = "A"  # the universe's OCD has a negative RCT

    assert any("strength A" in p for p in _problems_after(strong))


def test_a_search_link_written_into_text_is_refused():
    def in_text(snapshot):
        _ind(snapshot)["caveats"][0]["text"] += " See https://pubmed.ncbi.nlm.nih.gov/?term=memantine"

    assert any("its text links to a search" in p for p in _problems_after(in_text))


def test_a_gap_with_a_placeholder_reason_is_refused():
    def gap(snapshot):
        ind = _ind(snapshot)
        ind["dose_studied_min_mg_per_day"] = ind["dose_studied_max_mg_per_day"] = None
        ind["evidence_gaps"] = [{"element": "dose", "reason": "n/a"}]

    assert any("needs its reason" in p for p in _problems_after(gap))


def _centres(drawn):
    out = []
    for m in drawn.marks:
        if " a" in m.path:  # circle: "M{x-r},{y} a..."
            x, y = map(float, re.match(r"M([-\d.]+),([-\d.]+)", m.path).groups())
            out.append((x + 5, y))
        else:
            pts = [tuple(map(float, p.split(","))) for p in re.findall(r"[-\d.]+,[-\d.]+", m.path)]
            out.append((sum(p[0] for p in pts) / len(pts), sum(p[1] for p in pts) / len(pts)))
    return out


def _crowded(studies):
    snapshot = universe_snapshot()
    ind = _ind(snapshot)
    template = ind["studies"][0]
    ind["studies"] = [
        {**template, "key": f"k{n}", "first_author": f"A{n}", **fields} for n, fields in enumerate(studies)
    ]
    catalogue = Catalogue.from_snapshot(snapshot, version="t")
    return _map(catalogue.indications_by_slug["ocd"], catalogue)


def test_marks_close_together_step_apart_so_none_hides_another():
    from indications.engine.evidence_map import GAP, LEFT, RIGHT

    drawn = _crowded(
        [{"year": 2015, "participants": 40, "result": "negative"}]
        + [{"year": 2015, "participants": 43 + n, "result": "positive"} for n in range(7)]
    )
    centres = _centres(drawn)
    assert len(centres) == len(drawn.marks)
    for i, (x1, y1) in enumerate(centres):
        assert LEFT <= x1 <= RIGHT, "no mark leaves the plot"
        for x2, y2 in centres[i + 1 :]:
            assert ((x1 - x2) ** 2 + (y1 - y2) ** 2) ** 0.5 >= GAP - 0.2


def test_studies_the_map_cannot_draw_truthfully_are_said_not_guessed():
    drawn = _crowded(
        [
            {"year": 2019, "result": "positive"},
            {"year": 2019, "design": "umbrella-review", "result": "positive"},  # from an old release
            {"year": 2019, "result": "promising"},
        ]
    )
    assert "1 published study, 2019." in drawn.description
    assert "2 more studies are listed but not drawn" in drawn.description
    assert "Randomised controlled trial: 1 positive" in drawn.description
