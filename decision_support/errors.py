"""Error answers that leak nothing: a short page for people, JSON ({"errors": ...}) for machines.

Machine paths are the API and the CDS Hooks service. A database that is down or stalled is a 503
("try again shortly"), not a 500, on every door: Django hands every unhandled exception, raised in a
view or in a middleware, to ``server_error`` while it is being handled, so the check is made once,
here.
"""

from __future__ import annotations

import sys

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse, UnreadablePostError
from django.template.loader import render_to_string

MACHINE_PREFIXES = ("/api/", "/cds-services")
RETRY_AFTER_SECONDS = "5"

MESSAGES = {
    400: "The request could not be read.",
    408: "The request did not arrive in full in time. Nothing was computed from it.",
    413: "The request is too large.",
    403: "This is not allowed.",
    404: "There is no page at this address.",
    500: "Something went wrong on our side. It has been logged; nothing you entered was stored.",
    503: "The service cannot reach its database just now. Try again in a few seconds.",
}


def body_limit_message(limit_bytes: int) -> str:
    return f"The request body is limited to {limit_bytes // 1024} KiB."


def is_machine_path(path: str) -> bool:
    return path.startswith(MACHINE_PREFIXES)


def error_response(request, status: int, *, field: str = "request", message: str | None = None):
    message = message or MESSAGES[status]
    if is_machine_path(request.path):
        response = JsonResponse({"errors": {field: [message]}}, status=status)
    else:
        # Rendered without the request: no user, session or database lookups on an error page.
        html = render_to_string("errors/error.html", {"status": status, "message": message})
        response = HttpResponse(html, status=status)
    if status == 503:
        response["Retry-After"] = RETRY_AFTER_SECONDS
    response["Cache-Control"] = "no-store"
    return response


def bad_request(request, exception=None):
    if isinstance(exception, RequestDataTooBig):
        return error_response(
            request,
            413,
            field="body",
            message=body_limit_message(settings.DATA_UPLOAD_MAX_MEMORY_SIZE),
        )
    return error_response(request, 400)


def permission_denied(request, exception=None):
    return error_response(request, 403)


def page_not_found(request, exception=None):
    return error_response(request, 404)


def server_error(request):
    exception = sys.exc_info()[1]
    if isinstance(exception, UnreadablePostError):  # the body did not arrive, in time or at all
        return error_response(request, 408, field="body", message=MESSAGES[408])
    # Unreachable, stalled, timed out or dropped: the database, not the request, is at fault. (Other
    # database errors, such as a value the database cannot store, are bugs: 500.)
    if isinstance(exception, OperationalError | InterfaceError):
        return error_response(request, 503, field="database")
    return error_response(request, 500)


def csrf_failure(request, reason=""):
    return error_response(
        request,
        403,
        field="csrf",
        message="The form had expired or came from elsewhere. Reload the page and submit it again.",
    )


class ApiHttpsMiddleware:
    """With DJANGO_HTTPS, API calls over plain http are refused with JSON (403), never redirected:
    a redirected POST would be re-sent as a GET, or its patient data sent twice, once in clear."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if settings.HTTPS and is_machine_path(request.path) and not request.is_secure():
            return error_response(
                request, 403, field="https", message="Use https:// for this API; plain http is refused."
            )
        return self.get_response(request)
