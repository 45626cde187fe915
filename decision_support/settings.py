"""Settings for the memantine decision-support service, all from the environment.

DATABASE_URL          database (default: SQLite file db.sqlite3 beside manage.py)
DJANGO_SECRET_KEY     required to serve unless DJANGO_DEBUG is on
DJANGO_DEBUG          "1"/"true" for development (default off)
DJANGO_ALLOWED_HOSTS  comma-separated host names (default: localhost names)
DJANGO_HTTPS          "1" behind TLS: secure cookies, HSTS, redirect to https (README, "Production")
DJANGO_HSTS_SECONDS, DJANGO_HSTS_INCLUDE_SUBDOMAINS, DJANGO_HSTS_PRELOAD
                      HSTS with DJANGO_HTTPS (default: one year, subdomains and preload on)
DJANGO_TRUST_PROXY_HEADERS  "1" only when the proxy in front sets X-Forwarded-Proto and
                      X-Forwarded-For itself (replacing what clients send); off by default
DJANGO_DB_CONNECT_TIMEOUT, DJANGO_DB_STATEMENT_TIMEOUT_MS, DJANGO_DB_STALL_TIMEOUT
                      PostgreSQL time bounds (default 2 s, 3000 ms, 3.5 s; 0 turns one off)
DJANGO_LOG_FORMAT     "json" (default: one JSON object per line) or "console"
DJANGO_TIME_ZONE      the service's time zone, an IANA name (default UTC): printed sheets show it
CATALOGUE_TWO_PERSON_RULE  "1" (default) or "0": may the only editor of a change publish it?
CATALOGUE_SIGNING_KEY      key that signs releases (default: DJANGO_SECRET_KEY)
CATALOGUE_SIGNING_KEY_FALLBACKS  comma-separated earlier keys, still accepted when verifying
"""

import datetime
import json
import os
import secrets
import zoneinfo
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from decision_support.observability import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent


def env_flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_flag("DJANGO_DEBUG")
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
SECRET_KEY_FROM_ENVIRONMENT = bool(SECRET_KEY)
if not SECRET_KEY:
    # Development gets a fixed key. Without debug, management commands (migrate, checks) get a
    # throw-away key, and serving refuses to start (decision_support/wsgi.py and asgi.py).
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production" if DEBUG else secrets.token_urlsafe(50)

ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",")
    if h.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "template_partials",
    "csp",
    "simple_history",
    "axes",
    "corsheaders",
    "indications",
    "cds_hooks",
]

