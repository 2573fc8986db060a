"""person identifiers: an index of each notification's person identifier and provider reference, by search key

Revision ID: 0011
Revises: 0010

Filled here from the answers already saved; kept afterwards by the section save
(portal/notifications/people.py). The person identifier becomes a question kind of its own in this
release, so every saved one is under the key "person_identifier", in the "person" section, and every
provider reference under "provider_reference" in "about_you".
"""

import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

BATCH = 1000
INDEXED = {"person_identifier": "person", "provider_reference": "provider_reference"}


def _search_key(text: str) -> str:
    # A copy of portal.notifications.identifiers.search_key as it is at this revision, so this migration
    # gives the same rows whenever it runs; tests/test_person_identifiers.py holds the two together.
    return "".join(" ".join(unicodedata.normalize("NFKC", text).split()).casefold().split())[:200]


def upgrade() -> None:
    op.create_table(
        "notification_identifiers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notification_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("question_key", sa.String(length=60), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("search_key", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["notifications.id"],
            name=op.f("fk_notification_identifiers_notification_id_notifications"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_notification_identifiers_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_identifiers")),
        sa.UniqueConstraint(
            "notification_id", "question_key", name=op.f("uq_notification_identifiers_notification_id")
        ),
    )
    with op.batch_alter_table("notification_identifiers", schema=None) as batch_op:
        batch_op.create_index("ix_notification_identifiers_key_org", ["search_key", "organisation_id"], unique=False)
    _backfill()


def _backfill() -> None:
    connection = op.get_bind()
    sections = sa.table(
        "notification_sections",
        sa.column("id", sa.Integer),
        sa.column("notification_id", sa.Integer),
        sa.column("section_key", sa.String),
        sa.column("answers", sa.JSON),
    )
    notifications = sa.table("notifications", sa.column("id", sa.Integer), sa.column("organisation_id", sa.Integer))
    identifiers = sa.table(
        "notification_identifiers",
        sa.column("notification_id", sa.Integer),
        sa.column("organisation_id", sa.Integer),
        sa.column("question_key", sa.String),
        sa.column("kind", sa.String),
        sa.column("search_key", sa.String),
    )
    last = 0
    # Batches by id, so a large table is read a thousand sections at a time, whatever the database.
    while True:
        batch = connection.execute(
            sa.select(sections.c.id, sections.c.notification_id, sections.c.answers, notifications.c.organisation_id)
            .join(notifications, notifications.c.id == sections.c.notification_id)
            .where(sections.c.id > last, sections.c.section_key.in_(("person", "about_you")))
            .order_by(sections.c.id)
            .limit(BATCH)
        ).all()
        if not batch:
            return
        rows = []
        for section_id, notification_id, answers, organisation_id in batch:
            last = section_id
            for question_key, kind in INDEXED.items():
                value = (answers or {}).get(question_key)
                key = _search_key(value) if isinstance(value, str) else ""
                if key:
                    rows.append(
                        {
                            "notification_id": notification_id,
                            "organisation_id": organisation_id,
                            "question_key": question_key,
                            "kind": kind,
                            "search_key": key,
                        }
                    )
        if rows:
            connection.execute(identifiers.insert(), rows)


def downgrade() -> None:
    with op.batch_alter_table("notification_identifiers", schema=None) as batch_op:
        batch_op.drop_index("ix_notification_identifiers_key_org")
    op.drop_table("notification_identifiers")
