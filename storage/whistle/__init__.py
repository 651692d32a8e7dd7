"""Whistles (吹哨报到): a call to the units, their answers, drafts, queue, deadlines,
timetable, results and what their notices carry.
"""

from storage.whistle import (
    answers,
    deadlines,
    drafts,
    models,
    notices,
    queue,
    results,
    timetable,
    whistles,
)

__all__ = [
    "answers",
    "deadlines",
    "drafts",
    "models",
    "notices",
    "queue",
    "results",
    "timetable",
    "whistles",
]
