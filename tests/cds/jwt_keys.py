"""Signing keys and JWTs for the CDS Hooks tests: an EHR's side of the call.

Two key pairs are made once, when this module is first imported: ES384 (``KEYS["es384"]``) and
RS384 (``KEYS["rs384"]``). Typical use::

    from tests.cds import jwt_keys

    settings.CDS_HOOKS_ISSUERS = jwt_keys.issuers_setting()
    request = RequestFactory().post(
        "/cds-services/x", HTTP_AUTHORIZATION=f"Bearer {jwt_keys.token(aud='http://testserver/cds-services/x')}"
    )

- :func:`token` signs a valid token (override or drop claims and header fields to break it);
- :func:`issuers_setting` is a ``CDS_HOOKS_ISSUERS`` value trusting :data:`ISSUER` with both keys;
- :func:`jwks` is the public JWK Set (to serve from a test HTTP server for a ``jwks_url`` issuer);
- :func:`compact` assembles a token from raw parts (for attack tokens such as ``alg: none``);
- :func:`make_key` makes another key pair (e.g. an attacker's key with a trusted kid).
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm, get_default_algorithms

ISSUER = "https://ehr.example.org"
AUDIENCE = "http://testserver/cds-services"
LIFETIME_SECONDS = 300


@dataclass(frozen=True)
class TestKey:
    """A key pair with its kid and the JWS alg it signs with."""

    __test__ = False  # not a pytest test class, despite the name

    kid: str
    alg: str  # "ES384" or "RS384"
    private_key: Any  # ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey

    @property
    def public_jwk(self) -> dict[str, Any]:
        """The public key as a JWK, with kid, alg and use "sig"."""
        to_jwk = ECAlgorithm.to_jwk if self.alg == "ES384" else RSAAlgorithm.to_jwk
        jwk = to_jwk(self.private_key.public_key(), as_dict=True)
        return {**jwk, "kid": self.kid, "alg": self.alg, "use": "sig"}

    @property
    def public_pem(self) -> bytes:
        """The public key as PEM (SubjectPublicKeyInfo): what a key-confusion attacker knows."""
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


def make_key(alg: str, kid: str) -> TestKey:
    """A fresh key pair: ``alg`` "ES384" (P-384) or "RS384" (RSA 2048)."""
    if alg == "ES384":
        private_key: Any = ec.generate_private_key(ec.SECP384R1())
    elif alg == "RS384":
        private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    else:
        raise ValueError(f"unsupported alg {alg}")
    return TestKey(kid=kid, alg=alg, private_key=private_key)


KEYS: dict[str, TestKey] = {
    "es384": make_key("ES384", "test-es384"),
    "rs384": make_key("RS384", "test-rs384"),
}


def jwks(*names: str) -> dict[str, Any]:
    """The public JWK Set of the named keys of :data:`KEYS` (all of them by default)."""
    return {"keys": [KEYS[name].public_jwk for name in names or KEYS]}


def issuers_setting(issuer: str = ISSUER, **extra: Any) -> dict[str, dict[str, Any]]:
    """A ``CDS_HOOKS_ISSUERS`` value trusting ``issuer`` with both keys inline; ``extra`` is added to
    the issuer's entry (e.g. ``jku="https://..."``)."""
    return {issuer: {"jwks": jwks(), **extra}}


def token(
    claims_override: dict[str, Any] | None = None,
    header_override: dict[str, Any] | None = None,
    key: str | TestKey = "es384",
    aud: str | list[str] = AUDIENCE,
) -> str:
    """A signed JWT as an EHR would send it.

    Defaults: header ``{"alg": <key's alg>, "typ": "JWT", "kid": <key's kid>}``; claims ``iss``
    :data:`ISSUER`, ``aud`` ``aud``, a fresh uuid ``jti``, ``iat`` now, ``exp`` now + 300 s.
    ``claims_override`` / ``header_override`` replace entries; a value of ``None`` removes the entry.
    ``key`` is a name in :data:`KEYS` or a :class:`TestKey`. The signature is always made with the
    key's own algorithm, even when ``header_override`` claims another ``alg``."""
    signer = KEYS[key] if isinstance(key, str) else key
    now = int(time.time())
    header = {"alg": signer.alg, "typ": "JWT", "kid": signer.kid, **(header_override or {})}
    claims = {
        "iss": ISSUER,
        "aud": aud,
        "jti": str(uuid.uuid4()),
        "iat": now,
        "exp": now + LIFETIME_SECONDS,
        **(claims_override or {}),
    }
    signing_input = _signing_input(_without_none(header), _without_none(claims))
    signature = get_default_algorithms()[signer.alg].sign(signing_input, signer.private_key)
    return f"{signing_input.decode()}.{b64url(signature)}"


def compact(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    """``header.claims.signature`` from raw parts, with no signing: for hand-made attack tokens."""
    return f"{_signing_input(header, claims).decode()}.{b64url(signature)}"


def signing_input(token_: str) -> bytes:
    """The part of a compact token a signature covers (``header.claims``)."""
    return token_.rsplit(".", 1)[0].encode()


def b64url(data: bytes) -> str:
    """Base64url without padding, as JWS uses."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _signing_input(header: dict[str, Any], claims: dict[str, Any]) -> bytes:
    parts = (b64url(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims))
    return ".".join(parts).encode()


def _without_none(values: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in values.items() if value is not None}
