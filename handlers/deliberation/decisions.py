"""Decisions of the meeting in chat: /decide (secretaries), /decision <id> [note|done] (its
owner or a secretary; anyone may read it), /decisions (the open ones)."""

from __future__ import annotations

import logging

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.actions import parse_id
from handlers.conversation import Buttons, Speaker, Turn
from handlers.deliberation import meetings_text as words
from storage.deliberation import decisions, meeting_run, meetings
from storage.deliberation.decisions import NotOwner
from storage.deliberation.meeting_run import decision_params
from storage.errors import InvalidInput, StorageError
from storage.models import utcnow
from storage.people.roles import Role

logger = logging.getLogger(__name__)

Answer = tuple[str, Buttons | None]


async def decide_command(turn: Turn) -> None:
    """/decide [<item>] <what> / <owner> / <due>: record the decision on an item."""
    message = turn.msg.written
    assert message is not None and message.text is not None
    rest = message.text.partition(" ")[2].strip()
    rows: Buttons | None = None
    async with turn.transaction() as session:
        who = await turn.speaker(session)
        try:
            who.auth.require(Role.SECRETARY)
            text, rows = await _decide(session, who, rest, turn)
        except StorageError as error:
            text = words.refusal(error, who._)
    await turn.reply(text, rows)


async def _decide(session: AsyncSession, who: Speaker, rest: str, turn: Turn) -> Answer:
    now, settings = utcnow(), turn.settings
    meeting = await meetings.current_meeting(session, plan=settings.meeting_plan, now=now)
    parts = [p.strip() for p in rest.rsplit("/", 2)]
    if len(parts) != 3:
        raise InvalidInput("usage")
    first, _sep, after = parts[0].partition(" ")
    if first.isdigit() and after.strip():
        items = await meetings.agenda(session, meeting=meeting)
        if not 1 <= int(first) <= len(items):
            raise InvalidInput("no_item", count=len(items))
        item, parts[0] = items[int(first) - 1], after
    else:
        item = await meeting_run.current_item(session, meeting=meeting)
    owner = await decisions.find_owner(session, parts[1])
    due = decisions.due_from(parts[2], today=turn.today(), tz=settings.tz)
    on_floor = meeting.status == meetings.IN_PROGRESS and meeting.current_item_id == item.id
    decision = await decisions.record_decision(
        session, item=item, text=parts[0], owner=owner, due_at=due, auth=who.auth, now=now,
        tz=settings.tz,
    )  # fmt: skip
    text = who._("Decision #{number} recorded.").format(number=decision.id)
    if not on_floor:
        return text, None
    assert item.id is not None
    following = await meeting_run.advance(session, meeting=meeting, auth=who.auth, item_id=item.id)
    items = await meetings.agenda(session, meeting=meeting)
    next_text, rows = words.panel(following, items, meeting, who._)
    return text + "\n\n" + next_text, rows


async def decision_command(turn: Turn) -> None:
    """/decision <id> [note <text> | done]: a decision's progress; its owner or a secretary
    adds notes or marks it done."""
    args = turn.args
    async with turn.transaction() as session:
        who = await turn.speaker(session)
        try:
            number = parse_id(args[0]) if args else None
            if number is None:
                raise InvalidInput("decision_usage")
            text = await _decision(session, who, number, args[1:], turn)
        except InvalidInput as error:
            known = error.reason in words.INVALID
            text = words.refusal(error, who._) if known else who._(words.DECISION_HELP)
        except NotOwner as error:
            text = words.not_owner(error, who.lang, who._)
        except StorageError as error:
            text = words.refusal(error, who._)
    await turn.reply(text)


async def _decision(
    session: AsyncSession, who: Speaker, number: int, args: list[str], turn: Turn
) -> str:
    decision = await decisions.get_decision(session, number)
    now, tz = utcnow(), turn.settings.tz
    verb = args[0].lower() if args else ""
    if verb == "done":
        told = await decisions.mark_done(session, decision=decision, auth=who.auth, now=now, tz=tz)
        return who._(
            "Decision #{number} is done; {count} residents who raised or supported it are told."
        ).format(number=number, count=told)
    if verb == "note":
        await decisions.add_note(
            session, decision=decision, auth=who.auth, note=" ".join(args[1:]), now=now
        )
    elif verb:
        raise InvalidInput("decision_usage")
    notes = [
        (n.at.astimezone(tz).strftime("%Y-%m-%d"), n.note)
        for n in await decisions.notes(session, decision=decision)
    ]
    params = await decision_params(session, decision, tz)
    return words.decision_view(params, notes, who.lang, who._)


async def decisions_command(turn: Turn) -> None:
    """/decisions: the open decisions, soonest due first."""
    async with turn.transaction() as session:
        who = await turn.speaker(session)
        tz = turn.settings.tz
        found = await decisions.open_decisions(session)
        lines = [
            words.decision_line(await decision_params(session, d, tz), who.lang) for d in found
        ]
    text = "\n".join([who._("Open decisions:"), *lines]) if lines else who._("No open decisions.")
    await turn.reply(text)
