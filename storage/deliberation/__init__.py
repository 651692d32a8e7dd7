"""Deliberation: proposals, hot issues, meetings with their audience, calendar, steps and
run, decisions, and the digests that report them.
"""

from storage.deliberation import (
    decisions,
    digest_notice,
    digests,
    hot,
    hot_clusters,
    meeting_audience,
    meeting_calendar,
    meeting_models,
    meeting_run,
    meeting_steps,
    meetings,
    proposals,
)

__all__ = [
    "decisions",
    "digest_notice",
    "digests",
    "hot",
    "hot_clusters",
    "meeting_audience",
    "meeting_calendar",
    "meeting_models",
    "meeting_run",
    "meeting_steps",
    "meetings",
    "proposals",
]
