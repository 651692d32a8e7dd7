"""identities

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-12

A resident was one channel identity (residents.channel, residents.external_id, an integer).
WeCom's ids are strings and one person may link several, so identities get their own table:
every existing resident gets one (a Telegram id as a decimal string). One-time link codes are
kept hashed. residents.external_id stays, as the first identity, and may now be empty (a WeCom
userid is no number). The outbox addresses a row by `address` (the recipient's id on its
channel, a string) instead of the integer chat_id.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "identities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["resident_id"], ["residents.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("channel", "external_id"),
    )
    op.create_index("ix_identities_resident_id", "identities", ["resident_id"], unique=False)
    op.create_table(
        "link_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["resident_id"], ["residents.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code_hash"),
    )
    op.create_index("ix_link_codes_resident_id", "link_codes", ["resident_id"], unique=False)
    # One identity per resident, in id order, so each resident's first identity is this one.
    op.execute(
        "INSERT INTO identities (resident_id, channel, external_id, created_at) "
        "SELECT id, channel, CAST(external_id AS VARCHAR(128)), created_at FROM residents "
        "ORDER BY id"
    )
    with op.batch_alter_table("residents") as batch:
        batch.alter_column("external_id", existing_type=sa.BigInteger(), nullable=True)

    op.add_column("outbox", sa.Column("address", sa.String(length=128), nullable=True))
    op.execute("UPDATE outbox SET address = CAST(chat_id AS VARCHAR(128))")
    op.drop_index("ix_outbox_chat_id", table_name="outbox")
    with op.batch_alter_table("outbox", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.alter_column("address", existing_type=sa.String(length=128), nullable=False)
        batch.drop_column("chat_id")
    op.create_index("ix_outbox_address", "outbox", ["address"], unique=False)


def downgrade() -> None:
    op.add_column("outbox", sa.Column("chat_id", sa.BigInteger(), nullable=True))
    # A string address (a WeCom userid) has no integer chat: those rows cannot go back.
    bind = op.get_bind()
    outbox = sa.table("outbox", sa.column("id", sa.Integer()), sa.column("address", sa.String()))
    for row_id, address in bind.execute(sa.select(outbox.c.id, outbox.c.address)).all():
        if address.lstrip("-").isdigit():
            bind.execute(
                sa.text("UPDATE outbox SET chat_id = :chat WHERE id = :id"),
                {"chat": int(address), "id": row_id},
            )
        else:
            bind.execute(sa.text("DELETE FROM outbox WHERE id = :id"), {"id": row_id})
    op.drop_index("ix_outbox_address", table_name="outbox")
    with op.batch_alter_table("outbox", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.alter_column("chat_id", existing_type=sa.BigInteger(), nullable=False)
        batch.drop_column("address")
    op.create_index("ix_outbox_chat_id", "outbox", ["chat_id"], unique=False)
    # residents.external_id stays nullable: 0010's code always fills it, and rebuilding
    # residents on SQLite would trip every foreign key that names a resident.
    op.drop_index("ix_link_codes_resident_id", table_name="link_codes")
    op.drop_table("link_codes")
    op.drop_index("ix_identities_resident_id", table_name="identities")
    op.drop_table("identities")
