"""The CDS Hooks JWT check (cds_hooks/auth.py): what an EHR's token must be for a call to be accepted,
and the attacks it must not let through."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.test import RequestFactory
from django.utils import timezone

from cds_hooks import auth
from cds_hooks.auth import NotAuthorised, audience_urls, authenticate
from cds_hooks.models import UsedToken
from tests.cds import jwt_keys
from tests.cds.jwt_keys import AUDIENCE, ISSUER, KEYS, b64url, compact, token

AUDIENCES = [AUDIENCE, f"{AUDIENCE}/"]


@pytest.fixture(autouse=True)
def cds_settings(settings):
    settings.CDS_HOOKS_ISSUERS = jwt_keys.issuers_setting()
    settings.CDS_HOOKS_ALLOW_UNSIGNED = False
    settings.CDS_HOOKS_MAX_TOKEN_SECONDS = 3600
    settings.CDS_HOOKS_BASE_URL = ""
    return settings


def call(authorization: str | None = None, path: str = "/cds-services"):
    headers = {} if authorization is None else {"HTTP_AUTHORIZATION": authorization}
    return RequestFactory().post(path, data=b"{}", content_type="application/json", **headers)


def bearer(jwt: str):
    return call(f"Bearer {jwt}")


def refused(request, match: str, audiences: list[str] = AUDIENCES) -> NotAuthorised:
    with pytest.raises(NotAuthorised, match=match) as caught:
        authenticate(request, audiences)
    return caught.value


# ------------------------------------------------------------------ a JWK Set served over HTTP


class JwksServer:
    """A JWK Set on http://127.0.0.1:<ephemeral port>/jwks.json, counting the fetches."""

    def __init__(self, body: dict[str, Any]) -> None:
        self.body = body
        self.hits = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.hits += 1
                payload = json.dumps(server.body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/jwks.json"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> JwksServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def jwks_server() -> Iterator[JwksServer]:
    with JwksServer(jwt_keys.jwks()) as server:
        yield server


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/jwks.json"


# ------------------------------------------------------------------ accepted


@pytest.mark.django_db
def test_valid_es384_token_returns_its_issuer():
    assert authenticate(bearer(token(key="es384")), AUDIENCES) == ISSUER


@pytest.mark.django_db
def test_valid_rs384_token_returns_its_issuer():
    assert authenticate(bearer(token(key="rs384")), AUDIENCES) == ISSUER


@pytest.mark.django_db
def test_scheme_is_case_insensitive():
    assert authenticate(call(f"bearer {token()}"), AUDIENCES) == ISSUER


@pytest.mark.django_db
def test_aud_as_a_list_containing_the_url_is_accepted():
    jwt = token(aud=["https://other.example/cds-services", AUDIENCE])
    assert authenticate(bearer(jwt), AUDIENCES) == ISSUER


@pytest.mark.django_db
def test_typ_may_be_absent():
    assert authenticate(bearer(token(header_override={"typ": None})), AUDIENCES) == ISSUER


@pytest.mark.django_db
def test_rsa_key_published_without_alg_verifies_rs384(settings):
    # PyJWT would take such a key for RS256; EHRs commonly omit "alg" from their JWKs.
    jwk = {name: value for name, value in KEYS["rs384"].public_jwk.items() if name != "alg"}
    settings.CDS_HOOKS_ISSUERS = {ISSUER: {"jwks": {"keys": [jwk]}}}
    assert authenticate(bearer(token(key="rs384")), AUDIENCES) == ISSUER


@pytest.mark.django_db
def test_accepted_token_is_remembered_until_it_expires():
    jwt = token(claims_override={"jti": "remember-me"})
    authenticate(bearer(jwt), AUDIENCES)
    used = UsedToken.objects.get(issuer=ISSUER, jti="remember-me")
    assert abs((used.expires_at - timezone.now()).total_seconds() - jwt_keys.LIFETIME_SECONDS) < 5


# ------------------------------------------------------------------ unsigned calls


def test_missing_header_is_refused_when_unsigned_calls_are_not_allowed():
    refused(call(None), "no Authorization header")


def test_missing_header_is_accepted_as_none_when_unsigned_calls_are_allowed(settings):
    settings.CDS_HOOKS_ALLOW_UNSIGNED = True
    assert authenticate(call(None), AUDIENCES) is None


@pytest.mark.django_db
def test_invalid_token_is_refused_even_when_unsigned_calls_are_allowed(settings):
    settings.CDS_HOOKS_ALLOW_UNSIGNED = True
    refused(bearer(token(claims_override={"exp": int(time.time()) - 3600})), "expired")


def test_empty_header_is_refused_even_when_unsigned_calls_are_allowed(settings):
    settings.CDS_HOOKS_ALLOW_UNSIGNED = True
    refused(call(""), "Bearer")


# ------------------------------------------------------------------ malformed


def test_wrong_scheme_is_refused():
    refused(call("Basic dXNlcjpwYXNzd29yZA=="), "Bearer")


def test_bearer_without_token_is_refused():
    refused(call("Bearer"), "Bearer")


def test_garbage_token_is_refused():
    refused(call("Bearer abc"), "compact JWS")


def test_three_garbage_segments_are_refused():
    refused(call("Bearer abc.def.ghi"), "unreadable JOSE header")


def test_oversized_token_is_refused_before_decoding():
    refused(bearer(token(claims_override={"pad": "x" * 10_000})), "compact JWS")


# ------------------------------------------------------------------ header and algorithm attacks


def test_alg_none_is_refused():
    now = int(time.time())
    header = {"alg": "none", "typ": "JWT", "kid": KEYS["es384"].kid}
    claims = {"iss": ISSUER, "aud": AUDIENCE, "jti": "none-attack", "iat": now, "exp": now + 60}
    refused(bearer(compact(header, claims)), "alg not allowed")


def test_hs256_signed_with_the_public_key_pem_is_refused():
    # Key confusion: a verifier that let the token pick HS256 would check the HMAC with the public
    # key's PEM as the secret, which anyone can compute. PyJWT refuses a PEM as HMAC key, so the
    # attack token is made by hand.
    target = KEYS["rs384"]
    now = int(time.time())
    header = {"alg": "HS256", "typ": "JWT", "kid": target.kid}
    claims = {"iss": ISSUER, "aud": AUDIENCE, "jti": "hs256-attack", "iat": now, "exp": now + 60}
    unsigned = compact(header, claims)
    mac = hmac.new(target.public_pem, jwt_keys.signing_input(unsigned), hashlib.sha256).digest()
    attack = f"{jwt_keys.signing_input(unsigned).decode()}.{b64url(mac)}"
    refused(bearer(attack), "alg not allowed")


@pytest.mark.parametrize("alg", ["HS384", "ES256", "RS256", "PS384", "EdDSA"])
def test_other_algorithms_are_refused(alg):
    refused(bearer(token(header_override={"alg": alg})), "alg not allowed")


def test_es384_signature_under_an_rs384_header_is_refused():
    jwt = token(key="es384", header_override={"alg": "RS384"})
    refused(bearer(jwt), "key type does not fit")


@pytest.mark.django_db
def test_es384_signature_claiming_the_rsa_kid_is_refused():
    jwt = token(key="es384", header_override={"alg": "RS384", "kid": KEYS["rs384"].kid})
    refused(bearer(jwt), "InvalidSignatureError")


def test_jwk_alg_binds_the_key(settings):
    # The P-384 key published for ES256 only: it must not verify ES384 tokens.
    jwk = {**KEYS["es384"].public_jwk, "alg": "ES256"}
    settings.CDS_HOOKS_ISSUERS = {ISSUER: {"jwks": {"keys": [jwk]}}}
    refused(bearer(token(key="es384")), "key's alg")


@pytest.mark.django_db
def test_signature_by_another_key_with_a_trusted_kid_is_refused():
    attacker = jwt_keys.make_key("ES384", KEYS["es384"].kid)
    refused(bearer(token(key=attacker)), "InvalidSignatureError")


@pytest.mark.django_db
def test_tampered_claims_are_refused():
    # Another valid token's claims under this token's header and signature.
    header, _, signature = token(aud="https://other.example/cds-services").split(".")
    other_claims = token().split(".")[1]
    refused(bearer(f"{header}.{other_claims}.{signature}"), "InvalidSignatureError")


def test_missing_kid_is_refused():
    refused(bearer(token(header_override={"kid": None})), "no kid")


def test_wrong_typ_is_refused():
    refused(bearer(token(header_override={"typ": "at+jwt"})), "typ")


def test_unknown_kid_is_refused():
    refused(bearer(token(header_override={"kid": "no-such-key"})), "unknown kid")


def test_unknown_issuer_is_refused():
    refused(bearer(token(claims_override={"iss": "https://evil.example"})), "unknown iss")


def test_missing_issuer_is_refused():
    refused(bearer(token(claims_override={"iss": None})), "no iss")


# ------------------------------------------------------------------ claims


@pytest.mark.django_db
def test_expired_token_is_refused():
    now = int(time.time())
    refused(bearer(token(claims_override={"iat": now - 600, "exp": now - 300})), "expired")


@pytest.mark.django_db
def test_token_expired_within_the_leeway_is_accepted():
    now = int(time.time())
    assert authenticate(bearer(token(claims_override={"iat": now - 60, "exp": now - 10})), AUDIENCES)


@pytest.mark.django_db
def test_wrong_aud_is_refused():
    refused(bearer(token(aud="https://other.example/cds-services")), "aud")


@pytest.mark.django_db
def test_aud_of_another_service_on_this_host_is_refused():
    refused(bearer(token(aud=f"{AUDIENCE}/another-service")), "aud")


@pytest.mark.django_db
@pytest.mark.parametrize("claim", ["jti", "exp", "iat", "aud"])
def test_missing_required_claim_is_refused(claim):
    refused(bearer(token(claims_override={claim: None})), f"missing claim {claim}")


@pytest.mark.django_db
def test_lifetime_longer_than_the_setting_is_refused(settings):
    settings.CDS_HOOKS_MAX_TOKEN_SECONDS = 300
    now = int(time.time())
    refused(bearer(token(claims_override={"iat": now, "exp": now + 301})), "lifetime")


@pytest.mark.django_db
def test_lifetime_equal_to_the_setting_is_accepted(settings):
    settings.CDS_HOOKS_MAX_TOKEN_SECONDS = 300
    now = int(time.time())
    assert authenticate(bearer(token(claims_override={"iat": now, "exp": now + 300})), AUDIENCES)


@pytest.mark.django_db
def test_iat_in_the_future_is_refused():
    now = int(time.time())
    refused(bearer(token(claims_override={"iat": now + 600, "exp": now + 900})), "ImmatureSignature|future")


@pytest.mark.django_db
def test_overlong_jti_is_refused():
    refused(bearer(token(claims_override={"jti": "j" * 201})), "jti")


# ------------------------------------------------------------------ replay


@pytest.mark.django_db
def test_replayed_jti_is_refused():
    jwt = token()
    assert authenticate(bearer(jwt), AUDIENCES) == ISSUER
    refused(bearer(jwt), "jti replayed")
    # The refusal rolled back only its savepoint: the caller's transaction is still usable.
    assert UsedToken.objects.filter(issuer=ISSUER).count() == 1


@pytest.mark.django_db
def test_same_jti_in_a_new_token_is_still_a_replay():
    authenticate(bearer(token(claims_override={"jti": "once"})), AUDIENCES)
    refused(bearer(token(claims_override={"jti": "once"}, key="rs384")), "jti replayed")


@pytest.mark.django_db
def test_same_jti_from_another_issuer_is_not_a_replay(settings):
    other = "https://other-ehr.example.org"
    settings.CDS_HOOKS_ISSUERS = {**jwt_keys.issuers_setting(), **jwt_keys.issuers_setting(other)}
    authenticate(bearer(token(claims_override={"jti": "shared"})), AUDIENCES)
    assert authenticate(bearer(token(claims_override={"jti": "shared", "iss": other})), AUDIENCES) == other


@pytest.mark.django_db
def test_spent_tokens_are_purged(monkeypatch):
    long_gone = UsedToken.objects.create(
        issuer=ISSUER, jti="old", expires_at=timezone.now() - timedelta(minutes=10)
    )
    monkeypatch.setattr(auth, "_last_purge", float("-inf"))
    authenticate(bearer(token()), AUDIENCES)
    assert not UsedToken.objects.filter(pk=long_gone.pk).exists()
    assert UsedToken.objects.count() == 1


@pytest.mark.django_db
def test_purge_runs_at_most_once_a_minute(monkeypatch):
    monkeypatch.setattr(auth, "_last_purge", float("-inf"))
    authenticate(bearer(token()), AUDIENCES)
    UsedToken.objects.create(issuer=ISSUER, jti="old", expires_at=timezone.now() - timedelta(minutes=10))
    authenticate(bearer(token()), AUDIENCES)
    assert UsedToken.objects.filter(jti="old").exists()


# ------------------------------------------------------------------ JWK Set URL and jku


@pytest.mark.django_db
def test_jwks_url_issuer_is_verified_with_the_fetched_keys(settings, jwks_server):
    settings.CDS_HOOKS_ISSUERS = {ISSUER: {"jwks_url": jwks_server.url}}
    assert authenticate(bearer(token(key="es384")), AUDIENCES) == ISSUER
    assert authenticate(bearer(token(key="rs384")), AUDIENCES) == ISSUER
    assert jwks_server.hits == 1  # the second call used the cached set


@pytest.mark.django_db
def test_jwks_url_unknown_kid_is_refused(settings, jwks_server):
    settings.CDS_HOOKS_ISSUERS = {ISSUER: {"jwks_url": jwks_server.url}}
    refused(bearer(token(header_override={"kid": "rotated-away"})), "unknown kid")


def test_unreachable_jwks_url_is_refused(settings):
    settings.CDS_HOOKS_ISSUERS = {ISSUER: {"jwks_url": closed_port_url()}}
    refused(bearer(token()), "JWK Set fetch failed")


@pytest.mark.django_db
def test_jku_equal_to_the_jwks_url_is_accepted(settings, jwks_server):
    settings.CDS_HOOKS_ISSUERS = {ISSUER: {"jwks_url": jwks_server.url}}
    assert authenticate(bearer(token(header_override={"jku": jwks_server.url})), AUDIENCES) == ISSUER


@pytest.mark.django_db
def test_allow_listed_jku_is_where_the_key_comes_from(settings, jwks_server):
    # Inline keys hold only the RSA key; the ES384 key is found only at the allow-listed jku.
    settings.CDS_HOOKS_ISSUERS = {ISSUER: {"jwks": jwt_keys.jwks("rs384"), "jku": jwks_server.url}}
    assert authenticate(bearer(token(header_override={"jku": jwks_server.url})), AUDIENCES) == ISSUER
    assert jwks_server.hits == 1


def test_jku_not_allow_listed_is_refused_and_never_fetched(settings, jwks_server):
    settings.CDS_HOOKS_ISSUERS = jwt_keys.issuers_setting()
    refused(bearer(token(header_override={"jku": jwks_server.url})), "jku not allow-listed")
    assert jwks_server.hits == 0


def test_jku_differing_from_the_configured_url_is_refused(settings, jwks_server):
    settings.CDS_HOOKS_ISSUERS = {ISSUER: {"jwks_url": jwks_server.url}}
    refused(bearer(token(header_override={"jku": f"{jwks_server.url}?evil=1"})), "jku not allow-listed")
    assert jwks_server.hits == 0


def test_issuer_without_keys_is_refused(settings):
    settings.CDS_HOOKS_ISSUERS = {ISSUER: {}}
    refused(bearer(token()), "without jwks_url or jwks")


# ------------------------------------------------------------------ logging


@pytest.mark.django_db
def test_refusal_is_logged_without_the_token(caplog):
    jwt = token(claims_override={"jti": "secret-jti"})
    authenticate(bearer(jwt), AUDIENCES)
    with caplog.at_level(logging.WARNING, logger="cds_hooks"):
        error = refused(bearer(jwt), "jti replayed")
    assert "jti replayed" in caplog.text
    assert ISSUER in caplog.text
    for secret in (jwt, jwt.split(".")[1], jwt.split(".")[2], "secret-jti"):
        assert secret not in caplog.text
        assert secret not in str(error)


# ------------------------------------------------------------------ audience_urls


def test_audience_urls_from_the_request(settings):
    settings.ALLOWED_HOSTS = ["cds.example.org"]
    request = RequestFactory().post("/cds-services/dose", HTTP_HOST="cds.example.org", secure=True)
    assert audience_urls(request, "/cds-services/dose") == [
        "https://cds.example.org/cds-services/dose",
        "https://cds.example.org/cds-services/dose/",
    ]


def test_audience_urls_from_the_base_url_setting(settings):
    settings.CDS_HOOKS_BASE_URL = "https://public.example.org/prefix"
    request = RequestFactory().get("/cds-services/", HTTP_HOST="internal:8000")
    assert audience_urls(request, "/cds-services/", "/cds-services/dose/feedback") == [
        "https://public.example.org/prefix/cds-services",
        "https://public.example.org/prefix/cds-services/",
        "https://public.example.org/prefix/cds-services/dose/feedback",
        "https://public.example.org/prefix/cds-services/dose/feedback/",
    ]


@pytest.mark.django_db
def test_token_for_the_base_url_is_accepted_behind_a_proxy(settings):
    settings.CDS_HOOKS_BASE_URL = "https://public.example.org"
    request = call(f"Bearer {token(aud='https://public.example.org/cds-services/dose')}")
    assert authenticate(request, audience_urls(request, "/cds-services/dose")) == ISSUER
