"""Builds the DynamoDB adapters from settings, and the clock: the one place handlers get their parts from."""

from __future__ import annotations

from functools import cached_property

import boto3
from botocore.config import Config

from notfall.clock import Clock, system_clock
from notfall.projection.readmodel import DynamoReadModel
from notfall.settings import Settings
from notfall.store.dynamodb import DynamoEventStore

# Standard retry mode backs off on throttling; the store's conditions make retries safe.
_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=2, read_timeout=5)


class Wiring:
    def __init__(self, settings: Settings | None = None, client=None, clock: Clock = system_clock) -> None:
        self.settings = settings or Settings.from_env()
        self.client = client or boto3.client("dynamodb", config=_CONFIG)
        self.clock = clock  # the one clock of a function: use cases and the event store read it

    @cached_property
    def store(self) -> DynamoEventStore:
        return DynamoEventStore(self.client, self.settings.events_table, self.settings.commands_table, self.clock)

    @cached_property
    def readmodel(self) -> DynamoReadModel:
        return DynamoReadModel(self.client, self.settings.read_model_table)
