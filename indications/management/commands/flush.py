"""Django's ``flush`` (erase every row of the database), which also erases catalogue releases: the
database triggers that refuse it are lifted for this one deliberate operation and put back."""

from django.core.management.commands import flush
from django.db import DEFAULT_DB_ALIAS, connections

from indications.db_guards import release_guards_lifted


class Command(flush.Command):
    def handle(self, **options):
        with release_guards_lifted(connections[options.get("database", DEFAULT_DB_ALIAS)]):
            super().handle(**options)
