"""SQLModel tables. Groups are addressed as (channel, external id); people through their
identities (Identity, storage/people/identities.py), one person on several channels."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.columns import NEVER_REUSE_IDS, UTCDateTime, _when
from storage.columns import utcnow as utcnow  # callers take the clock from here too


class Resident(SQLModel, table=True):
    """Anyone who has written to the bot; roles come later on top of this row."""

    __tablename__ = "residents"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: int | None = Field(default=None, primary_key=True)
    # The first identity, as it was before identities (migration 0011): nothing new reads
    # these; a resident is found, addressed and linked through storage/people/identities.py.
    # external_id is empty when the first identity's id is not a number (a WeCom userid).
    channel: str = Field(default="telegram", max_length=16)
    external_id: int | None = Field(default=None, sa_type=BigInteger)
    name: str = Field(default="", max_length=200)
    username: str | None = Field(default=None, max_length=64)
    language: str = Field(default="zh", max_length=8)
    created_at: datetime = _when()
    last_seen_at: datetime = _when()
    # Set when Telegram answers 403 (the person blocked the bot); cleared when they write again.
    unreachable_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The profile a resident gives (issue 4): where they live, and whether they want broadcasts.
    # The phone number is for staff only and is masked wherever the bot posts.
    building: str | None = Field(default=None, max_length=16, index=True)
    entrance: str | None = Field(default=None, max_length=16)  # the unit (单元) in the building
    phone: str | None = Field(default=None, max_length=32)
    subscribed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Identity(SQLModel, table=True):
    """One way to reach a resident: their id on one channel (Telegram's user id as a decimal
    string, a WeCom userid or external_userid). A resident may hold several, one per link."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: int | None = Field(default=None, primary_key=True)
    resident_id: int = Field(foreign_key="residents.id", index=True)
    channel: str = Field(max_length=16)
    external_id: str = Field(max_length=128)
    created_at: datetime = _when()


class LinkCode(SQLModel, table=True):
    """A one-time code that attaches another channel's identity to `resident_id`.

    Only the code's SHA-256 is kept, like an Open311 key's: a leaked table links nobody."""

    __tablename__ = "link_codes"

    id: int | None = Field(default=None, primary_key=True)
    code_hash: str = Field(unique=True, max_length=64)
    resident_id: int = Field(foreign_key="residents.id", index=True)
    created_at: datetime = _when()
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Group(SQLModel, table=True):
    """A community group chat the bot is a member of."""

    __tablename__ = "groups"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(default="telegram", max_length=16)
    external_id: int = Field(sa_type=BigInteger)
    title: str = Field(default="", max_length=255)
    created_at: datetime = _when()
    # A community group a secretary registered (/register_group), and the buildings it covers.
    registered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    registered_by_id: int | None = Field(default=None, foreign_key="residents.id")
    buildings: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class Category(SQLModel, table=True):
    __tablename__ = "categories"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, max_length=32)
    name_zh: str = Field(max_length=64)
    name_en: str = Field(max_length=64)
    position: int = 0
    active: bool = True

    def name(self, lang: str) -> str:
        return self.name_zh if lang == "zh" else self.name_en


