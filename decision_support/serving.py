from __future__ import annotations

import io
import json

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def require_secret_key() -> None:
    """Refuse to serve without a configured secret key, unless in development (DJANGO_DEBUG=1)."""
    if not settings.DEBUG and not settings.SECRET_KEY_FROM_ENVIRONMENT:
        raise ImproperlyConfigured("Set DJANGO_SECRET_KEY (or DJANGO_DEBUG=1 for local development).")


def read_chunked_bodies(app):
    """WSGI middleware: a request body sent with ``Transfer-Encoding: chunked`` has no Content-Length,
    and Django reads such a body as empty. The server (gunicorn) decodes the chunks and marks the
    input as terminated (``wsgi.input_terminated``); this reads it, up to the body limit, and gives
    Django the bytes with their length. A longer body is refused with 413."""
    limit = max(settings.API_MAX_BODY_BYTES, settings.DATA_UPLOAD_MAX_MEMORY_SIZE)

    def refuse(start_response, status: str, message: str):
        payload = json.dumps({"errors": {"body": [message]}}).encode()
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
        return [payload]

    def application(environ, start_response):
        codings = [
            c.strip() for c in environ.get("HTTP_TRANSFER_ENCODING", "").lower().split(",") if c.strip()
        ]
        if codings and codings != ["chunked"]:
            # The server decodes the chunks only: a body also gzip- or otherwise coded would be read raw.
            return refuse(start_response, "400 Bad Request", "Only Transfer-Encoding: chunked is accepted.")
        if codings and not environ.get("CONTENT_LENGTH") and environ.get("wsgi.input_terminated"):
            body = environ["wsgi.input"].read(limit + 1)
            if len(body) > limit:
                return refuse(
                    start_response,
                    "413 Request Entity Too Large",
                    f"The request body is limited to {limit // 1024} KiB.",
                )
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
        return app(environ, start_response)

    return application
