"""What the bot asked about a case, answered: a handler's progress note, resolution or "not
ours" reason, a reporter's "still wrong" or follow-up; and a reply to a case notice."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.cases.refs import explain_refusal
from handlers.conversation import Reply, Speaker, Turn, keep_photo
from handlers.pending import answers
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


async def case_work(
    session: AsyncSession, who: Speaker, pending: PendingInput, turn: Turn
) -> list[Reply]:
    """A note, a reason or a follow-up on a case (the Awaiting kinds)."""
    assert pending.case_id is not None and turn.msg.written is not None
    today = turn.today()
    _ = who._
    words = turn.msg.written.words or ""
    kind = Awaiting(pending.kind)
    if not words.strip():
        await expect_input(session, resident=who.resident, kind=kind, case_id=pending.case_id)
        return [Reply(_("Please type a few words (a photo needs a caption)."))]
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
        return [Reply(explain_refusal(error, who))]
    return [Reply(_(DONE[kind]).format(number=pending.case_id))]


for _kind in Awaiting:  # the case kinds: a handler's note, a reporter's answer
    answers(_kind)(case_work)


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