class Case(SQLModel, table=True):
    """A resident's demand or report. Its id is the public reference (#27)."""

    __tablename__ = "cases"
    __table_args__ = (
        # One source message files at most one case: duplicate deliveries are harmless.
        UniqueConstraint("source_channel", "source_chat_id", "source_message_id"),
        NEVER_REUSE_IDS,
    )

    id: int | None = Field(default=None, primary_key=True)
    category_id: int = Field(foreign_key="categories.id", index=True)
    text: str = Field(sa_type=Text)
    photos: list[int] = Field(  # ids of media_files rows (storage/media.py)
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    latitude: float | None = None
    longitude: float | None = None
    address: str | None = Field(default=None, max_length=300)
    # The reporter's building when the case was filed: digests and figures filter by it.
    building: str | None = Field(default=None, max_length=16, index=True)
    reporter_id: int = Field(foreign_key="residents.id", index=True)
    anonymous: bool = False
    source: str = Field(default="private", max_length=16, index=True)
    source_channel: str = Field(default="telegram", max_length=16)
    source_chat_id: int = Field(sa_type=BigInteger)
    source_message_id: int = Field(sa_type=BigInteger)
    status: str = Field(default="new", max_length=16, index=True)
    created_at: datetime = _when(index=True)
    updated_at: datetime = _when()
    # Workflow (routing, deadlines, outcome). Times are UTC.
    unit_id: int | None = Field(default=None, foreign_key="units.id", index=True)
    assignee_id: int | None = Field(default=None, foreign_key="residents.id", index=True)
    due_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    first_response_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reminded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    escalated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    duplicate_of_id: int | None = Field(default=None, foreign_key="cases.id")
    responsible_party: str | None = Field(default=None, max_length=200)
    satisfaction: int | None = None


# Case-status digests (storage/deliberation/digests.py): each count is one range over a time, read
# from the index alone (1,000,000 cases: a month's digest 2.4 s -> 0.3 s on SQLite).
_cases = Case.__table__  # type: ignore[attr-defined]
Index(
    "ix_cases_digest_filed",
    _cases.c.created_at,
    _cases.c.status,
    _cases.c.building,
    _cases.c.category_id,
)
Index(
    "ix_cases_digest_resolved",
    _cases.c.resolved_at,
    _cases.c.status,
    _cases.c.building,
    _cases.c.category_id,
    _cases.c.source,
    _cases.c.created_at,
)
# Hot issues (storage/deliberation/hot.py) rank the open cases of each category oldest first: from
# this index alone (1,000,000 cases on SQLite: the ranking 0.88 s -> 0.65 s).
Index(
    "ix_cases_open_by_category",
    _cases.c.status,
    _cases.c.category_id,
    _cases.c.created_at,
    _cases.c.due_at,
    _cases.c.reporter_id,
)
Index(
    "ix_cases_digest_overdue",
    _cases.c.status,
    _cases.c.due_at,
    _cases.c.building,
    _cases.c.category_id,
)


class CaseEvent(SQLModel, table=True):
    """The audit trail: every change to a case, who made it and whether residents see it."""

    __tablename__ = "case_events"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    at: datetime = _when()
    actor_id: int | None = Field(default=None, foreign_key="residents.id")
    kind: str = Field(max_length=24)
    from_status: str | None = Field(default=None, max_length=16)
    to_status: str | None = Field(default=None, max_length=16)
    note: str = Field(default="", sa_type=Text)
    public: bool = True


class ReportDraft(SQLModel, table=True):
    """A half-finished guided report: one per resident, so a restart continues it."""

    __tablename__ = "report_drafts"
    __table_args__ = (NEVER_REUSE_IDS,)

    id: int | None = Field(default=None, primary_key=True)
    resident_id: int = Field(foreign_key="residents.id", unique=True)
    chat_id: int = Field(sa_type=BigInteger)
    step: str = Field(default="category", max_length=16)
    category_id: int | None = Field(default=None, foreign_key="categories.id")
    text: str | None = Field(default=None, sa_type=Text)
    photos: list[int] = Field(  # ids of media_files rows (storage/media.py)
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    latitude: float | None = None
    longitude: float | None = None
    address: str | None = Field(default=None, max_length=300)
    anonymous: bool | None = None
    created_at: datetime = _when()
    updated_at: datetime = _when()


class ProcessedUpdate(SQLModel, table=True):
    """Updates already handled, so a redelivered update changes nothing twice."""

    __tablename__ = "processed_updates"

    bot_id: int = Field(sa_type=BigInteger, primary_key=True)
    update_id: int = Field(sa_type=BigInteger, primary_key=True)
    at: datetime = _when(index=True)


class Unit(SQLModel, table=True):
    """A handling unit: the property company, a street department, the committee, mediators."""

    __tablename__ = "units"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, max_length=32)
    name_zh: str = Field(max_length=64)
    name_en: str = Field(max_length=64)
    active: bool = True

    def name(self, lang: str) -> str:
        return self.name_zh if lang == "zh" else self.name_en


class Route(SQLModel, table=True):
    """Which unit handles a category, and how long it has."""

    __tablename__ = "routes"

    category_id: int = Field(foreign_key="categories.id", primary_key=True)
    unit_id: int = Field(foreign_key="units.id")
    due_hours: int = 72


class RoleGrant(SQLModel, table=True):
    """A role held by a resident (staff and mediators within a unit). Revoked rows stay."""

    __tablename__ = "role_grants"

    id: int | None = Field(default=None, primary_key=True)
    resident_id: int = Field(foreign_key="residents.id", index=True)
    role: str = Field(max_length=16)
    unit_id: int | None = Field(default=None, foreign_key="units.id")
    granted_by_id: int | None = Field(default=None, foreign_key="residents.id")
    granted_at: datetime = _when()
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_by_id: int | None = Field(default=None, foreign_key="residents.id")


class Invitation(SQLModel, table=True):
    """A one-time deep link that grants a role to whoever opens it first."""

    __tablename__ = "invitations"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, max_length=32)
    role: str = Field(max_length=16)
    unit_id: int | None = Field(default=None, foreign_key="units.id")
    created_by_id: int | None = Field(default=None, foreign_key="residents.id")
    created_at: datetime = _when()
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_by_id: int | None = Field(default=None, foreign_key="residents.id")
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Dispute(SQLModel, table=True):
    """The particulars of a labour or wage dispute case."""

    __tablename__ = "disputes"

    case_id: int = Field(foreign_key="cases.id", primary_key=True)
    parties: str = Field(default="", max_length=500)
    people_count: int = 1
    amount_yuan: int = 0


