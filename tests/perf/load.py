"""Load benchmark: the service as `make serve` runs it (gunicorn + PostgreSQL), driven over loopback by wrk.

    make load                                   # full run, about 2 to 3 minutes
    .venv/bin/python tests/perf/load.py --quick # about a minute and a half
    .venv/bin/python tests/perf/load.py --duration 10 --workers 2 --keep-log

It prints numbers and goal checks; it does not assert them. The exit status is non-zero only when a
request failed (a connection error, a timeout or a status other than 2xx; a 503 from the PDF door, its
designed load shedding, is counted apart as "busy") or the server did not start.

What it does:
- creates a throw-away PostgreSQL database (createdb -h 127.0.0.1 -U postgres load_<pid>, dropped at
  the end whatever happens), runs migrate, seed_catalogue, setup_roles and collectstatic as `make serve`
  does, then starts `.venv/bin/gunicorn --config gunicorn.conf.py` on a spare loopback port with
  DJANGO_DEBUG=0 and WEB_CONCURRENCY=2 (one process per core of the 2-core target);
- runs wrk (Debian package `wrk`; installed with apt-get when missing and run as root) against
  GET /healthz (the floor), the htmx results request (POST / with HX-Request, the CSRF cookie and token
  taken from GET /, the filled form of tests/perf/bench.py), POST /api/v1/assess (JSON) and
  POST /api/v1/summary.pdf (the same JSON), each at 1, 8 and 32 concurrent keep-alive clients for a
  fixed time after a warm-up;
- measures /healthz (sequential requests, a new connection each) before and while four slow clients hold
  connections open, each sending a request line one byte a second and never finishing it;
- the PDF comes last (the server is stopped with whatever it still renders): its cells last
  --pdf-duration seconds, or long enough for two or three rounds of PDFs to finish at that concurrency
  (from the time of one PDF alone), at most 30 s (15 s with --quick).

wrk runs one thread: it shares the two cores with the server, and one event-loop thread drives 32
connections at these rates with a few percent of a core. Every request asks for gzip, as browsers and
HTTP libraries do (--no-gzip: none does). Latencies are wrk's (closed loop: a client sends its next
request when the previous answer arrives), in milliseconds; "ratio" is the endpoint's requests per
second over /healthz's at the same concurrency in the same run. The CPU columns say where the cores
went, per request: "app" the gunicorn processes, "db" this database's PostgreSQL backends; "other%" is
the share of all cores used by everything else on the machine during the cell (wrk included): high
values mean noisy numbers. "split" is how the client connections were spread over the gunicorn
workers a second into the cell (from `ss`): a kept-alive connection stays with the process that
accepted it, and a process runs Python on one core at a time.

Goals (issue, on 2 cores): no errors; /api/v1/assess at least 0.8 of /healthz and the htmx results
request at least 0.5; p99 under 100 ms at 32 clients (the PDF reported, not judged); four slow clients
delay /healthz by less than a second.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.perf.samples import API, FORM  # noqa: E402

VENV_BIN = ROOT / ".venv" / "bin"
PG = ["-h", "127.0.0.1", "-p", "5432", "-U", "postgres"]
CONCURRENCY = (1, 8, 32)
TICK = os.sysconf("SC_CLK_TCK")

# Counts 503 answers ("busy") and other non-2xx answers in every wrk thread and prints one JSON line
# at the end.
LUA_TEMPLATE = """
{request}
local threads = {{}}
function setup(thread) table.insert(threads, thread) end
function init(args) non2xx = 0; busy = 0 end
function response(status, headers, body)
  if status == 503 then busy = busy + 1
  elseif status < 200 or status > 299 then non2xx = non2xx + 1 end
