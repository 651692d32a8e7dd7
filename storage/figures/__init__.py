"""The office's figures: counts for any period, live or from the monthly rollup, durations,
meeting figures, and exports.
"""

from storage.figures import (
    exports,
    meeting_figures,
    stats,
    stats_durations,
    stats_live,
    stats_models,
    stats_rollup,
    stats_tallied,
    summary,
)

__all__ = [
    "exports",
    "meeting_figures",
    "stats",
    "stats_durations",
    "stats_live",
    "stats_models",
    "stats_rollup",
    "stats_tallied",
    "summary",
]
