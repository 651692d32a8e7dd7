"""Tables of the monthly deliberation meeting: proposals, supports, agendas, votes, decisions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.columns import NEVER_REUSE_IDS, UTCDateTime, _when


class Proposal(SQLModel, table=True):
    """A topic a resident proposes for the meeting (from scratch or from one of their cases).

    Status: open, withdrawn, decided (a meeting took a decision on it), closed.
    """

    __tablename__ = "proposals"
    __table_args__ = (NEVER_REUSE_IDS,)

    id: int | None = Field(default=None, primary_key=True)
    proposer_id: int = Field(foreign_key="residents.id", index=True)
    text: str = Field(sa_type=Text)
    category_id: int | None = Field(default=None, foreign_key="categories.id", index=True)
    case_id: int | None = Field(default=None, foreign_key="cases.id")
    building: str | None = Field(default=None, max_length=16)
    status: str = Field(default="open", max_length=12, index=True)
    created_at: datetime = _when(index=True)
    withdrawn_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    deferred: int = 0  # times it was on an agenda and left without a decision


class Support(SQLModel, table=True):
    """A resident's "me too" on a proposal or on a case: one per resident and subject."""

    __tablename__ = "supports"
    __table_args__ = (UniqueConstraint("subject", "subject_id", "resident_id"),)

    id: int | None = Field(default=None, primary_key=True)
    subject: str = Field(max_length=12)  # "proposal" or "case"
    subject_id: int = Field(index=True)
    resident_id: int = Field(foreign_key="residents.id", index=True)
    at: datetime = _when()


class Meeting(SQLModel, table=True):
    """A monthly resident deliberation meeting. `period` is its month, YYYY-MM (local).

    Status: planned, agenda_draft (sent to secretaries), agenda_approved, in_progress, held,
    minuted.
    """

    __tablename__ = "meetings"
    __table_args__ = (NEVER_REUSE_IDS,)

    id: int | None = Field(default=None, primary_key=True)
    period: str = Field(unique=True, max_length=7)
    starts_at: datetime = Field(sa_type=UTCDateTime)
    status: str = Field(default="planned", max_length=16)
    approved_by_id: int | None = Field(default=None, foreign_key="residents.id")
    approved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    current_item_id: int | None = None  # the item on the floor during an in-chat run
    # The minutes as data (JSON of meeting_run.minutes_params), never words: they are worded in
    # each reader's language (handlers/deliberation/notices.py: minutes_text).
    minutes: str = Field(default="", sa_type=Text)


class AgendaItem(SQLModel, table=True):
    """One item of a meeting's agenda: a hot case cluster, a proposal, unfinished business, or
    a topic a secretary added by hand."""

    __tablename__ = "agenda_items"
    __table_args__ = (NEVER_REUSE_IDS,)

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meetings.id", index=True)
    position: int = 0
    kind: str = Field(max_length=12)  # "cases", "proposal", "unfinished", "topic"
    title: str = Field(sa_type=Text)
    proposal_id: int | None = Field(default=None, foreign_key="proposals.id")
    case_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # Unfinished business: the earlier decision carried onto this agenda. No foreign key,
    # since decisions point at their item and the two tables would otherwise form a cycle.
    decision_id: int | None = Field(default=None, index=True)
    score: float = 0.0
    dropped: bool = False
    outcome: str | None = Field(default=None, max_length=12)  # decided, deferred


class AgendaVote(SQLModel, table=True):
    """A resident's vote on an agenda item during the meeting: one per resident and item."""

    __tablename__ = "agenda_votes"
    __table_args__ = (UniqueConstraint("item_id", "resident_id"),)

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="agenda_items.id", index=True)
    resident_id: int = Field(foreign_key="residents.id")
    choice: str = Field(max_length=12)  # "for", "against", "abstain"
    at: datetime = _when()


class Decision(SQLModel, table=True):
    """What a meeting decided on an item, who owns it and by when; tracked until done.

    Status: open, done, dropped.
    """

    __tablename__ = "decisions"
    __table_args__ = (NEVER_REUSE_IDS,)

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meetings.id", index=True)
    item_id: int | None = Field(default=None, foreign_key="agenda_items.id")
    text: str = Field(sa_type=Text)
    owner_unit_id: int | None = Field(default=None, foreign_key="units.id")
    owner_resident_id: int | None = Field(default=None, foreign_key="residents.id")
    due_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    status: str = Field(default="open", max_length=12, index=True)
    created_by_id: int | None = Field(default=None, foreign_key="residents.id")
    created_at: datetime = _when()
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reminded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    escalated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class DecisionNote(SQLModel, table=True):
    """A progress note on a decision (public: residents who raised the issue may read it)."""

    __tablename__ = "decision_notes"

    id: int | None = Field(default=None, primary_key=True)
    decision_id: int = Field(foreign_key="decisions.id", index=True)
    author_id: int | None = Field(default=None, foreign_key="residents.id")
    at: datetime = _when()
    note: str = Field(default="", sa_type=Text)