end
function done(summary, latency, requests)
  local bad, busy = 0, 0
  for _, t in ipairs(threads) do
    bad = bad + (t:get("non2xx") or 0)
    busy = busy + (t:get("busy") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'LOADJSON {{"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, ' ..
    '"timeout": %d, "non2xx": %d, "busy": %d, "p50": %.0f, "p95": %.0f, "p99": %.0f, "max": %.0f}}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.timeout, bad, busy,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
"""


def lua_string(text: str) -> str:
    """A Lua string literal (decimal escapes for anything but printable ASCII)."""
    out = []
    for byte in text.encode():
        char = chr(byte)
        out.append(char if 32 <= byte < 127 and char not in '"\\' else f"\\{byte}")
    return '"' + "".join(out) + '"'


@dataclass
class Endpoint:
    name: str
    path: str
    method: str = "GET"
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)

    def lua(self, gzip: bool = True) -> str:
        lines = [f"wrk.method = {lua_string(self.method)}"]
        if self.body:
            lines.append(f"wrk.body = {lua_string(self.body)}")
        accept = {"Accept-Encoding": "gzip, deflate"} if gzip else {}
        for key, value in {**accept, **self.headers}.items():
            lines.append(f"wrk.headers[{lua_string(key)}] = {lua_string(value)}")
        return LUA_TEMPLATE.format(request="\n".join(lines))


@dataclass
class Cell:
    endpoint: str
    clients: int
    seconds: float
    requests: int = 0
    rps: float = 0.0
    p50: float = 0.0
    p95: float = 0.0
    p99: float = 0.0
    max: float = 0.0
    errors: int = 0
    busy: int = 0  # PDF requests told to retry (503, Retry-After): the PDF door's load shedding
    detail: str = ""
    app_ms: float = 0.0  # CPU per request
    db_ms: float = 0.0
    other: float = 0.0  # share of all cores used by the rest of the machine
    split: str = ""  # client connections per gunicorn worker


# --- CPU accounting, from /proc --------------------------------------------------------------------


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()  # [0] is field 3 (state): ppid [1], utime [11] ... cstime [14]


def app_cpu(master: int) -> float:
    """CPU seconds of gunicorn: the master, its workers, and workers it has reaped (cutime, cstime)."""
    fields = _stat(master)
    if fields is None:
        return 0.0
    total = sum(int(v) for v in fields[11:15])
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            child = _stat(int(entry.name))
            if child is not None and child[1] == str(master):
                total += int(child[11]) + int(child[12])
    return total / TICK


def db_cpu(database: str) -> dict[int, float]:
    """CPU seconds of each PostgreSQL backend connected to the database, by pid."""
    query = f"SELECT pid FROM pg_stat_activity WHERE datname = '{database}'"
    out = subprocess.run(["psql", *PG, "-Atc", query, "postgres"], capture_output=True, text=True).stdout
    times = {}
    for pid in (int(p) for p in out.split()):
        fields = _stat(pid)
        if fields is not None:
            times[pid] = (int(fields[11]) + int(fields[12])) / TICK
    return times


def machine_busy() -> float:
    """CPU seconds used on all cores since boot (everything but idle and iowait)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return (sum(values) - values[3] - values[4]) / TICK


class CpuMeter:
    def __init__(self, master: int, database: str):
        self.master, self.database = master, database

    def start(self) -> None:
        self.t0, self.busy0 = time.monotonic(), machine_busy()
        self.app0, self.db0 = app_cpu(self.master), db_cpu(self.database)

    def stop(self, cell: Cell) -> None:
        app, db, busy = app_cpu(self.master), db_cpu(self.database), machine_busy()
        wall = time.monotonic() - self.t0
        app_s = app - self.app0
        db_s = sum(t - self.db0.get(pid, 0.0) for pid, t in db.items())  # a backend gone meanwhile is lost
        if cell.requests:
            cell.app_ms, cell.db_ms = app_s / cell.requests * 1000, db_s / cell.requests * 1000
        cell.other = max(0.0, (busy - self.busy0 - app_s - db_s) / (wall * (os.cpu_count() or 1)))


# --- HTTP ------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ensure_wrk() -> str:
    path = shutil.which("wrk")
    if path:
        return path
    if os.geteuid() != 0:
        sys.exit("wrk is missing: install it with `sudo apt-get install -y wrk`, then run again.")
    print("wrk is missing: installing the Debian package (apt-get install -y wrk)", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], env=env).returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], env=env, check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], env=env, check=True)
    return shutil.which("wrk") or sys.exit("wrk could not be installed")


