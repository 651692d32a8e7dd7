"""What every handler shares: the per-update transaction, who is speaking, replying."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from bot.runtime import Runtime, runtime
from bot.telegram.limits import TEXT_MAX, split_text
from handlers.person_limit import Verdict
from handlers.words.i18n import Translate, translator
from storage import outbox, people
from storage.db import session_scope
from storage.models import Group, OutboxMessage, Resident
from storage.people import roles
from storage.people.roles import Authority
from storage.updates import claim_update

CHANNEL = "telegram"
Context = ContextTypes.DEFAULT_TYPE
Buttons = Sequence[Sequence[tuple[str, str]]]


# A reply queued in the update's transaction is leased for this long: its handler sends it at
# once, and only if the process dies first does a sender take it, when the lease runs out.
REPLY_LEASE = timedelta(seconds=60)
_QUEUED = "yishi.replies"


class AlreadyHandled(Exception):
    """This update was handled before (Telegram delivered it again): do nothing."""


class Throttled(Exception):
    """The person is past the per-person limit (handlers/person_limit.py): handle nothing."""

    def __init__(self, verdict: Verdict) -> None:
        super().__init__(verdict.value)
        self.verdict = verdict


def rt(context: Context) -> Runtime:
    return runtime(context.bot_data)


def admit(update: Update, context: Context) -> None:
    """Raise Throttled for a message or press past its sender's limit."""
    user = update.effective_user
    if user is None or (update.message is None and update.callback_query is None):
        return
    message = update.message
    verdict = rt(context).person_limit.admit(
        user.id,
        update.update_id,
        sent_at=message.date.timestamp() if message is not None else None,
        album=message.media_group_id if message is not None else None,
    )
    if verdict is not Verdict.HANDLE:
        raise Throttled(verdict)


@asynccontextmanager
async def transaction(update: Update, context: Context) -> AsyncIterator[AsyncSession]:
    """The update's one transaction; it also records the update so a repeat does nothing.

    Everything a handler does goes through here, so here a person past the per-person limit
    is refused, and the replies queued in the transaction (queue_reply) go out once it has
    committed."""
    admit(update, context)
    queued: list[OutboxMessage] = []
    async with session_scope(rt(context).engine) as session:
        if not await claim_update(session, bot_id=context.bot.id, update_id=update.update_id):
            raise AlreadyHandled(update.update_id)
        session.info[_QUEUED] = queued
        yield session
    sender = rt(context).sender
    for row in queued:
        if sender is not None:
            await sender.deliver_now(row)


async def queue_reply(
    session: AsyncSession,
    *,
    to: Resident | Group,
    kind: str,
    params: dict[str, Any],
    key: str,
    lang: str,
) -> bool:
    """A reply that must not be lost (a filed case's confirmation): an outbox row in the
    update's transaction, sent right after the commit. False if `key` was queued before."""
    row = await outbox.enqueue_reply(
        session, to=to, kind=kind, params=params, dedup_key=key, lang=lang, lease=REPLY_LEASE
    )
    if row is None:
        return False
    session.info.setdefault(_QUEUED, []).append(row)
    return True


@dataclass
class Speaker:
    resident: Resident
    _: Translate
    auth: Authority

    @property
    def lang(self) -> str:
        return self.resident.language


async def speaker(session: AsyncSession, update: Update, context: Context) -> Speaker:
    """The resident behind this update, registered on first contact."""
    user = update.effective_user
    assert user is not None
    default_language = rt(context).settings.default_language
    _ = translator(people.language_from_code(user.language_code, default_language))
    resident = await people.touch_resident(
        session,
        channel=CHANNEL,
        external_id=user.id,
        name=" ".join(part for part in (user.first_name, user.last_name) if part),
        username=user.username,
        language_code=user.language_code,
        default_language=default_language,
        unnamed=_("Resident {number}").format(number=people.stand_in_number(user.id)),
    )
    if resident.unreachable_at is not None:  # they wrote to us, so they unblocked the bot
        resident.unreachable_at = None
        session.add(resident)
    admins = rt(context).settings.admins
    if resident.external_id in admins:  # YISHI_ADMINS are secretaries, also in the role table
        await roles.grant(session, resident=resident, role=roles.Role.SECRETARY)
    auth = await roles.authority(session, resident=resident, admin_ids=admins)
    return Speaker(resident=resident, _=translator(resident.language), auth=auth)


def keyboard(rows: Buttons) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows]
    )


async def reply(
    update: Update, text: str, rows: Buttons | None = None, *, quote: bool = False
) -> None:
    """A direct reply to whoever just wrote: sent at once, not through the outbox. A text over
    Telegram's 4,096 goes as several messages cut at line breaks, the buttons under the last."""
    message = update.effective_message
    assert message is not None
    *first, last = split_text(text, TEXT_MAX)
    for part in first:
        await message.reply_text(part, do_quote=quote)
        quote = False  # the first part quotes; the rest follow it
    await message.reply_text(
        last,
        reply_markup=keyboard(rows) if rows else None,
        do_quote=quote,
    )


def local_today(context: Context) -> date:
    """Today in the estate's time zone (the mediation roster is by local day)."""
    return datetime.now(rt(context).settings.tz).date()


def is_private(update: Update) -> bool:
    chat = update.effective_chat
    return chat is not None and chat.type == chat.PRIVATE


def command_args(context: Context) -> list[str]:
    return list(context.args or [])
