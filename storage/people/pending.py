"""What the bot waits for a person to type next: a progress note, a reason, a follow-up."""

from __future__ import annotations

from enum import StrEnum

from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import PendingInput, Resident, utcnow


class Awaiting(StrEnum):
    PROGRESS = "progress"
    RESOLVE = "resolve"
    NOT_OURS = "not_ours"
    REOPEN = "reopen"
    FOLLOWUP = "followup"


async def expect_input(
    session: AsyncSession,
    *,
    resident: Resident,
    kind: str,
    case_id: int | None = None,
    subject_id: int | None = None,
) -> PendingInput:
    """Wait for this person's next message (replacing whatever was awaited before).

    Case work awaits `Awaiting` kinds with a case_id; other features use their own kind
    (at most 16 characters) with a subject_id and register an answerer in handlers/pending.py.
    """
    assert resident.id is not None
    pending = await session.get(PendingInput, resident.id)
    if pending is None:
        pending = PendingInput(resident_id=resident.id, kind=kind)
    pending.kind, pending.case_id, pending.subject_id = kind, case_id, subject_id
    pending.created_at = utcnow()
    session.add(pending)
    await session.flush()
    return pending


async def take_input(session: AsyncSession, *, resident: Resident) -> PendingInput | None:
    """The awaited input, removed: it is answered by this message whatever happens next."""
    pending = await session.get(PendingInput, resident.id)
    if pending is not None:
        await session.delete(pending)
        await session.flush()
    return pending


async def drop_input(session: AsyncSession, *, resident: Resident) -> bool:
    return await take_input(session, resident=resident) is not None
