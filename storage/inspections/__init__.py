"""Inspection rounds: hazards logged on a walk become cases.

Others import its modules (`from storage.inspections import ...`); the names of
storage/inspections/hazards.py are also the package's own, so `inspections.<name>` reads as before.
"""

from storage.inspections import hazards
from storage.inspections.hazards import (
    DAYS_MAX,
    PLACE_MAX,
    RESPONSIBLE_MAX,
    SOURCE,
    HazardKind,
    HazardLine,
    RoundSummary,
    category_code,
    end_round,
    log_hazard,
    open_round,
    parse_line,
    rectification_deadline,
    round_in_progress,
    round_taking_hazards,
    rounds,
    start_round,
)

__all__ = [
    "hazards",
    "SOURCE",
    "PLACE_MAX",
    "RESPONSIBLE_MAX",
    "DAYS_MAX",
    "HazardKind",
    "category_code",
    "HazardLine",
    "parse_line",
    "rectification_deadline",
    "open_round",
    "start_round",
    "round_in_progress",
    "end_round",
    "log_hazard",
    "round_taking_hazards",
    "RoundSummary",
    "rounds",
]
