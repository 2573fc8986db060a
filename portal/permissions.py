"""Every permission the portal knows, named resource:action.

Roles in roles/ grant these; every route declares one of them, or PUBLIC, or SIGNED_IN, or one of
API_PERMISSIONS (held by API tokens, not people).
A test checks that roles and routes name nothing outside this list.
"""

from __future__ import annotations

PUBLIC = "public"
# Any signed-in person, whatever organisation they belong to: their own account, choosing an organisation.
SIGNED_IN = "account:use"

PERMISSIONS: dict[str, str] = {
    "organisation:view": "see the organisation's dashboard and notifications list",
    "organisation:manage": "change the organisation's settings",
    "members:view": "see who belongs to the organisation",
    "members:manage": "invite people, change their roles and remove them",
    "audit:view": "see the organisation's history",
    "notification:view": "read notifications",
    "notification:draft": "start and edit notifications",
    "notification:comment": "comment on notifications and reply to comments",
    "notification:review": "comment on notifications, ask for changes and approve them",
    "notification:submit": "send approved notifications to the regulator",
    "query:ask": "ask the support team a question and follow the organisation's questions",
    "query:answer": "reply to, assign and resolve providers' questions",
    "support:view": "use the support workspace",
    "support:act": "carry out help actions for providers",
    "signup:decide": "approve or reject requests for new organisation accounts",
    "reports:view": "see reports on notifications and queries",
    "api_tokens:manage": "create and revoke the regulator's API tokens",
}

# Granted to the regulator's API tokens, never to a role: a bearer token proves these, a session never does.
# Any live token holds all of them; routing.check_permission authenticates the token instead of the session.
API_PERMISSIONS: frozenset[str] = frozenset(
    {
        "submissions:read",  # list submitted notifications, read their snapshots and download their files
    }
)

KNOWN = set(PERMISSIONS) | set(API_PERMISSIONS) | {PUBLIC, SIGNED_IN}
