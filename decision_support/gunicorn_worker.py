"""gunicorn's threaded worker, hardened against clients that send slowly, or not at all.

gunicorn's gthread worker keeps kept-alive connections in its main loop, holding no thread. Gaps
closed here (each found by an attack review, each tested in tests/ops/test_serving.py):

- A new connection took a thread at once, which then waited up to 5 s for its first bytes: a few
  dozen connections that send nothing held every thread. Here a new connection waits in the main
  loop until its first bytes arrive (at most ``keepalive`` seconds), as a kept-alive one does.
- A client that starts a request and then trickles held a thread for as long as it trickled. Here a
  request (line, headers and body) must arrive within ``READ_TIMEOUT`` seconds of its first bytes
  (GUNICORN_READ_TIMEOUT, default 10); a slower client is treated as gone.
- Closing a connection "gracefully" lingers up to 2 s for the client to close its side, and gunicorn
  did it on the main loop: four clients that never closed stopped the process answering anyone for
  8 s. Here those closes run on a small pool of their own.
- gunicorn's own error answers (a request it cannot parse) echoed the request line, patient values
  included, and answered an unknown transfer coding with 501. Here they say only what was wrong,
  as JSON, with a 4xx status; their log lines are redacted in decision_support/observability.py.

Clients that read the answer very slowly still hold a thread while it is sent (at most
``READ_TIMEOUT`` seconds per write); more such clients than threads is what a buffering proxy in
front is for.
"""

from __future__ import annotations

import errno
import json
import os
import selectors
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial

from gunicorn import util
from gunicorn.http.errors import NoMoreData
from gunicorn.workers import gthread

READ_TIMEOUT = float(os.environ.get("GUNICORN_READ_TIMEOUT", "10"))

_request = threading.local()  # .deadline: when the request being read must have arrived


class _TimedSocket(socket.socket):
    __slots__ = ()  # the same layout as socket.socket, so an accepted socket can become one

    def setblocking(self, flag: bool) -> None:
        # gunicorn sets the socket blocking before reading a request: blocking, but not for ever.
        if flag:
            self.settimeout(READ_TIMEOUT)
        else:
            super().setblocking(False)

    def _bound_read(self) -> None:
        """Wait for the client no longer than the request's time left (what already arrived is read)."""
        deadline = getattr(_request, "deadline", None)
        if deadline is not None and self.gettimeout() != 0.0:
            self.settimeout(min(max(deadline - time.monotonic(), 0.001), READ_TIMEOUT))

    # Too slow is an error, never the end of the request: a body cut short must not be read as a
    # whole one (a form without the medications not yet sent), nor what follows it as a new request.
    # gunicorn treats NoMoreData as the client gone: before the application, the connection is
    # closed; inside it, Django cannot read the body (UnreadablePostError: 408, errors.py), and the
    # connection is closed after the answer.
    def recv(self, *args, **kwargs):
        self._bound_read()
        try:
            return super().recv(*args, **kwargs)
        except TimeoutError:
            raise NoMoreData() from None

    def recv_into(self, *args, **kwargs):
        self._bound_read()
        try:
            return super().recv_into(*args, **kwargs)
        except TimeoutError:
            raise NoMoreData() from None

    def sendall(self, *args, **kwargs):
        if self.gettimeout() != 0.0:
            self.settimeout(READ_TIMEOUT)
        return super().sendall(*args, **kwargs)


MAX_LINGERING = 64  # connections lingering before their close at once; beyond that, closed at once


class _Connection(gthread.TConn):
    closer: ThreadPoolExecutor | None = None  # per worker process (ThreadWorker.init_process)
    lingering = 0
    lock = threading.Lock()

    def close(self, graceful: bool = False) -> None:
        if graceful and self.closer is not None:
            with self.lock:
                room = _Connection.lingering < MAX_LINGERING
                if room:
                    _Connection.lingering += 1
            if room:
                self.closer.submit(self._linger_and_close)
                return
        super().close(False)

    def _linger_and_close(self) -> None:
        try:
            super().close(True)
        finally:
            with self.lock:
                _Connection.lingering -= 1


class ThreadWorker(gthread.ThreadWorker):
    def init_process(self):
        _Connection.closer = ThreadPoolExecutor(max_workers=8, thread_name_prefix="close")
        super().init_process()

    def accept(self, listener):
        """A new connection waits in the main loop, holding no thread, until its first bytes arrive."""
        try:
            client, address = listener.accept()
        except OSError as error:
            # Out of file descriptors or memory: refuse this one and carry on (gunicorn would stop).
            if error.errno not in (
                errno.EAGAIN,
                errno.ECONNABORTED,
                errno.EWOULDBLOCK,
                errno.EMFILE,
                errno.ENFILE,
                errno.ENOBUFS,
                errno.ENOMEM,
            ):
                raise
            return
        self.nr_conns += 1
        client.__class__ = _TimedSocket
        conn = _Connection(self.cfg, client, address, listener.getsockname())  # non-blocking
        conn.timeout = time.monotonic() + self.cfg.keepalive  # then closed (murder_keepalived)
        self.pending_conns.append(conn)
        self.poller.register(client, selectors.EVENT_READ, partial(self.on_pending_socket_readable, conn))

    def handle(self, conn):
        _request.deadline = time.monotonic() + READ_TIMEOUT
        try:
            return super().handle(conn)
        finally:
            _request.deadline = None

    def enqueue_req(self, conn):
        if type(conn) is gthread.TConn:  # not accepted here (never, with this worker): harden it too
            conn.__class__ = _Connection
        if type(conn.sock) is socket.socket:
            conn.sock.__class__ = _TimedSocket
        super().enqueue_req(conn)


def _write_error(sock, status_int, reason, mesg):
    """gunicorn's answer to a request it could not parse: what was wrong, never what was sent."""
    if status_int >= 500 and status_int != 503:  # hostile input is the client's error
        status_int, reason = 400, "Bad Request"
    body = json.dumps({"errors": {"request": [f"{reason}: the request could not be read."]}})
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    util.write_nonblock(sock, (head + body).encode("latin1"))


util.write_error = _write_error  # gunicorn's workers call util.write_error(...) at the time of the error
