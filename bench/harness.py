"""What every benchmark needs: the template's tables in in-process moto, and a request counter."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3

os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "eu-central-1",
        "POWERTOOLS_METRICS_DISABLED": "true",
    }
)
os.environ.pop("AWS_ENDPOINT_URL", None)

from moto import mock_aws

from infra.local.resources import create_all
from infra.local.template import Template
from notfall.settings import Settings
from notfall.wiring import Wiring


class RequestCounter:
    """Counts DynamoDB requests by operation, and items returned by reads."""

    def __init__(self, client: Any) -> None:
        self.ops: Counter[str] = Counter()
        self.items_read = 0
        client.meta.events.register("before-call.dynamodb", self._before)
        client.meta.events.register("after-call.dynamodb", self._after)

    def _before(self, model, **_: Any) -> None:
        self.ops[model.name] += 1

    def _after(self, http_response, parsed, model, **_: Any) -> None:
        if model.name in ("Query", "Scan"):
            self.items_read += len(parsed.get("Items", []))
        elif model.name == "GetItem":
            self.items_read += 1 if parsed.get("Item") else 0

    def reset(self) -> None:
        self.ops.clear()
        self.items_read = 0

    @property
    def total(self) -> int:
        return sum(self.ops.values())


@contextmanager
def stack() -> Iterator[tuple[Wiring, RequestCounter, dict[str, str]]]:
    """The template's tables in moto, wired as the Lambdas wire them, with a counting client."""
    with mock_aws():
        names = create_all(Template.load()).refs
        settings = Settings.model_validate(
            {
                "EVENTS_TABLE": names["EventStoreTable"],
                "COMMANDS_TABLE": names["CommandsTable"],
                "READ_MODEL_TABLE": names["ReadModelTable"],
            }
        )
        client = boto3.client("dynamodb", region_name="eu-central-1")
        yield Wiring(settings, client), RequestCounter(client), names


def table(rows: list[tuple[Any, ...]], header: tuple[str, ...]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=True)]
    line = lambda r: "  ".join(str(x).ljust(w) for x, w in zip(r, widths, strict=True))  # noqa: E731
    return "\n".join([line(header), line(tuple("-" * w for w in widths)), *map(line, rows)])
