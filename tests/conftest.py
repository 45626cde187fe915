"""Test fixtures: the "seeded universe" and the browser set-up.

Universe for database tests: the test database holds the seed catalogue (fixtures/catalogue/*.yaml),
published as release 1, and the three editorial groups (Editors, Reviewers, Auditors). Every test
runs in a transaction that is rolled back, so each test starts from exactly that state.
Transactional tests (the browser tests with ``live_server``) get an emptied database after each
test; they call the ``seeded_live`` fixture to seed it again.

Pure engine tests use their own catalogue (tests/engine/universe.py) and no database.
"""

import io
import shutil

import pytest
from django.core.management import call_command


def seed_database() -> None:
    call_command("seed_catalogue", stdout=io.StringIO())
    call_command("setup_roles", stdout=io.StringIO())


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        seed_database()


@pytest.fixture
def seeded_live(transactional_db, live_server):
    """A live server on a freshly seeded database (for browser tests)."""
    seed_database()
    return live_server


# ------------------------------------------------------------------ browser (pytest-playwright)

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    executable = shutil.which("chromium") or "/usr/bin/chromium"
    return {**browser_type_launch_args, "executable_path": executable, "args": CHROMIUM_FLAGS}
