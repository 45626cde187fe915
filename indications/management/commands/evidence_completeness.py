"""Print the five-element completeness of every indication, read from the API's own JSON."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from indications.completeness import ELEMENTS, completeness, declared_gaps
from indications.engine import assess, parse_request, present
from indications.serializers import assessment_json
from indications.snapshot import draft_catalogue, published_catalogue


class Command(BaseCommand):
    help = "Completeness (guideline, study, dose, statistics, significance) of each indication."

    def add_arguments(self, parser):
        parser.add_argument("--draft", action="store_true", help="Measure the draft, not the newest release.")

    def handle(self, *args, draft=False, **options):
        catalogue = draft_catalogue() if draft else published_catalogue()
        if catalogue is None:
            raise CommandError("Nothing published yet (use --draft).")
        slugs = [i.slug for i in catalogue.indications]
        parsed = parse_request(
            {"region": "us", "indications": slugs},
            known_indications=slugs,
            known_conditions=[c.slug for c in catalogue.conditions],
        )
        assessment = assess(parsed.factors, catalogue, today=timezone.localdate())
        body = assessment_json(assessment, present(assessment, catalogue))
        self.stdout.write(f"catalogue {catalogue.version}")
        self.stdout.write("| indication | status | " + " | ".join(ELEMENTS) + " | score |")
        self.stdout.write("|---|---|" + "---|" * len(ELEMENTS) + "---|")
        total, off_label = 0, 0
        for ind in body["indications"]:
            marks = completeness(ind)
            score = sum(marks.values())
            if ind["status"] == "off-label":
                total += score
                off_label += 1
            gaps = declared_gaps(ind)
            cells = " | ".join(
                "yes" if marks[e] else ("no (declared, with reason)" if e in gaps else "no") for e in ELEMENTS
            )
            self.stdout.write(f"| {ind['slug']} | {ind['status']} | {cells} | {score}/5 |")
        if off_label:
            self.stdout.write(f"off-label mean: {total / off_label:.1f}/5 over {off_label} indications")
