"""Every permission the portal knows, named resource:action, in one enum.

Roles in roles/ grant these; every route declares one of them. Code and templates name a permission
only through `Permission.X` (templates: `P.X`), so a misspelt name fails when the module is imported
(Python) or when the templates are checked (tests/test_permission_names.py), instead of silently
meaning "no".
"""

from __future__ import annotations

from enum import StrEnum


class Permission(StrEnum):
    # Anyone, signed in or not.
    PUBLIC = "public"
    # Any signed-in person, whatever organisation they belong to: their own account, choosing an organisation.
    SIGNED_IN = "account:use"

    ORGANISATION_VIEW = "organisation:view"
    ORGANISATION_MANAGE = "organisation:manage"
    LOCATIONS_MANAGE = "locations:manage"
    MEMBERS_VIEW = "members:view"
    MEMBERS_MANAGE = "members:manage"
    AUDIT_VIEW = "audit:view"
    NOTIFICATION_VIEW = "notification:view"
    NOTIFICATION_DRAFT = "notification:draft"
    NOTIFICATION_COMMENT = "notification:comment"
    NOTIFICATION_REVIEW = "notification:review"
    NOTIFICATION_SUBMIT = "notification:submit"
    QUERY_ASK = "query:ask"
    QUERY_ANSWER = "query:answer"
    SUPPORT_VIEW = "support:view"
    SUPPORT_ACT = "support:act"
    SIGNUP_DECIDE = "signup:decide"
    REPORTS_VIEW = "reports:view"
    API_TOKENS_MANAGE = "api_tokens:manage"

    # Held by the regulator's API tokens, never by a role: a bearer token proves these, a session never does.
    SUBMISSIONS_READ = "submissions:read"
    # Held by whoever has PORTAL_METRICS_TOKEN (Prometheus), never by a role or a session.
    METRICS_READ = "metrics:read"


PUBLIC = Permission.PUBLIC
SIGNED_IN = Permission.SIGNED_IN

# What roles may grant, with the words shown to people when they gain or lose one.
PERMISSIONS: dict[Permission, str] = {
    Permission.ORGANISATION_VIEW: "see the organisation's dashboard and notifications list",
    Permission.ORGANISATION_MANAGE: "change the organisation's settings",
    Permission.LOCATIONS_MANAGE: "add the organisation's locations, change their names and addresses, and close them",
    Permission.MEMBERS_VIEW: "see who belongs to the organisation",
    Permission.MEMBERS_MANAGE: "invite people, change their roles and remove them",
    Permission.AUDIT_VIEW: "see the organisation's history",
    Permission.NOTIFICATION_VIEW: "read notifications",
    Permission.NOTIFICATION_DRAFT: "start and edit notifications",
    Permission.NOTIFICATION_COMMENT: "comment on notifications and reply to comments",
    Permission.NOTIFICATION_REVIEW: "comment on notifications, ask for changes and approve them",
    Permission.NOTIFICATION_SUBMIT: "send approved notifications to the regulator",
    Permission.QUERY_ASK: "ask the support team a question and follow the organisation's questions",
    Permission.QUERY_ANSWER: "reply to, assign and resolve providers' questions",
    Permission.SUPPORT_VIEW: "use the support workspace",
    Permission.SUPPORT_ACT: "carry out help actions for providers",
    Permission.SIGNUP_DECIDE: "approve or reject requests for new organisation accounts",
    Permission.REPORTS_VIEW: "see reports on notifications and queries",
    Permission.API_TOKENS_MANAGE: "create and revoke the regulator's API tokens",
}

# Any live API token holds all of these; routing.check_permission authenticates the token instead of the session.
API_PERMISSIONS: frozenset[Permission] = frozenset({Permission.SUBMISSIONS_READ})

# Held by whoever presents the token configured for it (PORTAL_METRICS_TOKEN): a machine, never a person. The
# route answers 404 while no token is configured, so the endpoint is never public by default.
TOKEN_PERMISSIONS: frozenset[Permission] = frozenset({Permission.METRICS_READ})

# Permissions about the organisation as a whole: a role granted for some locations never carries them, since
# no location's share of the organisation's settings or history exists. An organisation admin for one
# location manages that location's members; the settings and the whole history need an organisation-wide grant.
# Managing locations is one of these: a new location lies outside every location-scoped grant, and closing one
# ends what everyone granted there may start, so adding, changing and closing locations (docs/scope.md) needs
# a grant for all locations.
ORGANISATION_WIDE: frozenset[Permission] = frozenset(
    {Permission.ORGANISATION_MANAGE, Permission.LOCATIONS_MANAGE, Permission.AUDIT_VIEW}
)

KNOWN: frozenset[Permission] = frozenset(Permission)

# Never held in a practice copy of an organisation, whatever roles its members hold there: a question would
# reach the support team, and the copy's members and locations follow the real organisation's (portal/
# organisation/practice.py makes them), so inviting, managing members or locations, or changing settings
# there would only drift from what it copies. The real organisation is one button away.
NOT_IN_PRACTICE: frozenset[Permission] = frozenset(
    {
        Permission.QUERY_ASK,
        Permission.MEMBERS_VIEW,
        Permission.MEMBERS_MANAGE,
        Permission.LOCATIONS_MANAGE,
        Permission.ORGANISATION_MANAGE,
    }
)
