"""tests/oidc_provider.mjs, the npm oidc-provider, started for a test: as GOV.UK One Login, or as the regulator's
own directory for staff sign-in, by its configuration."""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from portal.accounts import oidc

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def running_provider(config: dict, port: int = 0):
    """tests/oidc_provider.mjs with this configuration, on a free port of 127.0.0.1; yields its issuer."""
    node = shutil.which("node")
    if node is None or not (ROOT / "node_modules" / "oidc-provider").is_dir():
        pytest.skip("needs node and `npm install` (oidc-provider)")
    process = subprocess.Popen(
        [node, str(ROOT / "tests" / "oidc_provider.mjs"), str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "OIDC_TEST_CONFIG": json.dumps(config)},
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()
    threading.Thread(target=lambda: [None for _ in process.stderr], daemon=True).start()
    issuer = None
    deadline = time.monotonic() + 15
    try:
        while issuer is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or process.poll() is not None:
                raise RuntimeError("the test OpenID provider did not start")
            try:
                line = lines.get(timeout=min(remaining, 0.5))
            except queue.Empty:
                continue
            if line.startswith("ready "):
                issuer = line.split()[1]
        yield issuer
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        oidc.clear_caches()
