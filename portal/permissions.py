"""Every permission the portal knows, named resource:action.

Roles in roles/ grant these; every route declares one of them, or PUBLIC, or SIGNED_IN.
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
    "notification:review": "comment on notifications, ask for changes and approve them",
    "notification:submit": "send approved notifications to the regulator",
    "query:ask": "ask the support team a question",
    "support:view": "use the support workspace",
    "support:act": "carry out help actions for providers",
    "signup:decide": "approve or reject requests for new organisation accounts",
    "reports:view": "see reports on notifications and queries",
    "api_tokens:manage": "create and revoke the regulator's API tokens",
}

KNOWN = set(PERMISSIONS) | {PUBLIC, SIGNED_IN}
