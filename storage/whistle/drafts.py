"""Composing a whistle (a secretary's call for opinions), step by step.

A draft is a `Whistle` row with status "draft" and a `step`, so a restart continues it. Every
function takes the actor's `Authority` and re-checks it: only a secretary composes, and a draft
is only its author's. storage/whistle/whistles.py sends it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.errors import InvalidInput, NotAllowed, StaleAction
from storage.models import Group, Resident, utcnow
from storage.people import profiles
from storage.people.roles import Authority
from storage.whistle.models import Whistle

NOTICE = "whistle"  # the outbox kind of the whistle message (handlers/whistle/notices.py)
QUESTION_MAX = 1000
OPTIONS_MAX = 6
OPTION_MAX = 30


class Status(StrEnum):
    DRAFT = "draft"
    OPEN = "open"  # sent (every notice queued), taking answers until the deadline
    CLOSED = "closed"  # past the deadline (scheduler/whistles.py)
    CANCELLED = "cancelled"


class Step(StrEnum):
    QUESTION = "question"
    OPTIONS = "options"
    FREE_TEXT = "free_text"
    AUDIENCE = "audience"
    DEADLINE = "deadline"
    PREVIEW = "preview"


@dataclass(frozen=True)
class Audience:
    """Who a whistle reaches: registered groups, and subscribers (all or in some buildings)."""

    groups: list[Group]
    residents: list[Resident]


def _require_secretary(by: Authority) -> None:
    if not by.is_secretary:
        raise NotAllowed("only a secretary blows the whistle")


async def current_draft(session: AsyncSession, *, by: Authority) -> Whistle | None:
    """The secretary's unfinished whistle, if any (one at a time)."""
    _require_secretary(by)
    query = select(Whistle).where(
        Whistle.created_by_id == by.resident_id, Whistle.status == Status.DRAFT
    )
    return (await session.exec(query.order_by(col(Whistle.id).desc()))).first()


async def start_draft(session: AsyncSession, *, by: Authority) -> tuple[Whistle, bool]:
    """The secretary's draft: the unfinished one continued, else a new one. (draft, created)"""
    draft = await current_draft(session, by=by)
    if draft is not None:
        return draft, False
    draft = Whistle(created_by_id=by.resident_id, status=Status.DRAFT, step=Step.QUESTION)
    session.add(draft)
    await session.flush()
    return draft, True


async def get_draft(
    session: AsyncSession, *, by: Authority, whistle_id: int, step: Step | None = None
) -> Whistle:
    """The named draft if it is the secretary's own (and at `step`); else StaleAction."""
    _require_secretary(by)
    draft = await session.get(Whistle, whistle_id)
    if draft is None or draft.status != Status.DRAFT or draft.created_by_id != by.resident_id:
        raise StaleAction("no such draft")
    if step is not None and draft.step != step:
        raise StaleAction(f"draft is at {draft.step}, not {step}")
    return draft


async def get_whistle(session: AsyncSession, *, by: Authority, whistle_id: int) -> Whistle:
    """Any sent whistle, for a secretary (report, opinions, cancel); else StaleAction."""
    _require_secretary(by)
    whistle = await session.get(Whistle, whistle_id)
    if whistle is None or whistle.status == Status.DRAFT:
        raise StaleAction("no such whistle")
    return whistle


async def sent_whistle(session: AsyncSession, *, whistle_id: int) -> Whistle | None:
    """A whistle that has been sent (open, closed or cancelled); None for a draft or none."""
    whistle = await session.get(Whistle, whistle_id)
    return None if whistle is None or whistle.status == Status.DRAFT else whistle


async def _step(session: AsyncSession, draft: Whistle, to: Step) -> Whistle:
    draft.step = to
    session.add(draft)
    await session.flush()
    return draft


async def go_to(session: AsyncSession, *, by: Authority, whistle_id: int, step: Step) -> Whistle:
    """Go back to an earlier step (the preview's "change" buttons)."""
    draft = await get_draft(session, by=by, whistle_id=whistle_id)
    if step == Step.PREVIEW and (not draft.question or draft.deadline_at is None):
        raise StaleAction("the draft is not complete")
    return await _step(session, draft, step)


async def set_question(
    session: AsyncSession, *, by: Authority, whistle_id: int, text: str
) -> Whistle:
    text = (text or "").strip()
    if not text:
        raise InvalidInput("empty")
    if len(text) > QUESTION_MAX:
        raise InvalidInput("too_long", limit=QUESTION_MAX, length=len(text))
    draft = await get_draft(session, by=by, whistle_id=whistle_id)
    draft.question = text
    return await _step(session, draft, Step.PREVIEW if draft.deadline_at else Step.OPTIONS)


def parse_options(text: str) -> list[str]:
    """ "agree / disagree / other" (or one per line, or separated by ，、;|) -> the options."""
    for separator in ("\n", "，", ",", "、", ";", "；", "|"):
        text = text.replace(separator, "/")
    options = [" ".join(part.split()) for part in text.split("/")]
    return [option for option in options if option]


