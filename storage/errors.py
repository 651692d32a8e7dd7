"""Storage's own exceptions; handlers turn them into polite replies."""

from __future__ import annotations


class StorageError(Exception):
    """Base class: a rule said no."""


class CaseNotFound(StorageError):
    """No such case, or not one the viewer may see (the two look the same on purpose)."""


class NotAllowed(StorageError):
    """The actor's role does not permit this."""


class InvalidTransition(StorageError):
    """The case's state machine does not allow this change."""


class InvalidInput(StorageError):
    """The resident's input was refused; `reason` picks the polite explanation."""

    def __init__(self, reason: str, **details: object) -> None:
        super().__init__(reason)
        self.reason = reason
        self.details = details


class StaleAction(StorageError):
    """A button or step that no longer matches the stored state (old, forged or replayed)."""
