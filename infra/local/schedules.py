"""Schedules moto stores but never fires: the events they would send, for firing them on demand."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from infra.local.aws import ACCOUNT_ID, REGION
from infra.local.functions import LoadedFunction
from infra.local.template import Event

SCHEDULE_TYPES = ("Schedule", "ScheduleV2")


@dataclass(frozen=True)
class Schedule:
    function: LoadedFunction
    event: Event

    @property
    def name(self) -> str:
        # SAM names the generated schedule or rule after the function and the event.
        return self.event.properties.get("Name") or f"{self.function.spec.logical_id}{self.event.name}"

    @property
    def arn(self) -> str:
        if self.event.type == "ScheduleV2":
            group = self.event.properties.get("GroupName", "default")
            return f"arn:aws:scheduler:{REGION}:{ACCOUNT_ID}:schedule/{group}/{self.name}"
        return f"arn:aws:events:{REGION}:{ACCOUNT_ID}:rule/{self.name}"

    def payload(self) -> dict[str, Any]:
        """What the target receives: the configured Input if any, else the "Scheduled Event"."""
        if "Input" in self.event.properties:
            return json.loads(self.event.properties["Input"])
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.scheduler" if self.event.type == "ScheduleV2" else "aws.events",
            "account": ACCOUNT_ID,
            "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": REGION,
            "resources": [self.arn],
            "detail": {},
        }

    def fire(self) -> Any:
        return self.function.invoke(self.payload())

    def describe(self) -> dict[str, Any]:
        p = self.event.properties
        return {
            "event": self.event.name,
            "function": self.function.spec.logical_id,
            "type": self.event.type,
            "expression": p.get("ScheduleExpression"),
            "timezone": p.get("ScheduleExpressionTimezone", "UTC"),
            "fire": f"POST /_local/schedules/{self.event.name}",
        }


def schedules_from(functions: dict[str, LoadedFunction]) -> dict[str, Schedule]:
    found: dict[str, Schedule] = {}
    for fn in functions.values():
        for event in fn.spec.events_of(*SCHEDULE_TYPES):
            if event.name in found:
                raise ValueError(
                    f"two functions have a schedule event named {event.name}; "
                    "POST /_local/schedules/<EventName> needs them apart"
                )
            found[event.name] = Schedule(fn, event)
    return found
