"""Queuing notices about a case for the people it concerns (through the outbox).

Params carry everything the words need (handlers/notices.py renders them at send time), and never
an anonymous reporter's name or an unmasked phone number.
"""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from storage import outbox
from storage.models import Case, CaseEvent, Category, Resident
from storage.people.roles import Role, holders
from storage.text import mask_phones

EXCERPT = 300


async def case_params(session: AsyncSession, case: Case) -> dict[str, Any]:
    category = await session.get(Category, case.category_id)
    reporter = await session.get(Resident, case.reporter_id)
    assert category is not None and reporter is not None
    text = mask_phones(case.text)
    return {
        "case": case.id,
        "category": {"zh": category.name_zh, "en": category.name_en},
        "text": text if len(text) <= EXCERPT else text[: EXCERPT - 1] + "…",
        "reporter": None if case.anonymous else reporter.name,
        "address": mask_phones(case.address) if case.address else None,
        "location": [case.latitude, case.longitude] if case.latitude is not None else None,
        "photos": len(case.photos),
        "due_at": case.due_at.isoformat() if case.due_at else None,
    }


async def notify_handlers(
    session: AsyncSession,
    *,
    case: Case,
    people: list[Resident],
    kind: str,
    event: CaseEvent,
    extra: dict[str, Any] | None = None,
) -> int:
    """Queue `kind` to each of `people`; how many were queued now."""
    params = {**await case_params(session, case), **(extra or {})}
    return await outbox.enqueue_each(
        session, to=people, kind=kind, params=params, key=f"{case.id}:{event.id}"
    )


async def notify_reporter(
    session: AsyncSession, *, case: Case, event: CaseEvent, extra: dict[str, Any] | None = None
) -> bool:
    """Tell the reporter about a public change, in their language; whether it was queued now."""
    reporter = await session.get(Resident, case.reporter_id)
    assert reporter is not None and event.id is not None
    params = {
        "case": case.id,
        "status": case.status,
        "event": event.kind,
        "note": mask_phones(event.note) if event.note else "",
        **(extra or {}),
    }
    return await outbox.enqueue(
        session,
        to=reporter,
        kind="case_update",
        params=params,
        dedup_key=f"case_update:{case.id}:{event.id}",
    )


async def secretaries(session: AsyncSession) -> list[Resident]:
    return await holders(session, role=Role.SECRETARY)


async def notify_secretaries(
    session: AsyncSession,
    *,
    case: Case,
    kind: str,
    event: CaseEvent,
    extra: dict[str, Any] | None = None,
) -> int:
    return await notify_handlers(
        session,
        case=case,
        people=await secretaries(session),
        kind=kind,
        event=event,
        extra=extra,
    )