async def set_options(
    session: AsyncSession, *, by: Authority, whistle_id: int, options: list[str]
) -> Whistle:
    """The answer buttons; an empty list means none (opinions only)."""
    if len(options) > OPTIONS_MAX or len(options) == 1:
        raise InvalidInput("options_count", maximum=OPTIONS_MAX)
    if any(len(option) > OPTION_MAX for option in options):
        raise InvalidInput("option_too_long", limit=OPTION_MAX)
    if len(set(options)) != len(options):
        raise InvalidInput("options_repeat")
    draft = await get_draft(session, by=by, whistle_id=whistle_id)
    draft.options = list(options)
    if not options:
        draft.free_text = True  # with no buttons, written opinions are the only answer
        return await _step(session, draft, Step.PREVIEW if draft.audience else Step.AUDIENCE)
    return await _step(session, draft, Step.FREE_TEXT)


async def set_free_text(
    session: AsyncSession, *, by: Authority, whistle_id: int, wanted: bool
) -> Whistle:
    draft = await get_draft(session, by=by, whistle_id=whistle_id)
    if not draft.options and not wanted:
        raise InvalidInput("nothing_to_answer")
    draft.free_text = wanted
    return await _step(session, draft, Step.PREVIEW if draft.audience else Step.AUDIENCE)


async def set_audience(
    session: AsyncSession,
    *,
    by: Authority,
    whistle_id: int,
    groups: str | list[int],
    subscribers: bool,
    buildings: list[str],
    done: bool = False,
) -> Whistle:
    """Store the audience (`groups` "all" or group ids; all `subscribers`, or those living in
    `buildings`). With `done` the draft moves on, once the audience reaches someone."""
    draft = await get_draft(session, by=by, whistle_id=whistle_id)
    draft.audience = {
        "groups": groups if groups == "all" else sorted(set(groups)),
        "subscribers": subscribers,
        "buildings": [] if subscribers else sorted(set(buildings)),
    }
    if done:
        if not groups and not subscribers and not buildings:
            raise InvalidInput("no_audience")
        return await _step(session, draft, Step.PREVIEW if draft.deadline_at else Step.DEADLINE)
    session.add(draft)
    await session.flush()
    return draft


async def toggle_audience(
    session: AsyncSession,
    *,
    by: Authority,
    whistle_id: int,
    all_groups: bool = False,
    group: int | None = None,
    subscribers: bool = False,
    building: int | None = None,
    done: bool = False,
) -> Whistle:
    """One press on the audience step: toggle `all_groups`, one registered `group`, all
    `subscribers`, or the `building` at that place among the known buildings (choosing a
    building narrows "all subscribers" to the buildings chosen). With `done` the draft moves on
    (set_audience)."""
    draft = await get_draft(session, by=by, whistle_id=whistle_id)
    audience = draft.audience or {}
    groups = audience.get("groups") or []
    everyone = bool(audience.get("subscribers"))
    buildings = list(audience.get("buildings") or [])
    if all_groups:
        groups = [] if groups == "all" else "all"
    elif group is not None:
        registered = [g.id for g in await profiles.registered_groups(session)]
        chosen = set(registered if groups == "all" else groups)
        chosen ^= {group} & set(registered)
        groups = sorted(g for g in chosen if g is not None)
    elif subscribers:
        everyone = not everyone
    elif building is not None:
        known = await profiles.known_buildings(session)
        if building < len(known):
            name = known[building]
            buildings = (
                [b for b in buildings if b != name] if name in buildings else [*buildings, name]
            )
            everyone = False
    return await set_audience(
        session,
        by=by,
        whistle_id=whistle_id,
        groups=groups,
        subscribers=everyone,
        buildings=buildings,
        done=done,
    )


async def set_deadline(
    session: AsyncSession, *, by: Authority, whistle_id: int, deadline_at: datetime, now: datetime
) -> Whistle:
    if deadline_at <= now:
        raise InvalidInput("deadline_past")
    draft = await get_draft(session, by=by, whistle_id=whistle_id)
    draft.deadline_at = deadline_at
    return await _step(session, draft, Step.PREVIEW)


async def set_results_to_groups(
    session: AsyncSession, *, by: Authority, whistle_id: int, wanted: bool
) -> Whistle:
    """Whether the results are also posted to the groups at the deadline (the preview's toggle)."""
    draft = await get_draft(session, by=by, whistle_id=whistle_id)
    draft.results_to_groups = wanted
    session.add(draft)
    await session.flush()
    return draft


async def discard_draft(session: AsyncSession, *, by: Authority, whistle_id: int) -> Whistle:
    draft = await get_draft(session, by=by, whistle_id=whistle_id)
    draft.status, draft.step, draft.cancelled_at = Status.CANCELLED, None, utcnow()
    session.add(draft)
    await session.flush()
    return draft
