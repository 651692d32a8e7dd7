"""The seam between a channel and the conversations: a neutral inbound message in, neutral
replies out, and the turn that handles one inbound message (its transaction, its speaker).

A channel (bot/telegram/adapter.py) turns what arrived into an `Inbound`, implements `Channel`
to send replies and answer presses, and hands both to a handler as a `Turn`. Handlers know no
channel: tests drive them with Inbound messages and a collecting channel (Rasa's
CollectingOutputChannel). Buttons carry encoded actions (handlers/actions.py) or links.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.actions import Action, decode
from handlers.person_limit import PersonLimit, Verdict
from handlers.words.i18n import Translate, translator
from storage import media, outbox, people
from storage.db import session_scope
from storage.deliberation.meeting_calendar import MeetingPlan
from storage.models import Group, OutboxMessage, Resident
from storage.people import roles
from storage.people.roles import Authority
from storage.updates import claim_update

logger = logging.getLogger(__name__)

# (label, encoded action) rows under a message; an "action" that is a URL is a link button.
Buttons = Sequence[Sequence[tuple[str, str]]]

# A reply queued in the update's transaction is leased for this long: its handler sends it at
# once, and only if the process dies first does a sender take it, when the lease runs out.
REPLY_LEASE = timedelta(seconds=60)
_QUEUED = "yishi.replies"


def is_link(data: str) -> bool:
    """A button that opens an address instead of pressing an action."""
    return data.startswith(("https://", "http://"))


@dataclass(frozen=True)
class Ref:
    """A message in a chat of the channel."""

    chat_id: int
    message_id: int


@dataclass(frozen=True)
class Person:
    external_id: str  # the person's id on the message's channel (Telegram's as a decimal)
    name: str = ""
    username: str | None = None
    language_code: str | None = None
    is_bot: bool = False


@dataclass(frozen=True)
class Place:
    chat_id: int
    private: bool
    title: str | None = None


@dataclass(frozen=True)
class Location:
    latitude: float
    longitude: float


@dataclass(frozen=True)
class Contact:
    phone: str
    user_id: int | None = None  # whose number it is, if they are known to the channel


@dataclass(frozen=True)
class Written:
    """A message someone wrote (or the bot sent, when it is replied to)."""

    ref: Ref
    text: str | None = None
    caption: str | None = None
    photo: str | None = None  # the largest photo's file ref on the channel (keep_photo)
    photo_unique: str | None = None  # the same file's id whoever sends it, if the channel has one
    location: Location | None = None
    contact: Contact | None = None
    sent_at: datetime | None = None
    album: str | None = None
    mentions: tuple[str, ...] = ()  # "@name" as written, in the text or else the caption
    author: Person | None = None

    @property
    def words(self) -> str | None:
        """The text, or a photo's caption."""
        return self.text if self.text is not None else self.caption


@dataclass(frozen=True)
class Pressed:
    """The message whose button was pressed: its buttons as shown, what it replies to."""

    ref: Ref
    rows: tuple[tuple[tuple[str, str], ...], ...] = ()
    reply_to: Written | None = None


@dataclass(frozen=True)
class Inbound:
    """One thing that arrived: a message written, a command, or a press."""

    channel: str
    account: int  # the receiving bot or account
    update_id: int
    person: Person | None
    place: Place
    account_name: str = ""  # how people mention it (Telegram: the bot's username)
    written: Written | None = None
    pressed: Pressed | None = None
    reply_to: Written | None = None
    command: str | None = None
    args: tuple[str, ...] = ()
    data: str | None = None  # a press's data

    @property
    def action(self) -> Action | None:
        return decode(self.data) if self.data is not None else None


@dataclass(frozen=True)
class Key:
    """A button of a reply keyboard: it sends its label, or asks for a location or contact."""

    label: str
    asks: Literal["text", "location", "contact"] = "text"


@dataclass(frozen=True)
class Keyboard:
    """Buttons in place of the person's keyboard; no rows takes it away."""

    rows: tuple[tuple[Key, ...], ...] = ()


REMOVE_KEYBOARD = Keyboard()


@dataclass(frozen=True)
class Media:
    """A photo, chart or document: its bytes and file name, or a file the project keeps (a
    media_files id, storage/media.py: the channel sends it by its own ref or uploads it)."""

    data: bytes | None = None
    name: str = ""
    stored: int | None = None


