"""The guided report in a private chat: /report, its buttons, and the resident's answers."""

from __future__ import annotations

import logging
from datetime import date

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.actions import (
    ReportAnonymity,
    ReportCancel,
    ReportCategory,
    ReportConfirm,
    ReportSkip,
    ReportStep,
    encode,
)
from handlers.cases import inspect
from handlers.cases import notices as reply_notices
from handlers.cases.answers import replied_case
from handlers.cases.prompts import explain, prompt, skip_labels
from handlers.conversation import (
    REMOVE_KEYBOARD,
    Ref,
    Reply,
    Speaker,
    Turn,
    Written,
    keep_photo,
    queue_reply,
)
from handlers.pending import answer_pending
from handlers.whistle import replies as whistle_replies
from storage import cases
from storage.cases import categories, drafts
from storage.cases.drafts import Step
from storage.errors import InvalidInput, StaleAction
from storage.models import ReportDraft
from storage.people.pending import take_input

logger = logging.getLogger(__name__)


async def report(turn: Turn) -> None:
    """/report: start a guided report (in a group: point to the private chat)."""
    if not turn.private:
        await _point_to_private(turn)
        return
    await start_report(turn)


async def start_report(turn: Turn) -> None:
    """Open a fresh draft and ask for its category (also /start report)."""
    async with turn.transaction() as session:
        who = await turn.speaker(session)
        chat_id = turn.msg.place.chat_id
        draft = await drafts.start_draft(session, resident=who.resident, chat_id=chat_id)
        choices = await categories.active_categories(session)
        question = prompt(draft, choices, who.lang)
    await turn.send([question])


async def cancel(turn: Turn) -> None:
    """/cancel: abandon the unfinished report."""
    async with turn.transaction() as session:
        who = await turn.speaker(session)
        dropped = await drafts.discard_draft(session, resident=who.resident)
    _ = who._
    text = (
        _("Report cancelled. Nothing was filed.") if dropped else _("There is nothing to cancel.")
    )
    await turn.send([Reply(text, keyboard=REMOVE_KEYBOARD)])


async def on_button(turn: Turn) -> None:
    """A press on one of the report's buttons: re-checked against the stored draft."""
    action = turn.action
    pressed = turn.msg.pressed.ref if turn.msg.pressed is not None else None
    async with turn.transaction() as session:
        who = await turn.speaker(session)
        _ = who._
        replies: list[Reply] = []
        toast = ""
        try:
            if not isinstance(action, ReportStep) or pressed is None:
                raise StaleAction("unparseable")
            if isinstance(action, ReportConfirm):
                toast, replies = await _confirm(session, who, action.draft, pressed, turn.today())
            elif isinstance(action, ReportCancel):
                await drafts.expect(
                    session, resident=who.resident, draft_id=action.draft, step=None
                )
                await drafts.discard_draft(session, resident=who.resident)
                toast = _("Cancelled")
                cancelled = _("Report cancelled. Nothing was filed.")
                replies = [Reply(cancelled, keyboard=REMOVE_KEYBOARD)]
            else:
                draft = await _press_step(session, who, action)
                choices = await categories.active_categories(session)
                replies = [prompt(draft, choices, who.lang)]
        except StaleAction:
            filed = pressed and await cases.case_from_source(
                session,
                channel=turn.msg.channel,
                chat_id=pressed.chat_id,
                message_id=pressed.message_id,
            )
            if filed and filed.reporter_id == who.resident.id:
                toast = _("Already filed as #{number}.").format(number=filed.id)
            else:
                toast = _("This button has expired. Send /report to start again.")
            await turn.answer(toast, alert=not filed)
            return
    await turn.answer(toast)
    if pressed is not None:  # spent buttons disappear (a failure is cosmetic)
        await turn.edit(rows=())
    await turn.send(replies)


async def _press_step(session: AsyncSession, who: Speaker, action: ReportStep) -> ReportDraft:
    resident, draft_id = who.resident, action.draft
    if isinstance(action, ReportCategory):
        draft = await drafts.expect(
            session, resident=resident, draft_id=draft_id, step=Step.CATEGORY
        )
        return await drafts.choose_category(session, draft=draft, category_id=action.category)
    if isinstance(action, ReportSkip):
        draft = await drafts.expect(session, resident=resident, draft_id=draft_id, step=Step.PHOTOS)
        return await drafts.skip(session, draft=draft)
    if isinstance(action, ReportAnonymity):
        draft = await drafts.expect(
            session, resident=resident, draft_id=draft_id, step=Step.ANONYMOUS
        )
        return await drafts.choose_anonymity(session, draft=draft, anonymous=action.anonymous)
    raise StaleAction(action)


