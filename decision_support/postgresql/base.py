"""Django's PostgreSQL backend, with every wait on the server bounded in time.

A database that accepts connections but stops answering (frozen, swapped out, a network path that
drops packets) would otherwise hold a request, and its worker thread, until the server came back.
Three bounds, all from settings (decision_support/settings.py):

- ``connect_timeout`` (libpq): opening a connection;
- ``statement_timeout`` (server side): a query the server is running, cancelled cleanly;
- ``DATABASE_STALL_TIMEOUT`` (client side, here): any one round trip to the server (a query, a
  commit; Django's health check gets one second), for a server that cannot even cancel. The
  connection is dropped and the operation fails with ``OperationalError``; the request is answered 503
  (decision_support/errors.py) and the next request opens a new connection.
"""

from __future__ import annotations

import psycopg
from django.conf import settings
from django.db.backends.postgresql import base
from psycopg import errors as pg_errors

# Django's health check of a kept connection (``SELECT 1``) answers in milliseconds when the server is
# well; when it is not, the request still has to open a new connection (``connect_timeout``) before
# it can fail, so the check gets a shorter bound than other round trips.
HEALTH_CHECK_TIMEOUT = 1.0


class StallSafeConnection(psycopg.Connection):
    stall_limit: float | None = None  # this connection's bound for now, if not the setting's

    def wait(self, gen, *args, timeout: float | None = None, **kwargs):
        limit = self.stall_limit or settings.DATABASE_STALL_TIMEOUT
        if timeout is None and limit:
            timeout = limit
        try:
            return super().wait(gen, *args, timeout=timeout, **kwargs)
        except pg_errors._WaitTimeout:
            # The server did not answer: the connection's state is unknown, so it is never reused.
            self.pgconn.finish()
            raise psycopg.OperationalError(f"the database did not answer within {timeout:g} s") from None


class _Driver:
    """psycopg as Django's backend sees it, except that connections are StallSafeConnections."""

    connect = staticmethod(StallSafeConnection.connect)

    def __getattr__(self, name):
        return getattr(psycopg, name)


class DatabaseWrapper(base.DatabaseWrapper):
    Database = _Driver()

    def is_usable(self):
        self.connection.stall_limit = HEALTH_CHECK_TIMEOUT
        try:
            return super().is_usable()
        finally:
            self.connection.stall_limit = None
