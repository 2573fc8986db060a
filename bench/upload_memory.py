"""Does a large upload stream through the server, or pile up in its memory?

Starts `python -m portal.cli serve --no-worker` on a free port with a temporary data directory, signs
in as the demo drafter through the real pages (the link comes from the SQLite outbox), starts a
notification, then sends a 500 MiB multipart upload generated on the fly (never held in memory here
either) and reports the server process's peak resident memory growth from /proc/<pid>/status.

With `--storage s3` the file goes to an S3 bucket instead of local disk: the script starts moto's S3
server (`python -m moto.server`, from the test extra) in a process of its own, so only the portal's
memory is measured, and the portal streams the file to it in multipart parts.

    python -m bench.upload_memory [--mib 500] [--storage local|s3]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
DRAFTER = "drafter@riverside.example"
TYPE, QUESTION = "serious_injury", "supporting_documents"
CHUNK = b"0123456789abcdef" * 65536  # 1 MiB, reused for every chunk
TARGET_MB = 30


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_s3(data_dir: Path) -> tuple[subprocess.Popen, dict[str, str]]:
    """moto's S3 server on a free port, a bucket on it, and the settings that point the portal there."""
    import boto3

    port = free_port()
    log = open(data_dir / "s3.log", "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()
    credentials = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench-secret"}
    endpoint = f"http://127.0.0.1:{port}"
    client = boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint,
        region_name="eu-west-2",
        aws_access_key_id=credentials["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=credentials["AWS_SECRET_ACCESS_KEY"],
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            client.create_bucket(Bucket="portal-bench", CreateBucketConfiguration={"LocationConstraint": "eu-west-2"})
            break
        except Exception:
            if process.poll() is not None or time.monotonic() > deadline:
                stop(process)
                raise SystemExit(f"moto did not start:\n{(data_dir / 's3.log').read_text()[-3000:]}") from None
            time.sleep(0.25)
    return process, {
        **credentials,
        "PORTAL_STORAGE": "s3",
        "PORTAL_S3_BUCKET": "portal-bench",
        "PORTAL_S3_ENDPOINT_URL": endpoint,
        "PORTAL_S3_REGION": "eu-west-2",
    }


def start_server(data_dir: Path, port: int, extra_env: dict[str, str] | None = None) -> subprocess.Popen:
    env = {
        **os.environ,
        "PORTAL_ENV": "development",
        "PORTAL_DATA_DIR": str(data_dir),
        "PORTAL_SEED_DEMO": "1",
        "PORTAL_BASE_URL": f"http://127.0.0.1:{port}",
        "PORTAL_MAX_UPLOAD_BYTES": "600000000",
        "PORTAL_EMAIL_SENDER": "log",
        "PORTAL_CLAMD_SOCKET": "",
        **(extra_env or {}),
    }
    env.pop("PORTAL_DATABASE_URL", None)
    log = open(data_dir / "server.log", "w")
    # One worker, so the process we start is the process that serves (no supervisor in between).
    process = subprocess.Popen(
        [sys.executable, "-m", "portal.cli", "serve", "--no-worker", "--port", str(port), "--workers", "1"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            if httpx.get(f"http://127.0.0.1:{port}/sign-in", timeout=2).status_code == 200:
                return process
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    stop(process)
    raise SystemExit(f"server did not start:\n{(data_dir / 'server.log').read_text()[-3000:]}")


def stop(process: subprocess.Popen) -> None:
    """Ends only the server this script started (its own process group)."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


def csrf(client: httpx.Client, path: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    if not match:
        raise SystemExit(f"no CSRF token on {path}")
    return match.group(1)


def sign_in(client: httpx.Client, database: Path) -> None:
    response = client.post("/sign-in", data={"email": DRAFTER, "csrf_token": csrf(client, "/sign-in")})
    assert response.status_code == 303, response.status_code
    with sqlite3.connect(database) as db:
        (body,) = db.execute(
            "SELECT body FROM outbox_messages WHERE recipient = ? ORDER BY id DESC LIMIT 1", (DRAFTER,)
        ).fetchone()
    path = re.search(r"https?://[^/\s]+(/sign-in/link/\S+)", body).group(1)
    response = client.post(path, data={"csrf_token": csrf(client, path)})
    assert response.status_code == 303, response.status_code


def start_notification(client: httpx.Client) -> int:
    page = client.get("/notifications/new").text
    location = re.search(r'name="location"[^>]*value="(\d+)"|value="(\d+)"[^>]*name="location"', page)
    response = client.post(
        "/notifications/new",
        data={
            "type": TYPE,
            "location": next(g for g in location.groups() if g),
            "csrf_token": csrf(client, "/notifications/new"),
        },
    )
    assert response.status_code == 303, response.status_code
    return int(re.search(r"/notifications/(\d+)", response.headers["location"]).group(1))


def multipart(fields: dict[str, str], size: int, digest) -> tuple[str, int, object]:
    """(content type, length, generator): the file part is made chunk by chunk as it is sent."""
    boundary = secrets.token_hex(16)
    head = (
        b"".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
            for name, value in fields.items()
        )
        + (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.pdf"\r\n'
            f"Content-Type: application/pdf\r\n\r\n"
        ).encode()
    )
    tail = f"\r\n--{boundary}--\r\n".encode()
    first = b"%PDF-1.4\n"

    def body():
        yield head
        digest.update(first)
        yield first
        left = size - len(first)
        while left > 0:
            chunk = CHUNK if left >= len(CHUNK) else CHUNK[:left]
            digest.update(chunk)
            left -= len(chunk)
            yield chunk
        yield tail

    return f"multipart/form-data; boundary={boundary}", len(head) + size + len(tail), body()


def memory_kib(pid: int) -> dict[str, int]:
    status = Path(f"/proc/{pid}/status").read_text()
    return {key: int(re.search(rf"^{key}:\s+(\d+) kB", status, re.M).group(1)) for key in ("VmRSS", "VmHWM")}


def reset_peak(pid: int) -> bool:
    # Writing 5 to clear_refs resets VmHWM to the current RSS (Linux 4.0+), so the peak is this upload's.
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=500)
    parser.add_argument("--storage", choices=("local", "s3"), default="local")
    args = parser.parse_args()
    size = args.mib * 1024 * 1024
    data_dir = Path(tempfile.mkdtemp(prefix="portal-upload-bench-"))
    port = free_port()
    s3, s3_env = start_s3(data_dir) if args.storage == "s3" else (None, {})
    process = start_server(data_dir, port, s3_env)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=600) as client:
            sign_in(client, data_dir / "portal.sqlite3")
            notification_id = start_notification(client)
            token = csrf(client, "/notifications/new")
            digest = hashlib.sha256()
            content_type, length, body = multipart({"csrf_token": token, "back": ""}, size, digest)

            client.get("/sign-in")  # warm the request path, so its first-use allocations are not counted
            if args.storage == "s3":
                # One upload first, of a few parts, to another notification: the first multipart upload loads
                # the rest of botocore's S3 model, once per process. Growth per upload is what is measured.
                warm_up = start_notification(client)
                warm_type, warm_length, warm_body = multipart(
                    {"csrf_token": token, "back": ""}, 20 * 1024 * 1024, hashlib.sha256()
                )
                answer = client.post(
                    f"/notifications/{warm_up}/attachments/{QUESTION}",
                    content=warm_body,
                    headers={"content-type": warm_type, "content-length": str(warm_length)},
                )
                assert answer.status_code == 303, answer.status_code
            exact_peak = reset_peak(process.pid)
            before = memory_kib(process.pid)
            started = time.perf_counter()
            response = client.post(
                f"/notifications/{notification_id}/attachments/{QUESTION}",
                content=body,
                headers={"content-type": content_type, "content-length": str(length)},
            )
            elapsed = time.perf_counter() - started
            after = memory_kib(process.pid)
        if response.status_code != 303:
            raise SystemExit(f"upload answered {response.status_code}: {response.text[:500]}")
        with sqlite3.connect(data_dir / "portal.sqlite3") as db:
            stored_size, stored_sha = db.execute(
                "SELECT size, sha256 FROM attachments WHERE notification_id = ?", (notification_id,)
            ).fetchone()
        assert (stored_size, stored_sha) == (size, digest.hexdigest()), "stored file differs from what was sent"
        baseline = before["VmRSS"] if exact_peak else max(before["VmRSS"], before["VmHWM"])
        growth_mb = (after["VmHWM"] - baseline) / 1024
        note = "" if exact_peak else " (peak not resettable: growth over the earlier peak)"
        print(
            f"upload {args.mib} MiB to {args.storage} storage: peak RSS +{growth_mb:.1f} MB (target < {TARGET_MB} MB), {elapsed:.1f} s; "
            f"RSS {before['VmRSS'] / 1024:.0f} -> {after['VmRSS'] / 1024:.0f} MB, sha256 matches{note}"
        )
        return 0 if growth_mb < TARGET_MB else 1
    finally:
        stop(process)
        if s3 is not None:
            stop(s3)
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
