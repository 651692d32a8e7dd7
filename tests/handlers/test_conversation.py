"""Conversations driven with neutral inbound messages and a collecting channel: no Telegram.

The model is Rasa's CollectingOutputChannel: what a handler says is collected in a list, and a
test reads it like the transcript of a conversation.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings, load_settings
from handlers.actions import IsItFixed, ReportCategory, encode
from handlers.cases import group, mine, report
from handlers.conversation import (
    Buttons,
    Inbound,
    Person,
    Place,
    Pressed,
    Ref,
    Reply,
    Services,
    Turn,
    Written,
)
from handlers.routes import ROUTES
from storage.db import create_engine
from storage.models import OutboxMessage

ROOT = Path(__file__).resolve().parents[2]
BOT = 4242
WANG = Person("1001", "王 芳", "wangfang", "zh-hans")
GROUP = Place(-100500, private=False, title="阳光花园居民群")
HOME = Place(int(WANG.external_id), private=True)  # a private chat is the person's own id


@dataclass
class Edit:
    ref: Ref
    text: str | None
    rows: Buttons | None


@dataclass
class CollectingChannel:
    """A Channel that keeps what it was asked to do."""

    name: str = "test"
    sent: list[Reply] = field(default_factory=list)
    answers: list[tuple[str | None, bool]] = field(default_factory=list)
    edits: list[Edit] = field(default_factory=list)
    next_id: itertools.count[int] = field(default_factory=lambda: itertools.count(500))

    def split(self, text: str) -> list[str]:
        return [text]

    async def send(self, reply: Reply) -> Ref:
        self.sent.append(reply)
        return Ref(0, next(self.next_id))

    async def answer(
        self, text: str | None = None, *, alert: bool = False, url: str | None = None
    ) -> None:
        self.answers.append((text, alert))

    async def edit(self, ref: Ref, *, text: str | None = None, rows: Buttons | None = None) -> bool:
        self.edits.append(Edit(ref, text, rows))
        return True

    async def uploading(self) -> None:
        pass

    def link(self, payload: str) -> str:
        return f"test://start/{payload}"


class Chat:
    """One person talking to the conversations through the collecting channel."""

    def __init__(self, engine: AsyncEngine, settings: Settings) -> None:
        self.delivered: list[OutboxMessage] = []
        self.services = Services(engine, settings, deliver=self._deliver)
        self.update_ids = itertools.count(1)
        self.message_ids = itertools.count(1)

    async def _deliver(self, row: OutboxMessage) -> bool:
        self.delivered.append(row)
        return True

    def _inbound(self, place: Place, **fields: object) -> Inbound:
        return Inbound(
            channel="test",
            account=BOT,
            account_name="yishi_bot",
            update_id=next(self.update_ids),
            person=WANG,
            place=place,
            **fields,  # type: ignore[arg-type]
        )

    async def say(
        self, handle: object, text: str = "", *, place: Place = HOME, photo: str | None = None
    ) -> CollectingChannel:
        command, args = None, ()
        if text.startswith("/"):
            command, *rest = text[1:].split()
            args = tuple(rest)
        written = Written(
            ref=Ref(place.chat_id, next(self.message_ids)),
            text=None if photo else text,
            caption=text if photo else None,
            photo=photo,
            mentions=tuple(word for word in text.split() if word.startswith("@")),
            sent_at=datetime.now(UTC),
            author=WANG,
        )
        msg = self._inbound(place, written=written, command=command, args=args)
        return await self._run(handle, msg)

    async def press(
        self, handle: object, data: str, rows: Buttons = (), *, place: Place = HOME
    ) -> CollectingChannel:
        shown = tuple(tuple(row) for row in rows) or (((data, data),),)
        pressed = Pressed(ref=Ref(place.chat_id, next(self.message_ids)), rows=shown)
        return await self._run(handle, self._inbound(place, pressed=pressed, data=data))

    async def _run(self, handle: object, msg: Inbound) -> CollectingChannel:
        channel = CollectingChannel()
        assert callable(handle)
        await handle(Turn(msg, channel, self.services))
        return channel


@pytest.fixture
async def chat(database_url: str) -> AsyncIterator[Chat]:
    engine = create_engine(database_url)
    yield Chat(engine, load_settings(database_url=database_url))
    await engine.dispose()


def texts(channel: CollectingChannel) -> list[str]:
    return [reply.text for reply in channel.sent]


async def test_a_group_report_files_a_case_and_queues_its_confirmation(chat: Chat) -> None:
    said = await chat.say(group.on_group_message, "#反映 5号楼门口的下水道堵了三天", place=GROUP)
    assert said.sent == []  # the confirmation is an outbox row, delivered after the commit
    assert [row.kind for row in chat.delivered] == ["reply_filed_in_group"]
    assert chat.delivered[0].params["case"] == 1

    ignored = await chat.say(group.on_group_message, "大家好", place=GROUP)
    assert ignored.sent == [] and len(chat.delivered) == 1


async def test_mycases_lists_the_residents_cases_with_buttons(chat: Chat) -> None:
    await chat.say(group.on_group_message, "@yishi_bot 3号楼电梯坏了", place=GROUP)
    listed = await chat.say(mine.my_cases, "/mycases")
    [reply] = listed.sent
    assert "#1" in reply.text
    assert reply.rows == [[("#1", "c1:view:1")]]

    in_group = await chat.say(mine.my_cases, "/mycases", place=GROUP)
    assert texts(in_group) == ["为保护隐私，这个问题请私聊我。"]


async def test_a_guided_report_takes_a_photo_with_its_description(chat: Chat) -> None:
    started = await chat.say(report.report, "/report")
    [question] = started.sent
    category = question.rows[0][0][1]
    assert category == encode(ReportCategory(draft=1, category=1))
    chosen = await chat.press(report.on_button, category, question.rows)
    assert chosen.answers == [("", False)]
    assert chosen.edits[0].rows == ()  # the spent category buttons come off
    assert "2/5" in texts(chosen)[0]

    described = await chat.say(report.on_private_message, "楼道灯不亮了很久", photo="photo-1")
    [photos] = described.sent
    assert "3/5" in photos.text  # the photo came with the description and counts
    assert photos.rows == [[("完成 ✅", "d1:1:skip")]]
    more = await chat.say(report.on_private_message, "", photo="photo-2")
    assert texts(more) == ["已收到第 2 张照片。可以继续发送，或点“完成”。"]


async def test_a_stale_press_says_so_and_drops_the_spent_buttons(chat: Chat) -> None:
    await chat.say(group.on_group_message, "#report 垃圾没人收", place=GROUP)
    fixed, not_fixed = (encode(IsItFixed(answer=a, case=1)) for a in ("yes", "no"))
    rows = [[("Fixed", fixed), ("Not fixed", not_fixed)], [("Map", "https://example.org/m")]]
    pressed = await chat.press(ROUTES_BY_PREFIX["r1:"], not_fixed, rows)
    [(alert, shown_as_alert)] = pressed.answers
    assert shown_as_alert and "#1" in alert
    assert pressed.sent == []
    [edit] = pressed.edits
    assert edit.text is None and edit.rows == [[("Map", "https://example.org/m")]]  # links stay


ROUTES_BY_PREFIX = {
    prefix: route.handle
    for route in ROUTES
    if hasattr(route, "prefixes")
    for prefix in route.prefixes
}


def test_conversations_run_without_telegram() -> None:
    code = (
        "import sys, handlers.routes, handlers.conversation, tests.handlers.test_conversation; "
        "sys.exit('telegram' in sys.modules)"
    )
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr or "telegram was imported"
