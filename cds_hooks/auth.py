"""Who is calling: the JWT every CDS Hooks 2.0 call carries (``Authorization: Bearer <JWT>``).

The EHR signs a short-lived JWT for each call with its private key; the service checks it with the
EHR's public keys. :func:`authenticate` applies, in this order:

1. The header is ``Bearer <token>`` (scheme case-insensitive) and the token looks like a compact JWS.
2. The unverified JOSE header: ``alg`` is ES384 or RS384, the two the spec names. ``none`` and the
   HMAC algorithms are refused outright: with HS256 an attacker can "sign" with the issuer's *public*
   key as the shared secret. ``kid`` is required (it picks the key); ``typ``, when sent, is "JWT".
3. The unverified ``iss`` picks the issuer's entry in ``settings.CDS_HOOKS_ISSUERS`` (the allow-list);
   an unknown issuer is refused before any key is fetched, so a caller cannot make the service fetch
   anything. Nothing read before the signature check is trusted beyond choosing where the key is.
4. A ``jku`` header is honoured only when it is exactly the issuer's configured ``jwks_url`` or
   ``jku``: the service never fetches a URL a caller chose.
5. The key with the token's ``kid``, from the configured JWK Set URL (``PyJWKClient``, cached for
   a few minutes and refetched once for an unknown kid, so key rotation works) or the inline set.
   Its type must fit the alg (EC P-384 for ES384, RSA for RS384): a key is only ever used with
   the algorithm it was made for.
6. ``jwt.decode``: signature, ``aud`` (the URL called), ``iss``, ``exp``, ``iat`` and ``jti``
   present, 30 s of clock leeway.
7. Lifetime: ``exp - iat`` at most ``settings.CDS_HOOKS_MAX_TOKEN_SECONDS`` (the jti is remembered
   that long) and ``iat`` not in the future.
8. Replay: the (iss, jti) pair is stored in ``UsedToken`` under a unique constraint; a second use
   fails the insert. The table is shared, so this holds across worker processes.

Every refusal raises :class:`NotAuthorised` with a fixed internal reason, logged at WARNING on the
``cds_hooks`` logger; the caller answers an opaque 401. Neither the token nor its claims (bar the
issuer) go into a message or a log line: a token is a credential until it expires.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

import jwt
from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from .models import UsedToken

logger = logging.getLogger("cds_hooks")

ALLOWED_ALGORITHMS = frozenset({"ES384", "RS384"})
# The key type each accepted alg needs (the EC curve is checked by PyJWT's ES384 itself).
KEY_TYPES = {"ES384": "EC", "RS384": "RSA"}
LEEWAY_SECONDS = 30
MAX_FUTURE_IAT_SECONDS = 5 * 60
JWKS_CACHE_SECONDS = 300
JWKS_FETCH_TIMEOUT_SECONDS = 4.0
# Real tokens are well under 2 KB; a cap keeps base64/JSON work on junk input small.
MAX_TOKEN_CHARS = 8192
PURGE_INTERVAL_SECONDS = 60
# A spent jti is kept this long past its exp; more than the leeway, so it outlives the token.
PURGE_MARGIN = timedelta(seconds=60)
DB_FIELD_CHARS = 200  # UsedToken.issuer / UsedToken.jti

_COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")


class NotAuthorised(Exception):
    """Raised with an internal reason (for the log, never shown to the caller)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def authenticate(request: HttpRequest, audiences: Sequence[str]) -> str | None:
    """Check the call's JWT. Returns the issuer (iss) of a valid token; None when no Authorization
    header was sent AND settings.CDS_HOOKS_ALLOW_UNSIGNED is on. Raises NotAuthorised otherwise
    (missing header while unsigned not allowed, malformed header, any invalid token — an invalid token
    is refused even when unsigned calls are allowed).

    ``audiences`` are the URLs the token's ``aud`` may name (see :func:`audience_urls`). Refusals are
    already logged here; the caller only answers 401."""
    header = request.headers.get("Authorization")
    if header is None and settings.CDS_HOOKS_ALLOW_UNSIGNED:
        return None
    issuer: str | None = None
    try:
        if header is None:
            raise NotAuthorised("no Authorization header")
        token = _bearer_token(header)
        alg, kid, jku = _checked_header(token)
        issuer = _unverified_issuer(token)
        config = _issuer_config(issuer)
        key = _signing_key(config, kid, jku, alg)
        claims = _verified_claims(token, key, alg, audiences, issuer)
        _check_lifetime(claims)
        _remember_jti(issuer, claims)
    except NotAuthorised as refusal:
        # repr(): the issuer is caller-supplied until verified; keep it on one line and short.
        logger.warning("token refused: %s (iss %s)", refusal.reason, repr(issuer)[:120])
        raise
    return issuer


