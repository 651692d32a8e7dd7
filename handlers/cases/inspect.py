"""Joint inspections in a private chat: /inspect, hazard lines and their kind buttons, /rounds.

While an inspector's round is open, a private message is a hazard line ("place / responsible
party / days"); the bot answers it with the kind buttons (`i1:<round>:<kind>`). A press files
the line its message replies to, read back from Telegram: the inspector's own message is the
draft, so nothing half-logged is stored and a restart or a second instance loses nothing.
"""

from __future__ import annotations

import logging

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.actions import InspectionPress
from handlers.cases.inspect_text import (
    STAFF_ONLY,
    end_button,
    explain_line,
    kind_buttons,
    kind_question,
    logged,
    render_rounds,
    round_opened,
)
from handlers.conversation import Buttons, Pressed, Speaker, Turn, keep_photo
from storage import cases, inspections
from storage.cases import routing
from storage.errors import InvalidInput, StaleAction
from storage.inspections import HazardKind
from storage.people.roles import Authority, Role

logger = logging.getLogger(__name__)


def may_inspect(auth: Authority) -> bool:
    return auth.has(Role.INSPECTOR, Role.SECRETARY)


async def inspect(turn: Turn) -> None:
    """/inspect: start an inspection round, or continue the open one."""
    rows: Buttons | None = None
    async with turn.transaction() as session:
        who = await turn.speaker(session)
        _ = who._
        if not may_inspect(who.auth):
            text = _(STAFF_ONLY)
        elif not turn.private:
            text = _("I answer this only in a private chat with you.")
        else:
            current, started = await inspections.start_round(session, inspector=who.resident)
            assert current.id is not None
            text, rows = round_opened(current.id, started, _), [end_button(current.id, _)]
    await turn.reply(text, rows)


async def rounds(turn: Turn) -> None:
    """/rounds: my inspection rounds with what was found and rectified (secretaries: all)."""
    async with turn.transaction() as session:
        who = await turn.speaker(session)
        everyone = who.auth.is_secretary
        allowed = everyone or who.auth.has(Role.INSPECTOR)
        mine = None if everyone else who.resident
        found = await inspections.rounds(session, inspector=mine) if allowed else []
    tz = turn.settings.tz
    text = render_rounds(found, who._, tz, names=everyone) if allowed else who._(STAFF_ONLY)
    await turn.reply(text)


async def answer_line(
    session: AsyncSession, who: Speaker, turn: Turn
) -> tuple[str, Buttons] | None:
    """While the sender's round is open, a private message is a hazard line: the answer is the
    kind question (sent quoting the line, which the kind button's press reads back). None for
    anyone else, and for replies (a reply is a follow-up on a case)."""
    message = turn.msg.written
    if message is None or turn.msg.reply_to is not None or not (message.text or message.photo):
        return None
    if not may_inspect(who.auth):
        return None
    current = await inspections.round_taking_hazards(session, resident=who.resident)
    if current is None or current.id is None:
        return None
    _ = who._
    if message.photo and not message.caption:
        return explain_line(None, _), [end_button(current.id, _)]
    try:
        line = inspections.parse_line(message.caption if message.photo else message.text)
    except InvalidInput as error:
        return explain_line(error, _), [end_button(current.id, _)]
    return kind_question(line, _), kind_buttons(current.id, _)


async def on_button(turn: Turn) -> None:
    """A hazard's kind, or End round: re-checked against the round and the presser's role."""
    action = turn.action
    pressed = turn.msg.pressed
    rows: Buttons | None = None
    async with turn.transaction() as session:
        who = await turn.speaker(session)
        _ = who._
        try:
            inspecting = may_inspect(who.auth)
            if not isinstance(action, InspectionPress) or pressed is None or not inspecting:
                raise StaleAction("unparseable")
            round_id, kind = action.round_id, action.kind
            if kind == "end":
                await inspections.end_round(session, inspector=who.resident, round_id=round_id)
                toast = _("Round ended")
                text = _("Inspection round {round} has ended. /rounds lists your rounds.")
                text = text.format(round=round_id)
            else:
                toast, text = await _file(session, who, round_id, kind, pressed, turn)
                rows = [end_button(round_id, _)]
        except (StaleAction, InvalidInput):
            await turn.answer(await _stale(session, who, turn, pressed), alert=True)
            return
    await turn.answer(toast)
    await turn.edit(rows=())  # spent buttons disappear (a failure is cosmetic)
    await turn.reply(text, rows)


async def _file(
    session: AsyncSession, who: Speaker, round_id: int, kind: str, pressed: Pressed, turn: Turn
) -> tuple[str, str]:
    """File the hazard line the pressed message replies to; returns (toast, reply)."""
    tz = turn.settings.tz
    written = pressed.reply_to
    if kind not in set(HazardKind) or written is None or written.author is None:
        raise StaleAction(kind)
    assert written.sent_at is not None  # a channel dates every message written
    presser = turn.msg.person
    if presser is None or written.author.external_id != presser.external_id:
        raise StaleAction("someone else's line")
    current = await inspections.round_in_progress(
        session, inspector=who.resident, round_id=round_id
    )
    line = inspections.parse_line(written.caption if written.photo else written.text)
    case, created = await inspections.log_hazard(
        session,
        round_=current,
        inspector=who.resident,
        kind=HazardKind(kind),
        line=line,
        photo=await keep_photo(session, channel=turn.msg.channel, written=written),
        today=written.sent_at.astimezone(tz).date(),  # days count from when the line was written
        tz=tz,
        source_chat_id=written.ref.chat_id,
        source_message_id=written.ref.message_id,
    )
    if not created or case.id is None or case.due_at is None:
        raise StaleAction("filed already")  # _stale names the case
    unit = await routing.unit_of(session, case)
    text = logged(case.id, HazardKind(kind), line, case.due_at, unit, who.lang, who._, tz)
    logger.info("hazard case %s logged on round %s", case.id, round_id)
    return who._("Filed as #{number}").format(number=case.id), text


async def _stale(session: AsyncSession, who: Speaker, turn: Turn, pressed: Pressed | None) -> str:
    """A spent, foreign or forged button: name the case if its line was filed already."""
    written = pressed.reply_to if pressed else None
    filed = written and await cases.case_from_source(
        session,
        channel=turn.msg.channel,
        chat_id=written.ref.chat_id,
        message_id=written.ref.message_id,
    )
    if filed and filed.reporter_id == who.resident.id:
        return who._("Already filed as #{number}.").format(number=filed.id)
    return who._("This button has expired.")
