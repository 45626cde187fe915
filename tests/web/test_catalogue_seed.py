"""The seed catalogue: loads on both databases, is published, and holds together."""

import io

import pytest
from django.core.management import call_command

from indications.engine.checks import FLAG_GROUPS, Range, renal_range_problems
from indications.models import (
    CatalogueRelease,
    ConditionRule,
    DoseRegimen,
    Drug,
    HepaticRule,
    Indication,
    InteractionRule,
    StandardFlag,
    Study,
)
from indications.services import catalogue_problems
from indications.snapshot import build_snapshot, published_catalogue

pytestmark = pytest.mark.django_db

CONTRACT_SLUGS = {
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
}
CONTRACT_FLAGS = {
    "renal-function-unknown",
    "renal-moderate",
    "renal-severe",
    "renal-no-data",
    "hepatic-severe",
    "nmda-antagonist",
    "urine-alkalinization",
    "renal-cationic-secretion",
    "ssri-no-interaction",
    "serotonergic-dextromethorphan",
    "augmentation-without-ssri",
    "warfarin-inr",
    "seizure-disorder",
    "pregnancy",
    "breastfeeding",
    "cardiovascular-disease",
    "medication-not-recognized",
    # v1.1
    "renal-estimate-check",
    "renal-estimates-disagree",
    "renal-egfr-used",
    "memantine-already-taken",
    "studied-dose-above-cap",
    "pharmacodynamic-interaction",
}


def test_seed_publishes_the_eleven_contract_indications():
    assert set(Indication.objects.published().values_list("slug", flat=True)) == CONTRACT_SLUGS
    assert CatalogueRelease.objects.count() == 1
    catalogue = published_catalogue()
    assert {i.slug for i in catalogue.indications} == CONTRACT_SLUGS
    assert catalogue.version.endswith(".1")


def test_seed_passes_every_publishing_check():
    assert catalogue_problems() == []


def test_every_published_indication_and_rule_has_a_source_url():
    for ind in Indication.objects.published():
        assert any(s.url.startswith("https://") for s in ind.sources.all()), ind.slug
    for model in (ConditionRule, InteractionRule, StandardFlag, HepaticRule):
        for rule in model.objects.published():
            assert any(s.url.startswith(("https://", "http://")) for s in rule.sources.all()), rule
    for regimen in DoseRegimen.objects.all():
        assert regimen.sources.exists()
        for rule in regimen.renal_rules.published():
            assert rule.sources.exists(), rule


def test_renal_ranges_cover_zero_to_infinity_per_region_and_formulation():
    regimens = {(r.region, r.formulation) for r in DoseRegimen.objects.all()}
    assert regimens == {("us", "ir"), ("us", "xr"), ("eu", "ir")}
    for regimen in DoseRegimen.objects.all():
        ranges = [
            Range(r.crcl_min_ml_min, r.lower_inclusive, r.crcl_max_ml_min, r.upper_inclusive)
            for r in regimen.renal_rules.published()
        ]
        assert renal_range_problems(ranges) == [], regimen


def test_every_class_a_rule_names_exists_and_has_a_drug():
    for rule in InteractionRule.objects.published():
        for cls in filter(None, (rule.drug_class, rule.also_requires_class)):
            assert cls.drugs.filter(is_published=True).exists(), cls.code


def test_every_contract_flag_code_has_catalogue_text():
    snapshot = build_snapshot()
    codes = {r["flag"]["code"] for group in FLAG_GROUPS for r in snapshot[group] if r["flag"]}
    assert CONTRACT_FLAGS <= codes


def test_unverified_facts_are_kept_out_of_the_release():
    unpublished = set(Study.objects.filter(is_published=False).values_list("key", flat=True))
    assert {"sepehrmanesh-2022", "battista-2007", "eisenberg-1998", "wiech-2004"} <= unpublished
    released = {s.key for i in published_catalogue().indications for s in i.studies}
    assert not released & unpublished
    assert not Drug.objects.get(name="topiramate").is_published
    assert published_catalogue().drugs_by_name.get("topiramate") is None


