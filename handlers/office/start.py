"""Greeting, help, language, and what to say to anything the bot does not understand."""

from __future__ import annotations

from handlers.actions import ChooseLanguage, encode
from handlers.cases.report import start_report
from handlers.conversation import Turn
from handlers.office import admin
from handlers.whistle import replies as whistle_replies
from storage import people

LANG_CHOICES = [
    [
        ("中文", encode(ChooseLanguage(language="zh"))),
        ("English", encode(ChooseLanguage(language="en"))),
    ]
]


async def start(turn: Turn) -> None:
    """/start: register and greet; `/start report` (a deep link) opens a report at once."""
    if turn.private and turn.args[:1] == ["report"]:
        await start_report(turn)
        return
    payload = (turn.args[:1] or [""])[0]
    if turn.private and whistle_replies.opinion_link(turn) is not None:
        return  # "write an opinion" from a group: whistle_replies.on_start_opinion answered it
    if turn.private and payload.startswith("inv_"):  # an invitation link (/invite)
        await admin.redeem_link(turn, payload.removeprefix("inv_"))
        return
    async with turn.transaction() as session:
        who = await turn.speaker(session)
    _ = who._
    text = _(
        "Hello {name}! I am Yishi, the community office's assistant. Tell me about safety "
        "hazards, property problems, environment, group-rental housing or wage disputes, and "
        "I will file it as a case and keep you informed.\n\nSend /report to start, or /help."
    ).format(name=who.resident.name or _("neighbour"))
    await turn.reply(text)


async def help_(turn: Turn) -> None:
    """/help: what the bot can do, in the reader's language."""
    async with turn.transaction() as session:
        who = await turn.speaker(session)
    _ = who._
    if turn.private:
        text = _(
            "What I can do:\n"
            "/report - report a problem (category, description, photos, location)\n"
            "/mycases - your cases and their status\n"
            "/case <number> - one case and its timeline\n"
            "/cancel - abandon the report you are writing\n"
            "/lang - 中文 / English"
        )
    else:
        text = _(
            "In this group, start a message with #report (or #反映) or mention me, and I "
            "will file it as a case and reply with its number. For photos, location or an "
            "anonymous report, talk to me privately."
        )
    await turn.reply(text)


async def lang(turn: Turn) -> None:
    """/lang [zh|en]: switch the language I answer in."""
    choice = (turn.args[:1] or [""])[0].lower()
    async with turn.transaction() as session:
        who = await turn.speaker(session)
        if choice in people.LANGUAGES:
            await people.set_language(session, resident=who.resident, language=choice)
            who = await turn.speaker(session)
    _ = who._
    if choice in people.LANGUAGES:
        await turn.reply(_("I will answer in English from now on."))
    else:
        await turn.reply(_("Choose your language:"), LANG_CHOICES)


async def on_lang_button(turn: Turn) -> None:
    """A press on a language button."""
    action = turn.action
    chosen = action.language if isinstance(action, ChooseLanguage) else None
    async with turn.transaction() as session:
        who = await turn.speaker(session)
        if chosen:
            await people.set_language(session, resident=who.resident, language=chosen)
            who = await turn.speaker(session)
    _ = who._
    await turn.answer()
    if chosen:
        await turn.reply(_("I will answer in English from now on."))


async def unknown_command(turn: Turn) -> None:
    """A command I do not know."""
    async with turn.transaction() as session:
        who = await turn.speaker(session)
    await turn.reply(who._("Sorry, I do not know that command. /help lists what I can do."))


async def stale_button(turn: Turn) -> None:
    """A button press nothing else recognised: old, from another version, or forged."""
    async with turn.transaction() as session:
        who = await turn.speaker(session)
    await turn.answer(who._("This button has expired."), alert=True)
