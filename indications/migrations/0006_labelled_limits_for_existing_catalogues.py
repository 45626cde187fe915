"""A catalogue created before labelled limits existed gets the labelled ones (memantine-facts.md 1.2
and 1.3), so that publishing can check its doses; a fresh database gets them from the seed fixtures
instead (nothing is created where the label sources are missing). Made outside admin, they are
nobody's change: a second reviewer approves them with the next release."""

from django.db import migrations

LIMITS = (
    ("ir", 20, "5, 10", ("us-namenda-label", "eu-ebixa-smpc")),
    ("xr", 28, "7, 14, 21, 28", ("us-namenda-xr-label",)),
)


def create(apps, schema_editor):
    LabelledLimit = apps.get_model("indications", "LabelledLimit")
    Source = apps.get_model("indications", "Source")
    for formulation, maximum, strengths, source_keys in LIMITS:
        sources = list(Source.objects.filter(key__in=source_keys))
        if not sources or LabelledLimit.objects.filter(formulation=formulation).exists():
            continue
        limit = LabelledLimit.objects.create(
            formulation=formulation, max_mg_per_day=maximum, strengths_mg=strengths
        )
        limit.sources.set(sources)


class Migration(migrations.Migration):
    dependencies = [("indications", "0005_release_triggers")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
