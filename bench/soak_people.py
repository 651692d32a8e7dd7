"""A simulated resident for the soak test: reports, follows up, answers whistles.

Each resident acts like a patient person with a phone: does one thing, waits for the bot's
reply, and when none comes (the bot may be restarting, or its reply was lost to an injected
fault) does it again; when a button says it expired, starts the report over. A report counts
as confirmed only when the bot says it was filed ("已登记，编号 #N", as a message or as the
confirm button's answer), or when /mycases and /case show the resident's own words. Every
report carries a unique tag in its description, so the checker can find its case(s).
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections.abc import Callable
from typing import Any

from bench.soak_watch import PLACES, PROBLEMS, Match, Stats, Watch, buttons, has_button, starts
from bot.telegram.emulator import Emulator

TIMEOUT = 10.0  # seconds a person waits for a reply before doing it again
OOPS = "抱歉，我们这边出了点问题"
FILED = re.compile(r"已登记(?:，编号)? #(\d+)")
NUMBERS = re.compile(r"#(\d+)")


class Person:
    def __init__(self, uid: int, emu: Emulator, watch: Watch, stats: Stats, pace: float) -> None:
        self.uid, self.emu, self.watch, self.stats, self.pace = uid, emu, watch, stats, pace
        self.seq = 0
        self.tags: dict[int, str] = {}  # case number -> tag of its description
        self.answered: set[int] = set()  # whistles answered
        self.scanned = 0  # whistle messages looked at up to this message id
        self.until = 0.0  # time to wind down: no new report, quick steps

    async def live(self, until: float) -> None:
        self.until = until
        await self.think(4)  # not everyone at the same second
        await self.turn(self.say("/subscribe"), starts("已"))
        while time.monotonic() < until:
            choice = random.random()
            if choice < 0.4 or (choice < 0.8 and not self.tags):
                await self.report()
            elif choice < 0.8:
                await self.follow_up()
            # A longer look away between errands; whistles are answered when seen. With the
            # defaults 200 residents file about 2 reports/s, so each unit's staff chat stays
            # under Telegram's 1 message/s per private chat and its notices keep up.
            await self.pause(8)

    async def think(self, factor: float = 1.0) -> None:
        if time.monotonic() > self.until:
            factor /= 5  # finishing what was begun
        await asyncio.sleep(random.uniform(0.5, 1.5) * self.pace * factor)

    async def pause(self, factor: float = 1.0) -> None:
        """Think, then answer the whistles that came meanwhile."""
        await self.think(factor)
        await self.answer_whistles()

    # -- one exchange ------------------------------------------------------------------------
    async def turn(
        self,
        act: Callable[[], dict[str, Any]],
        reply: Match | None,
        *,
        toast: Callable[[str], bool] | None = None,
        label: str | None = None,
        tries: int = 3,
    ) -> dict[str, Any] | None:
        """Do `act` (send or press) and wait for the reply `reply` picks (or, for a press, an
        answer `toast` accepts): that message or answer; None when a press is refused or the
        button is gone, or nothing came after `tries` goes."""
        for attempt in range(tries):
            if attempt:
                self.stats.counts["retries"] += 1
            after = self.watch.newest(self.uid)
            started = time.monotonic()
            try:
                sent = act()
            except LookupError:  # the button is gone: the bot took the press, its reply is lost
                return None
            query = sent.get("id") if "data" in sent else None
            found = await self.watch.until(
                lambda q=query, a=after: self._reply(a, q, reply, toast), TIMEOUT
            )
            if found is None:
                self.stats.counts["timeouts"] += 1
                continue
            kind, what = found
            if kind == "ok":
                if label:
                    self.stats.latency[label].append(time.monotonic() - started)
                return what  # type: ignore[no-any-return]
            if kind == "refused":
                self.stats.refused[what.get("text") or ""] += 1
                return None
            self.stats.counts["sorry replies"] += 1
            await self.think(0.5)
        return None

    def _reply(
        self,
        after: int,
        query: str | None,
        reply: Match | None,
        toast: Callable[[str], bool] | None,
    ) -> tuple[str, dict[str, Any]] | None:
        answer = self.watch.answers.get(query) if query else None
        if answer is not None and answer.get("text"):
            return ("ok" if toast and toast(answer["text"]) else "refused", answer)
        for message in self.watch.bot_messages_after(self.uid, after):
            if reply is not None and reply(message):
                return "ok", message
            if OOPS in (message.get("text") or ""):
                return "oops", message
        return None

    def press(self, message: dict[str, Any], data: str) -> Callable[[], dict[str, Any]]:
        def act() -> dict[str, Any]:
            current = self.watch.world.chats[self.uid].messages.get(message["message_id"])
            if current is None or data not in buttons(current):
                raise LookupError(data)
            return self.emu.press(self.uid, message["message_id"], data=data)

        return act

    def say(self, text: str) -> Callable[[], dict[str, Any]]:
        return lambda: self.emu.send_text(self.uid, text)

    # -- reporting ---------------------------------------------------------------------------
    async def report(self) -> None:
        """One report through the buttons, started over (with a new tag) when it gets stuck."""
        for _ in range(3):
            if time.monotonic() > self.until:
                return
            self.seq += 1
            tag = f"S{self.uid}-{self.seq}号"
            number = await self._report(tag)
            if number is not None:
                self.stats.confirmed[tag] = number
                self.tags[number] = tag
                return
            if tag in self.stats.submitted:
                self.stats.counts["submitted, never confirmed"] += 1
            self.stats.counts["reports started over"] += 1
            await self.pause()

    async def _report(self, tag: str) -> int | None:
        menu = await self.turn(self.say("/report"), has_button(r"d1:\d+:cat:"))
        if menu is None:
            return None
        draft = buttons(menu)[0].split(":")[1]
        choice = random.choice([d for d in buttons(menu) if ":cat:" in d])
        description = f"{random.choice(PROBLEMS)}（{tag}）"
        steps = [  # what to send or press, and the reply that says it was taken
            (choice, starts("2/5")),
            (description, has_button(rf"d1:{draft}:skip")),
            (f"d1:{draft}:skip", starts("4/5")),
            (random.choice(PLACES), has_button(rf"d1:{draft}:anon:")),
            (f"d1:{draft}:anon:{random.randint(0, 1)}", has_button(rf"d1:{draft}:ok")),
        ]
        shown: dict[str, Any] | None = menu
        for what, reply in steps:
            await self.pause()
            assert shown is not None
            act = self.press(shown, what) if what.startswith("d1:") else self.say(what)
            shown = await self.turn(act, reply)
            if shown is None:
                return None
        assert shown is not None
        await self.pause()
        self.stats.submitted[tag] = self.uid
        filed = await self.turn(
            self.press(shown, f"d1:{draft}:ok"),
            lambda m: FILED.search(m.get("text") or "") is not None,
            toast=lambda text: FILED.search(text) is not None,
            label="report confirmed",
            tries=4,
        )
        if filed is not None:
            return int(FILED.search(filed.get("text") or "")[1])  # type: ignore[index]
        self.stats.counts["confirm checked with /mycases"] += 1
        return await self._look_up(tag)

    async def _look_up(self, tag: str) -> int | None:
        """Nothing said it was filed: look for a new case with these words in /mycases."""
        listing = await self.turn(self.say("/mycases"), self._is_listing, label="follow-up")
        if listing is None:
            return None
        for number in sorted({int(n) for n in NUMBERS.findall(listing["text"])} - set(self.tags)):
            shown = await self.turn(self.say(f"/case {number}"), starts(f"案件 #{number} "))
            if shown is not None and tag in shown["text"]:
                return number
        return None

    @staticmethod
    def _is_listing(message: dict[str, Any]) -> bool:
        text = message.get("text") or ""
        return text.startswith("您的案件") or text.startswith("您还没有反映过问题")

    # -- following up ------------------------------------------------------------------------
    async def follow_up(self) -> None:
        """/mycases, then /case for one of them: its words must be the resident's own."""
        listing = await self.turn(self.say("/mycases"), self._is_listing, label="follow-up")
        newest = sorted(self.tags)[-10:]  # the list shows the newest ten
        if listing is not None and any(f"#{n} " not in listing["text"] for n in newest):
            self.stats.counts["cases missing from /mycases"] += 1
        await self.think()
        number = random.choice(list(self.tags))
        shown = await self.turn(
            self.say(f"/case {number}"), starts(f"案件 #{number} "), label="follow-up"
        )
        if shown is not None and self.tags[number] not in shown["text"]:
            self.stats.counts["/case showed other words"] += 1

    # -- whistles ----------------------------------------------------------------------------
    async def answer_whistles(self) -> None:
        """Answer each whistle that arrived since last time; now and then change the answer."""
        for message in self.watch.bot_messages_after(self.uid, self.scanned):
            self.scanned = message["message_id"]
            options = [d for d in buttons(message) if d.startswith("w1:a:")]
            number = int(options[0].split(":")[2]) if options else None
            if number is None or number in self.answered:
                continue
            self.answered.add(number)
            presses = random.sample(options, 2 if random.random() < 0.3 else 1)
            for data in presses:
                await self.think(0.5)
                key = (self.uid, number)
                acknowledged = await self.turn(
                    self.press(message, data),
                    None,
                    toast=lambda text: text.startswith(("已记录", "已改为")),
                    label="whistle answer",
                )
                if acknowledged is None:
                    self.stats.answers.pop(key, None)  # what is stored is not known
                    self.stats.counts["whistle answers unacknowledged"] += 1
                    break
                self.stats.answers[key] = int(data.split(":")[3])
