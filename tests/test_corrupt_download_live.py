"""A stored file changed behind the portal's back, downloaded from a real server over real HTTP: the
reader's client sees a failed download, never a complete file that differs from the one uploaded."""

from __future__ import annotations

import hashlib

import httpx
import pytest
from sqlalchemy import select

from portal.models import Attachment

from .conftest import csrf_from
from .drafting import start_notification
from .live_server import client_for, sign_in
from .test_graceful_shutdown import CONTENT, FILE_QUESTION, TYPE, OneProcess
from .test_regulator_api import DRAFTER


@pytest.fixture
def server(database_url, migrated, demo_org, tmp_path):
    live = OneProcess(database_url, tmp_path / "portal", workers=1).start()
    yield live
    live.stop()


@pytest.mark.parametrize("encoding", ["identity", "gzip"])
def test_a_changed_file_arrives_as_a_failed_download(server, db_factory, location_id, encoding):
    drafter = client_for(server)
    sign_in(drafter, db_factory, DRAFTER)
    notification_id = start_notification(drafter, TYPE, location_id)
    response = drafter.post(
        f"/notifications/{notification_id}/attachments/{FILE_QUESTION}",
        data={"csrf_token": csrf_from(drafter, "/account")},
        files={"file": ("body map.pdf", CONTENT, "application/pdf")},
    )
    assert response.status_code == 303, response.text[-2000:]
    with db_factory() as db:
        attachment = db.scalar(select(Attachment).where(Attachment.notification_id == notification_id))
    path = f"/notifications/{notification_id}/attachments/{attachment.id}/download"
    headers = {"accept-encoding": encoding}

    whole = drafter.get(path, headers=headers)
    assert whole.status_code == 200 and hashlib.sha256(whole.content).hexdigest() == attachment.sha256

    stored = server.storage_dir / attachment.storage_key
    stored.write_bytes(CONTENT[:-1] + b"?")  # the same size, the last byte changed
    with pytest.raises(httpx.RemoteProtocolError):
        drafter.get(path, headers=headers)
    assert "stored file does not match its record" in server.log()
