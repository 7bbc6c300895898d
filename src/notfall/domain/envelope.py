"""Event base class, the envelope every stored event travels in, and upcasting.

Events are frozen pydantic models; each class names its type and schema version. Stored
events keep the schema version they were written with and are upcast step by step on read,
so the log is never rewritten.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from notfall.domain.inputs import STORED


def utc(dt: datetime) -> datetime:
    """Normalise an aware datetime to UTC: events store UTC only."""
    return dt.astimezone(UTC)


UtcDatetime = Annotated[AwareDatetime, AfterValidator(utc)]
"""A timestamp that must carry a zone and is kept in UTC."""

_EVENT_TYPES: dict[str, type[Event]] = {}
_UPCASTERS: dict[tuple[str, int], Callable[[dict[str, Any]], dict[str, Any]]] = {}


class Event(BaseModel):
    """A domain fact. Subclasses set `event_type` and `schema_version`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str]
    schema_version: ClassVar[int] = 1

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        name = cls.__dict__.get("event_type")
        if name:
            if name in _EVENT_TYPES:
                raise TypeError(f"event type {name!r} registered twice")
            _EVENT_TYPES[name] = cls


def upcaster(event_type: str, from_version: int):
    """Register a function turning the payload of `from_version` into `from_version + 1`."""

    def register(fn: Callable[[dict[str, Any]], dict[str, Any]]):
        _UPCASTERS[(event_type, from_version)] = fn
        return fn

    return register


def load_event(event_type: str, schema_version: int, data: dict[str, Any]) -> Event:
    """Build the current event class from a stored payload of any older schema version."""
    cls = _EVENT_TYPES.get(event_type)
    if cls is None:
        raise ValueError(f"unknown event type {event_type!r}")
    if schema_version > cls.schema_version:
        raise ValueError(f"{event_type} v{schema_version} is newer than this code (v{cls.schema_version})")
    while schema_version < cls.schema_version:
        data = _UPCASTERS[(event_type, schema_version)](dict(data))
        schema_version += 1
    return cls.model_validate(data, context={STORED: True})  # the log holds what it holds


class Metadata(BaseModel):
    """Who and what caused a command: copied onto every event the command appends."""

    model_config = ConfigDict(frozen=True)

    command_id: str
    actor: str
    correlation_id: str
    causation_id: str | None = None
    # SHA-256 of the request a client's Idempotency-Key came with; kept with the command's
    # answer, so the key replayed with another request is refused. Not copied onto events.
    request_fingerprint: str | None = None


class Envelope(BaseModel):
    """A stored event: payload plus identity, order and provenance."""

    model_config = ConfigDict(frozen=True)

    event_id: str
    stream_id: str
    version: int = Field(ge=1, description="position within the stream, from 1, gapless")
    position: int = Field(ge=1, description="global position over all streams, from 1, gapless")
    event_type: str
    schema_version: int
    occurred_at: UtcDatetime
    recorded_at: UtcDatetime
    actor: str
    correlation_id: str
    causation_id: str | None
    command_id: str
    data: Event

    def to_record(self) -> dict[str, Any]:
        """Plain JSON-able form, as stored and as shown to auditors."""
        record = self.model_dump(mode="json", exclude={"data"})
        record["data"] = self.data.model_dump(mode="json")
        return record

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Envelope:
        data = load_event(record["event_type"], int(record["schema_version"]), record["data"])
        fields = {k: v for k, v in record.items() if k != "data"}
        fields["schema_version"] = data.schema_version
        return cls.model_validate({**fields, "data": data}, context={STORED: True})


def event_types() -> dict[str, type[Event]]:
    return dict(_EVENT_TYPES)
