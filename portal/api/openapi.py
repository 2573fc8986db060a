"""The OpenAPI 3.1 description of the regulator API, written by hand so it says what the code means.

A test checks that every /api route is in it, so the two cannot drift apart silently.
"""

from __future__ import annotations

from .service import DEFAULT_LIMIT, MAX_LIMIT, SETTLE


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _error(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": _ref("Error")}}}


def _json(description: str, schema: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}


REFERENCE = {
    "name": "reference",
    "in": "path",
    "required": True,
    "description": "The submission's reference, as the provider was given it: 8 characters.",
    "schema": {"type": "string", "pattern": "^[A-Za-z0-9]{8}$"},
}

UNAUTHORISED = {
    "description": "No token, or a token that is unknown or revoked. Carries `WWW-Authenticate: Bearer`.",
    "headers": {"WWW-Authenticate": {"schema": {"type": "string"}}},
    "content": {"application/json": {"schema": _ref("Error")}},
}

PLACE = {
    "type": "object",
    "properties": {"name": {"type": "string"}},
    "additionalProperties": True,
}

SCHEMAS = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {"error": {"type": "string", "description": "What went wrong, for a developer."}},
    },
    "NotificationType": {
        "type": "object",
        "required": ["key", "version"],
        "properties": {
            "key": {"type": "string", "examples": ["serious_injury"]},
            "version": {"type": "integer", "description": "The version of the notification's definition."},
            "title": {"type": "string"},
        },
    },
    "Organisation": {**PLACE, "properties": {"name": {"type": "string"}, "provider_id": {"type": "string"}}},
    "Location": {**PLACE, "properties": {"name": {"type": "string"}, "location_id": {"type": "string"}}},
    "SubmissionSummary": {
        "type": "object",
        "required": ["reference", "type", "organisation", "location", "submitted_at", "url"],
        "properties": {
            "reference": {"type": "string"},
            "type": _ref("NotificationType"),
            "organisation": _ref("Organisation"),
            "location": _ref("Location"),
            "submitted_at": {"type": "string", "format": "date-time"},
            "follow_up_of": {"type": ["string", "null"], "description": "The reference this follows up, if any."},
            "url": {"type": "string", "format": "uri", "description": "Where to fetch the whole submission."},
        },
    },
    "SubmissionPage": {
        "type": "object",
        "required": ["submissions", "next_cursor", "has_more"],
        "properties": {
            "submissions": {"type": "array", "items": _ref("SubmissionSummary")},
            "next_cursor": {
                "type": ["string", "null"],
                "description": "Pass as `since` to carry on after this page. Keep it between polls: it is "
                "where to resume even when this page was empty. Null only when nothing has "
                "been submitted yet and no `since` was given.",
            },
            "next_url": {"type": ["string", "null"], "format": "uri"},
            "has_more": {"type": "boolean", "description": "True when more are ready now: fetch next_url."},
        },
    },
    "Attachment": {
        "type": "object",
        "required": ["id", "filename", "sha256", "url"],
        "properties": {
            "id": {"type": "integer"},
            "question": {"type": "string", "description": "The question the file answers."},
            "filename": {"type": "string"},
            "size": {"type": "integer"},
            "content_type": {"type": "string"},
            "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
            "url": {"type": "string", "format": "uri", "description": "Where to download the file."},
        },
    },
    "Snapshot": {
        "type": "object",
        "description": "Exactly what was submitted, frozen at submission and never changed.",
        "required": ["type", "organisation", "location", "answers", "attachments", "submitted_at"],
        "properties": {
            "type": _ref("NotificationType"),
            "organisation": _ref("Organisation"),
            "location": _ref("Location"),
            "answers": {
                "type": "object",
                "description": "Answers by section key, then question key.",
                "additionalProperties": {"type": "object"},
            },
            "attachments": {"type": "array", "items": _ref("Attachment")},
            "drafted_by": {"type": "array", "items": {"type": "string", "format": "email"}},
            "approved_by": {"type": ["string", "null"], "format": "email"},
            "approved_at": {"type": ["string", "null"], "format": "date-time"},
            "submitted_by": {"type": "string", "format": "email"},
            "submitted_at": {"type": "string", "format": "date-time"},
            "follow_up_of": {"type": ["string", "null"]},
        },
        "additionalProperties": True,
    },
    "Submission": {
        "allOf": [
            _ref("SubmissionSummary"),
            {
                "type": "object",
                "required": ["content_hash", "snapshot"],
                "properties": {
                    "content_hash": {
                        "type": "string",
                        "pattern": "^[0-9a-f]{64}$",
                        "description": 'SHA-256 (hex) of the UTF-8 JSON `{"answers": <snapshot.answers>, '
                        '"attachments": <sorted list of the attachments\' sha256>}` with sorted '
                        "keys and no spaces, so a receiver can check nothing changed in transit.",
                    },
                    "snapshot": _ref("Snapshot"),
                },
            },
        ],
    },
}


