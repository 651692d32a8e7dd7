"""Greeting, help, language, and what to say to anything the bot does not understand."""

from __future__ import annotations

from telegram import Update

from handlers.actions import ChooseLanguage, decode, encode
from handlers.cases.report import start_report
from handlers.common import Context, command_args, is_private, reply, speaker, transaction
from handlers.office import admin
from handlers.whistle import replies as whistle_replies
from storage import people

LANG_CHOICES = [
    [
        ("中文", encode(ChooseLanguage(language="zh"))),
        ("English", encode(ChooseLanguage(language="en"))),
    ]
]


async def start(update: Update, context: Context) -> None:
    """/start: register and greet; `/start report` (a deep link) opens a report at once."""
    if is_private(update) and command_args(context)[:1] == ["report"]:
        await start_report(update, context)
        return
    payload = (command_args(context)[:1] or [""])[0]
    if is_private(update) and whistle_replies.opinion_link(update) is not None:
        return  # "write an opinion" from a group: whistle_replies.on_start_opinion answered it
    if is_private(update) and payload.startswith("inv_"):  # an invitation link (/invite)
        await admin.redeem_link(update, context, payload.removeprefix("inv_"))
        return
    async with transaction(update, context) as session:
        who = await speaker(session, update, context)
    _ = who._
    text = _(
        "Hello {name}! I am Yishi, the community office's assistant. Tell me about safety "
        "hazards, property problems, environment, group-rental housing or wage disputes, and "
        "I will file it as a case and keep you informed.\n\nSend /report to start, or /help."
    ).format(name=who.resident.name or _("neighbour"))
    await reply(update, text)


async def help_(update: Update, context: Context) -> None:
    """/help: what the bot can do, in the reader's language."""
    async with transaction(update, context) as session:
        who = await speaker(session, update, context)
    _ = who._
    if is_private(update):
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
    await reply(update, text)


async def lang(update: Update, context: Context) -> None:
    """/lang [zh|en]: switch the language I answer in."""
    choice = (command_args(context)[:1] or [""])[0].lower()
    async with transaction(update, context) as session:
        who = await speaker(session, update, context)
        if choice in people.LANGUAGES:
            await people.set_language(session, resident=who.resident, language=choice)
            who = await speaker(session, update, context)
    _ = who._
    if choice in people.LANGUAGES:
        await reply(update, _("I will answer in English from now on."))
    else:
        await reply(update, _("Choose your language:"), LANG_CHOICES)


async def on_lang_button(update: Update, context: Context) -> None:
    """A press on a language button."""
    query = update.callback_query
    assert query is not None
    action = decode(query.data)
    chosen = action.language if isinstance(action, ChooseLanguage) else None
    async with transaction(update, context) as session:
        who = await speaker(session, update, context)
        if chosen:
            await people.set_language(session, resident=who.resident, language=chosen)
            who = await speaker(session, update, context)
    _ = who._
    await query.answer()
    if chosen:
        await reply(update, _("I will answer in English from now on."))


async def unknown_command(update: Update, context: Context) -> None:
    """A command I do not know."""
    async with transaction(update, context) as session:
        who = await speaker(session, update, context)
    await reply(update, who._("Sorry, I do not know that command. /help lists what I can do."))


async def stale_button(update: Update, context: Context) -> None:
    """A button press nothing else recognised: old, from another version, or forged."""
    query = update.callback_query
    assert query is not None
    async with transaction(update, context) as session:
        who = await speaker(session, update, context)
    await query.answer(who._("This button has expired."), show_alert=True)
