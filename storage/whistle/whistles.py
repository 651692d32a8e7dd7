"""The whistle (a secretary's call for opinions): sending, cancelling, and the names callers use.

Composing is in storage/whistle/drafts.py (re-exported here), queuing and delivery counts in
storage/whistle/queue.py, answers and opinions in storage/whistle/answers.py. `confirm` turns
the secretary's finished draft into an open whistle in the caller's one transaction: a
conditional UPDATE claims the draft (so a second press sends nothing), then one delivery and
one outbox row per recipient (dedup key "whistle:<id>:<chat>") are written. A crash leaves
all or nothing, and the one sender (bot/telegram/sender.py) delivers each notice exactly once.

    blow_whistle(session, *, secretary, question, options, audience, deadline_at, ...)
        compose and confirm in one call (benchmarks, tests) -> Whistle
    confirm(session, *, by, whistle_id, now, report_chat_id, report_message_id, display)
    cancellable(session, *, by, whistle_id) -> Whistle (else WhistleNotOpen, naming its status)
    cancel(session, *, by, whistle_id, now)
    resolve_audience(session, *, audience) -> Audience(groups, residents)
    delivery_counts(session, *, whistle_id) -> DeliveryCounts(queued, sent, failed, blocked)
    parse_deadline(text, *, now, tz)
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.errors import InvalidInput, StaleAction
from storage.models import Group, OutboxMessage, Resident, utcnow
from storage.outbox import Status as Sending
from storage.people import profiles
from storage.people.roles import Authority, Role
from storage.whistle.deadlines import parse_deadline
from storage.whistle.drafts import (
    NOTICE,
    Audience,
    Status,
    Step,
    _step,
    current_draft,
    discard_draft,
    get_draft,
    get_whistle,
    go_to,
    parse_options,
    set_audience,
    set_deadline,
    set_free_text,
    set_options,
    set_question,
    set_results_to_groups,
    start_draft,
    toggle_audience,
)
from storage.whistle.models import Whistle, WhistleDelivery
from storage.whistle.queue import (
    DeliveryCounts,
    delivery_counts,
    queue_deliveries,
    whistles_with_reports,
)


async def resolve_audience(session: AsyncSession, *, audience: dict[str, Any]) -> Audience:
    """The registered groups and subscribers an audience names, each once, in id order."""
    wanted = audience.get("groups") or []
    groups: list[Group] = []
    if wanted:
        chosen = None if wanted == "all" else [int(g) for g in wanted]
        groups = await profiles.registered_groups(session, ids=chosen)
    residents: list[Resident] = []
    if audience.get("subscribers"):
        residents = await profiles.subscribers(session)
    elif audience.get("buildings"):
        residents = await profiles.subscribers(session, buildings=list(audience["buildings"]))
    return Audience(groups=groups, residents=residents)


async def confirm(
    session: AsyncSession,
    *,
    by: Authority,
    whistle_id: int,
    now: datetime,
    report_chat_id: int | None = None,
    report_message_id: int | None = None,
    display: dict[str, Any] | None = None,
) -> tuple[Whistle, int]:
    """Send the draft: deliveries and outbox rows for its whole audience, status "open".

    `report_*` is the secretary's message that becomes the live delivery report; `display`
    carries what the words need that storage does not know (time zone, the bot's username).
    Returns (whistle, recipients). A second confirm of the same draft is StaleAction.
    """
    draft = await get_draft(session, by=by, whistle_id=whistle_id, step=Step.PREVIEW)
    if draft.deadline_at is None or not draft.question:
        raise StaleAction("the draft is not complete")
    if draft.deadline_at <= now:
        await _step(session, draft, Step.DEADLINE)
        raise InvalidInput("deadline_past")
    audience = await resolve_audience(session, audience=draft.audience)
    if not audience.groups and not audience.residents:
        raise InvalidInput("nobody_reached")
    # The claim: only one confirm turns this draft into a sent whistle.
    claimed = await session.exec(
        update(Whistle)
        .where(col(Whistle.id) == whistle_id, col(Whistle.status) == Status.DRAFT)
        .values(
            status=Status.OPEN,
            step=None,
            sent_at=now,
            report_chat_id=report_chat_id,
            report_message_id=report_message_id,
        )
    )
    if not claimed.rowcount:
        raise StaleAction("already sent")
    await session.refresh(draft)
    count = await queue_deliveries(
        session,
        whistle=draft,
        groups=audience.groups,
        residents=audience.residents,
        params=notice_params(draft, display or {}),
        kind=NOTICE,
    )
    return draft, count


def notice_params(whistle: Whistle, display: dict[str, Any]) -> dict[str, Any]:
    """What the whistle message says (rendered at send time in the recipient's language)."""
    assert whistle.deadline_at is not None
    return {
        "whistle": whistle.id,
        "question": whistle.question,
        "options": list(whistle.options),
        "free_text": whistle.free_text,
        "deadline_at": whistle.deadline_at.isoformat(),
        **display,
    }


async def blow_whistle(
    session: AsyncSession,
    *,
    secretary: Resident,
    question: str,
    options: list[str],
    audience: dict[str, Any],
    deadline_at: datetime,
    free_text: bool = True,
    results_to_groups: bool = False,
    now: datetime | None = None,
    display: dict[str, Any] | None = None,
) -> Whistle:
    """Compose and confirm in one call, as the chat steps would (no report message)."""
    assert secretary.id is not None
    by = Authority(resident_id=secretary.id, roles=frozenset({Role.SECRETARY}))
    draft = Whistle(
        created_by_id=secretary.id,
        question=question,
        options=list(options),
        free_text=free_text or not options,
        audience=dict(audience),
        results_to_groups=results_to_groups,
        deadline_at=deadline_at,
        status=Status.DRAFT,
        step=Step.PREVIEW,
    )
    session.add(draft)
    await session.flush()
    assert draft.id is not None
    whistle, _count = await confirm(
        session, by=by, whistle_id=draft.id, now=now or utcnow(), display=display
    )
    return whistle


class WhistleNotOpen(StaleAction):
    """The whistle is closed or cancelled already: carries its status for the answer."""

    def __init__(self, number: int, status: str) -> None:
        super().__init__(f"whistle {number} is {status}")
        self.number, self.status = number, status


async def cancellable(session: AsyncSession, *, by: Authority, whistle_id: int) -> Whistle:
    """The whistle if a secretary may still cancel it (it is open), checked before asking."""
    whistle = await get_whistle(session, by=by, whistle_id=whistle_id)
    if whistle.status != Status.OPEN:
        raise WhistleNotOpen(whistle_id, whistle.status)
    return whistle


async def cancel(
    session: AsyncSession, *, by: Authority, whistle_id: int, now: datetime
) -> Whistle:
    """Stop an open whistle: no more answers, and notices not yet sent are dropped."""
    whistle = await cancellable(session, by=by, whistle_id=whistle_id)
    whistle.status, whistle.cancelled_at = Status.CANCELLED, now
    session.add(whistle)
    carriers = select(WhistleDelivery.outbox_id).where(WhistleDelivery.whistle_id == whistle_id)
    reminders = select(WhistleDelivery.reminder_outbox_id).where(
        WhistleDelivery.whistle_id == whistle_id
    )
    await session.exec(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.status) == Sending.PENDING,
            col(OutboxMessage.id).in_(carriers) | col(OutboxMessage.id).in_(reminders),
        )
        .values(status=Sending.FAILED, last_error="whistle cancelled", leased_until=None)
    )
    await session.flush()
    return whistle


__all__ = [
    "Audience",
    "DeliveryCounts",
    "Status",
    "Step",
    "blow_whistle",
    "cancel",
    "confirm",
    "current_draft",
    "delivery_counts",
    "discard_draft",
    "get_draft",
    "get_whistle",
    "go_to",
    "notice_params",
    "parse_deadline",
    "parse_options",
    "resolve_audience",
    "set_audience",
    "set_deadline",
    "set_free_text",
    "set_options",
    "set_question",
    "set_results_to_groups",
    "start_draft",
    "toggle_audience",
    "whistles_with_reports",
]
