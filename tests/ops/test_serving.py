"""`make serve` as an operations team would check it: gunicorn with production settings, static files
hashed and compressed, HTML compressed, chunked bodies read, slow clients contained, one JSON log
line per request with no patient value. SQLite in a temporary file: this is about the web server."""

from __future__ import annotations

import gzip
import json
import re
import select
import socket
import threading
import time

import pytest

from .servers import Gunicorn, prepare, production_env

API = {
    "renal": {
        "age_years": 81,
        "sex": "female",
        "weight_kg": 47.3,
        "serum_creatinine": 2.71,
        "creatinine_unit": "mg/dL",
    },
    "medications": ["sertraline", "Zyxorbaline"],
    "indications": ["ocd"],
}
API_BODY = json.dumps(API).encode()
JSON = {"Content-Type": "application/json"}
READ_TIMEOUT = 2  # GUNICORN_READ_TIMEOUT for this server


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("serve")
    env = production_env(
        DATABASE_URL=f"sqlite:///{tmp / 'db.sqlite3'}",
        DJANGO_STATIC_ROOT=str(tmp / "static"),
        WEB_CONCURRENCY="1",
        GUNICORN_THREADS="6",
        GUNICORN_READ_TIMEOUT=str(READ_TIMEOUT),
    )
    prepare(env)
    gunicorn = Gunicorn(env).start()
    yield gunicorn
    gunicorn.stop()


