"""gunicorn settings for `make serve` (README, "Production"). Every value can be overridden from the
environment: PORT, HOST, WEB_CONCURRENCY (processes), GUNICORN_THREADS (threads per process),
GUNICORN_READ_TIMEOUT (seconds a client has to send a whole request once it starts)."""

import os

from decision_support.observability import logging_config

wsgi_app = "decision_support.wsgi:application"
bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"

# Processes: one per core by default. Threads: requests are short and mostly CPU-bound (the GIL
# makes more threads no faster), but a thread waits while a slow client sends its request, so each
# process has many, and idle or kept-alive connections wait in its main loop holding none
# (decision_support/gunicorn_worker.py).
workers = int(os.environ.get("WEB_CONCURRENCY", str(os.cpu_count() or 2)))
worker_class = "decision_support.gunicorn_worker.ThreadWorker"
threads = int(os.environ.get("GUNICORN_THREADS", "16"))
worker_connections = 1000
keepalive = 5  # seconds an idle kept-alive connection stays open
# The main loop of each process reports to the arbiter; a request blocked on the database never
# reaches this (the database time bounds, about 4 s, fail it first: decision_support/settings.py).
timeout = 30
graceful_timeout = 20
max_requests = 100000  # recycle processes now and then (a few times an hour at full load), staggered
max_requests_jitter = 10000

limit_request_line = 4094
limit_request_fields = 60
limit_request_field_size = 8190

# Django alone decides whether a request came over https (DJANGO_TRUST_PROXY_HEADERS); gunicorn must
# not turn a client's own X-Forwarded-Proto into https first.
secure_scheme_headers = {}

accesslog = None  # the application logs one structured line per request
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
logconfig_dict = logging_config(
    level=os.environ.get("DJANGO_LOG_LEVEL", "INFO"), fmt=os.environ.get("DJANGO_LOG_FORMAT", "json")
)

# gunicorn 27's control socket (a shared path in the home directory) is not used.
control_socket_disable = True

# Each process listens on its own socket (SO_REUSEPORT) and the kernel spreads new connections over
# them. With one shared socket, whichever process woke first took most of them (the load benchmark
# saw 31 of 32 kept-alive connections on one process, so one core did the work of two).
reuse_port = True
