"""Every model is imported here so Alembic and the tests see the whole schema."""

from .accounts import Identity, KeptInput, RateLimitCounter, SeenLogoutToken, SignInLink, User, UserSession
from .audit import AuditEvent
from .base import Base, utcnow
from .notifications import Attachment, DeadlineReminder, Notification, NotificationIdentifier, SectionDraft
from .organisations import (
    PROVIDER,
    REGULATOR,
    Invitation,
    Location,
    Membership,
    Organisation,
    RoleGrant,
    SignupRequest,
)
from .outbox import OutboxMessage
from .register import RegisterLocation, RegisterProvider
from .support import OPEN_STATUSES, QUERY_STATUSES, QueryMessage, SupportQuery
from .workflow import ApiToken, Comment, ReviewRecord, Submission, Watch

__all__ = [
    "DeadlineReminder",
    "OPEN_STATUSES",
    "QUERY_STATUSES",
    "QueryMessage",
    "SupportQuery",
    "ApiToken",
    "Comment",
    "ReviewRecord",
    "Submission",
    "Watch",
    "Attachment",
    "AuditEvent",
    "Notification",
    "NotificationIdentifier",
    "SectionDraft",
    "Base",
    "Identity",
    "Invitation",
    "KeptInput",
    "Location",
    "Membership",
    "Organisation",
    "OutboxMessage",
    "PROVIDER",
    "REGULATOR",
    "RateLimitCounter",
    "RegisterLocation",
    "RegisterProvider",
    "RoleGrant",
    "SeenLogoutToken",
    "SignInLink",
    "SignupRequest",
    "User",
    "UserSession",
    "utcnow",
]