def document(base_url: str) -> dict:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Statutory notifications: regulator API",
            "version": "1.0.0",
            "description": (
                "Read-only access for the regulator's intake systems to notifications that providers have "
                "submitted. Authenticate with an API token created by a support lead in the support workspace: "
                '`Authorization: Bearer <token>`. Every error is JSON: `{"error": "..."}`.\n\n'
                "Poll `GET /api/v1/submissions` with the `next_cursor` of the last answer as `since`. "
                f"A submission appears in the list {int(SETTLE.total_seconds())} seconds after it is made, so "
                "that the list never moves past one that is still being saved."
            ),
        },
        "servers": [{"url": base_url}],
        "security": [{"bearerToken": []}],
        "paths": {
            "/api/v1/submissions": {
                "get": {
                    "operationId": "listSubmissions",
                    "summary": "Submissions in the order they were made, oldest first",
                    "parameters": [
                        {
                            "name": "since",
                            "in": "query",
                            "required": False,
                            "description": "A `next_cursor` from an earlier answer. Leave out to start at the first.",
                            "schema": {"type": "string"},
                        },
                        {
                            "name": "limit",
                            "in": "query",
                            "required": False,
                            "description": f"How many to return, 1 to {MAX_LIMIT}.",
                            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
                        },
                    ],
                    "responses": {
                        "200": _json("A page of submissions", "SubmissionPage"),
                        "400": _error("`since` or `limit` is malformed"),
                        "401": UNAUTHORISED,
                    },
                }
            },
            "/api/v1/submissions/{reference}": {
                "get": {
                    "operationId": "getSubmission",
                    "summary": "One submission: its whole snapshot and content hash",
                    "parameters": [REFERENCE],
                    "responses": {
                        "200": _json("The submission", "Submission"),
                        "401": UNAUTHORISED,
                        "404": _error("No submission has that reference"),
                    },
                }
            },
            "/api/v1/submissions/{reference}/attachments/{attachment_id}": {
                "get": {
                    "operationId": "getSubmissionAttachment",
                    "summary": "The bytes of a file that was part of the submission",
                    "parameters": [
                        REFERENCE,
                        {
                            "name": "attachment_id",
                            "in": "path",
                            "required": True,
                            "description": "An `id` from the submission's `snapshot.attachments`.",
                            "schema": {"type": "integer", "minimum": 1},
                        },
                    ],
                    "responses": {
                        "200": {
                            "description": "The file, exactly as submitted",
                            "headers": {
                                "Repr-Digest": {
                                    "description": "`sha-256=:<base64>:` (RFC 9530)",
                                    "schema": {"type": "string"},
                                },
                                "Content-Disposition": {"schema": {"type": "string"}},
                            },
                            "content": {
                                "application/octet-stream": {
                                    "schema": {"type": "string", "contentMediaType": "application/octet-stream"}
                                }
                            },
                        },
                        "401": UNAUTHORISED,
                        "404": _error("No such submission, or the file is not one of its attachments"),
                    },
                }
            },
            "/api/v1/openapi.json": {
                "get": {
                    "operationId": "getOpenApi",
                    "summary": "This document",
                    "security": [],
                    "responses": {
                        "200": {
                            "description": "The OpenAPI document",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                }
            },
        },
        "webhooks": {
            "submission": {
                "post": {
                    "operationId": "submissionCreated",
                    "summary": "Sent to PORTAL_WEBHOOK_URL once for each new submission, when one is configured",
                    "description": (
                        "Check `X-Portal-Signature` before trusting the body: `sha256=` then the hex HMAC-SHA256 "
                        "of the raw body, keyed with the shared secret; compare in constant time. "
                        "Answer any 2xx once the submission is safely received. Anything else, or no answer "
                        "within 10 seconds, is retried with growing delays, so the same delivery can arrive "
                        "more than once: `X-Portal-Delivery` stays the same across retries."
                    ),
                    "security": [],
                    "parameters": [
                        {
                            "name": "X-Portal-Signature",
                            "in": "header",
                            "required": True,
                            "schema": {"type": "string", "pattern": "^sha256=[0-9a-f]{64}$"},
                        },
                        {
                            "name": "X-Portal-Delivery",
                            "in": "header",
                            "required": True,
                            "description": "Unique per delivery, the same on its retries.",
                            "schema": {"type": "string"},
                        },
                        {
                            "name": "X-Portal-Event",
                            "in": "header",
                            "required": True,
                            "schema": {"type": "string", "const": "submission.created"},
                        },
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["event", "submission"],
                                    "properties": {
                                        "event": {"type": "string", "const": "submission.created"},
                                        "submission": _ref("Submission"),
                                    },
                                }
                            }
                        },
                    },
                    "responses": {"200": {"description": "Received (any 2xx will do)"}},
                }
            }
        },
        "components": {
            "securitySchemes": {
                "bearerToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API token from the support workspace; revocable.",
                },
            },
            "schemas": SCHEMAS,
        },
    }
