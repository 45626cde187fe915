from pathlib import Path

from django.conf import settings
from django.core.management import BaseCommand, call_command

from indications.models import CatalogueRelease, Indication
from indications.services import publish_release

FIXTURES = sorted((Path(settings.BASE_DIR) / "fixtures" / "catalogue").glob("*.yaml"))


class Command(BaseCommand):
    help = (
        "Load the seed catalogue into an empty database and publish it as release 1."
        " Safe to run again: an existing catalogue or release is left alone (and an existing catalogue is"
        " never published by this command)."
    )

    def handle(self, *args, **options):
        if Indication.objects.exists():
            self.stdout.write("Catalogue already present: seed not loaded again.")
            if not CatalogueRelease.objects.exists():
                # Someone's unpublished catalogue: it goes out through review (/catalogue/publish),
                # never published here on nobody's authority.
                self.stdout.write("It has no release yet: a reviewer publishes it at /catalogue/publish.")
                return
        else:
            call_command("loaddata", *[str(f) for f in FIXTURES], verbosity=0)
            # loaddata saves raw rows, which leave no history: record each row's initial version so that
            # the first edit in admin shows its differences.
            call_command("populate_history", auto=True, stdout=self.stdout, stderr=self.stderr, verbosity=0)
            self.stdout.write(f"Loaded the seed catalogue ({Indication.objects.count()} indications).")
        if CatalogueRelease.objects.exists():
            latest = CatalogueRelease.objects.latest()
            self.stdout.write(f"Published catalogue: {latest.version}.")
            return
        release = publish_release(user=None, change_summary="Seed catalogue from the verified fact sheet.")
        self.stdout.write(self.style.SUCCESS(f"Published release {release.version}."))
