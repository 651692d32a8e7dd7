"""media files

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05

Photos were kept as Telegram file ids: in cases.photos and report_drafts.photos (JSON lists) and
in a notice's params ("photo"). They become ids of `media_files` rows (channel "telegram", the
file id as the ref), so an old database keeps its photos. Telegram's file_unique_id was never
kept, so an old row's photo is known by its ref alone.
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_media = sa.table(
    "media_files",
    sa.column("id", sa.Integer()),
    sa.column("channel", sa.String()),
    sa.column("channel_ref", sa.String()),
    sa.column("created_at", sa.DateTime(timezone=True)),
)


def _table(name: str, column: str) -> sa.TableClause:
    return sa.table(name, sa.column("id", sa.Integer()), sa.column(column, sa.JSON()))


class _Records:
    """Media ids for old file ids, made on first sight (the same file id is one record)."""

    def __init__(self, bind: sa.Connection) -> None:
        self.bind = bind
        self.ids: dict[str, int] = {}
        self.now = datetime.now(UTC)

    def id_of(self, value: Any) -> Any:
        if not isinstance(value, str):  # already an id (or nothing)
            return value
        if value not in self.ids:
            made = self.bind.execute(
                _media.insert()
                .values(channel="telegram", channel_ref=value, created_at=self.now)
                .returning(_media.c.id)
            )
            self.ids[value] = int(made.scalar_one())
        return self.ids[value]


def _convert_lists(records: _Records, name: str) -> None:
    table = _table(name, "photos")
    rows = records.bind.execute(sa.select(table.c.id, table.c.photos)).all()
    for row_id, photos in rows:
        if not photos or not any(isinstance(photo, str) for photo in photos):
            continue
        converted = [records.id_of(photo) for photo in photos]
        records.bind.execute(table.update().where(table.c.id == row_id).values(photos=converted))


def _convert_notices(records: _Records) -> None:
    outbox = sa.table(
        "outbox",
        sa.column("id", sa.Integer()),
        sa.column("kind", sa.String()),
        sa.column("params", sa.JSON()),
    )
    # Only the reporter's case update has ever carried a photo.
    rows = records.bind.execute(
        sa.select(outbox.c.id, outbox.c.params).where(outbox.c.kind == "case_update")
    ).all()
    for row_id, params in rows:
        if not isinstance(params, dict) or not isinstance(params.get("photo"), str):
            continue
        converted = {**params, "photo": records.id_of(params["photo"])}
        records.bind.execute(outbox.update().where(outbox.c.id == row_id).values(params=converted))


def upgrade() -> None:
    op.create_table(
        "media_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("channel_ref", sa.String(length=255), nullable=True),
        sa.Column("channel_unique", sa.String(length=128), nullable=True),
        sa.Column("content_type", sa.String(length=100), nullable=True),
        sa.Column("size", sa.Integer(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("channel", "channel_unique"),
        sa.UniqueConstraint("channel", "channel_ref"),
        sqlite_autoincrement=True,
    )
    records = _Records(op.get_bind())
    _convert_lists(records, "cases")
    _convert_lists(records, "report_drafts")
    _convert_notices(records)


def downgrade() -> None:
    # Back to file ids where the record has a Telegram ref; a photo known only by its bytes
    # cannot be named to 0008's code and is dropped.
    bind = op.get_bind()
    refs = {
        int(media_id): ref
        for media_id, ref in bind.execute(
            sa.select(_media.c.id, _media.c.channel_ref).where(_media.c.channel == "telegram")
        ).all()
    }
    for name in ("cases", "report_drafts"):
        table = _table(name, "photos")
        for row_id, photos in bind.execute(sa.select(table.c.id, table.c.photos)).all():
            if photos:
                back = [refs[photo] for photo in photos if refs.get(photo)]
                bind.execute(table.update().where(table.c.id == row_id).values(photos=back))
    outbox = sa.table(
        "outbox",
        sa.column("id", sa.Integer()),
        sa.column("kind", sa.String()),
        sa.column("params", sa.JSON()),
    )
    notices = sa.select(outbox.c.id, outbox.c.params).where(outbox.c.kind == "case_update")
    for row_id, params in bind.execute(notices).all():
        if isinstance(params, dict) and isinstance(params.get("photo"), int):
            back_params = {**params, "photo": refs.get(params["photo"])}
            bind.execute(outbox.update().where(outbox.c.id == row_id).values(params=back_params))
    op.drop_table("media_files")
