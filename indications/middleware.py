"""A release that fails its integrity check is refused on every door: 503 naming the release (JSON on
API paths, a page elsewhere), never an answer computed from altered content."""

from __future__ import annotations

import logging

from django.http import JsonResponse
from django.shortcuts import render

from .snapshot import ReleaseIntegrityError

log = logging.getLogger("indications.integrity")


class ReleaseIntegrityMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, ReleaseIntegrityError):
            return None
        log.error("release refused: %s", exception)
        if request.path.startswith("/api/"):
            return JsonResponse(
                {"errors": {"catalogue": [str(exception)]}, "catalogue_version": exception.version},
                status=503,
            )
        return render(request, "indications/release_refused.html", {"error": exception}, status=503)
