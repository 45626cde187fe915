"""The public JSON API (shared/api-contract.md). Same engine, same validation as the intake form."""

from __future__ import annotations

import json
import re
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from decision_support.errors import body_limit_message

from .engine import assess, parse_request, present
from .models import CatalogueRelease
from .serializers import assessment_json
from .snapshot import catalogue_for_release, published_catalogue
from .summary import pdf_response, render_summary_html

# What a release version can look like (services.publish_release names them "<date>.<number>"); any
# other value is refused before it reaches the database (PostgreSQL cannot even compare a NUL byte).
RELEASE_VERSION = re.compile(r"[0-9A-Za-z._-]{1,40}")


class ApiError(Exception):
    def __init__(self, status: int, errors: dict[str, list[str]], headers: dict | None = None):
        super().__init__(errors)
        self.status = status
        self.errors = errors
        self.headers = headers or {}

    def response(self) -> JsonResponse:
        response = JsonResponse({"errors": self.errors}, status=self.status)
        for key, value in self.headers.items():
            response[key] = value
        return response


def _no_constants(name: str):
    raise ValueError(f"{name} is not a JSON number")


class DuplicateKey(ValueError):
    pass


def _no_duplicate_keys(pairs):
    """A member given twice is ambiguous ("region": "eu", "region": "us"): refused, never last-wins."""
    data = {}
    for key, value in pairs:
        if key in data:
            raise DuplicateKey(f"the member “{key[:40]}” is given twice")
        data[key] = value
    return data


def read_json(request, *, limit: int | None = None) -> Any:
    """The request's JSON body: refused with a clear error (405, 400, 413) for anything else. Bodies
    up to ``limit`` bytes (the API's by default; the CDS Hooks service takes larger ones)."""
    if request.method != "POST":
        raise ApiError(405, {"method": ["Use POST with a JSON body."]}, {"Allow": "POST"})
    limit = limit or settings.API_MAX_BODY_BYTES
    too_big = ApiError(413, {"body": [body_limit_message(limit)]})
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise ApiError(400, {"body": ["The Content-Length header is not a number."]}) from None
    if length > limit:
        raise too_big
    if request.content_type != "application/json":
        raise ApiError(400, {"body": ["Send a JSON object with Content-Type: application/json."]})
    try:
        # Django's own limit guards request.body; a larger limit reads the stream itself.
        body = request.body if limit <= settings.DATA_UPLOAD_MAX_MEMORY_SIZE else request.read(limit + 1)
    except RequestDataTooBig:
        raise too_big from None
    if len(body) > limit:
        raise too_big
    try:
        return json.loads(
            body.decode("utf-8"), parse_constant=_no_constants, object_pairs_hook=_no_duplicate_keys
        )
    except UnicodeDecodeError:
        raise ApiError(400, {"body": ["The body must be UTF-8 encoded JSON."]}) from None
    except json.JSONDecodeError as error:
        raise ApiError(
            400, {"body": [f"Malformed JSON: {error.msg} at line {error.lineno}, column {error.colno}."]}
        ) from None
    except DuplicateKey as error:
        raise ApiError(400, {"body": [f"Malformed JSON: {error}."]}) from None
    except ValueError as error:  # NaN/Infinity, or an integer with too many digits
        message = str(error) if "JSON number" in str(error) else "a number has too many digits"
        raise ApiError(400, {"body": [f"Malformed JSON: {message}."]}) from None
    except RecursionError:
        raise ApiError(400, {"body": ["Malformed JSON: nested too deeply."]}) from None


def catalogue_for_request(request):
    """The newest release, or the one named by ?catalogue_version= (to reproduce an earlier answer)."""
    version = request.GET.get("catalogue_version")
    if not version:
        return published_catalogue()
    if not RELEASE_VERSION.fullmatch(version):
        raise ApiError(400, {"catalogue_version": ["Not a release version (such as 2026-11-28.3)."]})
    head = (
        CatalogueRelease.objects.filter(version=version).values_list("pk", "version", "content_hash").first()
    )
    if head is None:
        raise ApiError(400, {"catalogue_version": [f"No published release “{version[:40]}”."]})
    return catalogue_for_release(*head)


def assessment_from_request(request):
    data = read_json(request)
    catalogue = catalogue_for_request(request)
    if catalogue is None:
        raise ApiError(503, {"catalogue": ["No catalogue release has been published yet."]})
    result = parse_request(
        data, known_indications=catalogue.indications_by_slug, known_conditions=catalogue.conditions_by_slug
    )
    if not result.ok:
        raise ApiError(400, result.errors)
    assessment = assess(result.factors, catalogue, today=timezone.localdate())
    return assessment, present(assessment, catalogue)


@csrf_exempt
@never_cache
def assess_view(request) -> HttpResponse:
    try:
        assessment, view = assessment_from_request(request)
    except ApiError as error:
        return error.response()
    return JsonResponse(assessment_json(assessment, view), json_dumps_params={"ensure_ascii": False})


@csrf_exempt
@never_cache
def summary_pdf_view(request) -> HttpResponse:
    try:
        assessment, view = assessment_from_request(request)
    except ApiError as error:
        return error.response()
    paper = request.GET.get("paper", "")
    html = render_summary_html(request, assessment=assessment, view=view, paper=paper, for_pdf=True)
    return pdf_response(request, html, assessment=assessment)
