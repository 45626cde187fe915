"""The database goes away, or stops answering, under traffic; the service answers 503 fast on every
door, says so on /healthz, and recovers by itself when the database is back. Runs gunicorn as
`make serve` does on a private PostgreSQL instance (tests/ops/servers.py), never the shared one."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter

import pytest

from .servers import Gunicorn, PrivatePostgres, prepare, production_env

API_BODY = json.dumps({"indications": ["ocd"], "medications": ["sertraline"]}).encode()
JSON = {"Content-Type": "application/json"}
DOORS = [
    ("GET", "/healthz", None, {}),
    ("GET", "/", None, {}),
    ("POST", "/api/v1/assess", API_BODY, JSON),
    ("GET", "/about", None, {}),
]
FAIL_FAST = 5.0  # seconds: the bound for an answer while the database is stalled


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    database = PrivatePostgres()
    server = None
    try:
        database.init()
        env = production_env(
            DATABASE_URL=database.url,
            DJANGO_STATIC_ROOT=str(tmp_path_factory.mktemp("static")),
            WEB_CONCURRENCY="1",
            GUNICORN_THREADS="8",
        )
        prepare(env)
        server = Gunicorn(env).start()
        yield database, server
    finally:
        if server:
            server.stop()
        database.destroy()


class Traffic:
    """Clients calling every door in a loop, recording (door, status, seconds, started at)."""

    def __init__(self, server: Gunicorn, clients: int = 4):
        self.server = server
        self.results: list[tuple[str, int, float, float]] = []
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(clients)]

    def _run(self, offset: int) -> None:
        i = offset
        while not self.stop.is_set():
            method, path, body, headers = DOORS[i % len(DOORS)]
            i += 1
            started = time.monotonic()
            try:
                status, _, _, seconds = self.server.request(method, path, body, headers, timeout=30)
            except OSError:
                status, seconds = 0, time.monotonic() - started
            self.results.append((path, status, seconds, started))
            time.sleep(0.05)

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=40)

    def since(self, moment: float):
        return [r for r in self.results if r[3] >= moment]


def wait_for(predicate, seconds: float, step: float = 0.25) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


def healthy(server: Gunicorn) -> bool:
    try:
        return server.request("GET", "/healthz", timeout=10)[0] == 200
    except OSError:
        return False


def assert_unavailable_answers(server: Gunicorn) -> None:
    """While the database is out: each door says so (503, JSON for machines, a page for people)."""
    status, headers, body, seconds = server.request("GET", "/healthz")
    assert status == 503 and json.loads(body)["database"] == "unreachable"
    assert seconds < FAIL_FAST
    status, headers, body, seconds = server.request("POST", "/api/v1/assess", API_BODY, JSON)
    assert status == 503 and headers["Content-Type"] == "application/json"
    assert "database" in json.loads(body)["errors"]
    assert headers["Retry-After"]
    assert seconds < FAIL_FAST
    status, headers, body, seconds = server.request("GET", "/")
    assert status == 503 and headers["Content-Type"].startswith("text/html")
    assert b"cannot reach its database" in body and b"Traceback" not in body
    assert seconds < FAIL_FAST


def test_database_stopped_then_back_under_traffic(service):
    database, server = service
    assert healthy(server)
    workers = server.worker_pids()
    with Traffic(server) as traffic:
        time.sleep(1)
        database.stop()
        stopped_at = time.monotonic()
        time.sleep(1)
        assert_unavailable_answers(server)
        time.sleep(1)
        database.start()
        restarted_at = time.monotonic()
        assert wait_for(lambda: healthy(server), 15), "did not recover after the database came back"
        recovered_after = time.monotonic() - restarted_at
        time.sleep(1.5)
    during = [r for r in traffic.since(stopped_at) if r[3] < restarted_at]
    after = traffic.since(restarted_at + recovered_after + 0.5)
    statuses = Counter(status for _, status, _, _ in during)
    assert statuses and set(statuses) <= {200, 503}, statuses  # never a 500, never a dropped connection
    assert statuses[503] > 0
    assert max(seconds for _, _, seconds, _ in during) < FAIL_FAST
    assert after and all(status == 200 for _, status, _, _ in after), Counter(s for _, s, _, _ in after)
    assert server.worker_pids() == workers  # recovered without a restart
    print(f"stopped: {dict(statuses)}; recovered {recovered_after:.1f} s after the restart")


def test_database_frozen_then_thawed_under_traffic(service):
    database, server = service
    assert wait_for(lambda: healthy(server), 15)
    workers = server.worker_pids()
    with Traffic(server) as traffic:
        time.sleep(1)  # every worker thread holds an open connection to the database now
        database.freeze()
        frozen_at = time.monotonic()
        try:
            time.sleep(0.5)
            assert_unavailable_answers(server)
            time.sleep(FAIL_FAST)
        finally:
            database.thaw()
        thawed_at = time.monotonic()
        assert wait_for(lambda: healthy(server), 15), "did not recover after the database thawed"
        recovered_after = time.monotonic() - thawed_at
        time.sleep(1.5)
    # Every request that started while the database was frozen was answered, 503, within the bound
    # (those that started just before may have finished once it thawed, with 200).
    during = [r for r in traffic.since(frozen_at) if r[3] < thawed_at - FAIL_FAST]
    statuses = Counter(status for _, status, _, _ in during)
    assert statuses and set(statuses) <= {200, 503}, statuses
    assert statuses[503] > 0
    slowest = max(seconds for _, _, seconds, _ in during)
    assert slowest < FAIL_FAST, slowest
    after = traffic.since(thawed_at + recovered_after + 0.5)
    assert after and all(status == 200 for _, status, _, _ in after), Counter(s for _, s, _, _ in after)
    assert server.worker_pids() == workers  # no worker killed by gunicorn's timeout
    assert "WORKER TIMEOUT" not in server.log()
    print(
        f"frozen: {dict(statuses)}, slowest {slowest:.2f} s; recovered {recovered_after:.1f} s after thawing"
    )
