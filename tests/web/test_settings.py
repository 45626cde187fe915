"""Settings from the environment: the server refuses to start without a secret key unless in debug."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def start_wsgi(**env):
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_") and k != "DATABASE_URL"}
    return subprocess.run(
        [sys.executable, "-c", "import decision_support.wsgi"],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
    )


def test_serving_refuses_to_start_without_a_secret_key():
    result = start_wsgi()
    assert result.returncode != 0
    assert "Set DJANGO_SECRET_KEY" in result.stderr


def test_serving_starts_with_a_secret_key_or_in_debug():
    assert start_wsgi(DJANGO_SECRET_KEY="x" * 50).returncode == 0
    assert start_wsgi(DJANGO_DEBUG="1").returncode == 0


def test_management_commands_run_without_a_secret_key():
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_") and k != "DATABASE_URL"}
    result = subprocess.run(
        [sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "No changes detected" in result.stdout


def test_cds_hooks_settings_that_would_let_anyone_in_refuse_to_start():
    sandbox = '{"https://sandbox.cds-hooks.org": {"jwks_url": "https://sandbox.cds-hooks.org/.well-known/jwks.json"}}'
    disguised = '{"https://ehr.example": {"jwks_url": "https://SANDBOX.cds-hooks.org/.well-known/jwks.json"}}'
    key = {"DJANGO_SECRET_KEY": "x" * 50}
    for env in (
        {**key, "CDS_HOOKS_ISSUERS": sandbox},
        {**key, "CDS_HOOKS_ISSUERS": disguised},
        {**key, "CDS_HOOKS_ALLOW_UNSIGNED": "1"},
        {**key, "CDS_HOOKS_ISSUERS": "not json"},
        {**key, "CDS_HOOKS_REGION": "uk"},
    ):
        result = start_wsgi(**env)
        assert result.returncode != 0 and "ImproperlyConfigured" in result.stderr, env
    # For local development they start, and unsigned calls are announced.
    result = start_wsgi(DJANGO_DEBUG="1", CDS_HOOKS_ISSUERS=sandbox, CDS_HOOKS_ALLOW_UNSIGNED="1")
    assert result.returncode == 0
    assert "CDS_HOOKS_ALLOW_UNSIGNED=1" in result.stderr


def test_an_unknown_time_zone_refuses_to_start():
    key = {"DJANGO_SECRET_KEY": "x" * 50}
    zones = ("Mars/Olympus_Mons", "Europe/Londres", "../etc/passwd", "Factory", "posixrules", "localtime")
    for zone in zones:
        result = start_wsgi(**key, DJANGO_TIME_ZONE=zone)
        assert result.returncode != 0, zone
        assert "ImproperlyConfigured" in result.stderr and "DJANGO_TIME_ZONE" in result.stderr, result.stderr
        assert "is not a known time zone" in result.stderr


def test_the_time_zone_comes_from_the_environment():
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_") and k != "DATABASE_URL"}

    def zone(**env):
        result = subprocess.run(
            [
                sys.executable,
                "-c",
                "import decision_support.wsgi; from django.conf import settings; print(settings.TIME_ZONE)",
            ],
            cwd=ROOT,
            env={**clean, "DJANGO_SECRET_KEY": "x" * 50, **env},
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    assert zone() == "UTC"
    assert zone(DJANGO_TIME_ZONE="Europe/London") == "Europe/London"
