"""What a group's case-status digest row in the outbox carries (kind "digest").

Numbers, category names in both languages and masked excerpts (digests.py: digest_params), so
the group reads it in its own language, worded at send time (handlers/office/notices.py).
"""

from __future__ import annotations

from typing import Any

KIND = "digest"
WEEKLY = "weekly"
MONTHLY = "monthly"


def digest_notice_params(
    *, cadence: str, label: str, first_day: str, last_day: str, digest: dict[str, Any]
) -> dict[str, Any]:
    """What the job stores in each group's outbox row."""
    return {
        "cadence": cadence,
        "period": label,
        "first_day": first_day,
        "last_day": last_day,
        "digest": digest,
    }
