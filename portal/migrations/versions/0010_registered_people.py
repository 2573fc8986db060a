"""registered people: who a location's registered manager and the organisation's nominated individual are here

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 09:45:00.000000

The register names each location's registered manager and each provider's nominated individual; an
organisation admin records which member, if any, each of them is (portal/organisation/registered_people.py).
Nobody is linked until an admin says so.
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("locations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("registered_manager_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_locations_registered_manager_id_memberships"),
            "memberships",
            ["registered_manager_id"],
            ["id"],
            ondelete="SET NULL",
        )
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.add_column(sa.Column("nominated_individual", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.drop_column("nominated_individual")
    with op.batch_alter_table("locations", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_locations_registered_manager_id_memberships"), type_="foreignkey")
        batch_op.drop_column("registered_manager_id")
