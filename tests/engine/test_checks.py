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


# ------------------------------------------------------------------ checks that protect the verdict


def problems_after(edit) -> str:
    snap = universe_snapshot()
    edit(snap)
    return "\n".join(snapshot_problems(snap))


def rule(snap, group, **match):
    return next(r for r in snap[group] if all(r.get(k) == v for k, v in match.items()))


def test_a_renal_start_above_the_regimens_start_is_refused():
    def edit(snap):
        rule(snap, "renal_rules", region="eu", band="moderate")["start_mg_per_day"] = 10

    assert (
        "Renal rule EU IR moderate: its start (10 mg/day) is above the regimen's start (5 mg/day)"
        in problems_after(edit)
    )


def test_a_critical_flag_that_leaves_the_standard_dose_is_refused():
    def edit(snap):
        rule(snap, "hepatic_rules", region="eu", child_pugh_class="C")["flag"]["verdict"] = "standard"

    assert "a critical flag must at least make the verdict" in problems_after(edit)


def test_not_recommended_needs_a_critical_flag():
    def edit(snap):
        rule(snap, "hepatic_rules", region="us", child_pugh_class="C")["flag"]["verdict"] = "not-recommended"

    assert "“not recommended” needs a critical flag" in problems_after(edit)


def test_an_unknown_verdict_effect_is_refused():
    def edit(snap):
        rule(snap, "condition_rules", condition="pregnancy")["flag"]["verdict"] = "maybe"

    assert "unknown effect on the verdict “maybe”" in problems_after(edit)


def test_mechanism_flags_have_fixed_effects():
    def edit(snap):
        for item in snap["standard_flags"]:
            if item["flag"]["code"] == "renal-function-unknown":
                item["flag"]["verdict"] = "standard"
            if item["flag"]["code"] == "studied-dose-above-cap":
                item["flag"]["verdict"] = "caution"

    problems = problems_after(edit)
    assert "renal-function-unknown (us): its effect on the verdict must be “unconfirmed”" in problems
    assert "studied-dose-above-cap (any): its effect on the verdict must be “standard”" in problems


def test_a_renal_rule_that_changes_the_dose_must_raise_a_flag():
    def edit(snap):
        rule(snap, "renal_rules", region="us", formulation="ir", band="severe")["flag"] = None

    assert "a rule that changes the dose must raise a flag" in problems_after(edit)


def test_every_new_mechanism_flag_needs_its_text():
    def edit(snap):
        snap["standard_flags"] = [
            f for f in snap["standard_flags"] if f["flag"]["code"] != "renal-estimate-check"
        ]

    assert "No text for the renal-estimate-check flag in region US" in problems_after(edit)


def test_memantine_already_taken_must_be_raised_by_a_rule():
    def edit(snap):
        snap["interaction_rules"] = [
            r for r in snap["interaction_rules"] if r["flag"]["code"] != "memantine-already-taken"
        ]

    assert "No published rule raises the memantine-already-taken flag" in problems_after(edit)


def test_xr_needs_its_immediate_release_equivalent():
    def edit(snap):
        rule(snap, "regimens", formulation="xr")["ir_equivalent_max_mg_per_day"] = None

    assert "Regimen US XR: give the immediate-release equivalent" in problems_after(edit)


def test_a_name_that_would_match_two_drugs_is_refused():
    def edit(snap):
        next(d for d in snap["drugs"] if d["name"] == "warfarin")["other_names"].append("Sertraline HCl")

    assert "The name “Sertraline HCl” of warfarin matches sertraline too" in problems_after(edit)


def test_a_published_brand_without_a_source_is_refused():
    def edit(snap):
        del next(d for d in snap["drugs"] if d["name"] == "sertraline")["name_sources"]["Zoloft"]

    assert "Brand name “Zoloft” of sertraline has no source" in problems_after(edit)


def test_a_product_needs_its_components_published_and_no_classes_of_its_own():
    def edit(snap):
        product = next(d for d in snap["drugs"] if d["name"] == "olanzapine/fluoxetine")
        product["components"].append("trazodone")
        product["classes"].append("ssri")

    problems = problems_after(edit)
    assert "contains trazodone, which is not published" in problems
    assert "has classes of its own" in problems


def test_doses_studied_need_both_ends_in_order():
    def edit(snap):
        snap["indications"][1]["dose_studied_min_mg_per_day"] = 30

    assert "Indication “Ocd”: the doses studied need a lowest and a highest, in order" in problems_after(edit)
