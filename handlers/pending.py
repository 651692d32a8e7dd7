"""A private message that answers what the bot asked for: a note, a reason, a follow-up."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.cases.refs import explain_refusal
from handlers.conversation import Reply, Speaker, Turn, keep_photo
from handlers.words.i18n import N_
from storage import cases
from storage.cases import feedback, workflow
from storage.errors import StorageError
from storage.models import PendingInput
from storage.people.pending import Awaiting, expect_input

DONE = {
    Awaiting.PROGRESS: N_("Progress noted on case #{number}; the reporter has been told."),
    Awaiting.RESOLVE: N_("Case #{number} is resolved; the reporter is asked to confirm."),
    Awaiting.NOT_OURS: N_("Case #{number} went back to the secretaries."),
    Awaiting.REOPEN: N_("Case #{number} is reopened; the handlers have been told why."),
    Awaiting.FOLLOWUP: N_("Your message on case #{number} has been passed on."),
}


Answerer = Callable[[AsyncSession, Speaker, PendingInput, Turn], Awaitable[Sequence[Reply]]]
# Answerers of the kinds other features await (a whistle opinion, a proposal's text, ...).
ANSWERERS: dict[str, Answerer] = {}


def answers(kind: str) -> Callable[[Answerer], Answerer]:
    """Register the answerer of a pending kind: it applies the message and returns the
    replies (words, and buttons where wanted), sent once the transaction has committed."""

    def register(answerer: Answerer) -> Answerer:
        ANSWERERS[kind] = answerer
        return answerer

    return register


async def answer_pending(
    session: AsyncSession, who: Speaker, pending: PendingInput, turn: Turn
) -> list[Reply]:
    """Apply the awaited input; an unusable message asks again instead of being lost."""
    if pending.kind in ANSWERERS:
        return list(await ANSWERERS[pending.kind](session, who, pending, turn))
    assert pending.case_id is not None
    return [Reply(await _case_work(session, who, pending, turn))]


async def _case_work(session: AsyncSession, who: Speaker, pending: PendingInput, turn: Turn) -> str:
    """A note, a reason or a follow-up on a case (the Awaiting kinds)."""
    assert pending.case_id is not None and turn.msg.written is not None
    today = turn.today()
    _ = who._
    words = turn.msg.written.words or ""
    kind = Awaiting(pending.kind)
    if not words.strip():
        await expect_input(session, resident=who.resident, kind=kind, case_id=pending.case_id)
        return _("Please type a few words (a photo needs a caption).")
    try:
        case = await cases.get_case(session, number=pending.case_id)
        actor, auth = who.resident, who.auth
        if kind is Awaiting.PROGRESS:
            await workflow.add_progress(session, case=case, actor=actor, auth=auth, note=words)
        elif kind is Awaiting.RESOLVE:
            photo = await keep_photo(session, channel=turn.msg.channel, written=turn.msg.written)
            await workflow.resolve(
                session, case=case, actor=actor, auth=auth, note=words, photo=photo
            )
        elif kind is Awaiting.NOT_OURS:
            await workflow.not_ours(session, case=case, actor=actor, auth=auth, reason=words)
        elif kind is Awaiting.REOPEN:
            await feedback.reopen(session, case=case, resident=actor, reason=words, today=today)
        else:
            await feedback.follow_up(session, case=case, resident=actor, text=words, today=today)
    except StorageError as error:
        return explain_refusal(error, who)
    return _(DONE[kind]).format(number=pending.case_id)


async def replied_case(session: AsyncSession, who: Speaker, turn: Turn) -> PendingInput | None:
    """A reporter's reply to one of our notices about their case is a follow-up on it."""
    replied = turn.msg.reply_to
    if replied is None or replied.author is None or not replied.author.is_bot:
        return None
    number = await feedback.case_of_notice(
        session,
        channel=turn.msg.channel,
        chat_id=turn.msg.place.chat_id,
        message_id=replied.ref.message_id,
    )
    if number is None:
        return None
    case = await cases.get_case(session, number=number)
    if case.reporter_id != who.resident.id:
        return None
    assert who.resident.id is not None
    return PendingInput(resident_id=who.resident.id, kind=Awaiting.FOLLOWUP, case_id=number)
