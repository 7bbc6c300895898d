"""Errors the domain raises; the API maps each class to one HTTP status."""

from __future__ import annotations


class DomainError(Exception):
    """A command that the current state does not allow (409) or an input it rejects (422)."""

    status = 409

    def __init__(self, problem: str, field: str | None = None):
        super().__init__(problem)
        self.problem = problem
        self.field = field


class NotFound(DomainError):
    status = 404


class Rejected(DomainError):
    """Well-formed input that breaks a business rule."""

    status = 422


class KeyReused(Rejected):
    """A command id (a client's Idempotency-Key) replayed with a different request."""

    def __init__(self) -> None:
        super().__init__(
            "this Idempotency-Key was already used for a different request (another route, case "
            "or body); nothing was recorded: send a new key for a new command",
            field="header.Idempotency-Key",
        )


class VersionConflict(DomainError):
    """Another writer appended to the stream since it was loaded."""

    def __init__(self, stream_id: str):
        super().__init__(f"stream {stream_id} was changed by another writer; reload and retry", field=None)
        self.stream_id = stream_id
