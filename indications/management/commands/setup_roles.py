from django.conf import settings
from django.core.management import BaseCommand, CommandError

from indications.services import DEMO_PASSWORD, setup_roles


class Command(BaseCommand):
    help = "Create or refresh the Editors, Reviewers and Auditors groups (safe to run again)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--demo",
            action="store_true",
            help="Also create demo accounts (development only: refused unless DJANGO_DEBUG=1).",
        )

    def handle(self, *args, demo=False, **options):
        # Demo accounts share a password written in the source code: never on a server that is not in debug.
        if demo and not settings.DEBUG:
            raise CommandError(
                "Refusing to create demo accounts: their password is in the source code. --demo runs only in "
                "development (DJANGO_DEBUG=1); without --demo the roles are set up as usual."
            )
        result = setup_roles(demo=demo)
        self.stdout.write(f"Roles ready: {', '.join(result['groups'])}.")
        if result["demo_users_created"]:
            self.stdout.write(
                self.style.WARNING(
                    f"Demo accounts created: {', '.join(result['demo_users_created'])} "
                    f"(password “{DEMO_PASSWORD}”; for demonstrations only)."
                )
            )