async def _confirm(
    session: AsyncSession, who: Speaker, draft_id: int, pressed: Ref, today: date
) -> tuple[str, list[Reply]]:
    _ = who._
    draft = await drafts.expect(
        session, resident=who.resident, draft_id=draft_id, step=Step.CONFIRM
    )
    case, _created = await drafts.file_draft(
        session,
        resident=who.resident,
        draft=draft,
        chat_id=pressed.chat_id,
        message_id=pressed.message_id,
        today=today,
    )
    # The confirmation is committed with the case, so a forced exit cannot lose it.
    await queue_reply(
        session, to=who.resident, kind=reply_notices.FILED, params={"case": case.id},
        key=f"filed:{case.id}", lang=who.lang,
    )  # fmt: skip
    return _("Filed as #{number}").format(number=case.id), []


async def on_private_message(turn: Turn) -> None:
    """Any other private message: the answer to the draft's current step, or a hint."""
    message = turn.msg.written
    if message is None:
        return
    async with turn.transaction() as session:
        who = await turn.speaker(session)
        _ = who._
        pending = await take_input(session, resident=who.resident)
        draft = await drafts.current_draft(session, resident=who.resident)
        follow = await replied_case(session, who, turn)
        replies: list[Reply]
        hazard = None
        if pending is not None:
            replies = await answer_pending(session, who, pending, turn)
        elif (opinion := await whistle_replies.private_reply(session, who, turn)) is not None:
            replies = list(opinion)  # a reply to a whistle message is an opinion on it
        elif follow is not None:
            replies = await answer_pending(session, who, follow, turn)
        elif draft is None:
            hazard = await inspect.answer_line(session, who, turn)
            hint = _("To report a problem, send /report. /help lists everything I can do.")
            replies = [Reply(hint)]
        else:
            try:
                replies = await _answer_step(session, who, draft, message, turn.msg.channel)
            except InvalidInput as error:
                replies = [Reply(explain(error, who.lang))]
    if hazard is not None:  # quoted: the kind button's press reads the line back from it
        await turn.reply(*hazard, quote=True)
        return
    await turn.send(replies)


async def _answer_step(
    session: AsyncSession, who: Speaker, draft: ReportDraft, message: Written, channel: str
) -> list[Reply]:
    _ = who._
    step = Step(draft.step)
    choices = await categories.active_categories(session)
    if step is Step.DESCRIPTION:
        words = message.words
        if words is None:
            return [Reply(_("I can only read text here. Please type the description."))]
        draft = await drafts.describe(session, draft=draft, words=words)
        photo = await keep_photo(session, channel=channel, written=message)
        if photo is not None:
            draft = await drafts.add_photo(session, draft=draft, photo=photo)
        return [prompt(draft, choices, who.lang)]
    if step is Step.PHOTOS:
        photo = await keep_photo(session, channel=channel, written=message)
        if photo is None:
            return [prompt(draft, choices, who.lang)]
        draft = await drafts.add_photo(session, draft=draft, photo=photo)
        count = len(draft.photos)
        assert draft.id is not None
        label = _("Done ✅")
        return [
            Reply(
                _("Photo {n} received. Send more, or press Done.").format(n=count),
                [[(label, encode(ReportSkip(draft=draft.id)))]],
            )
        ]
    if step is Step.LOCATION:
        if message.location is not None:
            draft = await drafts.locate(
                session,
                draft=draft,
                latitude=message.location.latitude,
                longitude=message.location.longitude,
            )
        elif message.text is not None and message.text.strip() in skip_labels():
            draft = await drafts.skip(session, draft=draft)
        elif message.text is not None:
            draft = await drafts.locate(session, draft=draft, address=message.text)
        else:
            return [prompt(draft, choices, who.lang)]
        return [Reply(_("Noted."), keyboard=REMOVE_KEYBOARD), prompt(draft, choices, who.lang)]
    # The remaining steps are answered with buttons: ask again, with fresh buttons.
    return [Reply(_("Please use the buttons below.")), prompt(draft, choices, who.lang)]


async def _point_to_private(turn: Turn) -> None:
    async with turn.transaction() as session:
        who = await turn.speaker(session)
    link = turn.link("report")
    text = who._(
        "Reports with photos and location are made in a private chat with me: {link}"
    ).format(link=link)
    await turn.reply(text, quote=True)
