"""What the soak test's residents share: one watcher on the emulator, the tallies, the words
they write and the tests they apply to the bot's messages.

Hundreds of residents wait for the bot's replies at once. Waking every one of them on every
change of the emulated world (the emulator's own `wait_for_bot_message`) would cost more CPU
than the bot; instead one task waits on the world's change counter and runs only the probes
of those waiting, each a constant-time look at its own chat until something new is there.
"""

from __future__ import annotations

import asyncio
import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.telegram.emulator import Emulator

Probe = Callable[[], Any]
Match = Callable[[dict[str, Any]], bool]
TAG = re.compile(r"S(\d+)-(\d+)号")  # in every description: which report a case is


class Watch:
    """Resolves residents' waits when the emulator changes (run `run()` as a task)."""

    def __init__(self, emu: Emulator) -> None:
        self.world = emu.world
        self.bot_id = int(emu.world.bot_user["id"])
        self.answers: dict[str, dict[str, Any]] = {}  # callback query id -> the bot's answer
        self._seen_answers = 0
        self._waits: dict[asyncio.Future[Any], Probe] = {}

    async def run(self) -> None:
        version = self.world.notifier.version
        while True:
            await self.world.notifier.wait(version, 5.0)
            version = self.world.notifier.version
            self._collect_answers()
            for future, probe in list(self._waits.items()):
                if not future.done() and (found := probe()) is not None:
                    future.set_result(found)

    def _collect_answers(self) -> None:
        answers = self.world.callback_answers
        for answer in answers[self._seen_answers :]:
            self.answers[answer["callback_query_id"]] = answer
        self._seen_answers = len(answers)

    async def until(self, probe: Probe, timeout: float) -> Any:
        """What `probe` returns once it returns something, or None after `timeout`."""
        self._collect_answers()
        found = probe()
        if found is not None:
            return found
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waits[future] = probe
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            return None
        finally:
            self._waits.pop(future, None)

    def newest(self, chat_id: int) -> int:
        """The id of the newest message in the chat (anyone's)."""
        return self.world.chats[chat_id].next_message_id - 1

    def bot_messages_after(self, chat_id: int, after: int) -> list[dict[str, Any]]:
        """The bot's messages in the chat with id > after, oldest first (not copies: read only)."""
        record = self.world.chats[chat_id]
        if record.next_message_id - 1 <= after:
            return []
        found = []
        for message_id in reversed(record.messages):
            if message_id <= after:
                break
            message = record.messages[message_id]
            if message.get("from", {}).get("id") == self.bot_id:
                found.append(message)
        return found[::-1]


PROBLEMS = [
    "楼道的灯坏了，晚上很黑",
    "电梯按钮失灵，常常停在半层",
    "垃圾桶满了好几天没人清理",
    "地下车库漏水，地面积水很深",
    "小区门口的路灯不亮",
    "楼上装修噪音太大，晚上十点还在施工",
]
PLACES = ["3号楼2单元", "7号楼楼下", "地下车库B区", "东门岗亭旁", "12号楼电梯厅"]


def has_button(pattern: str) -> Match:
    compiled = re.compile(pattern)
    return lambda m: any(compiled.match(data) for data in buttons(m))


def starts(prefix: str) -> Match:
    return lambda m: (m.get("text") or "").startswith(prefix)


def buttons(message: dict[str, Any]) -> list[str]:
    """The callback data of a message's inline buttons."""
    rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
    return [b.get("callback_data") or "" for row in rows for b in row]


@dataclass
class Stats:
    """Everything the residents and the fault injector count, for the final checks."""

    latency: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    counts: Counter[str] = field(default_factory=Counter)
    submitted: dict[str, int] = field(default_factory=dict)  # report tag -> resident
    confirmed: dict[str, int] = field(default_factory=dict)  # report tag -> number the bot gave
    # (resident, whistle) -> the option the bot last acknowledged; dropped when uncertain
    answers: dict[tuple[int, int], int] = field(default_factory=dict)
    faults: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)  # presses answered otherwise: why
    restarts: list[dict[str, Any]] = field(default_factory=list)


def percentiles(values: list[float]) -> dict[str, float]:
    """p50, p90, p99 and max (nearest rank), in seconds; NaN when there is nothing."""
    if not values:
        return {k: math.nan for k in ("p50", "p90", "p99", "max")}
    ordered = sorted(values)

    def rank(p: float) -> float:
        return ordered[min(len(ordered) - 1, max(0, math.ceil(p * len(ordered)) - 1))]

    return {"p50": rank(0.5), "p90": rank(0.9), "p99": rank(0.99), "max": ordered[-1]}
