"""Loaded as a pytest plugin (-p in pyproject) before pytest-django reads the settings."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret")
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop
# Static files straight from static/ (the live server's static handler cannot serve hashed names);
# the hashed, compressed files that production serves are tested in tests/ops/test_serving.py.
os.environ.setdefault("DJANGO_STATIC_MANIFEST", "0")