MIDDLEWARE = [
    # First: one log line per request, whatever answers it (decision_support/observability.py).
    "decision_support.observability.RequestLogMiddleware",
    # API clients that post over plain http get a JSON refusal, not a redirect they may not follow.
    "decision_support.errors.ApiHttpsMiddleware",
    # CORS for browser-based CDS Hooks clients (the sandbox): only /cds-services, only listed origins.
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Pages, partials and JSON compressed (WhiteNoise serves static files precompressed). Django's
    # GZipMiddleware pads its output at random (Heal The Breach) against BREACH on the CSRF token.
    "django.middleware.gzip.GZipMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "indications.middleware.ReleaseIntegrityMiddleware",
    # Last, as django-axes requires: it turns a lockout flagged during the request into its response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "decision_support.urls"
WSGI_APPLICATION = "decision_support.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DJANGO_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
# PostgreSQL never holds a request for long: a connection that cannot be opened in
# DJANGO_DB_CONNECT_TIMEOUT seconds, a query running longer than DJANGO_DB_STATEMENT_TIMEOUT_MS
# (cancelled by the server) and any round trip the server does not answer within
# DATABASE_STALL_TIMEOUT seconds (a frozen server; decision_support/postgresql/base.py) fail that
# request with 503 (decision_support/errors.py) well before gunicorn's worker timeout.
DATABASE_STALL_TIMEOUT = float(os.environ.get("DJANGO_DB_STALL_TIMEOUT", "3.5"))
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["ENGINE"] = "decision_support.postgresql"
    _pg_options = DATABASES["default"].setdefault("OPTIONS", {})
    _connect_timeout = int(os.environ.get("DJANGO_DB_CONNECT_TIMEOUT", "2"))
    if _connect_timeout:
        _pg_options.setdefault("connect_timeout", _connect_timeout)
    _statement_timeout = int(os.environ.get("DJANGO_DB_STATEMENT_TIMEOUT_MS", "3000"))
    if _statement_timeout:
        _pg_options["options"] = (
            f"{_pg_options.get('options', '')} -c statement_timeout={_statement_timeout}".strip()
        )
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite (development): a writing transaction takes the write lock when it starts and waits up to
    # 20 s for it, instead of failing with "database is locked" when two requests write at once.
    DATABASES["default"].setdefault("OPTIONS", {}).update({"transaction_mode": "IMMEDIATE", "timeout": 20})

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
# The service's time zone (an IANA name such as Europe/London): printed sheets show their time in it.
# Times are stored and logged in UTC whatever it is (USE_TZ).
TIME_ZONE = os.environ.get("DJANGO_TIME_ZONE", "").strip() or "UTC"
if TIME_ZONE not in zoneinfo.available_timezones() or TIME_ZONE in {"Factory", "localtime", "posixrules"}:
    raise ImproperlyConfigured(
        f"DJANGO_TIME_ZONE={TIME_ZONE!r} is not a known time zone: give an IANA name such as "
        "Europe/London, America/New_York or UTC."
    )
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Production (`make serve`): `collectstatic` writes each file under a name with its content hash and
# beside it gzip and brotli copies; WhiteNoise serves those with a cache lifetime of a year.
# Development (DJANGO_DEBUG=1) serves the files as they are from static/. DJANGO_STATIC_MANIFEST=0
# does the same without debug: the test suite uses it, and test_serving.py tests the hashed files.
STATIC_MANIFEST = env_flag("DJANGO_STATIC_MANIFEST", default=not DEBUG)
STATIC_ROOT = (
    Path(os.environ.get("DJANGO_STATIC_ROOT") or BASE_DIR / "staticfiles") if STATIC_MANIFEST else None
)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if STATIC_MANIFEST
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not STATIC_MANIFEST
WHITENOISE_AUTOREFRESH = DEBUG

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LOGIN_URL = "admin:login"

# Logins are throttled and logged by django-axes. Its backend comes first: it refuses a locked-out
# login before ModelBackend checks the password (it needs the request, so tests use force_login).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = 5
# A lock lifts by itself 15 minutes after the last failure; `manage.py axes_reset_username <name>`
# lifts it at once (README, "Accounts").
AXES_COOLOFF_TIME = datetime.timedelta(minutes=15)
# Lock the pair (username, IP address): the combination form of axes' AXES_LOCKOUT_PARAMETERS. By username
# alone, anyone could lock every editor out by guessing their names; by IP alone, one person's typos
# would lock out a whole ward behind the same address, and a guesser would simply change address.
# With the pair, guesses from one address cost that address its tries at that name and nothing else.
# Behind a proxy every client shares the proxy's REMOTE_ADDR, so the lock is then per username.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True  # the right password clears earlier typos
AXES_LOCKOUT_TEMPLATE = "axes/lockout.html"
AXES_HTTP_RESPONSE_CODE = 429  # Too Many Requests (axes 8's default, stated)
# Axes always masks the password in what it logs and stores; its default also masks the username
# and IP address, which would leave a log line that cannot say who was attacked or from where.
AXES_SENSITIVE_PARAMETERS: list[str] = []
# Not verbose: log lines name the lockout parameters (username, IP address) and the path, and every
# management command is spared axes' start-up banner.
AXES_VERBOSE = False

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Summary PDFs made at once per process, and waiting for their turn; beyond that, 503 "try again"
# (indications/summary.py). A PDF costs about 0.4 s of CPU; together they never hold more than half
# of a process's threads (GUNICORN_THREADS, as gunicorn.conf.py reads it).
PDF_RENDERS_PER_PROCESS = int(os.environ.get("DJANGO_PDF_RENDERS", "2"))
PDF_WAITING_PER_PROCESS = int(
    os.environ.get(
        "DJANGO_PDF_WAITING",
        max(0, int(os.environ.get("GUNICORN_THREADS", "16")) // 2 - PDF_RENDERS_PER_PROCESS),
    )
)
PDF_WAIT_SECONDS = float(os.environ.get("DJANGO_PDF_WAIT_SECONDS", "10"))

# Request bodies (the JSON API, the intake form) hold patient factors; the API refuses more than this.
DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024
API_MAX_BODY_BYTES = 64 * 1024

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

X_FRAME_OPTIONS = "DENY"
CSRF_FAILURE_VIEW = "decision_support.errors.csrf_failure"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
# Behind a proxy that terminates TLS, Django sees plain http unless it trusts X-Forwarded-Proto, and
# every client's address is the proxy's unless it trusts X-Forwarded-For. Both are trusted only when
# DJANGO_TRUST_PROXY_HEADERS says the proxy sets them (a client could send either header itself).
TRUST_PROXY_HEADERS = env_flag("DJANGO_TRUST_PROXY_HEADERS")
if TRUST_PROXY_HEADERS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # Login throttling (axes) keys on the client's address as the nearest proxy saw it.
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")
    AXES_IPWARE_PROXY_COUNT = int(os.environ.get("DJANGO_PROXY_COUNT", "1"))
HTTPS = env_flag("DJANGO_HTTPS")
if HTTPS:
    SECURE_SSL_REDIRECT = True
    # Machines, not browsers: API clients and the load balancer's health check get an answer over
    # plain http (a JSON refusal for the API: decision_support/errors.py), never a redirect.
    SECURE_REDIRECT_EXEMPT = [r"^api/", r"^cds-services", r"^healthz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_flag("DJANGO_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env_flag("DJANGO_HSTS_PRELOAD", default=True)

# Releases are signed (HMAC) with a key kept outside the database, so that a release inserted or
# rewritten in the database does not verify. Rotate by moving the old key to the fallbacks.
CATALOGUE_SIGNING_KEY = os.environ.get("CATALOGUE_SIGNING_KEY") or SECRET_KEY
CATALOGUE_SIGNING_KEY_FALLBACKS = [
    k for k in os.environ.get("CATALOGUE_SIGNING_KEY_FALLBACKS", "").split(",") if k.strip()
]
# Publishing refuses a throw-away key (no DJANGO_SECRET_KEY outside debug): its releases would not
# verify in the next process.
CATALOGUE_SIGNING_KEY_STABLE = bool(
    os.environ.get("CATALOGUE_SIGNING_KEY") or SECRET_KEY_FROM_ENVIRONMENT or DEBUG
)

# Editorial workflow: the reviewer who publishes may not be the only editor of the changes.
CATALOGUE_TWO_PERSON_RULE = env_flag("CATALOGUE_TWO_PERSON_RULE", default=True)

# Logs: one JSON object per line (structlog), one line per request (method, path without its query
# string, status, time, catalogue release); never a request body, query string or form value.
LOGGING = logging_config(
    level=os.environ.get("DJANGO_LOG_LEVEL", "INFO"), fmt=os.environ.get("DJANGO_LOG_FORMAT", "json")
)

# CDS Hooks (cds_hooks/). Trusted issuers: a JSON object mapping each allowed JWT "iss" to
# {"jwks_url": "https://..."} or {"jwks": {"keys": [...]}} (an inline JWK set).
try:
    CDS_HOOKS_ISSUERS = json.loads(os.environ.get("CDS_HOOKS_ISSUERS") or "{}")
except ValueError as error:
    raise ImproperlyConfigured(f"CDS_HOOKS_ISSUERS is not JSON: {error}") from None
if not isinstance(CDS_HOOKS_ISSUERS, dict):
    raise ImproperlyConfigured("CDS_HOOKS_ISSUERS must be a JSON object mapping each iss to its keys.")


# The CDS Hooks sandbox signs in the browser with a private key published in its repository: anyone can
# sign as it, so it is trusted only for local development.
def _names_sandbox(iss: str, entry) -> bool:
    urls = [iss, *(entry.get(k, "") for k in ("jwks_url", "jku"))] if isinstance(entry, dict) else [iss]
    return any("sandbox.cds-hooks.org" in str(url).lower() for url in urls)


if any(_names_sandbox(iss, entry) for iss, entry in CDS_HOOKS_ISSUERS.items()) and not DEBUG:
    raise ImproperlyConfigured(
        "CDS_HOOKS_ISSUERS trusts https://sandbox.cds-hooks.org, whose private key is public: development"
        " only (DJANGO_DEBUG=1)."
    )
# Unsigned calls for local development only: refused outside debug, and a warning at start.
CDS_HOOKS_ALLOW_UNSIGNED = env_flag("CDS_HOOKS_ALLOW_UNSIGNED")
if CDS_HOOKS_ALLOW_UNSIGNED and not DEBUG:
    raise ImproperlyConfigured(
        "CDS_HOOKS_ALLOW_UNSIGNED=1 is for local development: it needs DJANGO_DEBUG=1."
    )
# The service's own base URL as the EHR calls it (the JWT "aud" is checked against it); by default the
# URL of the request (scheme and host as Django sees them).
CDS_HOOKS_BASE_URL = os.environ.get("CDS_HOOKS_BASE_URL", "").rstrip("/")
# Labelling region of the cards (one deployment serves one region): "us" or "eu".
CDS_HOOKS_REGION = os.environ.get("CDS_HOOKS_REGION", "us")
if CDS_HOOKS_REGION not in ("us", "eu"):
    raise ImproperlyConfigured("CDS_HOOKS_REGION must be us or eu.")
# Observations older than this many days are reported as stale and not used for the dose.
CDS_HOOKS_STALE_DAYS = int(os.environ.get("CDS_HOOKS_STALE_DAYS", "90"))
# The longest token lifetime accepted (its jti is remembered that long); the spec asks for 5 minutes.
CDS_HOOKS_MAX_TOKEN_SECONDS = int(os.environ.get("CDS_HOOKS_MAX_TOKEN_SECONDS", "300"))
# Hook requests carry FHIR bundles: a larger body than the API's.
CDS_HOOKS_MAX_BODY_BYTES = int(os.environ.get("CDS_HOOKS_MAX_BODY_BYTES", str(1024 * 1024)))
# Seconds one call may spend fetching from the EHR's FHIR server (every fetch of the call together).
CDS_HOOKS_FHIR_DEADLINE = float(os.environ.get("CDS_HOOKS_FHIR_DEADLINE", "5"))
# Fetch missing prefetch from a FHIR server over plain http (tests and local development only).
CDS_HOOKS_FHIR_ALLOW_HTTP = DEBUG or env_flag("CDS_HOOKS_FHIR_ALLOW_HTTP")
# The app's own address for the card links to the intake page (default: the request's).
CDS_HOOKS_APP_URL = os.environ.get("CDS_HOOKS_APP_URL", "").rstrip("/")

CORS_URLS_REGEX = r"^/cds-services(/.*)?$"
CORS_ALLOWED_ORIGINS = [
    o.strip() for o in os.environ.get("CDS_HOOKS_CORS_ORIGINS", "").split(",") if o.strip()
]
CORS_ALLOW_METHODS = ("GET", "POST", "OPTIONS")
CORS_ALLOW_HEADERS = ("authorization", "content-type")
CORS_ALLOW_CREDENTIALS = False