@dataclass(frozen=True)
class Reply:
    """What the bot says back: words (a caption with media), buttons, maybe a keyboard."""

    text: str = ""
    rows: Buttons = ()
    keyboard: Keyboard | None = None
    photo: Media | None = None
    document: Media | None = None
    quote: bool = False  # as a reply to the message written


class Channel(Protocol):
    """What a channel does for a turn (bot/telegram/adapter.py; a collecting one in tests)."""

    name: str

    def split(self, text: str) -> list[str]:
        """A text as messages within the channel's limit (the limit belongs to the channel)."""

    async def send(self, reply: Reply) -> Ref:
        """Send to the inbound's place; the sent message."""

    async def answer(
        self, text: str | None = None, *, alert: bool = False, url: str | None = None
    ) -> None:
        """Answer the press (a toast, an alert, or opening `url`)."""

    async def edit(self, ref: Ref, *, text: str | None = None, rows: Buttons | None = None) -> bool:
        """New text and/or buttons for a sent message (text None: buttons only, () none);
        False, logged, if that failed: cosmetic (e.g. a 48-hour-old message)."""

    async def uploading(self) -> None:
        """Show that a file is on its way."""

    def link(self, payload: str) -> str:
        """A link that opens a private chat with the bot starting with `payload`."""


class TurnSettings(Protocol):
    """The settings handlers read (bot/config.py: Settings has them all)."""

    @property
    def tz(self) -> ZoneInfo: ...
    @property
    def timezone(self) -> str: ...
    @property
    def admins(self) -> frozenset[int]: ...
    @property
    def default_language(self) -> str: ...
    @property
    def meeting_plan(self) -> MeetingPlan: ...


def _nobody_to_wake() -> None:
    pass


@dataclass(frozen=True)
class Services:
    """What a turn needs from the running bot (bot/runtime.py: Runtime.services)."""

    engine: AsyncEngine
    settings: TurnSettings
    person_limit: PersonLimit = field(default_factory=PersonLimit)
    deliver: Callable[[OutboxMessage], Awaitable[object]] | None = None  # a queued reply, now
    wake: Callable[[], None] = _nobody_to_wake  # the sender, after notices were queued


class AlreadyHandled(Exception):
    """This update was handled before (the channel delivered it again): do nothing."""


class Throttled(Exception):
    """The person is past the per-person limit (handlers/person_limit.py): handle nothing."""

    def __init__(self, verdict: Verdict) -> None:
        super().__init__(verdict.value)
        self.verdict = verdict


@dataclass
class Speaker:
    resident: Resident
    _: Translate
    auth: Authority

    @property
    def lang(self) -> str:
        return self.resident.language


