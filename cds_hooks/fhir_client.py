"""Fetching what the EHR did not prefetch, from its FHIR server, without letting the call fetch
anything else or hold the service.

- The server must be one the calling issuer may name (``fhir_servers`` in its ``CDS_HOOKS_ISSUERS``
  entry; any server only for unsigned development calls), and https unless
  ``CDS_HOOKS_FHIR_ALLOW_HTTP``.
- URLs are built from the service's templates with the context values URL-encoded (a patient id is a
  FHIR id, checked before); a further page must be the server's base or its search of the same
  resource type, with no escapes or path parameters in its path.
- One deadline (enforced on the socket itself) and one byte budget cover every fetch of a call; no
  redirect is followed, no proxy from the environment is used, no compressed answer is accepted.
- Any failure is ``Precondition`` (the call is answered 412, as the spec says), with a reason for
  the log that names no patient value; the caller is told only which key was missing.
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import ssl
import threading
import time
from typing import Any
from urllib.parse import quote, urlsplit

from django.conf import settings

# A FHIR id (not one made of dots only, which a URL reads as a path step).
FHIR_ID = re.compile(r"(?!\.+$)[A-Za-z0-9\-.]{1,64}")
MEDICATION_REFERENCE = re.compile(r"Medication/(?!\.+$)[A-Za-z0-9\-.]{1,64}")
MAX_PAGES = 5  # further pages of one search
MAX_BYTES = 4 * 1024 * 1024  # every answer of one call together
CHUNK = 64 * 1024


class Precondition(Exception):
    """Data the service needs and cannot get (answered 412); ``why`` is for the log only."""

    def __init__(self, key: str, why: str):
        super().__init__(f"{key}: {why}")
        self.key = key
        self.why = why


def _base(url: str) -> str:
    return url.rstrip("/")


def server_allowed(server: str, issuer: str | None) -> bool:
    """Whether the issuer may have the service call this FHIR server (unsigned calls: any)."""
    if issuer is None:
        return True
    allowed = settings.CDS_HOOKS_ISSUERS.get(issuer, {}).get("fhir_servers", ())
    return isinstance(allowed, list) and _base(server) in {_base(s) for s in allowed if isinstance(s, str)}


class FhirClient:
    def __init__(self, server: str | None, token: str | None, issuer: str | None):
        self.server = _base(server) if server else None
        self.token = token
        self.issuer = issuer
        self.deadline = time.monotonic() + settings.CDS_HOOKS_FHIR_DEADLINE
        self.budget = MAX_BYTES

    # ------------------------------------------------------------ what may be fetched

    def _checked_server(self, key: str) -> str:
        if not self.server:
            raise Precondition(key, "not prefetched, and no fhirServer")
        parts = urlsplit(self.server)
        if parts.scheme not in ("https", "http") or not parts.netloc or parts.query or parts.fragment:
            raise Precondition(key, "fhirServer is not an http(s) base URL")
        if parts.scheme != "https" and not settings.CDS_HOOKS_FHIR_ALLOW_HTTP:
            raise Precondition(key, "fhirServer is not https")
        if not server_allowed(self.server, self.issuer):
            raise Precondition(key, "fhirServer is not one the issuer may name")
        return self.server

    def url(self, template: str, context: dict[str, Any], key: str) -> str:
        """The template's query on the server, with the context values URL-encoded."""
        server = self._checked_server(key)
        query = template
        for name, value in context.items():
            token = f"{{{{context.{name}}}}}"
            if token in query:
                if not isinstance(value, str) or not FHIR_ID.fullmatch(value):
                    raise Precondition(key, f"context.{name} is not a FHIR id")
                query = query.replace(token, quote(value, safe=""))
        if "{{" in query:
            raise Precondition(key, "the template needs a context value the call did not give")
        return f"{server}/{query}"

    def next_page(self, url: Any, key: str, resource_type: str) -> str:
        """A further page's URL: on the same server, at its base (HAPI's ``?_getpages=``) or its
        search of the same resource type; refused when its path has an escape, a path parameter or a
        backslash, which some servers read as other paths."""
        server = self._checked_server(key)
        if not isinstance(url, str):
            raise Precondition(key, "a next link is not a URL")
        parts, base = urlsplit(url), urlsplit(server)
        paths = {base.path, base.path + "/", f"{base.path}/{resource_type}"}
        same = (parts.scheme, parts.netloc) == (base.scheme, base.netloc)
        if not same or parts.path not in paths or re.search(r"[;%\\]", parts.path):
            raise Precondition(key, "a next link leaves the FHIR server's search")
        return url

    # ------------------------------------------------------------ fetching

    def get(self, url: str, key: str) -> Any:
        """One JSON answer, within the call's deadline and byte budget. http.client, so that the
        socket is ours: a watchdog shuts it at the deadline, however slowly the server sends its
        status line, headers or body (a per-read timeout alone lets a server drip bytes for ever)."""
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise Precondition(key, "the FHIR server took too long")
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        headers = {"Accept": "application/fhir+json", "Accept-Encoding": "identity"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if parts.scheme == "https":
            connection: http.client.HTTPConnection = http.client.HTTPSConnection(
                parts.hostname, parts.port, timeout=remaining, context=ssl.create_default_context()
            )
        else:
            connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=remaining)
        watchdog = threading.Timer(remaining, _shut, args=(connection,))
        watchdog.daemon = True
        body = bytearray()
        try:
            connection.connect()
            watchdog.start()
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            if response.status != 200:
                raise Precondition(key, f"the FHIR server answered {response.status}")
            if response.getheader("Content-Encoding", "identity").lower() != "identity":
                raise Precondition(key, "the FHIR server's answer is encoded")
            # read1: what one receive brings, so the budget and the deadline are checked as it comes.
            while chunk := response.read1(CHUNK):
                body += chunk
                if len(body) > self.budget:
                    raise Precondition(key, "the FHIR server's answers are too large")
            if time.monotonic() > self.deadline:
                raise Precondition(key, "the FHIR server took too long")
        except (http.client.HTTPException, OSError, ValueError, UnicodeError) as error:
            why = "took too long" if time.monotonic() >= self.deadline else f"failed ({type(error).__name__})"
            raise Precondition(key, f"the FHIR server {why}") from None
        finally:
            watchdog.cancel()
            connection.close()
        self.budget -= len(body)
        try:
            return json.loads(body)
        except (ValueError, RecursionError):
            raise Precondition(key, "the FHIR server's answer is not JSON") from None

    def search(self, template: str, context: dict[str, Any], key: str) -> Any:
        return self.get(self.url(template, context, key), key)

    def every_page(self, key: str, data: dict[str, Any], resource_type: str) -> dict[str, Any]:
        """A search Bundle with its further pages added: a list cut short could hide a medication, so
        pages that cannot be fetched are a Precondition."""
        entries = list(_entries(data, key))
        current = data
        for page in range(MAX_PAGES + 1):
            following = [link.get("url") for link in _links(current, key) if link.get("relation") == "next"]
            if not following:
                return {**data, "entry": entries}
            if page == MAX_PAGES:
                raise Precondition(key, "the results have more pages than are fetched")
            current = self.get(self.next_page(following[0], key, resource_type), key)
            if not isinstance(current, dict) or current.get("resourceType") != "Bundle":
                raise Precondition(key, "a further page is not a Bundle")
            entries += _entries(current, key)
        return {**data, "entry": entries}


def _shut(connection: http.client.HTTPConnection) -> None:
    """The deadline: end the exchange (a read blocked on the socket returns at once)."""
    sock = connection.sock
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def _links(bundle: dict[str, Any], key: str) -> list[dict[str, Any]]:
    links = bundle.get("link") or []
    if not isinstance(links, list) or not all(isinstance(link, dict) for link in links):
        raise Precondition(key, "a Bundle's links are not a list of links")
    return links


def _entries(bundle: dict[str, Any], key: str) -> list[Any]:
    entries = bundle.get("entry") or []
    if not isinstance(entries, list):
        raise Precondition(key, "a Bundle's entries are not a list")
    return entries
