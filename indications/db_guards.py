"""Release immutability below the application: database triggers refuse every UPDATE and DELETE of a
catalogue release (and, on PostgreSQL, TRUNCATE), whoever sends it: a queryset, a script, raw SQL.

Installed by migration 0005. ``release_guards_lifted()`` is for one deliberate operation only:
``manage.py flush``, which erases the whole database (the test suite uses it between browser tests).
"""

from __future__ import annotations

from contextlib import contextmanager

TABLE = "indications_cataloguerelease"
MESSAGE = "catalogue releases are immutable: publish a new release instead"

_POSTGRESQL_INSTALL = [
    f"""
    CREATE OR REPLACE FUNCTION indications_release_immutable() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION '{MESSAGE} (% refused)', TG_OP USING ERRCODE = 'restrict_violation';
    END;
    $$ LANGUAGE plpgsql
    """,
    f"""CREATE TRIGGER release_immutable BEFORE UPDATE OR DELETE ON {TABLE}
        FOR EACH ROW EXECUTE FUNCTION indications_release_immutable()""",
    f"""CREATE TRIGGER release_not_truncated BEFORE TRUNCATE ON {TABLE}
        FOR EACH STATEMENT EXECUTE FUNCTION indications_release_immutable()""",
]
_POSTGRESQL_REMOVE = [
    f"DROP TRIGGER IF EXISTS release_immutable ON {TABLE}",
    f"DROP TRIGGER IF EXISTS release_not_truncated ON {TABLE}",
    "DROP FUNCTION IF EXISTS indications_release_immutable()",
]
_SQLITE_INSTALL = [
    f"""CREATE TRIGGER IF NOT EXISTS release_not_{op.lower()}d BEFORE {op} ON {TABLE}
        BEGIN SELECT RAISE(ABORT, '{MESSAGE} ({op} refused)'); END"""
    for op in ("UPDATE", "DELETE")
]
_SQLITE_REMOVE = [f"DROP TRIGGER IF EXISTS release_not_{op}d" for op in ("update", "delete")]


def _statements(vendor: str, install: bool) -> list[str]:
    if vendor == "postgresql":
        return _POSTGRESQL_INSTALL if install else _POSTGRESQL_REMOVE
    if vendor == "sqlite":
        return _SQLITE_INSTALL if install else _SQLITE_REMOVE
    raise NotImplementedError(f"No release guard for the {vendor} database: add its triggers here.")


def install(connection) -> None:
    with connection.cursor() as cursor:
        for sql in _statements(connection.vendor, install=True):
            cursor.execute(sql)


def remove(connection) -> None:
    with connection.cursor() as cursor:
        for sql in _statements(connection.vendor, install=False):
            cursor.execute(sql)


@contextmanager
def release_guards_lifted(connection):
    """Drop the guards for one operation and put them back afterwards, whatever happens."""
    remove(connection)
    try:
        yield
    finally:
        install(connection)
