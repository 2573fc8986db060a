"""Indexes for the notifications list's filters

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notifications") as batch:
        batch.drop_index("ix_notifications_org_updated")
        batch.create_index("ix_notifications_org_updated", ["organisation_id", "updated_at", "id"])
        batch.create_index(
            "ix_notifications_org_location_updated", ["organisation_id", "location_id", "updated_at", "id"]
        )
        batch.create_index("ix_notifications_org_type_updated", ["organisation_id", "type_key", "updated_at", "id"])


def downgrade() -> None:
    with op.batch_alter_table("notifications") as batch:
        batch.drop_index("ix_notifications_org_type_updated")
        batch.drop_index("ix_notifications_org_location_updated")
        batch.drop_index("ix_notifications_org_updated")
        batch.create_index("ix_notifications_org_updated", ["organisation_id", "updated_at"])
