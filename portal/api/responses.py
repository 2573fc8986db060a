"""The regulator API's HTTP answers: JSON bodies and the 401 challenge. The service knows nothing of HTTP."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse


def json_response(body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    # Submissions hold personal data: no cache anywhere between us and the intake system keeps a copy.
    return JSONResponse(body, status_code=status, headers={"cache-control": "no-store", **(headers or {})})


def error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return json_response({"error": message}, status=status, headers=headers)


def not_found(message: str = "Not found") -> JSONResponse:
    return error(404, message)


def unauthorised(authorization: str | None) -> JSONResponse:
    """401 with the RFC 6750 challenge: invalid_token only when something was presented."""
    if not authorization:
        return error(
            401,
            "Send an API token: Authorization: Bearer <token>",
            {"www-authenticate": 'Bearer realm="regulator-api"'},
        )
    return error(
        401,
        "The API token is not valid, or has been revoked",
        {"www-authenticate": 'Bearer realm="regulator-api", error="invalid_token"'},
    )