def request(port: int, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        conn.close()


def healthz_ms(port: int) -> float | None:
    """One GET /healthz on a new connection: its time in ms, or None when it failed."""
    start = time.perf_counter()
    try:
        ok = request(port, "GET", "/healthz")[0] == 200
    except OSError:
        ok = False
    return (time.perf_counter() - start) * 1000 if ok else None


def wait_until_up(port: int, server: subprocess.Popen, limit: float = 40) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with status {server.returncode}")
        if healthz_ms(port) is not None:
            return
        time.sleep(0.25)
    raise RuntimeError(f"/healthz did not answer 200 within {limit:.0f} s")


def settle(port: int, baseline: float, limit: float = 30) -> None:
    """Waits until the server has answered what the last cell left queued (wrk does not wait for it):
    /healthz answers about as fast as when idle."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        took = healthz_ms(port)
        if took is not None and took < max(100, 5 * baseline):
            return
        time.sleep(0.2)


def endpoints(port: int) -> list[Endpoint]:
    """The four requests, the htmx one with the CSRF cookie and token a browser would have from GET /."""
    status, headers, page = request(port, "GET", "/")
    if status != 200:
        raise RuntimeError(f"GET / answered {status}")
    cookies = [v.split(";", 1)[0] for k, v in headers if k.lower() == "set-cookie"]
    csrf_cookie = next(c.split("=", 1)[1] for c in cookies if c.startswith("csrftoken="))
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1).decode()
    origin = f"http://127.0.0.1:{port}"
    htmx = Endpoint(
        "htmx results (POST /)",
        "/",
        "POST",
        urlencode({**FORM, "csrfmiddlewaretoken": token}, doseq=True),
        {
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": "; ".join(cookies),
            "X-CSRFToken": csrf_cookie,
            "HX-Request": "true",
            "HX-Current-URL": origin + "/",
            "HX-Target": "results",
            "HX-Trigger": "intake-form",
            "Origin": origin,
            "Referer": origin + "/",
        },
    )
    api_body = json.dumps(API)
    json_headers = {"Content-Type": "application/json"}
    result = [
        Endpoint("/healthz", "/healthz"),
        htmx,
        Endpoint("/api/v1/assess", "/api/v1/assess", "POST", api_body, json_headers),
        Endpoint("PDF /api/v1/summary.pdf", "/api/v1/summary.pdf", "POST", api_body, json_headers),
    ]
    for ep in result:  # each answers 200 before it is measured (a wrong CSRF token would be a 403)
        status, _, body = request(port, ep.method, ep.path, ep.body.encode() or None, ep.headers)
        if status != 200:
            raise RuntimeError(f"{ep.name} answered {status}: {body[:300]!r}")
    return result


def connection_split(port: int, workers: int) -> str:
    """How the open client connections are spread over the gunicorn workers, e.g. "5/3" (from ss).
    A kept-alive connection stays with the process that accepted it, and a process uses one core."""
    out = subprocess.run(
        ["ss", "-tnpH", "state", "established", f"( sport = :{port} )"], capture_output=True, text=True
    ).stdout
    counts = sorted(Counter(re.findall(r"pid=(\d+)", out)).values(), reverse=True)
    return "/".join(str(n) for n in (counts + [0] * workers)[: max(workers, len(counts))])


def run_wrk(
    wrk: str, port: int, ep: Endpoint, clients: int, seconds: float, script: Path, workers: int = 0
) -> Cell:
    seconds = max(1, round(seconds))
    command = [wrk, "-t1", f"-c{clients}", f"-d{seconds}s", "--timeout", "30s", "-s", str(script)]
    command.append(f"http://127.0.0.1:{port}{ep.path}")
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        split = ""
        if workers and shutil.which("ss"):
            time.sleep(min(1.0, seconds / 2))
            split = connection_split(port, workers)
        out = process.communicate(timeout=seconds + 60)[0]
    line = next((ln for ln in out.splitlines() if ln.startswith("LOADJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no summary:\n{out}")
    data = json.loads(line.removeprefix("LOADJSON "))
    # A 503 from the PDF door is its designed answer to a burst (at most a few PDFs per process at
    # once; the rest are told to retry): counted apart, and not as served. Anywhere else it is an error.
    shed = ep.path == "/api/v1/summary.pdf"
    if not shed:
        data["non2xx"] += data["busy"]
    kinds = ("connect", "read", "write", "timeout", "non2xx")
    busy = data["busy"] if shed else 0
    return Cell(
        ep.name,
        clients,
        seconds,
        requests=data["requests"] - busy,
        busy=busy,
        rps=(data["requests"] - busy) / (data["duration_us"] / 1e6),
        p50=data["p50"] / 1000,
        p95=data["p95"] / 1000,
        p99=data["p99"] / 1000,
        max=data["max"] / 1000,
        errors=sum(data[k] for k in kinds),
        detail=", ".join(f"{k} {data[k]}" for k in kinds if data[k]),
        split=split,
    )


# --- slow clients ----------------------------------------------------------------------------------


def slow_client(port: int, stop: threading.Event, state: dict, index: int) -> None:
    """Sends a request line one byte a second and never finishes it."""
    text = b"GET /healthz?slow=" + b"x" * 4000 + b" HTTP/1.1\r\n"
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            for i, byte in enumerate(text):
                sock.sendall(bytes([byte]))
                state[index] = i + 1
                if stop.wait(1.0):
                    break
    except OSError as error:
        state[f"error{index}"] = f"{type(error).__name__} after {state.get(index, 0)} bytes"


def summarize(samples: list[float]) -> str:
    ordered = sorted(samples) or [float("nan")]
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"p50 {statistics.median(ordered):6.1f} ms   p99 {p99:6.1f} ms   max {ordered[-1]:6.1f} ms"


def slow_clients_check(port: int, count: int) -> tuple[bool, int]:
    """/healthz before and while four slow clients are connected: (delay under 1 s, failed requests)."""
    before = [healthz_ms(port) for _ in range(count)]
    stop, state = threading.Event(), {}
    slow = [threading.Thread(target=slow_client, args=(port, stop, state, i), daemon=True) for i in range(4)]
    for thread in slow:
        thread.start()
    time.sleep(2.5)  # each has sent its first bytes, so a gunicorn thread is reading its request
    during = [healthz_ms(port) for _ in range(count)]
    sent = [state.get(i, 0) for i in range(4)]
    stop.set()
    for thread in slow:
        thread.join(timeout=3)
    errors = [v for k, v in state.items() if str(k).startswith("error")]
    ok_before, ok_during = [t for t in before if t is not None], [t for t in during if t is not None]
    failed_before, failed_during = count - len(ok_before), count - len(ok_during)
    print(f"\n/healthz, {count} sequential requests, a new connection each")
    print(f"  before the slow clients       {summarize(ok_before)}   failed {failed_before}")
    print(f"  while 4 slow clients connect  {summarize(ok_during)}   failed {failed_during}")
    print(f"  slow clients: bytes sent when measured {sent}; closed by the server: {errors or 'none'}")
    delay = max(ok_during, default=float("inf")) - statistics.median(ok_before or [0.0])
    return delay < 1000 and not failed_during, failed_before + failed_during


# --- the run ---------------------------------------------------------------------------------------


def print_table(cells: list[Cell]) -> None:
    floor = {c.clients: c.rps for c in cells if c.endpoint == "/healthz"}
    head = ("clients", "n", "req/s", "p50", "p95", "p99", "errors", "busy", "ratio")
    head += ("app ms", "db ms", "other%", "split")
    widths = [7, 7, 8, 8, 8, 8, 7, 6, 7, 8, 7, 7, 7]
    line = f"{'endpoint':<24}" + "".join(f"{h:>{w}}" for h, w in zip(head, widths, strict=True))
    print("\n" + line + "\n" + "-" * len(line))
    for c in cells:
        values = [c.clients, c.requests, f"{c.rps:.1f}"]
        values += [f"{v:.1f}" if c.requests else "-" for v in (c.p50, c.p95, c.p99)]
        values += [c.errors, c.busy, f"{c.rps / floor[c.clients]:.2f}" if floor.get(c.clients) else "-"]
        values += [f"{c.app_ms:.1f}", f"{c.db_ms:.2f}", f"{c.other * 100:.0f}", c.split or "-"]
        text = f"{c.endpoint:<24}" + "".join(f"{v:>{w}}" for v, w in zip(values, widths, strict=True))
        print(text + (f"   ({c.detail})" if c.detail else ""))
    print(
        "latencies in ms (wrk, of every answer); n and req/s: answers served (busy: PDF requests told to"
        " retry, 503 with Retry-After); ratio: req/s over /healthz's at the same number of clients;"
        " app/db ms: CPU per request in gunicorn / PostgreSQL (for the PDF, also that of the PDFs still"
        " being rendered when the cell ends); other%: rest of the machine, share of all cores; split: client"
        " connections per gunicorn worker (a kept-alive connection stays with one process, one core)"
    )


def print_goals(cells: list[Cell], slow_ok: bool, failed: int) -> None:
    floor = {c.clients: c.rps for c in cells if c.endpoint == "/healthz"}

    def check(ok: bool, text: str) -> None:
        print(f"{'PASS' if ok else 'FAIL'}  {text}")

    print("\nGoals (2 cores):")
    check(failed == 0, f"zero errors ({failed} failed requests)")
    for name, goal in (("/api/v1/assess", 0.8), ("htmx results (POST /)", 0.5)):
        found = [(c.clients, c.rps / floor[c.clients]) for c in cells if c.endpoint == name]
        shown = ", ".join(f"{r:.2f} at {n}" for n, r in found)
        check(all(r >= goal for _, r in found), f"{name} at least {goal} of /healthz ({shown} clients)")
    for c in cells:
        if c.clients == 32 and c.endpoint.startswith("PDF"):
            print(
                f"INFO  {c.endpoint} at 32 clients: {c.rps:.1f} PDFs/s served, {c.busy} requests told to"
                f" retry (503); p50 {c.p50:.0f} ms, p99 {c.p99:.0f} ms of all answers (not judged)"
            )
        elif c.clients == 32:
            check(c.p99 < 100, f"{c.endpoint} p99 under 100 ms at 32 clients ({c.p99:.1f} ms)")
    check(slow_ok, "4 slow clients delay /healthz by less than 1 s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--duration", type=float, default=5, help="seconds per measured cell (default 5)")
    parser.add_argument(
        "--pdf-duration", type=float, default=4, help="seconds per PDF cell at least (default 4)"
    )
    parser.add_argument("--warmup", type=float, default=1, help="seconds of warm-up per endpoint (default 1)")
    parser.add_argument("--workers", type=int, default=2, help="WEB_CONCURRENCY (default 2, one per core)")
    parser.add_argument("--quick", action="store_true", help="2 s cells, 2 s for the PDF, fewer checks")
    parser.add_argument(
        "--no-gzip", action="store_true", help="send no Accept-Encoding (answers uncompressed)"
    )
    parser.add_argument("--keep-log", action="store_true", help="keep the server log (path printed)")
    args = parser.parse_args()
    if args.quick:
        args.duration, args.pdf_duration = 2, 2

    started = time.monotonic()
    wrk = ensure_wrk()
    port = free_port()
    database = f"load_{os.getpid()}"
    work = Path(tempfile.mkdtemp(prefix="load-"))
    log_path = work / "server.log"
    env = {
        **os.environ,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "WEB_CONCURRENCY": str(args.workers),
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database}",
        "DJANGO_STATIC_ROOT": str(work / "static"),
    }
    server = None
    created = False
    try:
        subprocess.run(["createdb", *PG, database], check=True)
        created = True
        with open(log_path, "ab") as log:
            for step in (
                ["migrate", "--noinput"],
                ["seed_catalogue"],
                ["setup_roles"],
                ["collectstatic", "--noinput", "--verbosity", "0"],
            ):
                command = [str(VENV_BIN / "python"), "manage.py", *step]
                subprocess.run(command, cwd=ROOT, env=env, stdout=log, stderr=log, check=True, timeout=300)
            server = subprocess.Popen(
                [str(VENV_BIN / "gunicorn"), "--config", "gunicorn.conf.py"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        wait_until_up(port, server)
        eps = endpoints(port)
        load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
        print(
            f"gunicorn.conf.py on 127.0.0.1:{port}, WEB_CONCURRENCY={args.workers}, {os.cpu_count()} cores,"
            f" database {database}; ready after {time.monotonic() - started:.0f} s; load average {load}"
        )
        print(
            f"wrk: 1 thread, keep-alive, {'no Accept-Encoding' if args.no_gzip else 'Accept-Encoding gzip'},"
            f" {args.duration:g} s per cell after {args.warmup:g} s of warm-up"
        )

        meter = CpuMeter(server.pid, database)
        cells: list[Cell] = []
        slow_ok, failed = False, 0
        baseline = statistics.median(healthz_ms(port) or 1000.0 for _ in range(5))
        for ep in eps:
            pdf = ep.name.startswith("PDF")
            if pdf:  # measured last: the server is stopped with the PDFs it still renders
                slow_ok, failed = slow_clients_check(port, 20 if args.quick else 50)
            script = work / f"{len(cells)}.lua"
            script.write_text(ep.lua(gzip=not args.no_gzip))
            settle(port, baseline)
            if pdf:  # warm-up (a new connection each, so that both workers see some), then one PDF alone
                times = []
                for _ in range(7):
                    start, cpu = time.perf_counter(), app_cpu(server.pid)
                    request(port, ep.method, ep.path, ep.body.encode(), ep.headers)
                    times.append((time.perf_counter() - start, app_cpu(server.pid) - cpu))
                pdf_single, cpu = min(times[4:])
                print(f"  one PDF alone: {pdf_single * 1000:.0f} ms, {cpu * 1000:.0f} ms CPU in gunicorn")
            else:
                run_wrk(wrk, port, ep, 32, args.warmup, script)  # warm-up, not reported
            for clients in CONCURRENCY:
                seconds = args.duration
                if pdf:  # long enough for a few rounds of PDFs to finish, within a bound
                    rounds = 2.5 * clients * pdf_single / args.workers
                    seconds = min(15 if args.quick else 30, max(args.pdf_duration, rounds))
                settle(port, baseline)
                meter.start()
                cell = run_wrk(wrk, port, ep, clients, seconds, script, args.workers)
                meter.stop(cell)
                cells.append(cell)
                print(
                    f"  {cell.endpoint:<24} {clients:>2} clients, {cell.seconds:>2} s: {cell.rps:8.1f} req/s"
                )

        print_table(cells)
        failed += sum(c.errors for c in cells)
        print_goals(cells, slow_ok, failed)
        with open(log_path, errors="replace") as log:
            restarts = sum("Autorestarting worker" in line for line in log)
        if restarts:
            print(f"note: {restarts} worker restart(s) during the run (max_requests in gunicorn.conf.py)")
        busiest = max(c.other for c in cells)
        if busiest > 0.2:
            print(
                f"note: the rest of the machine used up to {busiest:.0%} of its cores during a cell:"
                " these numbers are lower and noisier than on a quiet machine"
            )
        print("load average at the end: " + ", ".join(f"{v:.1f}" for v in os.getloadavg()))
    except Exception:
        if log_path.exists():
            tail = log_path.read_text(errors="replace").splitlines(True)[-30:]
            print("server log, last lines:\n" + "".join(tail))
        raise
    finally:
        if server is not None and server.poll() is None:
            os.killpg(server.pid, signal.SIGINT)  # quick shutdown: no waiting for PDFs still rendered
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        if server is not None:
            try:  # whatever is left of the process group (a worker still rendering a PDF)
                os.killpg(server.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            server.wait()
        if created:
            subprocess.run(["dropdb", *PG, "--if-exists", "--force", database], check=False)
        if args.keep_log:
            print(f"server log: {log_path}")
        else:
            shutil.rmtree(work, ignore_errors=True)
        print(f"total time {time.monotonic() - started:.0f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