class Turn:
    """One inbound message being handled."""

    def __init__(self, msg: Inbound, channel: Channel, services: Services) -> None:
        self.msg = msg
        self.channel = channel
        self.services = services

    @property
    def action(self) -> Action | None:
        return self.msg.action

    @property
    def settings(self) -> TurnSettings:
        return self.services.settings

    @property
    def engine(self) -> AsyncEngine:
        return self.services.engine

    @property
    def private(self) -> bool:
        return self.msg.place.private

    @property
    def args(self) -> list[str]:
        return list(self.msg.args)

    def today(self) -> date:
        """Today in the estate's time zone (the mediation roster is by local day)."""
        return datetime.now(self.settings.tz).date()

    def _admit(self) -> None:
        """Raise Throttled for a message or press past its sender's limit."""
        person, msg = self.msg.person, self.msg
        if person is None or (msg.written is None and msg.data is None):
            return
        written = msg.written if msg.data is None else None
        verdict = self.services.person_limit.admit(
            f"{msg.channel}:{person.external_id}",
            msg.update_id,
            sent_at=written.sent_at.timestamp() if written and written.sent_at else None,
            album=written.album if written is not None else None,
        )
        if verdict is not Verdict.HANDLE:
            raise Throttled(verdict)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """The update's one transaction; it also records the update so a repeat does nothing.

        Everything a handler does goes through here, so here a person past the per-person limit
        is refused, and the replies queued in the transaction (queue_reply) go out once it has
        committed."""
        self._admit()
        queued: list[OutboxMessage] = []
        async with session_scope(self.engine) as session:
            claimed = await claim_update(
                session, bot_id=self.msg.account, update_id=self.msg.update_id
            )
            if not claimed:
                raise AlreadyHandled(self.msg.update_id)
            session.info[_QUEUED] = queued
            yield session
        deliver = self.services.deliver
        for row in queued:
            if deliver is not None:
                await deliver(row)

    async def speaker(self, session: AsyncSession) -> Speaker:
        """The resident behind this message, registered on first contact."""
        user = self.msg.person
        assert user is not None
        default_language = self.settings.default_language
        _ = translator(people.language_from_code(user.language_code, default_language))
        resident = await people.touch_resident(
            session,
            channel=self.msg.channel,
            external_id=user.external_id,
            name=user.name,
            username=user.username,
            language_code=user.language_code,
            default_language=default_language,
            unnamed=_("Resident {number}").format(number=people.stand_in_number(user.external_id)),
        )
        await people.heard_from(session, resident=resident)
        # YISHI_ADMINS (Telegram ids) are secretaries, granted in the role table when they
        # write, so the role table alone answers for the speaker (no identity lookup per update).
        if self.msg.channel == "telegram" and int(user.external_id) in self.settings.admins:
            await roles.grant(session, resident=resident, role=roles.Role.SECRETARY)
        auth = await roles.authority(session, resident=resident, admin_ids=frozenset())
        return Speaker(resident=resident, _=translator(resident.language), auth=auth)

    async def reply(
        self,
        text: str,
        rows: Buttons | None = None,
        *,
        quote: bool = False,
        keyboard: Keyboard | None = None,
    ) -> Ref:
        """A direct reply to whoever just wrote: sent at once, not through the outbox. A text
        over the channel's limit goes as several messages cut at line breaks, the buttons (or
        keyboard) under the last."""
        *first, last = self.channel.split(text)
        for part in first:
            await self.channel.send(Reply(part, quote=quote))
            quote = False  # the first part quotes; the rest follow it
        return await self.channel.send(Reply(last, rows or (), keyboard=keyboard, quote=quote))

    async def send(self, replies: Sequence[Reply]) -> None:
        """Several replies in turn, each with its own buttons, media or keyboard."""
        for answer in replies:
            if answer.photo is not None or answer.document is not None:
                await self.channel.send(answer)
            else:
                await self.reply(
                    answer.text, answer.rows, quote=answer.quote, keyboard=answer.keyboard
                )

    async def answer(
        self, text: str | None = None, *, alert: bool = False, url: str | None = None
    ) -> None:
        """Answer the press: a toast, an alert, or a link to open."""
        await self.channel.answer(text, alert=alert, url=url)

    async def edit(
        self, *, text: str | None = None, rows: Buttons | None = None, ref: Ref | None = None
    ) -> bool:
        """Change a sent message (by default the pressed one); False if that failed."""
        target = ref or (self.msg.pressed.ref if self.msg.pressed is not None else None)
        if target is None:
            return False
        return await self.channel.edit(target, text=text, rows=rows)

    async def drop_spent_buttons(self, still_works: Callable[[str], bool] | None = None) -> None:
        """Keep on the pressed message only the buttons that `still_works` (none by default)
        and links; failing to is cosmetic (e.g. a 48-hour-old message)."""
        pressed = self.msg.pressed
        if pressed is None or not pressed.rows:
            return
        works = still_works or _none_works
        rows = [
            [(label, data) for label, data in row if is_link(data) or works(data)]
            for row in pressed.rows
        ]
        rows = [row for row in rows if row]
        if sum(map(len, rows)) == sum(map(len, pressed.rows)):
            return
        await self.channel.edit(pressed.ref, rows=rows)

    def link(self, payload: str) -> str:
        return self.channel.link(payload)

    def wake(self) -> None:
        """Nudge the outbox sender: this turn queued notices."""
        self.services.wake()


def _none_works(_data: str) -> bool:
    return False


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


async def keep_photo(session: AsyncSession, *, channel: str, written: Written | None) -> int | None:
    """The project's record of the photo in what was written on `channel` (its media id, what
    cases, drafts and notices keep), or None without a photo."""
    if written is None or written.photo is None:
        return None
    kept = await media.record_media(
        session, channel=channel, ref=written.photo, unique=written.photo_unique
    )
    assert kept.id is not None
    return kept.id


Handler = Callable[[Turn], Awaitable[None]]
