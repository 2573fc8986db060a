"""The harness: the real server on a free port, Debian's Chromium through Playwright, and people
who sign in through the real pages (the development outbox shows their links).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from tests.ports import free_port

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

PEOPLE = {
    "drafter": "drafter@riverside.example",
    "reviewer": "reviewer@riverside.example",
    "submitter": "submitter@riverside.example",
    "organisation_admin": "admin@riverside.example",
    "support_agent": "support@regulator.example",
    "support_lead": "lead@regulator.example",
    "newcomer": "newcomer@example.com",
    # Made an organisation admin for one location by the page states that use them (pages_scope.py).
    "location_admin": "location.admin@riverside.example",
}


# The running server's details, for page states that must set up data no page can (an email given up on).
RUNNING: dict = {}


@contextmanager
def running_portal(data_dir: Path, **settings: str) -> Iterator[dict]:
    """The portal served from its own process on a free port, with demo data; settings are PORTAL_* overrides."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "PORTAL_ENV": "development",
        "PORTAL_DATA_DIR": str(data_dir),
        "PORTAL_BASE_URL": base,
        "PORTAL_SEED_DEMO": "1",
        "PORTAL_DATABASE_URL": f"sqlite:///{data_dir / 'portal.sqlite3'}",
        **settings,
    }
    log = open(data_dir / "server.log", "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "portal.cli", "serve", "--port", str(port), "--no-worker"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"portal did not start: {(data_dir / 'server.log').read_text()[-3000:]}")
        time.sleep(0.2)
    try:
        yield {"base": base, "data_dir": data_dir, "database_url": env["PORTAL_DATABASE_URL"]}
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    with running_portal(tmp_path_factory.mktemp("a11y-data")) as running:
        RUNNING.update(running)
        yield dict(RUNNING)


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        executable = shutil.which("chromium") or shutil.which("chromium-browser")
        launched = (
            playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
            if executable
            else playwright.chromium.launch()
        )
        yield launched
        launched.close()


def sign_in_through_pages(page, base: str, email: str) -> None:
    page.goto(f"{base}/sign-in")
    page.fill("#email", email)
    page.click("form[action='/sign-in'] button")
    page.wait_for_url(f"{base}/sign-in/check-email")
    page.goto(f"{base}/dev/outbox")
    link = re.search(rf'href="{re.escape(base)}(/sign-in/link/[^"]+)"', page.content()).group(1)
    page.goto(base + link)
    page.click("form[action^='/sign-in/link/'] button")
    page.wait_for_load_state()


@pytest.fixture(scope="session")
def signed_in_state(browser, server, tmp_path_factory):
    """Storage state per person, signed in once through the pages and reused."""
    states: dict[str, str] = {}

    def get(role: str) -> str:
        if role not in states:
            context = browser.new_context()
            page = context.new_page()
            sign_in_through_pages(page, server["base"], PEOPLE[role])
            path = tmp_path_factory.mktemp("state") / f"{role}.json"
            context.storage_state(path=str(path))
            context.close()
            states[role] = str(path)
        return states[role]

    return get


@pytest.fixture
def new_page(browser, signed_in_state):
    """new_page(role=None, javascript=True, **context_options) -> a Page in a fresh context."""
    contexts = []

    def make(role: str | None = None, javascript: bool = True, **options):
        if role:
            options["storage_state"] = signed_in_state(role)
        context = browser.new_context(java_script_enabled=javascript, **options)
        # Pages here answer in well under a second; a long wait means a missing element, not a slow page.
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
