"""The monthly deliberation meeting: /meeting, /agenda, /decide, /decision(s), the m1 buttons.

Only secretaries edit or approve the agenda, run the meeting and record decisions; the storage
functions check the role again on every command and press. Anyone votes once per item, and may
change that vote while the item is on the floor.
"""

from __future__ import annotations

import logging

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.actions import MeetingPress, Vote
from handlers.conversation import Buttons, Speaker, Turn
from handlers.deliberation import meetings_text as words
from storage.deliberation import meeting_run, meetings
from storage.deliberation.meeting_models import AgendaItem, Meeting
from storage.deliberation.meeting_steps import post_agenda
from storage.errors import StaleAction, StorageError
from storage.models import utcnow
from storage.people.roles import Role

logger = logging.getLogger(__name__)

Answer = tuple[str, Buttons | None]
SHOWN_TO_RESIDENTS = ("agenda_approved", "in_progress", "held", "minuted")


async def _status(session: AsyncSession, meeting: Meeting, who: Speaker, turn: Turn) -> str:
    if not who.auth.is_secretary and meeting.status not in SHOWN_TO_RESIDENTS:
        items: list[AgendaItem] = []
    else:
        items = await meetings.agenda(session, meeting=meeting)
    tz = turn.settings.tz
    text = words.meeting_status(meeting, items, who.lang, who._, tz)
    return text + ("\n\n" + who._(words.AGENDA_HELP) if who.auth.is_secretary else "")


async def _panel(
    session: AsyncSession, meeting: Meeting, item: AgendaItem | None, who: Speaker
) -> Answer:
    return words.panel(item, await meetings.agenda(session, meeting=meeting), meeting, who._)


async def meeting_command(turn: Turn) -> None:
    """/meeting [start|next|defer|end]: the meeting and its agenda; secretaries run it."""
    args = turn.args
    verb = args[0].lower() if args else ""
    rows: Buttons | None = None
    async with turn.transaction() as session:
        who = await turn.speaker(session)
        now, plan = utcnow(), turn.settings.meeting_plan
        meeting = await meetings.current_meeting(session, plan=plan, now=now)
        try:
            if verb in ("start", "next", "defer", "end"):
                text, rows = await _run_step(session, meeting, who, verb)
            else:
                text = await _status(session, meeting, who, turn)
        except StorageError as error:
            text = words.refusal(error, who._)
    await turn.reply(text, rows)


async def _run_step(session: AsyncSession, meeting: Meeting, who: Speaker, verb: str) -> Answer:
    who.auth.require(Role.SECRETARY)
    now = utcnow()
    if verb == "start":
        item = await meeting_run.start_run(session, meeting=meeting, auth=who.auth, now=now)
        return await _panel(session, meeting, item, who)
    if verb == "end":
        await meeting_run.end_meeting(session, meeting=meeting, now=now, auth=who.auth)
        return who._("The meeting has ended; the minutes follow tomorrow."), None
    current = await meeting_run.current_item(session, meeting=meeting)
    assert current.id is not None
    item = await meeting_run.advance(
        session, meeting=meeting, auth=who.auth, item_id=current.id, defer=verb == "defer"
    )
    return await _panel(session, meeting, item, who)


async def agenda_command(turn: Turn) -> None:
    """/agenda [add <topic> | drop <n> | move <n> <to> | approve]: secretaries edit it."""
    args = turn.args
    async with turn.transaction() as session:
        who = await turn.speaker(session)
        now, plan = utcnow(), turn.settings.meeting_plan
        meeting = await meetings.current_meeting(session, plan=plan, now=now)
        try:
            text = await _edit_agenda(session, meeting, who, args, turn)
        except (ValueError, IndexError):
            text = who._(words.AGENDA_HELP)
        except StorageError as error:
            text = words.refusal(error, who._)
    await turn.reply(text)


async def _edit_agenda(
    session: AsyncSession, meeting: Meeting, who: Speaker, args: list[str], turn: Turn
) -> str:
    verb = args[0].lower() if args else ""
    if not verb:
        if who.auth.is_secretary and meeting.status in meetings.EDITABLE:
            await meetings.compile_agenda(session, meeting=meeting, now=utcnow())
        return await _status(session, meeting, who, turn)
    who.auth.require(Role.SECRETARY)
    if verb == "add":
        await meetings.add_topic(session, meeting=meeting, auth=who.auth, title=" ".join(args[1:]))
    elif verb == "drop":
        await meetings.drop_item(session, meeting=meeting, auth=who.auth, number=int(args[1]))
    elif verb == "move":
        number, to = int(args[1]), int(args[2])
        await meetings.move_item(session, meeting=meeting, auth=who.auth, number=number, to=to)
    elif verb == "approve":
        return await _approve(session, meeting, who, turn)
    else:
        raise ValueError(verb)
    return await _status(session, meeting, who, turn)


async def _approve(session: AsyncSession, meeting: Meeting, who: Speaker, turn: Turn) -> str:
    """Approve; past T-2 the agenda goes out at once (the scheduler held it back)."""
    now, plan = utcnow(), turn.settings.meeting_plan
    if not await meetings.approve(session, meeting=meeting, auth=who.auth, now=now):
        return who._("The agenda was already approved.")
    if now >= plan.step_at(meeting.period, "agenda"):
        await post_agenda(session, meeting, plan)
        return who._("Agenda approved and posted to the groups.")
    return who._("Agenda approved; it will be posted to the groups two days before the meeting.")


async def on_button(turn: Turn) -> None:
    """m1:<verb>:<id>[:<choice>]: approve/edit/start/defer/next/end and votes."""
    action = turn.action
    rows: Buttons | None = None
    text: str | None = None
    alert = closed = False
    async with turn.transaction() as session:
        who = await turn.speaker(session)
        try:
            if isinstance(action, Vote):
                voted = await meeting_run.cast_vote(
                    session, item_id=action.item, resident=who.resident, choice=action.choice,
                    now=utcnow(),
                )  # fmt: skip
                toast = words.vote_counted(voted, who._)
            elif isinstance(action, MeetingPress):
                toast = ""
                text, rows = await _press(session, who, action.verb, action.subject, turn)
            else:
                raise StaleAction(turn.msg.data)
        except StorageError as error:
            toast, alert = words.refusal(error, who._), not isinstance(action, Vote)
            closed = isinstance(error, meeting_run.VotingClosed)
    await turn.answer(toast or None, alert=alert)
    if closed:  # the item's votes are final: its post keeps no vote buttons
        await turn.drop_spent_buttons()
    if text:
        await turn.reply(text, rows)


async def _press(session: AsyncSession, who: Speaker, verb: str, number: int, turn: Turn) -> Answer:
    who.auth.require(Role.SECRETARY)
    if verb in ("ok", "ed", "go", "end"):
        meeting = await meetings.get_meeting(session, number)
        if verb == "ok":
            return await _approve(session, meeting, who, turn), None
        if verb == "ed":
            return await _status(session, meeting, who, turn), None
        return await _run_step(session, meeting, who, "start" if verb == "go" else "end")
    if verb in ("def", "nx"):
        item = await meetings.get_item(session, item_id=number)
        meeting = await meetings.get_meeting(session, item.meeting_id)
        following = await meeting_run.advance(
            session, meeting=meeting, auth=who.auth, item_id=number, defer=verb == "def"
        )
        return await _panel(session, meeting, following, who)
    raise StaleAction(verb)
