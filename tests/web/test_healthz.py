from unittest import mock

import pytest
from django.db import DatabaseError, connection

from indications.db_guards import release_guards_lifted
from indications.models import CatalogueRelease

pytestmark = pytest.mark.django_db


def test_healthz_reports_database_and_catalogue_version(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    version = CatalogueRelease.objects.get().version
    assert response.json() == {"status": "ok", "database": "ok", "catalogue_version": version}


def test_healthz_is_503_naming_the_database_when_it_is_down(client):
    with mock.patch.object(connection, "cursor", side_effect=DatabaseError("down")):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"


def test_healthz_is_one_query_once_the_release_is_loaded(client, django_assert_num_queries):
    client.get("/healthz")
    with django_assert_num_queries(1):
        assert client.get("/healthz").status_code == 200


def test_healthz_is_503_without_a_published_catalogue(client):
    with release_guards_lifted(connection), connection.cursor() as cursor:  # rolled back after the test
        cursor.execute(f"DELETE FROM {CatalogueRelease._meta.db_table}")
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["catalogue"] == "no published release"
