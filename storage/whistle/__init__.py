"""Whistles (吹哨报到): a call to the units, their answers, drafts, queue, deadlines,
timetable and results.
"""

from storage.whistle import answers, deadlines, drafts, models, queue, results, timetable, whistles

__all__ = ["answers", "deadlines", "drafts", "models", "queue", "results", "timetable", "whistles"]
