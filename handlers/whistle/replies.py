"""Residents answering a whistle (buttons, replies, "write an opinion"), and what a secretary
does with the answers: read the opinions, file one as a case, cancel the whistle.

Answers are recorded for anyone while the whistle is open; people outside its audience are
marked so (storage/whistle/answers.py). Groups never see a name: a reply in a group is
acknowledged without one, and the opinions are listed only to a secretary, in private.
"""

from __future__ import annotations

import logging
import re
from typing import TypeGuard

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.actions import Action, WhistleAnswer, WhistlePress, parse_id
from handlers.conversation import Reply, Speaker, Turn, Written
from handlers.pending import answers
from handlers.whistle.text import explain
from storage.db import session_scope
from storage.errors import InvalidInput, StaleAction, StorageError
from storage.models import PendingInput, utcnow
from storage.people.pending import expect_input
from storage.whistle import answers as whistle_answers
from storage.whistle.answers import WhistleClosed

logger = logging.getLogger(__name__)

OPINION = "w_opinion"
START = re.compile(r"^/start(?:@\w+)?\s+w([0-9]+)$")


def _closed(who: Speaker) -> str:
    return who._("This whistle is closed: answers are no longer taken. Thank you!")


def is_residents(action: Action | None) -> TypeGuard[WhistleAnswer | WhistlePress]:
    """An answer button, or "write an opinion": what on_button answers."""
    opinion = isinstance(action, WhistlePress) and action.verb == "op"
    return opinion or isinstance(action, WhistleAnswer)


async def on_button(turn: Turn, action: WhistleAnswer | WhistlePress) -> None:
    """A resident's press on a whistle message: an answer, or "write an opinion"."""
    chat_id = turn.msg.place.chat_id
    url: str | None = None
    text: str | None = None
    async with turn.transaction() as session:
        who = await turn.speaker(session)
        _ = who._
        try:
            number = action.whistle
            if isinstance(action, WhistleAnswer):
                answered = await whistle_answers.record_answer(
                    session, whistle_id=number, resident=who.resident, option=action.option,
                    chat_id=chat_id, now=utcnow(),
                )  # fmt: skip
                label = answered.whistle.options[answered.option]
                template = (
                    _("Changed to: {option}") if answered.changed else _("Recorded: {option}")
                )
                alert = template.format(option=label)
            elif action.verb == "op":
                whistle = await whistle_answers.open_whistle(
                    session, whistle_id=number, now=utcnow()
                )
                if not whistle.free_text:
                    raise InvalidInput("no_opinions")
                if turn.private:
                    await expect_input(
                        session, resident=who.resident, kind=OPINION, subject_id=number
                    )
                    alert = _("Type your opinion in your next message.")
                    text = _(
                        "Your opinion on whistle #{number}: type it now, in one message."
                    ).format(number=number)
                else:  # opens the private chat at /start w<number>
                    url = turn.link(f"w{number}")
                    alert = ""
            else:
                raise StaleAction(action)
        except WhistleClosed:
            alert = _closed(who)
        except InvalidInput as error:
            alert = explain(error, who.lang)
        except StorageError:
            alert = _("This button has expired.")
    if url is not None:
        await turn.answer(url=url)
    else:
        await turn.answer(alert)
    if text is not None:
        await turn.send([Reply(text)])


async def _opinion(session: AsyncSession, who: Speaker, number: int, message: Written) -> str:
    try:
        await whistle_answers.record_opinion(
            session, whistle_id=number, resident=who.resident,
            text=message.text or message.caption or "", chat_id=message.ref.chat_id,
            message_id=message.ref.message_id, now=utcnow(),
        )  # fmt: skip
    except WhistleClosed:
        return _closed(who)
    except InvalidInput as error:
        return explain(error, who.lang)
    except StorageError:
        return who._("This whistle no longer exists.")
    return who._("Thank you: your opinion on whistle #{number} is recorded.").format(number=number)


@answers(OPINION)
async def typed_opinion(
    session: AsyncSession, who: Speaker, pending: PendingInput, turn: Turn
) -> list[Reply]:
    """The private message after "write an opinion" (or /start w<id>)."""
    message = turn.msg.written
    assert pending.subject_id is not None and message is not None
    answer = await _opinion(session, who, pending.subject_id, message)
    if not (message.text or message.caption or "").strip():  # a sticker or photo: ask again
        await expect_input(
            session, resident=who.resident, kind=OPINION, subject_id=pending.subject_id
        )
    return [Reply(answer)]


def _replied_to_bot(turn: Turn) -> Written | None:
    """The bot's message that this message replies to, if it replies to one."""
    replied = turn.msg.reply_to
    author = replied.author if replied is not None else None
    return replied if author is not None and author.external_id == str(turn.msg.account) else None


async def private_reply(session: AsyncSession, who: Speaker, turn: Turn) -> list[Reply] | None:
    """A private reply to a whistle message is an opinion on it; None if it is not one."""
    replied, message = _replied_to_bot(turn), turn.msg.written
    if replied is None or message is None:
        return None
    whistle = await whistle_answers.whistle_of_message(
        session, chat_id=message.ref.chat_id, message_id=replied.ref.message_id
    )
    if whistle is None or whistle.id is None:
        return None
    return [Reply(await _opinion(session, who, whistle.id, message))]


async def on_group_reply(turn: Turn) -> bool:
    """A reply to a whistle message in a group: stored as an opinion. False if not one."""
    replied, message = _replied_to_bot(turn), turn.msg.written
    if replied is None or message is None:
        return False
    async with session_scope(turn.engine) as session:  # a look only: claims nothing
        whistle = await whistle_answers.whistle_of_message(
            session, chat_id=message.ref.chat_id, message_id=replied.ref.message_id
        )
    if whistle is None or whistle.id is None:
        return False
    async with turn.transaction() as session:
        who = await turn.speaker(session)
        answer = await _opinion(session, who, whistle.id, message)
    await turn.reply(answer, quote=True)
    return True


def opinion_link(turn: Turn) -> int | None:
    """The whistle of a "/start w<id>" (NOWHERE if none can have that id), or None."""
    message = turn.msg.written
    match = START.match(message.text or "") if message else None
    return parse_id(match[1]) if match else None


async def on_start_opinion(turn: Turn) -> None:
    """/start w<id> (the group's "write an opinion" link): the next message is the opinion."""
    number = opinion_link(turn)
    if number is None:
        return  # an ordinary /start: handlers/office/start.py answers it
    async with turn.transaction() as session:
        who = await turn.speaker(session)
        try:
            whistle = await whistle_answers.open_whistle(session, whistle_id=number, now=utcnow())
            if not whistle.free_text:
                raise InvalidInput("no_opinions")
            await expect_input(session, resident=who.resident, kind=OPINION, subject_id=number)
            answer = who._(
                "Whistle #{number}: {question}\n\nType your opinion now, in one message."
            ).format(number=number, question=whistle.question)
        except WhistleClosed:
            answer = _closed(who)
        except InvalidInput as error:
            answer = explain(error, who.lang)
        except StorageError:
            answer = who._("This whistle no longer exists.")
    await turn.reply(answer)
    # handlers/office/start.py's /start runs next and says nothing.
