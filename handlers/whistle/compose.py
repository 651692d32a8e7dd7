"""The whistle: a secretary composes a call for opinions in private (/whistle), previews and
sends it, follows its delivery report, reads the opinions and cancels it.

Every command and every press is checked on the server: only a secretary composes, sends,
cancels or reads opinions; the draft is re-read from the database on each step. Residents'
answers and opinions are in handlers/whistle/replies.py.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.actions import (
    Action,
    WhistleAction,
    WhistleAllGroups,
    WhistleBuilding,
    WhistleDays,
    WhistleEdit,
    WhistleFreeText,
    WhistleGroup,
    WhistlePreset,
    WhistlePress,
    decode,
)
from handlers.conversation import Reply, Speaker, Turn
from handlers.pending import answers
from handlers.whistle import opinions as whistle_opinions
from handlers.whistle import replies as whistle_replies
from handlers.whistle.notices import report_buttons, report_text
from handlers.whistle.results import STATUS
from handlers.whistle.text import PRESETS, Choices, explain, preview, prompt
from storage.errors import InvalidInput, NotAllowed, StaleAction, StorageError
from storage.models import PendingInput, utcnow
from storage.people import profiles
from storage.people.pending import drop_input, expect_input
from storage.whistle import whistles
from storage.whistle.models import Whistle
from storage.whistle.notices import report_params
from storage.whistle.whistles import DeliveryCounts, Step, WhistleNotOpen

logger = logging.getLogger(__name__)

COMPOSE = "w_compose"  # pending kind: the draft awaits typed text (question, options, deadline)
TYPED_STEPS = frozenset({Step.QUESTION, Step.OPTIONS, Step.DEADLINE})
SECRETARY_ONLY = "Only a secretary can do that."
CANCELLING = frozenset({"cx", "cy"})
AUDIENCE = WhistleAllGroups | WhistleGroup | WhistleBuilding  # and WhistlePress s, ad


async def whistle(turn: Turn) -> None:
    """/whistle: start (or continue) composing a whistle, in a private chat, secretary only."""
    async with turn.transaction() as session:
        who = await turn.speaker(session)
        _ = who._
        if not who.auth.is_secretary:
            answer = Reply(_(SECRETARY_ONLY))
        elif not turn.private:
            answer = Reply(_("Please use /whistle in a private chat with me."))
        else:
            draft, _created = await whistles.start_draft(session, by=who.auth)
            answer = await _prompt(session, who, draft, turn)
    await turn.send([answer])


async def _choices(session: AsyncSession) -> Choices:
    return Choices(
        groups=await profiles.registered_groups(session),
        buildings=await profiles.known_buildings(session),
        subscribers=len(await profiles.subscribers(session)),
    )


async def _prompt(session: AsyncSession, who: Speaker, draft: Whistle, turn: Turn) -> Reply:
    """The draft's current step; typed steps also wait for the secretary's next message."""
    if draft.step in TYPED_STEPS:
        await expect_input(session, resident=who.resident, kind=COMPOSE, subject_id=draft.id)
    else:
        await drop_input(session, resident=who.resident)
    tz = turn.settings.tz
    choices = await _choices(session)
    if draft.step == Step.PREVIEW:
        audience = await whistles.resolve_audience(session, audience=draft.audience)
        reached = (len(audience.groups), len(audience.residents))
        return preview(draft, choices, who.lang, tz, reached)
    return prompt(draft, choices, who.lang, tz)


@answers(COMPOSE)
async def typed(
    session: AsyncSession,
    who: Speaker,
    pending: PendingInput,
    turn: Turn,
) -> list[Reply]:
    """The secretary's message that answers a draft's typed step (question, options, deadline)."""
    assert pending.subject_id is not None and turn.msg.written is not None
    words = turn.msg.written.text or turn.msg.written.caption or ""
    number = pending.subject_id
    try:
        draft = await whistles.get_draft(session, by=who.auth, whistle_id=number)
        step = Step(draft.step or Step.PREVIEW)
        if step is Step.QUESTION:
            draft = await whistles.set_question(session, by=who.auth, whistle_id=number, text=words)
        elif step is Step.OPTIONS:
            options = whistles.parse_options(words)
            draft = await whistles.set_options(
                session, by=who.auth, whistle_id=number, options=options
            )
        elif step is Step.DEADLINE:
            now = utcnow()
            deadline = whistles.parse_deadline(words, now=now, tz=turn.settings.tz)
            draft = await whistles.set_deadline(
                session, by=who.auth, whistle_id=number, deadline_at=deadline, now=now
            )
    except InvalidInput as error:
        return [Reply(explain(error, who.lang)), await _prompt(session, who, draft, turn)]
    except StorageError:
        return [Reply(who._("That whistle draft is gone. Send /whistle to start again."))]
    return [await _prompt(session, who, draft, turn)]


async def on_button(turn: Turn) -> None:
    """Any w1: press: residents' answers go to whistle_replies; the rest is a secretary's."""
    action = turn.action
    if whistle_replies.is_residents(action):
        await whistle_replies.on_button(turn, action)
        return
    alert: str | None = None
    answers_: list[Reply] = []
    edit: Reply | None = None
    not_open = False
    async with turn.transaction() as session:
        who = await turn.speaker(session)
        _ = who._
        if action is None:
            alert = _("This button has expired.")
        elif not who.auth.is_secretary:
            alert = _(SECRETARY_ONLY)
        else:
            try:
                edit, answers_ = await _secretary_press(session, who, turn, action)
            except WhistleNotOpen as error:  # e.g. "Cancel" on a whistle already closed
                status = _(STATUS.get(error.status, error.status))
                alert = _("Whistle #{number}: {status}").format(number=error.number, status=status)
                not_open = True
            except InvalidInput as error:
                alert = explain(error, who.lang)
            except NotAllowed:
                alert = _(SECRETARY_ONLY)
            except StorageError:
                alert = _("This button has expired.")
    if alert is not None:
        await turn.answer(alert, alert=True)
        if not_open:
            await turn.drop_spent_buttons(_still_works_once_closed)
        return
    await turn.answer()
    if edit is not None:
        await turn.edit(text=edit.text, rows=edit.rows)
    await turn.send(answers_)
    turn.wake()


def _still_works_once_closed(data: str) -> bool:
    action = decode(data)
    cancelling = isinstance(action, WhistlePress) and action.verb in CANCELLING
    return isinstance(action, WhistleAction) and not cancelling


async def _secretary_press(
    session: AsyncSession,
    who: Speaker,
    turn: Turn,
    action: Action,
) -> tuple[Reply | None, list[Reply]]:
    """Apply a secretary's press; (the pressed message's new look, replies to send)."""
    _ = who._
    by = who.auth
    if whistle_opinions.is_secretary_view(action):
        return None, await whistle_opinions.secretary_view(session, who, turn, action)
    if not isinstance(action, WhistleAction):
        raise StaleAction(action)
    number = action.whistle
    verb = action.verb if isinstance(action, WhistlePress) else None
    if verb == "ok":
        return await _send(session, who, turn, number), []
    if verb == "x":
        await whistles.discard_draft(session, by=by, whistle_id=number)
        await drop_input(session, resident=who.resident)
        return Reply(_("The whistle draft was discarded.")), []
    draft = await whistles.get_draft(session, by=by, whistle_id=number)
    if isinstance(action, WhistlePreset) and action.preset < len(PRESETS):
        labels = [_(label) for label in PRESETS[action.preset]]
        draft = await whistles.set_options(session, by=by, whistle_id=number, options=labels)
    elif isinstance(action, WhistleFreeText):
        draft = await whistles.set_free_text(
            session, by=by, whistle_id=number, wanted=action.wanted
        )
    elif isinstance(action, AUDIENCE) or verb in ("s", "ad"):
        draft = await _audience_press(session, who, draft, action)
    elif isinstance(action, WhistleDays):
        deadline = utcnow() + timedelta(days=action.days)
        draft = await whistles.set_deadline(
            session, by=by, whistle_id=number, deadline_at=deadline, now=utcnow()
        )
    elif verb == "r":
        draft = await whistles.set_results_to_groups(
            session, by=by, whistle_id=number, wanted=not draft.results_to_groups
        )
    elif isinstance(action, WhistleEdit):
        draft = await whistles.go_to(session, by=by, whistle_id=number, step=Step(action.step))
    else:
        raise StaleAction(action)
    return await _prompt(session, who, draft, turn), []


async def _audience_press(
    session: AsyncSession, who: Speaker, draft: Whistle, action: WhistleAction
) -> Whistle:
    assert draft.id is not None
    verb = action.verb if isinstance(action, WhistlePress) else None
    return await whistles.toggle_audience(
        session,
        by=who.auth,
        whistle_id=draft.id,
        all_groups=isinstance(action, WhistleAllGroups),
        group=action.group if isinstance(action, WhistleGroup) else None,
        subscribers=verb == "s",
        building=action.building if isinstance(action, WhistleBuilding) else None,
        done=verb == "ad",
    )


async def _send(session: AsyncSession, who: Speaker, turn: Turn, number: int) -> Reply:
    """Confirm: queue the whistle for its audience; the preview becomes the delivery report."""
    settings = turn.settings
    message = turn.msg.pressed
    assert message is not None
    whistle_, count = await whistles.confirm(
        session,
        by=who.auth,
        whistle_id=number,
        now=utcnow(),
        report_chat_id=message.ref.chat_id,
        report_message_id=message.ref.message_id,
        display={"tz": settings.timezone},
    )
    await drop_input(session, resident=who.resident)
    logger.info("whistle %s sent to %d recipients", number, count)
    params = report_params(whistle_, DeliveryCounts(queued=count), tz=settings.timezone)
    return Reply(report_text(params, who.lang), report_buttons(params, who.lang))
