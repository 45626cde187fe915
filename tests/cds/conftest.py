"""The editorial accounts of the web tests (feedback is read in admin)."""

from tests.web.conftest import auditor, editor, reviewer  # noqa: F401 (fixtures)