def chunked(body: bytes, size: int = 7) -> bytes:
    parts = [body[i : i + size] for i in range(0, len(body), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"


def raw_request(port: int, head: str, body: bytes = b"") -> tuple[int, bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(head.encode() + body)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    status = int(data.split(b" ", 2)[1])
    return status, data.split(b"\r\n\r\n", 1)[1]


def test_static_files_are_hashed_compressed_and_cached_for_a_year(server):
    status, headers, page, _ = server.request("GET", "/", headers={"Accept-Encoding": "gzip"})
    assert status == 200 and headers["Content-Encoding"] == "gzip"  # HTML compressed
    html = gzip.decompress(page).decode()
    assets = re.findall(r'(?:href|src)="(/static/[^"]+)"', html)
    assert assets and all(re.search(r"\.[0-9a-f]{12}\.(css|js)$", a) for a in assets), assets
    for asset in assets:
        status, headers, _, _ = server.request("GET", asset, headers={"Accept-Encoding": "br, gzip"})
        assert status == 200
        assert headers["Content-Encoding"] == "br"  # compressed when collected, not per request
        assert "immutable" in headers["Cache-Control"] and "max-age=315360000" in headers["Cache-Control"]


def test_debug_is_off_and_errors_leak_nothing(server):
    status, headers, body, _ = server.request("GET", "/no-such-page")
    assert status == 404 and b"There is no page at this address" in body
    assert b"urlpatterns" not in body and b"Traceback" not in body  # not Django's debug page
    status, headers, body, _ = server.request("GET", "/api/v1/no-such-thing")
    assert status == 404 and headers["Content-Type"] == "application/json"
    assert json.loads(body) == {"errors": {"request": ["There is no page at this address."]}}


def test_a_chunked_json_body_is_read(server):
    expected = server.request("POST", "/api/v1/assess", API_BODY, {"Content-Type": "application/json"})
    assert expected[0] == 200
    head = (
        "POST /api/v1/assess HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    status, body = raw_request(server.port, head, chunked(API_BODY))
    assert status == 200
    assert json.loads(body) == json.loads(expected[2])


def test_a_chunked_body_over_the_limit_is_refused(server):
    head = (
        "POST /api/v1/assess HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    status, body = raw_request(server.port, head, chunked(b" " * (65 * 1024) + b"{}", size=4096))
    assert status == 413
    assert "64 KiB" in json.loads(body)["errors"]["body"][0]


def healthz_seconds(server: Gunicorn, n: int = 20) -> list[float]:
    return [server.request("GET", "/healthz")[3] for _ in range(n)]


def test_slow_clients_do_not_delay_healthz_and_are_cut_off(server):
    slow = []
    for _ in range(4):
        s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        s.sendall(b"POST /api/v1/assess HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-")  # and nothing more
        slow.append(s)
    try:
        time.sleep(0.3)
        assert max(healthz_seconds(server)) < 1.0
        # A client silent for longer than the read timeout is treated as gone: the server closes it.
        time.sleep(READ_TIMEOUT + 1.5)
        for s in slow:
            s.settimeout(3)
            assert s.recv(100) == b""
        assert max(healthz_seconds(server)) < 1.0
    finally:
        for s in slow:
            s.close()


def test_one_json_log_line_per_request_with_no_patient_value(server):
    marker = f"/healthz?probe={time.time_ns()}"
    server.request("GET", marker)
    server.request("POST", "/api/v1/assess?region=eu", API_BODY, {"Content-Type": "application/json"})
    time.sleep(0.3)
    log = server.log()
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    assert len(lines) == len([line for line in log.splitlines() if line.strip()])  # every line is JSON
    requests = [line for line in lines if line["event"] == "request"]
    health = [r for r in requests if r["path"] == "/healthz"]
    assert health and all(
        set(r) >= {"method", "path", "status", "duration_ms", "release", "timestamp"} for r in health
    )
    api = [r for r in requests if r["path"] == "/api/v1/assess"]
    assert api[-1]["status"] == 200 and api[-1]["method"] == "POST"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d\.\d+", api[-1]["release"])
    # Nothing the client sent beyond the path: no query string, no body value (searched in every
    # field but the time stamp and the duration, whose digits could match a number by chance).
    logged = json.dumps(
        [{k: v for k, v in line.items() if k not in ("timestamp", "duration_ms")} for line in lines]
    )
    for secret in ("probe=", "region=eu", "47.3", "2.71", "Zyxorbaline", "sertraline"):
        assert secret not in logged


def test_clients_that_never_close_do_not_stall_the_server(server):
    """gunicorn lingers before closing a connection (RFC 9112 9.6); done on its main loop, four clients
    that never close their side would stop it accepting anyone for seconds."""
    lingering = []
    for _ in range(4):
        s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        lingering.append(s)
    try:
        time.sleep(0.2)
        assert max(healthz_seconds(server, 30)) < 1.0
    finally:
        for s in lingering:
            s.close()


def test_a_burst_of_pdfs_does_not_take_every_thread(server):
    """Six threads, twelve clients asking for PDFs at once: the health check is still answered."""
    statuses = []

    def ask():
        statuses.append(server.request("POST", "/api/v1/summary.pdf", API_BODY, JSON, timeout=60)[0])

    clients = [threading.Thread(target=ask) for _ in range(12)]
    for client in clients:
        client.start()
    time.sleep(0.5)
    assert max(healthz_seconds(server, 10)) < 1.0
    for client in clients:
        client.join(60)
    assert set(statuses) <= {200, 503} and statuses.count(200) >= 2, statuses


def test_connections_that_send_nothing_hold_no_thread(server):
    """More silent connections than the process has threads: they wait in its main loop."""
    silent = [socket.create_connection(("127.0.0.1", server.port), timeout=10) for _ in range(20)]
    try:
        time.sleep(0.3)
        assert max(healthz_seconds(server, 10)) < 1.0
    finally:
        for s in silent:
            s.close()


def test_a_client_that_trickles_its_request_is_cut_off(server):
    """A byte every half second keeps every read within its timeout; the request as a whole must
    still arrive within the read timeout, or the server closes its side."""
    s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    started = time.monotonic()
    closed_after = None
    try:
        for byte in b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: " + b"x" * 40:
            if select.select([s], [], [], 0)[0] and s.recv(100) == b"":  # the server's FIN
                closed_after = time.monotonic() - started
                break
            s.sendall(bytes([byte]))
            time.sleep(0.5)
    except OSError:
        closed_after = time.monotonic() - started
    finally:
        s.close()
    assert closed_after is not None and closed_after < READ_TIMEOUT + 1.5, closed_after


def test_what_gunicorn_cannot_parse_is_refused_without_echo_or_log(server):
    status, body = raw_request(server.port, "GET /?weight=ZZLEAK\t51 HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status == 400 and b"ZZLEAK" not in body and json.loads(body)["errors"]
    head = (
        "POST /api/v1/assess HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: br, chunked\r\nConnection: close\r\n\r\n"
    )
    assert raw_request(server.port, head, chunked(b"{}"))[0] == 400  # not 501: the client's error
    head = head.replace("br, chunked", "gzip, chunked")
    status, body = raw_request(server.port, head, chunked(b"{}"))
    assert status == 400 and "chunked" in json.loads(body)["errors"]["body"][0]
    fields = "&".join(f"f{i}=1" for i in range(1500)).encode()
    status, _, _, _ = server.request(
        "POST", "/", fields, {"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert status in (400, 403)
    time.sleep(0.3)
    log = server.log()
    assert "ZZLEAK" not in log and "weight=" not in log
    assert "Traceback" not in log


def send_then_stall(port: int, head: bytes, first: bytes, rest: bytes) -> bytes:
    """Send a request with part of its body, stay silent past the read timeout, then send the rest;
    return everything the server answered."""
    with socket.create_connection(("127.0.0.1", port), timeout=READ_TIMEOUT + 5) as s:
        s.sendall(head + first)
        time.sleep(READ_TIMEOUT + 1)
        try:
            s.sendall(rest)
        except OSError:
            pass
        answer = b""
        try:
            while chunk := s.recv(65536):
                answer += chunk
        except OSError:
            pass
    return answer


def test_a_body_cut_short_by_the_timeout_is_never_read_as_a_whole(server):
    """Declared 72 bytes, 24 sent in time: never answered as if complete, and what arrives late is
    never read as a request of its own."""
    first = b'{"indications": ["ocd"]}'
    rest = b"GET /smuggled-path HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    head = (
        b"POST /api/v1/assess HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n" % (len(first) + len(rest))
    )
    answer = send_then_stall(server.port, head, first, rest)
    assert not answer.startswith(b"HTTP/1.1 200"), answer[:200]
    assert b"smuggled" not in answer and "smuggled" not in server.log()


def test_a_form_cut_short_by_the_timeout_computes_nothing(server):
    _, headers, page, _ = server.request("GET", "/")
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    cookie = re.search(r"csrftoken=([^;]+)", headers["Set-Cookie"]).group(1)
    first = b"csrfmiddlewaretoken=" + token + b"&region=us&indications=ocd"
    rest = b"&medications=amantadine&age_years=83"
    head = (
        b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        b"HX-Request: true\r\nReferer: http://127.0.0.1/\r\nCookie: csrftoken=%s\r\n"
        b"Content-Length: %d\r\n\r\n" % (cookie.encode(), len(first) + len(rest))
    )
    answer = send_then_stall(server.port, head, first, rest)
    assert not answer.startswith(b"HTTP/1.1 200"), answer[:300]
    assert b"Dose" not in answer
    assert "Traceback" not in server.log()  # a slow client is not a server error
