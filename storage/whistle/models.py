"""Tables of the whistle: a secretary's call for opinions, its deliveries, answers and opinions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.columns import NEVER_REUSE_IDS, UTCDateTime, _when


class Whistle(SQLModel, table=True):
    """A call for opinions: the question, its answer buttons, the audience and the deadline.

    `audience` is {"groups": "all" | [group ids], "subscribers": bool, "buildings": [..]}.
    Status: draft (being composed), sending, open (all queued, taking answers), closed,
    cancelled.
    """

    __tablename__ = "whistles"
    __table_args__ = (NEVER_REUSE_IDS,)

    id: int | None = Field(default=None, primary_key=True)
    created_by_id: int = Field(foreign_key="residents.id", index=True)
    question: str = Field(default="", sa_type=Text)
    options: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    free_text: bool = True
    audience: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    results_to_groups: bool = False
    deadline_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    status: str = Field(default="draft", max_length=12, index=True)
    step: str | None = Field(default=None, max_length=16)  # where composing is, while a draft
    created_at: datetime = _when()
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reminded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    cancelled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The secretary's live delivery report, edited in place as deliveries complete.
    report_chat_id: int | None = Field(default=None, sa_type=BigInteger)
    report_message_id: int | None = Field(default=None, sa_type=BigInteger)


class WhistleDelivery(SQLModel, table=True):
    """One recipient of a whistle (a subscriber or a group) and the outbox row that carries it."""

    __tablename__ = "whistle_deliveries"
    __table_args__ = (UniqueConstraint("whistle_id", "chat_id"),)

    id: int | None = Field(default=None, primary_key=True)
    whistle_id: int = Field(foreign_key="whistles.id", index=True)
    resident_id: int | None = Field(default=None, foreign_key="residents.id", index=True)
    group_id: int | None = Field(default=None, foreign_key="groups.id")
    chat_id: int = Field(sa_type=BigInteger)
    outbox_id: int | None = Field(default=None, foreign_key="outbox.id", index=True)
    reminder_outbox_id: int | None = Field(default=None, foreign_key="outbox.id")


class WhistleAnswer(SQLModel, table=True):
    """A resident's button answer: one per resident and whistle; pressing again changes it."""

    __tablename__ = "whistle_answers"
    __table_args__ = (UniqueConstraint("whistle_id", "resident_id"),)

    id: int | None = Field(default=None, primary_key=True)
    whistle_id: int = Field(foreign_key="whistles.id", index=True)
    resident_id: int = Field(foreign_key="residents.id")
    option: int
    in_audience: bool = True
    building: str | None = Field(default=None, max_length=16)
    answered_at: datetime = _when()
    changed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class WhistleOpinion(SQLModel, table=True):
    """A free-text opinion on a whistle; a secretary can turn it into a case."""

    __tablename__ = "whistle_opinions"
    __table_args__ = (
        UniqueConstraint("source_channel", "source_chat_id", "source_message_id"),
        NEVER_REUSE_IDS,
    )

    id: int | None = Field(default=None, primary_key=True)
    whistle_id: int = Field(foreign_key="whistles.id", index=True)
    resident_id: int = Field(foreign_key="residents.id")
    text: str = Field(sa_type=Text)
    in_audience: bool = True
    building: str | None = Field(default=None, max_length=16)
    source_channel: str = Field(default="telegram", max_length=16)
    source_chat_id: int = Field(sa_type=BigInteger)
    source_message_id: int = Field(sa_type=BigInteger)
    created_at: datetime = _when()
    case_id: int | None = Field(default=None, foreign_key="cases.id")
