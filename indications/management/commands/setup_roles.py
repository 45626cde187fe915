from django.core.management import BaseCommand

from indications.services import DEMO_PASSWORD, setup_roles


class Command(BaseCommand):
    help = "Create or refresh the Editors, Reviewers and Auditors groups (safe to run again)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--demo", action="store_true", help="Also create demo accounts (never in production)."
        )

    def handle(self, *args, demo=False, **options):
        result = setup_roles(demo=demo)
        self.stdout.write(f"Roles ready: {', '.join(result['groups'])}.")
        if result["demo_users_created"]:
            self.stdout.write(
                self.style.WARNING(
                    f"Demo accounts created: {', '.join(result['demo_users_created'])} "
                    f"(password “{DEMO_PASSWORD}”; for demonstrations only)."
                )
            )
