"""Shared helpers for the benchmark scripts: databases, servers, sessions, CSRF, statistics.

Nothing here is imported by the portal or the test suite.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PYTHON = sys.executable

# Fixed so the scripts can mint CSRF tokens the server accepts. Benchmark use only.
SECRET_KEY = "bench-secret-key-not-for-production-0123456789abcdef"

BIG_ORG_NAME = "Bench Big Care Ltd"
SESSION_COOKIE = "portal_session"
CSRF_COOKIE = "portal_csrf"

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


# Databases ------------------------------------------------------------------------------------


def plain_url(url: str) -> str:
    """postgresql://... for psycopg (and the portal, which adds +psycopg itself)."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def database_name(url: str) -> str:
    name = urlsplit(plain_url(url)).path.lstrip("/")
    if not name:
        raise SystemExit(f"no database name in {url}")
    return name


def maintenance_url(url: str) -> str:
    parts = urlsplit(plain_url(url))
    return urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, ""))


def create_database(url: str, *, replace: bool) -> None:
    import psycopg

    name = database_name(url)
    with psycopg.connect(maintenance_url(url), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists and not replace:
            raise SystemExit(f"database {name} exists; pass --replace to drop it and start again")
        if exists:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(url: str) -> None:
    import psycopg

    name = database_name(url)
    with psycopg.connect(maintenance_url(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# Sessions and CSRF ----------------------------------------------------------------------------


def csrf_pair(secret: str = SECRET_KEY) -> tuple[str, str]:
    """(portal_csrf cookie value, csrf_token form field) as portal/web/csrf.py checks them."""
    cookie = secrets.token_urlsafe(32)  # 43 characters
    token = hmac.new(secret.encode(), f"csrf:{cookie}".encode(), hashlib.sha256).hexdigest()
    return cookie, token


def mint_session(conn, user_id: int, organisation_id: int | None) -> str:
    """A signed-in session straight in the database: the token goes in the portal_session cookie."""
    token = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    conn.execute(
        "INSERT INTO user_sessions (token_hash, user_id, organisation_id, method, id_token, created_at,"
        " last_seen_at, ip_address, user_agent, ended_reason)"
        " VALUES (%s, %s, %s, 'email_link', '', %s, %s, '127.0.0.1', 'bench', '')",
        (hashlib.sha256(token.encode()).hexdigest(), user_id, organisation_id, now, now),
    )
    return token


def signed_in_cookies(conn, user_id: int, organisation_id: int | None) -> tuple[dict[str, str], str]:
    """(cookies, csrf form token) for one virtual person."""
    csrf_cookie, csrf_token = csrf_pair()
    token = mint_session(conn, user_id, organisation_id)
    return {SESSION_COOKIE: token, CSRF_COOKIE: csrf_cookie}, csrf_token


# Servers --------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, log_path: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            stop(process)
            raise RuntimeError(f"server did not start; log {log_path}:\n{log_path.read_text()[-3000:]}")
        time.sleep(0.25)


def start_portal(
    database_url: str,
    *,
    port: int | None = None,
    workers: int = 2,
    log_name: str = "portal",
    extra_env: dict | None = None,
    nodelay: bool = False,
) -> tuple[subprocess.Popen, str, Path]:
    """`python -m portal.cli serve` against the database; returns (process, base URL, log path).

    nodelay: start it through bench/serve_nodelay.py instead, which fixes uvicorn's multi-worker
    listener so connections get TCP_NODELAY (see that file).
    """
    port = port or free_port()
    RESULTS.mkdir(parents=True, exist_ok=True)
    data_dir = RESULTS / f"data-{port}"
    data_dir.mkdir(exist_ok=True)
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "PORTAL_ENV": "development",
        "PORTAL_SEED_DEMO": "0",
        "PORTAL_DATABASE_URL": plain_url(database_url),
        "PORTAL_SECRET_KEY": SECRET_KEY,
        "PORTAL_BASE_URL": base,
        "PORTAL_DATA_DIR": str(data_dir),
        **(extra_env or {}),
    }
    log_path = RESULTS / f"{log_name}-{port}.log"
    log = open(log_path, "w")
    launcher = [PYTHON, str(ROOT / "bench" / "serve_nodelay.py")] if nodelay else [PYTHON, "-m", "portal.cli"]
    process = subprocess.Popen(
        launcher + ["serve", "--port", str(port), "--workers", str(workers), "--no-worker"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()
    wait_until_up(f"{base}/healthz", process, log_path)
    return process, base, log_path


def start_bare(
    *, port: int | None = None, workers: int = 2, nodelay: bool = False
) -> tuple[subprocess.Popen, str, Path]:
    """bench/bare_app.py under uvicorn: the ceiling for a Starlette app on this machine."""
    port = port or free_port()
    RESULTS.mkdir(parents=True, exist_ok=True)
    log_path = RESULTS / f"bare-{port}.log"
    log = open(log_path, "w")
    process = subprocess.Popen(
        [PYTHON, str(ROOT / "bench" / "bare_app.py"), "--port", str(port), "--workers", str(workers)]
        + (["--nodelay"] if nodelay else []),
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()
    base = f"http://127.0.0.1:{port}"
    wait_until_up(f"{base}/plaintext", process, log_path)
    return process, base, log_path


def stop(process: subprocess.Popen) -> None:
    """Ends the server this script started (its own process group), never anything else."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


# Statistics -----------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile; p in 0..100."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(round(p / 100 * len(ordered) + 0.5))))
    return ordered[rank - 1]


def summary_ms(seconds: list[float]) -> dict:
    ms = [s * 1000 for s in seconds]
    return {
        "count": len(ms),
        "median_ms": round(percentile(ms, 50), 2),
        "p95_ms": round(percentile(ms, 95), 2),
        "p99_ms": round(percentile(ms, 99), 2),
        "max_ms": round(max(ms), 2) if ms else float("nan"),
    }


def print_table(headers: list[str], rows: list[list]) -> None:
    cells = [[str(h) for h in headers]] + [[_fmt(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for index, row in enumerate(cells):
        print("  ".join(cell.rjust(widths[i]) if i else cell.ljust(widths[i]) for i, cell in enumerate(row)))
        if index == 0:
            print("  ".join("-" * w for w in widths))


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:,.1f}"
    return str(value)


def stamp() -> str:
    return datetime.now().strftime("%Y%m%d-%H%M%S")


def machine_load(label: str = "") -> dict:
    """The load average, printed with a warning when other work is competing for the two cores."""
    one, five, fifteen = os.getloadavg()
    cpus = os.cpu_count() or 1
    if one > 0.75 * cpus:
        print(
            f"  note: load average {one:.1f} on {cpus} cores {label}- other work is running; figures will be noisy",
            flush=True,
        )
    return {"loadavg_1m": round(one, 2), "loadavg_5m": round(five, 2), "cpus": cpus}
