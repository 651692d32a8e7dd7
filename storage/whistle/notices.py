"""What the whistle's scheduled outbox rows carry: the secretary's live delivery report, the
results (words and chart) and the reminder.

Plain numbers and texts, never a name, so the secretary, each group and /whistles word them in
their own language at send time (handlers/whistle/notices.py, result_notices.py).
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from storage.models import OutboxMessage
from storage.whistle.models import Whistle
from storage.whistle.queue import DeliveryCounts
from storage.whistle.results import Results

REPORT = "whistle_report"
RESULTS, CHART, REMINDER = "whistle_results", "whistle_chart", "whistle_reminder"


def report_params(
    whistle: Whistle, counts: DeliveryCounts, *, tz: str, final: bool = False
) -> dict[str, Any]:
    """The delivery report's numbers, as an outbox row (or a direct edit) carries them."""
    assert whistle.deadline_at is not None
    return {
        "whistle": whistle.id,
        "question": whistle.question,
        "status": whistle.status,
        "deadline_at": whistle.deadline_at.isoformat(),
        "tz": tz,
        "queued": counts.queued,
        "sent": counts.sent,
        "failed": counts.failed,
        "blocked": counts.blocked,
        "final": final,
        "message_id": whistle.report_message_id,
    }


def results_params(results: Results, *, tz: ZoneInfo) -> dict[str, Any]:
    """What an outbox row of the results carries: numbers and texts, no names."""
    return {
        "whistle": results.whistle_id,
        "question": results.question,
        "final": results.status == "closed",
        "deadline": results.deadline_at.isoformat() if results.deadline_at else None,
        "tz": tz.key,
        "options": [[o.label, o.count, o.outside] for o in results.options],
        "buildings": [[b.building, b.reached, b.answered, b.outside] for b in results.buildings],
        "opinions": [[g.text, g.count] for g in results.opinions],
        "opinion_count": results.opinion_count,
        "other_opinions": results.other_opinions,
    }


def reminder_params(
    whistle: Whistle, *, tz: ZoneInfo, carrier: OutboxMessage | None = None
) -> dict[str, Any]:
    """The reminder repeats the whistle's own message (`carrier`, a subscriber's outbox row:
    its words and answer buttons) under a reminder line."""
    assert whistle.deadline_at is not None
    return {
        "whistle": whistle.id,
        "question": whistle.question,
        "deadline": whistle.deadline_at.isoformat(),
        "tz": tz.key,
        "carrier": {"kind": carrier.kind, "params": carrier.params} if carrier else None,
    }
