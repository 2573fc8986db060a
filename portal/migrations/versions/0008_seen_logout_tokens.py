"""seen logout tokens: GOV.UK One Login back-channel logout refuses a replayed token

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 06:30:00.000000

Each logout token's jti is kept until the token expires (portal/accounts/back_channel_logout.py).
"""

import sqlalchemy as sa
from alembic import op

import portal.models.base

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "seen_logout_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("issuer", sa.String(length=500), nullable=False),
        sa.Column("jti", sa.String(length=200), nullable=False),
        sa.Column("received_at", portal.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", portal.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seen_logout_tokens")),
        sa.UniqueConstraint("issuer", "jti", name=op.f("uq_seen_logout_tokens_issuer")),
    )
    with op.batch_alter_table("seen_logout_tokens", schema=None) as batch_op:
        batch_op.create_index("ix_seen_logout_tokens_expires_at", ["expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("seen_logout_tokens", schema=None) as batch_op:
        batch_op.drop_index("ix_seen_logout_tokens_expires_at")

    op.drop_table("seen_logout_tokens")