class DutySlot(SQLModel, table=True):
    """A mediator on duty at the mediation desk on a (local) day."""

    __tablename__ = "duty_slots"
    __table_args__ = (UniqueConstraint("day", "mediator_id"),)

    id: int | None = Field(default=None, primary_key=True)
    day: date = Field(index=True)
    mediator_id: int = Field(foreign_key="residents.id")


class PendingInput(SQLModel, table=True):
    """What the bot is waiting for this person to type next (a note, a reason, a follow-up)."""

    __tablename__ = "pending_inputs"

    resident_id: int = Field(foreign_key="residents.id", primary_key=True)
    kind: str = Field(max_length=16)
    case_id: int | None = Field(default=None, foreign_key="cases.id")
    # What else the answer belongs to (a whistle, a proposal, a meeting item), by kind.
    subject_id: int | None = None
    created_at: datetime = _when()


class OutboxMessage(SQLModel, table=True):
    """A message to someone other than the person who just wrote, sent by the one sender.

    Written in the same transaction as the change that caused it. `kind` and `params` are
    rendered at send time in `lang` (handlers/notices.py), so storage needs no Telegram or words.
    """

    __tablename__ = "outbox"
    __table_args__ = (NEVER_REUSE_IDS,)

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(default="telegram", max_length=16)
    # The recipient's id on that channel: a Telegram chat id as a decimal string, a WeCom userid.
    address: str = Field(max_length=128, index=True)
    lang: str = Field(default="zh", max_length=8)
    kind: str = Field(max_length=32)
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    dedup_key: str = Field(unique=True, max_length=200)
    status: str = Field(default="pending", max_length=12)
    attempts: int = 0
    next_attempt_at: datetime = _when(index=True)
    leased_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = _when()
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    sent_message_id: int | None = Field(default=None, sa_type=BigInteger)
    last_error: str | None = Field(default=None, max_length=300)


class InspectionRound(SQLModel, table=True):
    """A joint inspection walk; the hazards found on it are cases of source "inspection"."""

    __tablename__ = "inspection_rounds"

    id: int | None = Field(default=None, primary_key=True)
    inspector_id: int = Field(foreign_key="residents.id", index=True)
    started_at: datetime = _when()
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Hazard(SQLModel, table=True):
    """The inspection particulars of a hazard case. Rectification is the case's resolution."""

    __tablename__ = "hazards"

    case_id: int = Field(foreign_key="cases.id", primary_key=True)
    round_id: int | None = Field(default=None, foreign_key="inspection_rounds.id", index=True)
    kind: str = Field(max_length=24)
    place: str = Field(max_length=300)
    responsible_party: str = Field(default="", max_length=200)
    deadline: datetime = Field(sa_type=UTCDateTime)


class JobRun(SQLModel, table=True):
    """The scheduler's ledger: a job claims its period once, whatever restarts or instances."""

    __tablename__ = "job_runs"

    job: str = Field(primary_key=True, max_length=40)
    period: str = Field(primary_key=True, max_length=40)
    claimed_at: datetime = _when()
