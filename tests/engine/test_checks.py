"""Catalogue integrity checks (pure): renal ranges and the publishing checks on a snapshot."""

from indications.engine.checks import Range, renal_range_problems, snapshot_problems

from .universe import universe_snapshot

LABEL = [
    Range(0, True, 5, False),
    Range(5, True, 30, False),
    Range(30, True, 50, False),
    Range(50, True, 80, True),
    Range(80, False, None, False),
]


def test_the_label_ranges_cover_0_to_infinity_once():
    assert renal_range_problems(LABEL) == []


def test_gap_between_ranges():
    problems = renal_range_problems([Range(0, True, 5, False), Range(6, True, None, False)])
    assert len(problems) == 1 and problems[0].startswith("Gap") and "5 and 6" in problems[0]


def test_overlap_between_ranges():
    problems = renal_range_problems([Range(0, True, 30, False), Range(29, True, None, False)])
    assert problems and problems[0].startswith("Overlap")


def test_shared_boundary_included_twice_or_not_at_all():
    both = renal_range_problems([Range(0, True, 80, True), Range(80, True, None, False)])
    neither = renal_range_problems([Range(0, True, 80, False), Range(80, False, None, False)])
    assert both[0].startswith("Overlap") and "80" in both[0]
    assert neither[0].startswith("Gap") and "80" in neither[0]


def test_must_start_at_zero_and_end_open():
    assert renal_range_problems([Range(5, True, None, False)])[0].startswith("Gap")
    assert "above 100 mL/min" in renal_range_problems([Range(0, True, 100, False)])[0]
    assert renal_range_problems([]) != []


def test_malformed_range():
    assert "must be above" in renal_range_problems([Range(0, True, 50, False), Range(50, True, 40, False)])[0]


def test_universe_snapshot_passes():
    assert snapshot_problems(universe_snapshot()) == []


def test_snapshot_problems_are_specific():
    snap = universe_snapshot()
    snap["indications"][1]["sources"] = []
    snap["indications"][1]["evidence"]["strength"] = ""
    snap["renal_rules"] = [
        r for r in snap["renal_rules"] if not (r["region"] == "eu" and r["band"] == "mild")
    ]
    snap["interaction_rules"][0]["drug_class"] = "no-such-class"
    snap["standard_flags"] = [
        f for f in snap["standard_flags"] if f["flag"]["code"] != "medication-not-recognized"
    ]
    snap["sources"][2]["url"] = "ftp://example.org/x"
    problems = "\n".join(snapshot_problems(snap))
    assert "Indication “Ocd” has no source" in problems
    assert "has no strength rating" in problems
    assert "Renal rules EU IR: Gap" in problems
    assert "“no-such-class”, which does not exist" in problems
    assert "medication-not-recognized" in problems
    assert "Study X" in problems