def audience_urls(request: HttpRequest, *paths: str) -> list[str]:
    """The absolute URLs a token's aud may name for this call: settings.CDS_HOOKS_BASE_URL + path when
    that setting is set, else request.build_absolute_uri(path). Accept each with and without a trailing
    slash."""
    base = settings.CDS_HOOKS_BASE_URL.rstrip("/")
    urls: list[str] = []
    for path in paths:
        url = f"{base}{path}" if base else request.build_absolute_uri(path)
        bare = url.rstrip("/")
        for candidate in (bare, f"{bare}/"):
            if candidate not in urls:
                urls.append(candidate)
    return urls


# ------------------------------------------------------------------ the steps


def _bearer_token(header: str) -> str:
    parts = header.split()
    if len(parts) != 2 or parts[0].lower() != "bearer":
        raise NotAuthorised("Authorization header is not 'Bearer <token>'")
    token = parts[1]
    if len(token) > MAX_TOKEN_CHARS or not _COMPACT_JWS.fullmatch(token):
        raise NotAuthorised("token is not a compact JWS")
    return token


def _checked_header(token: str) -> tuple[str, str, str | None]:
    """The (alg, kid, jku) of the unverified JOSE header, refused unless the header is acceptable."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise NotAuthorised("unreadable JOSE header") from None
    alg = header.get("alg")
    if alg not in ALLOWED_ALGORITHMS:
        raise NotAuthorised("alg not allowed (ES384 or RS384 only)")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise NotAuthorised("no kid")
    typ = header.get("typ")
    if typ is not None and (not isinstance(typ, str) or typ.lower() != "jwt"):
        raise NotAuthorised("typ is not JWT")
    jku = header.get("jku")
    if jku is not None and not isinstance(jku, str):
        raise NotAuthorised("jku is not a string")
    return alg, kid, jku


def _unverified_issuer(token: str) -> str:
    # Unverified: used only to choose whose keys verify the signature; decode() checks it again.
    try:
        payload = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise NotAuthorised("unreadable payload") from None
    issuer = payload.get("iss")
    if not isinstance(issuer, str) or not issuer:
        raise NotAuthorised("no iss")
    return issuer


def _issuer_config(issuer: str) -> dict[str, Any]:
    config = settings.CDS_HOOKS_ISSUERS.get(issuer)
    if not isinstance(config, dict):
        raise NotAuthorised("unknown iss")
    return config


def _signing_key(config: dict[str, Any], kid: str, jku: str | None, alg: str) -> jwt.PyJWK:
    if jku is not None:
        if jku not in _allowed_jkus(config):
            raise NotAuthorised("jku not allow-listed for this iss")
        key = _key_from_url(jku, kid)
    elif config.get("jwks_url"):
        key = _key_from_url(config["jwks_url"], kid)
    elif config.get("jwks"):
        key = _key_from_inline_set(config["jwks"], kid)
    else:
        raise NotAuthorised("iss configured without jwks_url or jwks")
    _check_key_fits(key, alg)
    return key


def _allowed_jkus(config: dict[str, Any]) -> list[str]:
    allowed = [config.get("jwks_url")]
    listed = config.get("jku")
    allowed.extend(listed if isinstance(listed, list) else [listed])
    return [url for url in allowed if isinstance(url, str) and url]


def _key_from_url(url: str, kid: str) -> jwt.PyJWK:
    try:
        return _jwks_client(url).get_signing_key(kid)
    except jwt.PyJWKClientConnectionError:
        raise NotAuthorised("JWK Set fetch failed") from None
    except jwt.PyJWKClientError:
        # Raised for an unknown kid (after one refetch) and for a set without signing keys.
        raise NotAuthorised("unknown kid (or no signing keys at the JWK Set URL)") from None
    except (jwt.PyJWTError, ValueError):
        raise NotAuthorised("unusable JWK Set at the URL") from None


_clients: dict[str, jwt.PyJWKClient] = {}
_clients_lock = threading.Lock()


def _jwks_client(url: str) -> jwt.PyJWKClient:
    # One client per URL for the life of the process: its cache is what spares the EHR a key fetch
    # on every call.
    with _clients_lock:
        client = _clients.get(url)
        if client is None:
            client = jwt.PyJWKClient(url, lifespan=JWKS_CACHE_SECONDS, timeout=JWKS_FETCH_TIMEOUT_SECONDS)
            _clients[url] = client
        return client


def _key_from_inline_set(jwks: Any, kid: str) -> jwt.PyJWK:
    try:
        key_set = _parsed_key_set(json.dumps(jwks, sort_keys=True))
    except (jwt.PyJWTError, TypeError, ValueError, AttributeError):
        raise NotAuthorised("unusable inline JWK Set for this iss") from None
    for key in key_set.keys:
        # As PyJWKClient does: encryption keys are not signing keys.
        if key.key_id == kid and key.public_key_use in ("sig", None):
            return key
    raise NotAuthorised("unknown kid")


@lru_cache(maxsize=64)
def _parsed_key_set(jwks_json: str) -> jwt.PyJWKSet:
    # Keyed on the set's content, so a changed setting (or a test override) is never served stale.
    return jwt.PyJWKSet.from_dict(json.loads(jwks_json))


def _check_key_fits(key: jwt.PyJWK, alg: str) -> None:
    if key.key_type != KEY_TYPES[alg]:
        raise NotAuthorised("key type does not fit the token alg")
    # PyJWT names an RSA key without "alg" RS256; any other name came from the JWK's own "alg",
    # which then binds the key to that algorithm.
    if key.algorithm_name != alg and not (key.key_type == "RSA" and key.algorithm_name == "RS256"):
        raise NotAuthorised("key's alg is not the token alg")


def _verified_claims(
    token: str, key: jwt.PyJWK, alg: str, audiences: Sequence[str], issuer: str
) -> dict[str, Any]:
    try:
        # The raw key, not the PyJWK: PyJWK would insist on RS256 for an RSA key published without
        # "alg". _check_key_fits has already matched key and alg.
        return jwt.decode(
            token,
            key.key,
            algorithms=[alg],
            audience=list(audiences),
            issuer=issuer,
            options={"require": ["exp", "iat", "iss", "aud", "jti"], "enforce_minimum_key_length": True},
            leeway=LEEWAY_SECONDS,
        )
    except jwt.ExpiredSignatureError:
        raise NotAuthorised("expired") from None
    except jwt.InvalidAudienceError:
        raise NotAuthorised("aud is not this endpoint") from None
    except jwt.MissingRequiredClaimError as error:
        raise NotAuthorised(f"missing claim {error.claim}") from None
    except (jwt.PyJWTError, TypeError, ValueError) as error:
        # The class name only: PyJWT messages may quote header or claim values.
        raise NotAuthorised(f"invalid token ({type(error).__name__})") from None


def _check_lifetime(claims: dict[str, Any]) -> None:
    # decode() has checked that exp and iat are integers.
    exp, iat = int(claims["exp"]), int(claims["iat"])
    if exp - iat > settings.CDS_HOOKS_MAX_TOKEN_SECONDS:
        raise NotAuthorised("lifetime (exp - iat) too long")
    if iat > time.time() + MAX_FUTURE_IAT_SECONDS:
        raise NotAuthorised("iat in the future")


def _remember_jti(issuer: str, claims: dict[str, Any]) -> None:
    jti = claims["jti"]
    if not isinstance(jti, str) or not jti or len(jti) > DB_FIELD_CHARS or len(issuer) > DB_FIELD_CHARS:
        raise NotAuthorised("jti (or iss) unusable as a replay key")
    _purge_spent_tokens()
    expires_at = datetime.fromtimestamp(int(claims["exp"]), tz=UTC)
    try:
        # Its own savepoint: a replay must not break the caller's transaction.
        with transaction.atomic():
            UsedToken.objects.create(issuer=issuer, jti=jti, expires_at=expires_at)
    except IntegrityError:
        raise NotAuthorised("jti replayed") from None


_last_purge = float("-inf")


def _purge_spent_tokens() -> None:
    # At most once a minute per process: the table stays small without a delete on every call.
    # A race between threads only means a second, harmless delete.
    global _last_purge
    now = time.monotonic()
    if now - _last_purge < PURGE_INTERVAL_SECONDS:
        return
    _last_purge = now
    UsedToken.objects.filter(expires_at__lt=timezone.now() - PURGE_MARGIN).delete()
