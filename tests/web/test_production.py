"""Production settings and error answers: check --deploy clean with DJANGO_HTTPS=1, proxy headers
trusted only when configured, API over plain http refused with JSON, error pages that leak nothing,
a database outage answered 503 on every door, and a seed that never publishes someone's catalogue."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import DataError, OperationalError
from django.test import Client

from indications.models import CatalogueRelease, Indication

ROOT = Path(__file__).resolve().parents[2]
STRONG_KEY = "a-long-random-production-key-" + "Zq8#xV2!pL" * 4
API_BODY = json.dumps({"indications": ["ocd"]})


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_") and k != "DATABASE_URL"}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env={**clean, **env}, capture_output=True, text=True
    )


def setting(name: str, **env: str):
    code = (
        "import django, json; django.setup(); from django.conf import settings;"
        f" print(json.dumps(settings.{name}))"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_") and k != "DATABASE_URL"}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "decision_support.settings", **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


def test_check_deploy_reports_nothing_with_https_and_default_production_settings():
    result = run_manage(
        "check", "--deploy", "--fail-level", "WARNING", DJANGO_HTTPS="1", DJANGO_SECRET_KEY=STRONG_KEY
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_hsts_preload_and_subdomains_are_on_by_default_and_switchable():
    assert setting("SECURE_HSTS_PRELOAD", DJANGO_HTTPS="1") is True
    assert setting("SECURE_HSTS_INCLUDE_SUBDOMAINS", DJANGO_HTTPS="1") is True
    result = run_manage(
        "check", "--deploy", DJANGO_HTTPS="1", DJANGO_SECRET_KEY=STRONG_KEY, DJANGO_HSTS_PRELOAD="0"
    )
    assert "security.W021" in result.stderr + result.stdout  # switched off, and check --deploy says so


def test_x_forwarded_proto_is_trusted_only_when_a_setting_says_a_proxy_sets_it():
    assert setting("SECURE_PROXY_SSL_HEADER", DJANGO_HTTPS="1") is None
    assert setting("SECURE_PROXY_SSL_HEADER", DJANGO_HTTPS="1", DJANGO_TRUST_PROXY_HEADERS="1") == [
        "HTTP_X_FORWARDED_PROTO",
        "https",
    ]


@pytest.fixture
def https(settings):
    settings.HTTPS = True
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_REDIRECT_EXEMPT = [r"^api/", r"^cds-services", r"^healthz$"]
    return settings


@pytest.mark.django_db
def test_api_over_plain_http_gets_a_json_refusal_not_a_redirect(https):
    client = Client()
    response = client.post("/api/v1/assess", API_BODY, content_type="application/json")
    assert response.status_code == 403 and response["Content-Type"] == "application/json"
    assert "https" in response.json()["errors"]
    assert (
        client.post("/api/v1/assess", API_BODY, content_type="application/json", secure=True).status_code
        == 200
    )
    # A client's own X-Forwarded-Proto is not believed without DJANGO_TRUST_PROXY_HEADERS.
    forged = client.post(
        "/api/v1/assess", API_BODY, content_type="application/json", HTTP_X_FORWARDED_PROTO="https"
    )
    assert forged.status_code == 403
    # People are redirected to https; the load balancer's health check is answered over http.
    assert client.get("/").status_code == 301 and client.get("/")["Location"].startswith("https://")
    assert client.get("/healthz").status_code == 200


@pytest.mark.django_db
def test_behind_a_trusted_proxy_its_x_forwarded_proto_counts(https):
    https.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    response = Client().post(
        "/api/v1/assess", API_BODY, content_type="application/json", HTTP_X_FORWARDED_PROTO="https"
    )
    assert response.status_code == 200


# ------------------------------------------------------------------ error answers


@pytest.fixture
def quiet_client():
    return Client(raise_request_exception=False)


@pytest.mark.django_db
def test_not_found_is_a_page_for_people_and_json_for_machines(client):
    page = client.get("/nowhere")
    assert page.status_code == 404 and b"There is no page at this address" in page.content
    api = client.get("/api/v1/nowhere")
    assert api.status_code == 404 and api.json() == {
        "errors": {"request": ["There is no page at this address."]}
    }


@pytest.mark.django_db
def test_a_server_error_leaks_nothing(quiet_client):
    failure = RuntimeError("weight 73.4 kg at /work/main/secret.py")
    with mock.patch("indications.views.assess", side_effect=failure):
        page = quiet_client.post("/", {"region": "us", "formulation": "ir"})
    assert page.status_code == 500
    assert b"Something went wrong" in page.content
    for leak in (b"73.4", b"secret", b"Traceback", b"RuntimeError"):
        assert leak not in page.content
    with mock.patch("indications.api.assess", side_effect=failure):
        api = quiet_client.post("/api/v1/assess", API_BODY, content_type="application/json")
    assert api.status_code == 500 and api["Content-Type"] == "application/json"
    assert b"73.4" not in api.content and "request" in api.json()["errors"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("patch", "method", "path", "data"),
    [
        ("indications.views.published_catalogue", "get", "/", None),
        ("indications.views.published_catalogue", "post", "/", {"region": "us"}),
        ("indications.api.published_catalogue", "post", "/api/v1/assess", API_BODY),
        ("indications.api.published_catalogue", "post", "/api/v1/summary.pdf", API_BODY),
        ("indications.snapshot.published_catalogue", "post", "/summary/", {"region": "us"}),
    ],
)
def test_a_database_outage_is_503_on_every_door(quiet_client, patch, method, path, data):
    with mock.patch(patch, side_effect=OperationalError("connection refused")):
        if path.startswith("/api/"):
            response = quiet_client.post(path, data, content_type="application/json")
        else:
            response = getattr(quiet_client, method)(path, data or {})
    assert response.status_code == 503
    assert response["Retry-After"]
    if path.startswith("/api/"):
        assert response.json() == {
            "errors": {
                "database": ["The service cannot reach its database just now. Try again in a few seconds."]
            }
        }
    else:
        assert b"cannot reach its database" in response.content


@pytest.mark.django_db
def test_a_database_error_that_is_not_an_outage_is_a_plain_500(quiet_client):
    """Only an unreachable, stalled or dropped database says "try again shortly"."""
    with mock.patch("indications.views.published_catalogue", side_effect=DataError("bad value")):
        response = quiet_client.get("/")
    assert response.status_code == 500 and b"cannot reach its database" not in response.content


@pytest.mark.django_db
def test_a_database_outage_inside_a_middleware_is_503_too(quiet_client):
    with mock.patch(
        "django.contrib.sessions.backends.db.SessionStore.load", side_effect=OperationalError("gone")
    ):
        quiet_client.cookies["sessionid"] = "x" * 32
        response = quiet_client.get("/admin/")
    assert response.status_code == 503


@pytest.mark.django_db
def test_a_forged_form_post_gets_a_plain_refusal():
    response = Client(enforce_csrf_checks=True).post("/", {"region": "us"})
    assert response.status_code == 403
    assert b"Reload the page" in response.content and b"CSRF_FAILURE_VIEW" not in response.content


# ------------------------------------------------------------------ make serve's seed step


@pytest.mark.django_db(transaction=True)
def test_the_seed_never_publishes_a_catalogue_it_did_not_load():
    call_command("flush", interactive=False, verbosity=0)  # lifts the release triggers for this one call
    call_command(
        "loaddata", *[str(p) for p in sorted((ROOT / "fixtures" / "catalogue").glob("*.yaml"))], verbosity=0
    )
    out = io.StringIO()
    call_command("seed_catalogue", stdout=out)
    assert Indication.objects.exists()
    assert not CatalogueRelease.objects.exists()
    assert "reviewer publishes it" in out.getvalue()


# ------------------------------------------------------------------ PDF bursts


def test_pdfs_are_made_a_few_at_a_time_and_the_rest_are_told_to_retry():
    from indications import summary

    release = threading.Event()
    renderers = summary.PdfRenderers(renders=1, waiting=1, wait_seconds=10)
    results = {}

    def make(name):
        results[name] = renderers.render("<p>x</p>")

    def slow_pdf(html, stylesheet=None):
        return release.wait(10) and b"%PDF"

    with mock.patch.object(summary, "pdf_bytes", side_effect=slow_pdf):
        first = threading.Thread(target=make, args=("first",))
        first.start()
        time.sleep(0.2)  # rendering
        second = threading.Thread(target=make, args=("second",))
        second.start()
        time.sleep(0.2)  # waiting for its turn
        assert renderers.render("<p>x</p>") is None  # the third: refused at once, no thread held
        release.set()
        first.join(5)
        second.join(5)
    assert results == {"first": b"%PDF", "second": b"%PDF"}


@pytest.mark.django_db
def test_a_busy_pdf_door_answers_503_with_retry_after(client):
    with mock.patch("indications.summary.renderers.render", return_value=None):
        api = client.post("/api/v1/summary.pdf", API_BODY, content_type="application/json")
        page = client.post("/summary.pdf", {"region": "us", "formulation": "ir"})
    assert api.status_code == 503 and api["Retry-After"] == "2" and "pdf" in api.json()["errors"]
    assert page.status_code == 503 and b"Try again in a few seconds" in page.content


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/summary/", "/summary.pdf"])
def test_an_oversized_form_post_is_413_like_the_api(client, path):
    response = client.post(path, {"region": "us", "medications": "x" * 70_000})
    assert response.status_code == 413 and b"limited to 64 KiB" in response.content
