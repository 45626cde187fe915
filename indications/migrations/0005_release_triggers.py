"""Database triggers that refuse UPDATE, DELETE (and on PostgreSQL TRUNCATE) of catalogue releases."""

from django.db import migrations

from indications import db_guards


def install(apps, schema_editor):
    db_guards.install(schema_editor.connection)


def remove(apps, schema_editor):
    db_guards.remove(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("indications", "0004_editorial_integrity")]
    operations = [migrations.RunPython(install, remove)]
