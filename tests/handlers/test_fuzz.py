"""Fuzz (issue 15): every button layout and every command, with random and boundary ids, pressed
and sent by a secretary and by a resident through the real stack, on SQLite and PostgreSQL.

The buttons come from the codec (handlers/actions.py LAYOUTS) and the commands from the
Application's own handlers, so a new one is covered without touching this file. Nothing may
reach the error handler, nothing may be logged at ERROR, and every press must be answered.
"""

from __future__ import annotations

import logging
import random
from collections.abc import AsyncIterator, Callable, Iterator
from functools import partial
from typing import Any

import pytest
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.telegram.emulator import Emulator
from handlers.actions import LAYOUTS, Layout
from tests.harness import GROUP, WANG, ZHAO, BotUnderTest

_random = random.Random(15)  # fixed, so that a failure repeats
IDS = (
    "0",
    "-1",
    "1",
    str(2**31 - 1),
    str(2**31),
    str(2**63),
    "9" * 50,
    str(_random.randrange(2, 2**31 - 1)),
    str(_random.randrange(2**31, 2**64)),
)
BEYOND = (IDS[0], IDS[1], IDS[4], IDS[5], IDS[6])  # ids no row can have, and a sign
SECRETARY, RESIDENT = ZHAO, WANG


@pytest.fixture
async def bot(emu: Emulator, database_url: str) -> AsyncIterator[BotUnderTest]:
    under_test = BotUnderTest(emu, database_url, admins=frozenset({SECRETARY}))
    await under_test.start()
    yield under_test
    await under_test.stop()


def wires(layout: Layout, ids: tuple[str, ...] = IDS) -> Iterator[str]:
    """The layout with valid fields, then with each field in turn set to each fuzz id."""
    valid = {name: field.examples[0] for name, field in layout.fields.items()}
    for name, field in layout.fields.items():
        for value in (*field.examples, *ids):
            yield layout.wire.format(**{**valid, name: value})


def callback_patterns(bot: BotUnderTest) -> list[Any]:
    assert bot.app is not None
    return [
        h.pattern
        for group in bot.app.handlers.values()
        for h in group
        if isinstance(h, CallbackQueryHandler)
    ]


def commands(bot: BotUnderTest) -> list[str]:
    assert bot.app is not None
    found = {
        name
        for group in bot.app.handlers.values()
        for h in group
        if isinstance(h, CommandHandler)
        for name in h.commands
    }
    return sorted(found)


def command_args() -> Iterator[str]:
    """Arguments: none, every id alone; the ids no row can have also first and after a real id,
    and two of them after a sub-command (/agenda drop, /decision 1 done, …)."""
    yield from ("", *IDS)
    for i in BEYOND:
        yield from (f"{i} {i} 1 x", f"1 {i} {i} x")
    for i in (IDS[4], IDS[6]):
        yield from (f"#{i}", f"drop {i}", f"move 1 {i}", f"{i} done", f"1 note {i}", f"fill {i}")


async def batch(bot: BotUnderTest, acts: list[Callable[[], object]]) -> None:
    """Send them all at once (the bot works through chats side by side), then wait."""
    for act in acts:
        act()
    bot.expected += len(acts)
    await bot.settle(timeout=300)


async def seed(bot: BotUnderTest) -> None:
    """A few real objects, so that id 1 names something of each kind."""
    await bot.say(RESIDENT, "/start")
    await bot.say(SECRETARY, "/start")
    await bot.say(SECRETARY, "/register_group 3", chat=GROUP)
    await bot.say(RESIDENT, "/subscribe")
    await bot.say(RESIDENT, "#反映 5号楼门口的下水道堵了三天", chat=GROUP)  # case 1
    await bot.say(RESIDENT, "/propose 小区需要更多的自行车停车位")  # proposal 1
    await bot.say(SECRETARY, "/whistle")  # whistle 1, sent below
    await bot.say(SECRETARY, "3号楼车库要不要加装充电桩？")
    for data in ("w1:o:1:0", "w1:f:1:1", "w1:g:1:all", "w1:s:1", "w1:ad:1"):
        await bot.press(SECRETARY, data=data)
    await bot.say(SECRETARY, "3d")
    await bot.press(SECRETARY, data="w1:ok:1")
    await bot.say(SECRETARY, "/whistle")  # whistle 2, a draft
    await bot.say(SECRETARY, "/meeting")
    await bot.say(SECRETARY, "/agenda")
    await bot.say(SECRETARY, "/inspect")  # round 1
    await bot.say(RESIDENT, "/report")  # draft 1


def failures(bot: BotUnderTest, caplog: pytest.LogCaptureFixture) -> list[str]:
    """What went wrong, each with the input that caused it (who, where, data or text)."""
    inputs = {}
    for update in bot.emu.updates():
        event = update.get("callback_query") or update.get("message") or {}
        chat = (event.get("message") or event).get("chat", {}).get("id")
        what = event.get("data", event.get("text"))
        inputs[update["update_id"]] = f"{event.get('from', {}).get('id')}@{chat}: {what!r}"
    found = []
    for record in caplog.records:
        if record.name == "bot.telegram.errors" or record.levelno >= logging.ERROR:
            update_id = record.args[0] if isinstance(record.args, tuple) and record.args else None
            error = record.exc_info[1] if record.exc_info else None
            found.append(f"{record.getMessage()} <- {inputs.get(update_id)}: {error!r}")
    return found


async def test_every_button_and_command_with_any_id(
    bot: BotUnderTest, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.telegram.errors")
    routed = [p for p in callback_patterns(bot) if p is not None]  # None: the catch-all
    for layout in LAYOUTS:  # each layout reaches its own handler
        assert any(p.match(next(wires(layout))) for p in routed), layout.wire
    await seed(bot)
    data = sorted({wire for layout in LAYOUTS for wire in wires(layout)})
    data += ["", "x", "s2:acc:1", "d0:1:ok", "c1:view", "c1:view:1:2", "w1:" + "9" * 60]
    in_group = sorted({wire for layout in LAYOUTS for wire in wires(layout, ("1", IDS[4]))})
    presses = [(u, u, d) for d in data for u in (SECRETARY, RESIDENT)]
    presses += [(RESIDENT, GROUP, d) for d in in_group]  # who, where, what
    message = {c: bot.emu.bot_messages(c)[0]["message_id"] for c in (SECRETARY, RESIDENT, GROUP)}
    await batch(
        bot,
        [
            partial(bot.emu.press, u, message[c], chat_id=c, data=d, forged=True)
            for u, c, d in presses
        ],
    )
    private = [f"/{name} {args}".rstrip() for name in commands(bot) for args in command_args()]
    private += [f"/start w{i}" for i in IDS] + [f"/start inv_{i}" for i in IDS]
    group = [f"/{name} {args}".rstrip() for name in commands(bot) for args in ("", "1", IDS[6])]
    sends = [(user, user, line) for line in private for user in (SECRETARY, RESIDENT)]
    sends += [(user, GROUP, line) for line in group for user in (SECRETARY, RESIDENT)]
    await batch(bot, [partial(bot.emu.send_text, u, t, chat_id=c) for u, c, t in sends])
    problems = failures(bot, caplog)
    assert not problems, "\n".join(problems)
    assert bot.emu.world.open_callback_queries == set()  # every press was answered
    assert len(bot.emu.callback_answers) >= len(presses)