def test_negative_trials_are_in_the_seed():
    assert Study.objects.published().filter(result="negative").count() >= 10
    for slug in ("major-depressive-disorder", "neuropathic-pain", "phantom-limb-pain", "spasticity"):
        assert Study.objects.published().filter(indication__slug=slug, result="negative").exists()


def test_six_ssris_with_brand_names():
    for generic, brand in [
        ("citalopram", "Celexa"),
        ("escitalopram", "Lexapro"),
        ("fluoxetine", "Prozac"),
        ("fluvoxamine", "Luvox"),
        ("paroxetine", "Paxil"),
        ("sertraline", "Zoloft"),
    ]:
        drug = Drug.objects.get(name=generic)
        assert drug.classes.filter(code="ssri").exists()
        assert drug.other_names.filter(name=brand).exists()


def test_seeding_again_changes_nothing():
    before = (
        Indication.objects.count(),
        Study.objects.count(),
        Drug.objects.count(),
        CatalogueRelease.objects.count(),
    )
    out = io.StringIO()
    call_command("seed_catalogue", stdout=out)
    assert "already present" in out.getvalue()
    assert (
        Indication.objects.count(),
        Study.objects.count(),
        Drug.objects.count(),
        CatalogueRelease.objects.count(),
    ) == before


def test_loading_the_fixtures_twice_does_not_duplicate(settings):
    from pathlib import Path

    files = sorted(str(p) for p in (Path(settings.BASE_DIR) / "fixtures" / "catalogue").glob("*.yaml"))
    counts = lambda: [m.objects.count() for m in (Indication, Study, Drug, InteractionRule, ConditionRule)]  # noqa: E731
    before = counts()
    call_command("loaddata", *files, verbosity=0)
    assert counts() == before


def test_every_published_brand_name_has_a_source_a_clinician_can_open():
    from indications.models import DrugName

    brands = DrugName.objects.filter(kind="brand", is_published=True, drug__is_published=True)
    assert brands.count() > 50
    for name in brands.select_related("source"):
        assert name.source is not None, name.name
        assert name.source.url.startswith(("https://", "http://")), name.source.url
        assert "search" not in name.source.url and "term=" not in name.source.url, name.source.url


def test_the_verdict_effects_of_the_labels():
    from indications.models import HepaticRule, InteractionRule

    assert HepaticRule.objects.get(region="eu", child_pugh_class="C").verdict == "not-recommended"
    assert HepaticRule.objects.get(region="us", child_pugh_class="C").verdict == "caution"
    assert (
        InteractionRule.objects.get(drug_class__code="nmda-antagonist", region="eu").verdict
        == "not-recommended"
    )
    assert InteractionRule.objects.get(drug_class__code="nmda-antagonist", region="us").verdict == "caution"


def test_ssri_tick_boxes_come_from_the_catalogue():
    classes = published_catalogue().intake_classes()
    assert [c.code for c, _ in classes] == ["ssri"]
    assert {d.name for d in classes[0][1]} >= {
        "sertraline",
        "escitalopram",
        "fluoxetine",
        "fluvoxamine",
        "paroxetine",
        "citalopram",
    }


def test_every_seed_row_passes_its_models_field_validation():
    """loaddata skips model validation, and SQLite does not enforce column lengths: a text too long
    for PostgreSQL, a search link or an unknown choice would pass here and fail in production."""
    from django.core import serializers
    from django.core.exceptions import ValidationError

    from indications.management.commands.seed_catalogue import FIXTURES

    problems = []
    for path in FIXTURES:
        with open(path, encoding="utf-8") as stream:
            for item in serializers.deserialize("yaml", stream, handle_forward_references=True):
                try:
                    item.object.clean_fields(exclude=["id"])
                except ValidationError as error:
                    problems.append(f"{path.name} {item.object!r}: {error.message_dict}")
    assert problems == []
