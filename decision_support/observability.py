"""Structured logs: one JSON object per line, through structlog, for our own events and for every
library that logs through the standard library (Django, gunicorn, axes).

The request log is one line per request: method, path (never the query string), status, duration
and the catalogue release that answered. Request bodies, query strings and form values hold patient
factors and are never logged.
"""

from __future__ import annotations

import contextvars
import logging
import re
import time
from typing import Any

import structlog

# The catalogue release a request was answered from (set where a release is loaded: indications/snapshot.py).
current_release: contextvars.ContextVar[str | None] = contextvars.ContextVar("release", default=None)

_SHARED = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


_QUOTED = re.compile(r"'.*'|\".*\"", re.DOTALL)


class Redact(logging.Filter):
    """What a client sent never reaches the log through a library's message either:
    - gunicorn's line for a request it cannot parse quotes the request line (query string and all):
      the quoted part is cut;
    - Django's security lines (too many fields, a suspicious file name, ...) are kept, but without the
      traceback anyone could make it write by sending such a request."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "gunicorn.error" and str(record.msg).startswith("Invalid request from"):
            record.msg = _QUOTED.sub("'…'", record.getMessage())[:300]
            record.args = ()
        elif record.name.startswith("django.security"):
            record.exc_info = None
            record.exc_text = None
        return True


def _renderer(fmt: str):
    if fmt == "console":
        return structlog.dev.ConsoleRenderer(colors=False)
    return structlog.processors.JSONRenderer()


def logging_config(*, level: str = "INFO", fmt: str = "json") -> dict[str, Any]:
    """The dictConfig for Django's LOGGING and gunicorn's logconfig_dict, and structlog's own set-up."""
    structlog.configure(
        processors=[*_SHARED, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "structured": {
                "()": structlog.stdlib.ProcessorFormatter,
                "foreign_pre_chain": _SHARED,
                "processors": [
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info,
                    _renderer(fmt),
                ],
            }
        },
        "filters": {"redact": {"()": Redact}},
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": "structured", "filters": ["redact"]}
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Each request is logged once, by RequestLogMiddleware. Django's own line per 4xx
            # would be a second one; its server errors (with the traceback) still come through.
            "django.request": {"level": "ERROR"},
            "django.server": {"level": "ERROR"},
            # A request for another host name is refused with 400 and logged as such by the request
            # line; Django's own line for each would let anyone flood the log.
            "django.security.DisallowedHost": {"level": "CRITICAL"},
            "weasyprint": {"level": "WARNING"},  # its INFO lines narrate every PDF
            "fontTools": {"level": "WARNING"},
            # Login failures, lockouts and resets (username, IP address, path; never the password),
            # whatever DJANGO_LOG_LEVEL says.
            "axes": {"level": "INFO"},
            "gunicorn.error": {"level": "INFO", "handlers": ["console"], "propagate": False},
            "gunicorn.access": {"level": "WARNING"},
        },
    }


request_log = structlog.get_logger("request")


class RequestLogMiddleware:
    """One line per request, written when the response is ready."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        token = current_release.set(None)
        status = 500
        try:
            response = self.get_response(request)
            status = response.status_code
            return response
        finally:
            request_log.log(
                logging.WARNING if status >= 500 else logging.INFO,
                "request",
                method=request.method if request.method in _METHODS else "OTHER",
                path=request.path[:200],
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 1),
                release=current_release.get(),
            )
            current_release.reset(token)


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
