from __future__ import annotations

import io
import json

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from decision_support.errors import MESSAGES, body_limit_message
from decision_support.observability import request_log


def require_secret_key() -> None:
    """Refuse to serve without a configured secret key, unless in development (DJANGO_DEBUG=1)."""
    if not settings.DEBUG and not settings.SECRET_KEY_FROM_ENVIRONMENT:
        raise ImproperlyConfigured("Set DJANGO_SECRET_KEY (or DJANGO_DEBUG=1 for local development).")


def read_chunked_bodies(app):
    """WSGI middleware: a request body sent with ``Transfer-Encoding: chunked`` has no Content-Length,
    and Django reads such a body as empty. The server (gunicorn) decodes the chunks and marks the
    input as terminated (``wsgi.input_terminated``); this reads it, up to the body limit, and gives
    Django the bytes with their length. A longer body is refused with 413, one that does not arrive
    in time with 408, and a transfer coding other than plain chunked with 400."""
    limit = max(
        settings.API_MAX_BODY_BYTES, settings.DATA_UPLOAD_MAX_MEMORY_SIZE, settings.CDS_HOOKS_MAX_BODY_BYTES
    )

    def refuse(environ, start_response, status: str, message: str):
        # Answered before Django, so logged here, in the request log's shape.
        request_log.info(
            "request",
            method=environ.get("REQUEST_METHOD", "")[:10],
            path=environ.get("PATH_INFO", "")[:200],
            status=int(status.split()[0]),
            duration_ms=0.0,
            release=None,
        )
        payload = json.dumps({"errors": {"body": [message]}}).encode()
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
        return [payload]

    def application(environ, start_response):
        codings = [
            c.strip() for c in environ.get("HTTP_TRANSFER_ENCODING", "").lower().split(",") if c.strip()
        ]
        if codings and codings != ["chunked"]:
            # The server decodes the chunks only: a body also gzip- or otherwise coded would be read raw.
            return refuse(
                environ, start_response, "400 Bad Request", "Only Transfer-Encoding: chunked is accepted."
            )
        if codings and not environ.get("CONTENT_LENGTH") and environ.get("wsgi.input_terminated"):
            try:
                body = environ["wsgi.input"].read(limit + 1)
            except OSError:  # the client went away, or was too slow (decision_support/gunicorn_worker.py)
                return refuse(
                    environ,
                    start_response,
                    "408 Request Timeout",
                    MESSAGES[408],
                )
            if len(body) > limit:
                return refuse(
                    environ,
                    start_response,
                    "413 Request Entity Too Large",
                    body_limit_message(limit),
                )
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
        return app(environ, start_response)

    return application
