"""The one state machine for cases: statuses, the allowed changes, and what a press may ask.

Pure: no database. storage/cases/records.py applies it (and re-exports it, so callers import it from
there); storage/cases/assignment.py reads OPEN_STATUSES from here, below cases, so the two modules
do not import each other.
"""

from __future__ import annotations

from enum import StrEnum

from storage.errors import InvalidTransition
from storage.models import Case


class Status(StrEnum):
    NEW = "new"
    ACCEPTED = "accepted"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"
    REOPENED = "reopened"


# The one table of allowed changes. "closed" is reachable from "resolved" (confirmed fixed)
# and from the terminal refusals; only resolved-then-closed counts as handled.
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.NEW: frozenset({Status.ACCEPTED, Status.REJECTED, Status.DUPLICATE}),
    # accepted -> new: the unit said "not ours" and the case goes back to triage
    Status.ACCEPTED: frozenset({Status.NEW, Status.IN_PROGRESS, Status.RESOLVED, Status.REJECTED}),
    Status.IN_PROGRESS: frozenset({Status.RESOLVED, Status.REJECTED}),
    Status.RESOLVED: frozenset({Status.CLOSED, Status.REOPENED}),
    Status.REOPENED: frozenset(
        {Status.ACCEPTED, Status.IN_PROGRESS, Status.RESOLVED, Status.REJECTED}
    ),
    Status.CLOSED: frozenset({Status.REOPENED}),
    Status.REJECTED: frozenset(),
    Status.DUPLICATE: frozenset(),
}

OPEN_STATUSES = frozenset({Status.NEW, Status.ACCEPTED, Status.IN_PROGRESS, Status.REOPENED})

# Accepted (受理): cases filed in a period, except those rejected or marked duplicate: a
# refused or repeated report is not a demand the office took on.
NOT_ACCEPTED = (Status.REJECTED, Status.DUPLICATE)
# Handled (办结): of those, the ones now resolved, or closed after being resolved (in Yishi
# "closed" is only reachable from "resolved"). Reopened cases are not handled: the resident
# said it is not fixed. The rate is handled / accepted.
HANDLED = (Status.RESOLVED, Status.CLOSED)


class Action(StrEnum):
    """What a press on a case asks for. Whether the case's status still allows it is read
    from TRANSITIONS (`allows`), so a button is checked before anyone is asked to type."""

    ACCEPT = "accept"
    PROGRESS = "progress"
    RESOLVE = "resolve"
    NOT_OURS = "not_ours"
    ANSWER_FIXED = "answer_fixed"  # the reporter's "is it fixed?": yes closes, no reopens


class CaseMovedOn(InvalidTransition):
    """The case's status no longer allows what was pressed: carries the case and its status
    so the answer can name them."""

    def __init__(self, number: int, status: str) -> None:
        super().__init__(f"case {number} is {status}")
        self.number, self.status = number, status


def allows(status: str, action: Action) -> bool:
    """May `action` be taken on a case in `status`? Read from the one table above."""
    current = Status(status)
    then = TRANSITIONS[current]
    if action is Action.ACCEPT:
        return Status.ACCEPTED in then
    if action in (Action.PROGRESS, Action.RESOLVE):
        # work goes on while the case can still be resolved (a new one is accepted on the way)
        return Status.RESOLVED in then or (
            Status.ACCEPTED in then and Status.RESOLVED in TRANSITIONS[Status.ACCEPTED]
        )
    if action is Action.NOT_OURS:  # back to triage; a new case simply stays new
        return current is Status.NEW or Status.NEW in then
    return Status.CLOSED in then  # the answer to "is it fixed?" closes a resolved case


def require(case: Case, action: Action) -> None:
    """CaseMovedOn unless the case's current status allows `action`."""
    if not allows(case.status, action):
        assert case.id is not None
        raise CaseMovedOn(case.id, case.status)
