"""gunicorn's threaded worker, hardened against clients that stop sending.

gunicorn's gthread worker keeps idle and kept-alive connections in its main loop, and (gunicorn 27)
lets a new connection take a thread only once its first bytes arrive. Two gaps remain, closed here:

- A client that starts a request and then goes silent holds a thread while the request is read.
  Here every read from the client, of the request line, the headers or the body, waits at most
  ``READ_TIMEOUT`` seconds (GUNICORN_READ_TIMEOUT, default 10); a client silent for that long is
  treated as gone.
- Closing a connection "gracefully" lingers up to 2 s for the client to close its side, and gunicorn
  does it on the main loop: a few clients that never close would stop the process accepting and
  answering anyone. Here those closes run on a small pool of their own.
"""

from __future__ import annotations

import os
import socket
from concurrent.futures import ThreadPoolExecutor

from gunicorn.workers import gthread

READ_TIMEOUT = float(os.environ.get("GUNICORN_READ_TIMEOUT", "10"))


class _TimedSocket(socket.socket):
    __slots__ = ()  # the same layout as socket.socket, so an accepted socket can become one

    def setblocking(self, flag: bool) -> None:
        # gunicorn sets the socket blocking before reading a request: blocking, but not for ever.
        if flag:
            self.settimeout(READ_TIMEOUT)
        else:
            super().setblocking(False)

    def recv(self, *args, **kwargs):
        try:
            return super().recv(*args, **kwargs)
        except TimeoutError:
            return b""  # read by gunicorn's parser as the client having gone away

    def recv_into(self, *args, **kwargs):
        try:
            return super().recv_into(*args, **kwargs)
        except TimeoutError:
            return 0


class _Connection(gthread.TConn):
    closer: ThreadPoolExecutor | None = None  # per worker process (ThreadWorker.init_process)

    def close(self, graceful: bool = False) -> None:
        if graceful and self.closer is not None:
            self.closer.submit(super().close, True)
        else:
            super().close(graceful)


class ThreadWorker(gthread.ThreadWorker):
    def init_process(self):
        _Connection.closer = ThreadPoolExecutor(max_workers=8, thread_name_prefix="close")
        super().init_process()

    def enqueue_req(self, conn):
        if type(conn) is gthread.TConn:
            conn.__class__ = _Connection
            if type(conn.sock) is socket.socket:
                conn.sock.__class__ = _TimedSocket
        super().enqueue_req(conn)
