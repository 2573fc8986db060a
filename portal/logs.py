"""The portal's logging: plain lines for a terminal, or JSON lines (PORTAL_LOG_FORMAT=json) for a collector.

Every line written while a request is answered carries that request's id, the one in its X-Request-Id
header and on its 500 page, so support can find everything one request did from the id a person reads out.
The id lives in a context variable: anyio copies the context into the database threads, so the lines a
service writes there carry it too.
"""

from __future__ import annotations

import json
import logging
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

REQUEST_ID: ContextVar[str] = ContextVar("portal_request_id", default="")

# Fields a log call may add with extra= (the access line's), written as JSON fields of their own.
EXTRA_FIELDS = ("method", "path", "route", "status", "duration_ms")


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", ""):
            record.request_id = REQUEST_ID.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: a message with a line break in it (an email in the log sender) stays one line."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "process": record.process,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", "") or REQUEST_ID.get()
        if request_id:
            line["request_id"] = request_id
        for name in EXTRA_FIELDS:
            if hasattr(record, name):
                line[name] = getattr(record, name)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


PLAIN_FORMAT = "%(asctime)s %(levelname)s %(process)d %(name)s %(message)s"


def config(log_format: str = "plain") -> dict:
    """A logging.config.dictConfig for the command and every uvicorn worker process.

    uvicorn's own access log is turned off where uvicorn is started (access_log=False): the portal writes
    one line per request itself, with the request id and the time taken (web/middleware.py).
    """
    formatter: dict[str, Any] = {"format": PLAIN_FORMAT}
    if log_format == "json":
        formatter = {"()": f"{__name__}.JsonFormatter"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": f"{__name__}.RequestIdFilter"}},
        "formatters": {"portal": formatter},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "portal", "filters": ["request_id"]}},
        "root": {"handlers": ["stderr"], "level": "INFO"},
        "loggers": {"uvicorn.access": {"level": "WARNING"}},
    }
