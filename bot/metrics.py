"""What /metrics reports, in the Prometheus text format.

Counters live for the process (one registry per process, as Prometheus expects: it scrapes
each instance and adds them up). The outbox backlog is read from the database at scrape time,
so every instance reports the same shared queue.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable
from typing import Any, TypeVar

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session, SessionTransaction

from storage.models import Case

logger = logging.getLogger(__name__)

T = TypeVar("T")

REGISTRY = CollectorRegistry()
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)

UPDATES = Counter(
    "yishi_updates", "Updates handled, by type (message, callback_query...)", ["type"],
    registry=REGISTRY,
)  # fmt: skip
HANDLER_SECONDS = Histogram(
    "yishi_handler_seconds",
    "Time from the start of an update's handling to its end (after its chat's turn came)",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    registry=REGISTRY,
)
IN_FLIGHT = Gauge("yishi_updates_in_flight", "Updates being handled now", registry=REGISTRY)
UNPARSEABLE = Counter(
    "yishi_updates_unparseable",
    "Updates the library could not read: skipped (logged with their update_id) and confirmed",
    registry=REGISTRY,
)
WEBHOOK_REQUESTS = Counter(
    "yishi_webhook_requests",
    "Webhook requests, by how they were answered (handled, forbidden, bad_request, unavailable)",
    ["result"],
    registry=REGISTRY,
)
CASES_OPENED = Counter(
    "yishi_cases_opened", "Cases opened (committed) by this process", registry=REGISTRY
)
SENT = Counter("yishi_outbox_sent", "Notices delivered by this process's sender", registry=REGISTRY)
SEND_ERRORS = Counter(
    "yishi_outbox_send_errors",
    "Failed sends, by Telegram's answer: 429, 403, 400, migrated, 5xx (server errors, timeouts, "
    "dropped connections), render",
    ["code"],
    registry=REGISTRY,
)
REPLIES_RETRIED = Counter(
    "yishi_replies_retried",
    "Direct replies and answers to presses refused with 429 and made again after retry_after",
    registry=REGISTRY,
)
REPLIES_LOST = Counter(
    "yishi_replies_lost",
    "Direct replies and answers to presses given up after repeated 429s",
    registry=REGISTRY,
)
UPDATES_REFUSED = Counter(
    "yishi_updates_refused",
    "Messages and presses not handled: their sender was past the per-person limit",
    registry=REGISTRY,
)
BACKLOG = Gauge(
    "yishi_outbox_backlog",
    "Notices in the shared outbox, by status (pending = not yet delivered)",
    ["status"],
    registry=REGISTRY,
)


async def timed_update(kind: str, handling: Awaitable[T]) -> T:
    """Handle one update, counting it by its kind (a channel's name for it) and timing it."""
    IN_FLIGHT.inc()
    started = time.perf_counter()
    try:
        return await handling
    finally:
        HANDLER_SECONDS.observe(time.perf_counter() - started)
        UPDATES.labels(kind).inc()
        IN_FLIGHT.dec()


def exposition(backlog: dict[str, int] | None) -> tuple[bytes, str]:
    """The /metrics body and its content type; `backlog` is None when the database is down."""
    for status, count in (backlog or {}).items():
        BACKLOG.labels(status).set(count)
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


# Cases are counted when their transaction ends committed: a rolled-back report (or a case
# whose savepoint was rolled back because another instance filed it) opened nothing. A new
# object has an identity after a commit and none after a rollback.
_NEW_CASES = "yishi.metrics.new_cases"


@event.listens_for(Session, "before_flush")
def _note_new_cases(session: Session, flush_context: Any, instances: Any) -> None:
    added = [o for o in session.new if isinstance(o, Case)]
    if added:
        session.info.setdefault(_NEW_CASES, []).extend(added)


@event.listens_for(Session, "after_transaction_end")
def _count_new_cases(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is not None:
        return
    added = session.info.pop(_NEW_CASES, [])
    if opened := sum(1 for case_ in added if inspect(case_).has_identity):
        CASES_OPENED.inc(opened)
