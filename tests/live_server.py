"""The real portal in a subprocess (`portal serve --workers N`), and what tests need to act on it from
outside: signing people in over HTTP, finding the worker process that holds a given connection,
and seeing whether a worker is waiting on a database lock.

Linux only: workers and connections are found through /proc, the way `ss -p` does it.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import httpx

from .conftest import ROOT, latest_email, post_form
from .ports import free_port

SECRET_KEY = "live-server-test-secret-" + "y" * 40


def wait_for(condition: Callable[[], object], what: str, timeout: float = 60, interval: float = 0.02):
    """Polls until condition() is truthy and returns its value; the timeout only stops a broken run
    from hanging, no assertion is about how long anything took."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(interval)


class LiveServer:
    """`python -m portal.cli serve --workers N --no-worker` on a free port of 127.0.0.1.

    The outbox worker is left out (--no-worker) so tests decide when email is sent.
    """

    def __init__(
        self,
        database_url: str,
        data_dir: Path,
        *,
        workers: int = 2,
        seed_demo: bool = False,
        extra_env: dict | None = None,
    ):
        self.database_url = database_url
        self.data_dir = Path(data_dir)
        self.workers = workers
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = self.data_dir / "server.log"
        # Uploads spool through the temporary directory; a directory of its own shows what a kill leaves there.
        self.tmp_dir = self.data_dir / "tmp"
        self.env = {
            **os.environ,
            "PORTAL_ENV": "development",
            "PORTAL_DATABASE_URL": database_url,
            "PORTAL_DATA_DIR": str(self.data_dir),
            "PORTAL_BASE_URL": self.base,
            "PORTAL_SECRET_KEY": SECRET_KEY,
            "PORTAL_SEED_DEMO": "1" if seed_demo else "0",
            "TMPDIR": str(self.tmp_dir),
            **(extra_env or {}),
        }
        self.process: subprocess.Popen | None = None

    @property
    def storage_dir(self) -> Path:
        return self.data_dir / "files"

    def start(self) -> LiveServer:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.tmp_dir.mkdir(exist_ok=True)
        with open(self.log_path, "w") as log:
            # Its own process group, so stop() ends the server and its workers and nothing else.
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "portal.cli",
                    "serve",
                    "--port",
                    str(self.port),
                    "--workers",
                    str(self.workers),
                    "--no-worker",
                ],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.wait_until_ready()
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def _healthy(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"the portal exited; its log:\n{self.log()[-4000:]}")
        try:
            with urllib.request.urlopen(f"{self.base}/healthz", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def ready_workers(self) -> list[int]:
        """Live worker processes that have finished starting the app (uvicorn logs it with their pid)."""
        started = {
            int(pid) for pid in re.findall(r" INFO (\d+) uvicorn.error Application startup complete", self.log())
        }
        return [pid for pid in self.worker_pids() if pid in started]

    def wait_until_ready(self) -> None:
        """Every worker up, not only the first one to answer /healthz."""
        wait_for(self._healthy, f"the portal to answer on {self.base}")
        wait_for(lambda: len(self.ready_workers()) == self.workers, f"{self.workers} workers to start")

    def worker_pids(self) -> list[int]:
        """The uvicorn worker processes: the server's children that are alive."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            pids = [int(pid) for pid in children.read_text().split()]
        except OSError:
            return []
        return [pid for pid in pids if _alive(pid) and "multiprocessing.resource_tracker" not in _cmdline(pid)]

    def serving_pid(self, client_port: int) -> int | None:
        """The worker that accepted the connection coming from this client port, once one has."""
        inode = _server_side_inode(self.port, client_port)
        if inode is None:
            return None
        wanted = f"socket:[{inode}]"
        for pid in self.worker_pids():
            try:
                for fd in os.listdir(f"/proc/{pid}/fd"):
                    if os.readlink(f"/proc/{pid}/fd/{fd}") == wanted:
                        return pid
            except OSError:
                continue
        return None

    def has_read_everything_from(self, client_port: int) -> bool:
        """True when nothing the client sent is still waiting in the server's socket."""
        entry = _tcp_entry(self.port, client_port)
        return entry is not None and int(entry["rx_queue"], 16) == 0

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


def sleeping_in_sqlite_busy_wait(pid: int) -> bool:
    """True while a thread of the process sleeps in the kernel's nanosleep.

    In a portal worker only SQLite's busy handler sleeps that way (it retries a lock another
    connection holds); idle pool threads wait on a futex and the event loop in epoll_wait.
    """
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return False
    for task in tasks:
        try:
            if "nanosleep" in Path(f"/proc/{pid}/task/{task}/wchan").read_text():
                return True
        except OSError:
            continue
    return False


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _tcp_entry(server_port: int, client_port: int) -> dict | None:
    """The server side of one 127.0.0.1 connection in /proc/net/tcp (ports in hex, local first)."""
    local, remote = f":{server_port:04X}", f":{client_port:04X}"
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1].endswith(local) and fields[2].endswith(remote) and fields[3] == "01":  # 01: established
            tx_queue, rx_queue = fields[4].split(":")
            return {"inode": fields[9], "tx_queue": tx_queue, "rx_queue": rx_queue}
    return None


def _server_side_inode(server_port: int, client_port: int) -> str | None:
    entry = _tcp_entry(server_port, client_port)
    return entry["inode"] if entry and entry["inode"] != "0" else None


# People -----------------------------------------------------------------------------------------


def client_for(server: LiveServer, *, source_ip: str = "127.0.0.1") -> httpx.Client:
    """A browser-like client. source_ip picks the loopback address it connects from (all of
    127.0.0.0/8 reaches the server), so many people can sign in without sharing one address's
    sign-in rate limit."""
    transport = httpx.HTTPTransport(local_address=source_ip)
    return httpx.Client(base_url=server.base, transport=transport, follow_redirects=False, timeout=60)


def sign_in(client: httpx.Client, db_factory, email: str) -> None:
    """As a person does: ask for a link, open the email (read from the outbox table), press the button."""
    response = post_form(client, "/sign-in", {"email": email})
    assert response.status_code == 303, response.text[-2000:]
    match = re.search(r"/sign-in/link/\S+", latest_email(db_factory, email).body)
    assert match, "no sign-in link in the email"
    response = post_form(client, match.group(0), from_page=match.group(0))
    assert response.status_code == 303, response.text[-2000:]
