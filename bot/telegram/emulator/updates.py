"""The queue of Updates the bot fetches with getUpdates (Telegram's offset semantics) or that
the webhook pusher delivers one by one."""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)

# Telegram leaves these out unless allowed_updates names them.
OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


_CHAT_KINDS = ("message", "edited_message", "my_chat_member", "chat_member")  # no channels here


def chat_key(update: dict[str, Any]) -> int | None:
    """The chat whose updates go out one at a time and in order; None for chat-less ones."""
    for kind in _CHAT_KINDS:
        if kind in update:
            return int(update[kind]["chat"]["id"])
    query = update.get("callback_query")
    if query is not None:
        message = query.get("message")
        return int(message["chat"]["id"] if message else query["from"]["id"])
    voter = (update.get("poll_answer") or {}).get("user")
    return int(voter["id"]) if voter else None


@dataclass(eq=False)  # identity: a redelivered copy shares its update_id with the original
class Queued:
    update: dict[str, Any]
    delivered: bool = False
    redelivered: bool = False
    # webhook retries: failed attempts so far and the loop time before which not to retry
    attempts: int = 0
    retry_at: float = 0.0
    chat: int | None = field(init=False)  # the webhook sends one update per chat at a time

    def __post_init__(self) -> None:
        self.chat = chat_key(self.update)

    @property
    def update_id(self) -> int:
        return int(self.update["update_id"])

    @property
    def kind(self) -> str:
        return next(key for key in self.update if key != "update_id")


class UpdateQueue:
    """Pending updates. An offset confirms (forgets) everything before it."""

    def __init__(self) -> None:
        self.next_update_id = 1
        self._queue: list[Queued] = []
        self._history: dict[int, dict[str, Any]] = {}

    def push(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        update_id = self.next_update_id
        update: dict[str, Any] = {"update_id": update_id, kind: copy.deepcopy(payload)}
        self.next_update_id += 1
        self._history[update_id] = update
        self._queue.append(Queued(update))
        return copy.deepcopy(update)

    def redeliver(self, update_id: int) -> None:
        """Queue an identical copy of an earlier update, as Telegram does when it retries."""
        if update_id not in self._history:
            raise LookupError(f"no update with update_id {update_id}")
        self._queue.append(Queued(copy.deepcopy(self._history[update_id]), redelivered=True))

    def history(self) -> list[dict[str, Any]]:
        return [copy.deepcopy(update) for update in self._history.values()]

    def confirm(self, offset: int) -> None:
        """Apply a getUpdates ``offset``.

        Positive: forget updates with a smaller update_id (a redelivered copy survives until it
        has been delivered once). Negative: keep only the last ``-offset`` updates.
        """
        if offset < 0:
            self._queue = self._queue[offset:]
        elif offset > 0:
            self._queue = [
                q
                for q in self._queue
                if q.update_id >= offset or (q.redelivered and not q.delivered)
            ]

    def pending(self, allowed: list[str] | None) -> list[Queued]:
        """The pending entries in update_id order, after dropping kinds not allowed (as
        Telegram does: an update the bot did not ask for is never sent later)."""
        if allowed:
            wanted = set(allowed)
            self._queue = [q for q in self._queue if q.kind in wanted]
        else:
            self._queue = [q for q in self._queue if q.kind not in OPT_IN_UPDATES]
        return sorted(self._queue, key=lambda q: q.update_id)

    def take(self, limit: int, allowed: list[str] | None) -> list[dict[str, Any]]:
        """Up to ``limit`` pending updates in update_id order; they stay until confirmed."""
        batch = self.pending(allowed)[:limit]
        for queued in batch:
            queued.delivered = True
        return [copy.deepcopy(q.update) for q in batch]

    def remove(self, entry: Queued) -> None:
        """Forget one entry (a webhook delivery succeeded); other copies of its update stay."""
        self._queue = [q for q in self._queue if q is not entry]

    def reset_retries(self) -> None:
        """A (re)set webhook gets the waiting updates at once, not after their backoff."""
        for queued in self._queue:
            queued.retry_at = 0.0

    def drop_pending(self) -> None:
        self._queue = []

    def __len__(self) -> int:
        return len(self._queue)
