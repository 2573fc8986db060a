"""practice mode: an organisation may be the practice copy of another

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 09:40:00

A practice copy is where an organisation's members try every notification type; nothing in it reaches
the regulator (portal/regulator_scope.py). Deleting the real organisation deletes its copy.
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("practice_of_id", sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_organisations_practice_of_id"), ["practice_of_id"])
        batch_op.create_foreign_key(
            batch_op.f("fk_organisations_practice_of_id_organisations"),
            "organisations",
            ["practice_of_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_organisations_practice_of_id_organisations"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("uq_organisations_practice_of_id"), type_="unique")
        batch_op.drop_column("practice_of_id")
