"""With the database away, pages answer 503 with a clear page and /healthz says so; when it returns,
the portal recovers by itself. A real TCP relay in front of PostgreSQL is cut and restored."""

from __future__ import annotations

import socket
import threading
from dataclasses import replace

import pytest
from starlette.testclient import TestClient

from portal.app import create_app

from .conftest import POSTGRES_URL, sign_in


class Relay:
    """Forwards one local port to PostgreSQL; stop() drops every connection, start() takes new ones."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.listener.listen(64)
        self.up = threading.Event()
        self.connections: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.up.is_set():
                client.close()
                continue
            upstream = socket.create_connection(self.target)
            self.connections += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source, sink):
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for each in (source, sink):
                try:
                    each.close()
                except OSError:
                    pass

    def start(self):
        self.up.set()

    def stop(self):
        self.up.clear()
        for connection in self.connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
                connection.close()
            except OSError:
                pass
        self.connections.clear()


@pytest.mark.skipif(not POSTGRES_URL, reason="needs PORTAL_TEST_POSTGRES_URL: the outage is cut in front of PostgreSQL")
def test_pages_answer_503_while_the_database_is_away_and_recover(settings, db_factory, demo_org, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("this run is on SQLite")
    relay = Relay(("127.0.0.1", 5432))
    relay.start()
    through_relay = database_url.replace("127.0.0.1:5432", f"127.0.0.1:{relay.port}")
    app = create_app(replace(settings, database_url=through_relay))
    with TestClient(app, follow_redirects=False) as client:
        sign_in(client, db_factory, "drafter@riverside.example")
        assert client.get("/dashboard").status_code == 200

        relay.stop()
        outage = client.get("/dashboard")
        assert outage.status_code == 503 and "Sorry, the service is unavailable" in outage.text
        health = client.get("/healthz")
        assert health.status_code == 503 and health.json()["database"] == "down"

        relay.start()
        assert client.get("/healthz").json() == {"status": "ok", "database": "ok"}
        assert client.get("/dashboard").status_code == 200
    relay.listener.close()
