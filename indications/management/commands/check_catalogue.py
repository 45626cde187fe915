from django.core.management import BaseCommand, CommandError

from indications.services import catalogue_problems


class Command(BaseCommand):
    help = "Run the checks that publishing runs, on the editorial catalogue as it stands."

    def handle(self, *args, **options):
        problems = catalogue_problems()
        if problems:
            for problem in problems:
                self.stderr.write(f"- {problem}")
            raise CommandError(f"{len(problems)} problem(s): the catalogue cannot be published as it stands.")
        self.stdout.write(self.style.SUCCESS("The catalogue passes every publishing check."))
