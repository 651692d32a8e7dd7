"""The per-person limit on what the bot handles: by default 10 messages or presses in 10 s.

A window opens at a person's first message and lasts `seconds`; the first `messages` in it
are handled, the next one gets a polite "please wait" once, and the rest are dropped
unanswered (a press is still answered, silently) until a message comes after the window. An
album (photos sent together) counts once. It counts what the bot acts on (every private
message and press, group commands and #report messages), in all chats together, by when the
person sent it: Telegram's `date` for messages, the time of handling for presses (they have
none). Timing by handling instead would let a flood through: each answered message waits for
its chat's 1 s slot, so the window would slide along with it.

The windows live in this process's memory, like the flood limits. Several webhook instances
each count the updates that reach them; Telegram hands a chat's updates out one at a time,
so with k instances a person gets at most k times the limit, and one notice per instance.
Keeping them in the database would cost every update a write for a rule that only needs to
be roughly right.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum


class Verdict(Enum):
    HANDLE = "handle"
    WARN = "warn"  # the first one past the limit: say "please wait" once
    DROP = "drop"


@dataclass
class _Window:
    start: float
    count: int = 0
    verdicts: dict[int, Verdict] = field(default_factory=dict)  # by update id
    albums: set[str] = field(default_factory=set)  # counted already


class PersonLimit:
    def __init__(
        self,
        messages: int = 10,
        seconds: float = 10.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.messages = messages
        self.seconds = seconds
        self.clock = clock
        self._windows: dict[str, _Window] = {}
        self._forget_at = 1024

    def admit(
        self,
        person: str,
        update_id: int,
        sent_at: float | None = None,
        album: str | None = None,
    ) -> Verdict:
        """The verdict on one update of `person`; asking again about the same update (a
        handler with two transactions) gives the same verdict without counting it twice."""
        moment = self.clock() if sent_at is None else sent_at
        window = self._windows.get(person)
        if window is not None and update_id in window.verdicts:
            return window.verdicts[update_id]
        if window is None or moment >= window.start + self.seconds:
            self._forget_old(moment)
            window = self._windows[person] = _Window(start=moment)
        if album is not None and album in window.albums:
            verdict = Verdict.HANDLE  # the rest of an album that was let in
        else:
            window.count += 1
            if window.count <= self.messages:
                verdict = Verdict.HANDLE
                if album is not None:
                    window.albums.add(album)
            elif window.count == self.messages + 1:
                verdict = Verdict.WARN
            else:
                verdict = Verdict.DROP
        window.verdicts[update_id] = verdict
        return verdict

    def _forget_old(self, moment: float) -> None:
        if len(self._windows) < self._forget_at:
            return
        self._windows = {
            person: window
            for person, window in self._windows.items()
            if moment < window.start + self.seconds
        }
        self._forget_at = max(1024, 2 * len(self._windows))
