"""`portal serve --workers 2`: whichever worker answers /metrics reports both workers' requests, and each
request is logged once (uvicorn's own access line is off)."""

from __future__ import annotations

import re

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from .live_server import LiveServer, wait_for

TOKEN = "live-metrics-token-" + "w" * 32


@pytest.fixture
def live(database_url, migrated, tmp_path):
    server = LiveServer(database_url, tmp_path / "portal", workers=2, extra_env={"PORTAL_METRICS_TOKEN": TOKEN})
    server.start()
    yield server
    server.stop()


def favicon_count(live: LiveServer) -> float:
    # A client of its own each time: a new connection, which either worker may accept.
    with httpx.Client() as client:
        response = client.get(f"{live.base}/metrics", headers={"authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    total = 0.0
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if sample.name == "portal_request_duration_seconds_count" and sample.labels["route"] == "/favicon.ico":
                total += sample.value
    return total


def test_every_worker_counts_into_one_total_and_each_request_is_logged_once(live):
    metrics_dir = live.data_dir / "metrics"
    made = 0

    def both_workers_have_counted() -> bool:
        nonlocal made
        with httpx.Client() as client:
            assert client.get(f"{live.base}/favicon.ico").status_code == 204
        made += 1
        counted = {int(m) for m in re.findall(r"histogram_(\d+)\.db", " ".join(p.name for p in metrics_dir.iterdir()))}
        return set(live.worker_pids()) <= counted

    wait_for(both_workers_have_counted, "requests answered by both workers", interval=0)
    # Several scrapes, each answered by whichever worker took the connection: all say the whole number.
    assert [favicon_count(live) for _ in range(6)] == [made] * 6
    log = live.log()
    assert len(re.findall(r"portal\.request GET /favicon\.ico 204 ", log)) == made
    assert '"GET /favicon.ico HTTP/1.1"' not in log  # uvicorn's access line
