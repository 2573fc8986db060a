"""deadline reminders: each person may turn them off; each reminder is recorded so it is sent once

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 10:45:00

`portal worker` emails the drafter and the organisation's admins before a notification's due date. The
unique row per notification, person and due date is what stops a second worker sending it again.
"""

import sqlalchemy as sa
from alembic import op

import portal.models.base

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deadline_reminders", sa.Boolean(), server_default=sa.true(), nullable=False))
    op.create_table(
        "deadline_reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notification_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("sent_at", portal.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["notifications.id"],
            name=op.f("fk_deadline_reminders_notification_id_notifications"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_deadline_reminders_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deadline_reminders")),
        sa.UniqueConstraint("notification_id", "user_id", "due_on", name=op.f("uq_deadline_reminders_notification_id")),
    )
    with op.batch_alter_table("deadline_reminders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deadline_reminders_notification_id"), ["notification_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_deadline_reminders_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_table("deadline_reminders")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("deadline_reminders")
