"""Residents' profiles and subscriptions, and groups registered by a secretary.

`/profile [building] [unit]` shows or sets where the resident lives and offers Telegram's
"share my phone" button (only the sender's own contact is accepted; the number is for staff
and shown masked). `/subscribe` and `/unsubscribe` switch private broadcasts (whistles).
`/register_group <buildings...>` and `/unregister_group` in a group, by a secretary only.
"""

from __future__ import annotations

import logging

from handlers.conversation import REMOVE_KEYBOARD, Key, Keyboard, Speaker, Turn
from storage import people
from storage.errors import InvalidInput, NotAllowed
from storage.models import utcnow
from storage.people import profiles

logger = logging.getLogger(__name__)


def _profile_text(who: Speaker) -> str:
    _ = who._
    person = who.resident
    lines = [
        _("Your profile"),
        _("Building: {value}").format(value=person.building or _("not given")),
        _("Unit: {value}").format(value=person.entrance or _("not given")),
        _("Phone (for staff only): {value}").format(
            value=profiles.masked_phone(person.phone) or _("not given")
        ),
        _("Whistles in private: {value}").format(
            value=_("subscribed") if person.subscribed_at else _("not subscribed")
        ),
        "",
        _(
            "Set where you live with /profile <building> [unit], e.g. /profile 3 2. "
            "/subscribe or /unsubscribe for the office's calls for opinions."
        ),
    ]
    return "\n".join(lines)


def _contact_keyboard(who: Speaker) -> Keyboard:
    return Keyboard(((Key(who._("📱 Share my phone number"), asks="contact"),),))


async def profile(turn: Turn) -> None:
    """/profile [building] [unit]: show or set where I live; offer to share my phone."""
    args = turn.args
    problem = None
    async with turn.transaction() as session:
        who = await turn.speaker(session)
        if args:
            try:
                await profiles.set_home(
                    session,
                    resident=who.resident,
                    building=args[0],
                    entrance=args[1] if len(args) > 1 else None,
                )
            except InvalidInput as error:
                problem = (
                    who._("I cannot read that unit.")
                    if error.reason == "unit_format"
                    else who._(
                        "I cannot read that building. Try /profile 3 2 (building 3, unit 2)."
                    )
                )
    if problem is not None:
        await turn.reply(problem)
        return
    markup = _contact_keyboard(who) if turn.private and not who.resident.phone else None
    await turn.reply(_profile_text(who), keyboard=markup)


async def on_contact(turn: Turn) -> None:
    """A shared contact: stored as the sender's phone only if it is their own."""
    message = turn.msg.written
    assert message is not None and message.contact is not None
    contact = message.contact
    async with turn.transaction() as session:
        who = await turn.speaker(session)
        _ = who._
        try:
            await profiles.set_phone(
                session,
                resident=who.resident,
                phone=contact.phone,
                channel=turn.msg.channel,
                owner_external_id=None if contact.user_id is None else str(contact.user_id),
            )
            answer = _(
                "Thank you. Your number {phone} is kept for the office's staff only."
            ).format(phone=profiles.masked_phone(who.resident.phone))
        except NotAllowed:
            answer = _("Please share your own number with the button, not someone else's contact.")
        except InvalidInput:
            answer = _("That phone number looks wrong.")
    await turn.reply(answer, keyboard=REMOVE_KEYBOARD)


async def subscribe(turn: Turn) -> None:
    """/subscribe: receive the office's calls for opinions in private."""
    async with turn.transaction() as session:
        who = await turn.speaker(session)
        done = await profiles.subscribe(session, resident=who.resident, now=utcnow())
    _ = who._
    await turn.reply(
        _("Subscribed: you will get the office's calls for opinions here. /unsubscribe to stop.")
        if done
        else _("You are already subscribed. /unsubscribe to stop."),
    )


async def unsubscribe(turn: Turn) -> None:
    """/unsubscribe: no more private calls for opinions."""
    async with turn.transaction() as session:
        who = await turn.speaker(session)
        done = await profiles.unsubscribe(session, resident=who.resident)
    _ = who._
    await turn.reply(
        _("Unsubscribed. /subscribe to get the calls for opinions again.")
        if done
        else _("You are not subscribed. /subscribe to get the calls for opinions."),
    )


async def register_group(turn: Turn) -> None:
    """/register_group <buildings...>: a secretary registers this group (and its buildings)."""
    chat = turn.msg.place
    async with turn.transaction() as session:
        who = await turn.speaker(session)
        _ = who._
        if turn.private:
            answer = _("Send /register_group in the community group you want to register.")
        elif not who.auth.is_secretary:
            answer = _("Sorry, only a secretary of the community office can register a group.")
        else:
            group = await people.touch_group(
                session, channel=turn.msg.channel, external_id=chat.chat_id, title=chat.title or ""
            )
            try:
                group = await profiles.register_group(
                    session, group=group, by=who.auth, buildings=turn.args, now=utcnow()
                )
                answer = _("This group is registered for the office's calls for opinions.")
                if group.buildings:
                    answer += "\n" + _("Buildings: {names}").format(
                        names=", ".join(group.buildings)
                    )
            except InvalidInput:
                answer = _("I cannot read those buildings. Example: /register_group 3 4 5")
    await turn.reply(answer)


async def unregister_group(turn: Turn) -> None:
    """/unregister_group: a secretary stops calls for opinions in this group."""
    chat = turn.msg.place
    async with turn.transaction() as session:
        who = await turn.speaker(session)
        _ = who._
        if turn.private or not who.auth.is_secretary:
            answer = _("Sorry, only a secretary of the community office can register a group.")
        else:
            group = await people.touch_group(
                session, channel=turn.msg.channel, external_id=chat.chat_id, title=chat.title or ""
            )
            await profiles.unregister_group(session, group=group, by=who.auth)
            answer = _("This group will get no more calls for opinions.")
    await turn.reply(answer)
