"""Fixtures for the tests against moto: tables made from template.yaml, the handlers loaded
from their files, Lambda-shaped stream batches made from moto's real stream records.

Reading the template, creating its tables, converting stream records and applying the
FilterCriteria is the local stack's own code (infra.local), so the tests and `make run`
cannot drift apart.

Everything a test needs comes in through a fixture (no helper module to import), so these
tests run under any pytest import mode.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import re
import threading
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra.local.aws import REGION
from infra.local.resources import create_all, create_table, unhandled_table_properties
from infra.local.stream_records import filter_patterns, lambda_record, passes_filters
from infra.local.template import TABLE, Template, load_template
from notfall.app.intake import Intake
from notfall.app.partners import Partners
from notfall.clock import Clock, system_clock
from notfall.domain.commands import (
    CallbackIn,
    CallEventIn,
    CloseIn,
    ConsultationIn,
    NeedIn,
    OutcomeIn,
)
from notfall.domain.envelope import Metadata
from notfall.domain.partners import PartnerIn
from notfall.projection.readmodel import DynamoReadModel
from notfall.store.dynamodb import DynamoEventStore

ROOT = Path(__file__).resolve().parents[2]
EVENTS_DIR = ROOT / "events"

# The tables of template.yaml (by logical id) and the variables the functions read their names from;
# infra.local.resources creates them under the local stack's physical names.
TABLES = {
    "EventStoreTable": "EVENTS_TABLE",
    "CommandsTable": "COMMANDS_TABLE",
    "ReadModelTable": "READ_MODEL_TABLE",
}


# --- AWS under moto ------------------------------------------------------------------------


class LambdaContext:
    """What Lambda passes as `context`, as far as powertools reads it."""

    function_name = "notfall-test-function"
    function_version = "$LATEST"
    invoked_function_arn = f"arn:aws:lambda:{REGION}:123456789012:function:notfall-test-function"
    memory_limit_in_mb = 512
    aws_request_id = "c6af9ac6-7b61-11e6-9a41-93e812345678"
    log_group_name = "/aws/lambda/notfall-test-function"
    log_stream_name = "2026/11/03/[$LATEST]abcdef"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


_module_ids = itertools.count()


class AwsEnv:
    """One mocked account: the three tables, the buckets and the signing key of the template, a
    client, and helpers."""

    def __init__(self, template: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
        self.template = template
        self.monkeypatch = monkeypatch
        self.client = boto3.client("dynamodb", region_name=REGION)
        self.streams = boto3.client("dynamodbstreams", region_name=REGION)
        stack = Template(template)
        self._props = {lid: r["Properties"] for lid, r in stack.of_type(TABLE).items()}
        assert set(self._props) == set(TABLES), "template tables and test fixture disagree"
        for props in self._props.values():
            unknown = unhandled_table_properties(props)
            assert not unknown, f"template table properties the test fixture does not handle: {unknown}"
        # Every table and queue of the template, as the local stack creates them.
        self.resources = create_all(stack)
        for logical_id, env_var in TABLES.items():
            monkeypatch.setenv(env_var, self.resources.refs[logical_id])
        # The invoice functions' bucket (DOCUMENTS_BUCKET is set on them only, in the template).
        self.documents_bucket = self.resources.refs["DocumentsBucket"]
        monkeypatch.setenv("DOCUMENTS_BUCKET", self.documents_bucket)
        self.statements_bucket = self.resources.refs["StatementsBucket"]
        monkeypatch.setenv("STATEMENTS_BUCKET", self.statements_bucket)
        # The audit functions' checkpoints: their Object Lock bucket and the KMS key that signs them.
        self.checkpoints_bucket = self.resources.refs["CheckpointsBucket"]
        monkeypatch.setenv("CHECKPOINTS_BUCKET", self.checkpoints_bucket)
        self.signing_key = self.resources.refs["LogSigningKey"]
        monkeypatch.setenv("LOG_SIGNING_KEY", self.signing_key)
        self.events_table = self.resources.refs["EventStoreTable"]
        self.commands_table = self.resources.refs["CommandsTable"]
        self.read_model_table = self.resources.refs["ReadModelTable"]
        # The DynamoDB event source of the projector, as declared, resolved as the stream pump resolves it.
        [projector] = [fn for fn in stack.functions if fn.logical_id == "ProjectorFunction"]
        sources = projector.events_of("DynamoDB")
        assert len(sources) == 1
        self._source = self.resources.resolve(sources[0].properties)
        self._filters = filter_patterns(self._source["FilterCriteria"])

    # tables and adapters
    def create_table(self, logical_id: str, name: str) -> str:
        create_table(self.client, name, self._props[logical_id])
        return name

    def store(self, clock: Clock = system_clock) -> DynamoEventStore:
        return DynamoEventStore(self.client, self.events_table, self.commands_table, clock)

    def readmodel(self, table: str | None = None) -> DynamoReadModel:
        return DynamoReadModel(self.client, table or self.read_model_table)

    def intake(self) -> Intake:
        return Intake(self.store())

    def event_items(self) -> list[dict[str, Any]]:
        """Every item of the events table except the global counter, by position."""
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"TableName": self.events_table, "ConsistentRead": True}
        while True:
            page = self.client.scan(**kwargs)
            items += [i for i in page["Items"] if "position" in i]
            if "LastEvaluatedKey" not in page:
                return sorted(items, key=lambda i: int(i["position"]["N"]))
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def counter(self) -> int:
        item = self.client.get_item(
            TableName=self.events_table, Key={"stream_id": {"S": "$log"}, "version": {"N": "0"}}, ConsistentRead=True
        ).get("Item")
        return int(item["last_position"]["N"]) if item else 0

    # handlers
    def load_function(self, name: str, **env: str) -> Any:
        """Import functions/<name>/app.py afresh (its module-level wiring reads the env now)."""
        for key, value in env.items():
            self.monkeypatch.setenv(key, value)
        path = ROOT / "functions" / name / "app.py"
        spec = importlib.util.spec_from_file_location(f"notfall_fn_{name}_{next(_module_ids)}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    # the event store's DynamoDB stream
    @property
    def stream_arn(self) -> str:
        return self.client.describe_table(TableName=self.events_table)["Table"]["LatestStreamArn"]

    def stream_records(self) -> list[dict[str, Any]]:
        """All records of the table's stream, read through the dynamodbstreams API."""
        shards = self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]["Shards"]
        records: list[dict[str, Any]] = []
        for shard in shards:
            iterator = self.streams.get_shard_iterator(
                StreamArn=self.stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
            while iterator:
                page = self.streams.get_records(ShardIterator=iterator)
                if not page["Records"]:
                    break
                records += page["Records"]
                iterator = page.get("NextShardIterator")
        return records

    def to_lambda_record(self, record: dict[str, Any]) -> dict[str, Any]:
        """A stream record as Lambda hands it over (the stream pump's conversion)."""
        return lambda_record(record, self.stream_arn, REGION)

    def lambda_records(self) -> list[dict[str, Any]]:
        """The records the projector's event source mapping would deliver: converted, and
        filtered by the template's FilterCriteria."""
        converted = [self.to_lambda_record(r) for r in self.stream_records()]
        return [r for r in converted if passes_filters(r, self._filters)]

    def batches(self, records: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
        """Records cut into batches of the template's BatchSize."""
        records = self.lambda_records() if records is None else records
        size = int(self._source["BatchSize"])
        return [{"Records": records[i : i + size]} for i in range(0, len(records), size)]


@pytest.fixture(scope="session")
def template() -> dict[str, Any]:
    return load_template()


@pytest.fixture
def aws(template, monkeypatch) -> AwsEnv:
    with mock_aws():
        _serialise_moto_requests(monkeypatch)
        yield AwsEnv(template, monkeypatch)


def _serialise_moto_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    """DynamoDB executes each request atomically; moto's in-process backend does not (its
    TransactWriteItems deep-copies whole tables and restores the copies on a failed
    condition, which drops another thread's write made meanwhile). One lock per request
    gives moto DynamoDB's request atomicity. Our code's own interleaving - read the counter,
    decide, write conditionally - stays fully concurrent between requests."""
    from moto.dynamodb.responses import DynamoHandler
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

    lock = threading.RLock()
    for handler in (DynamoHandler, DynamoDBStreamsHandler):
        original = handler.call_action

        def call_action(self, _original=original):
            with lock:
                return _original(self)

        monkeypatch.setattr(handler, "call_action", call_action)


@pytest.fixture
def lambda_context() -> LambdaContext:
    return LambdaContext()


@pytest.fixture
def stream_batch_sample() -> dict[str, Any]:
    return json.loads((EVENTS_DIR / "dynamodb-stream-batch.json").read_text())


@pytest.fixture
def schedule_event() -> dict[str, Any]:
    return json.loads((EVENTS_DIR / "schedule-event.json").read_text())


@pytest.fixture
def count_requests():
    """`with count_requests(client) as calls:` counts DynamoDB operations by name."""

    @contextmanager
    def counting(client):
        calls: Counter[str] = Counter()

        def before_call(model, **_: Any) -> None:
            calls[model.name] += 1

        client.meta.events.register("before-call.dynamodb", before_call, unique_id="notfall-count")
        try:
            yield calls
        finally:
            client.meta.events.unregister("before-call.dynamodb", unique_id="notfall-count")

    return counting


# The callers of api_event: the phone system's app client on its route, a caregiver on their own
# offers and check-ins, elsewhere a member of every staff group (who may call any other route).
PHONE_CLAIMS = {
    "sub": "phone-client",
    "client_id": "phone-client",
    "token_use": "access",
    "scope": "notfall/call-events",
}
STAFF_CLAIMS = {
    "sub": "5b0e7c2a-staff",
    "cognito:username": "5b0e7c2a-staff",
    "cognito:groups": "hotline,accounting,admin,auditor",
    "token_use": "id",
}
_OWN_CASE_WORK = re.compile(r"^/caregivers/([a-z0-9-]+)/cases/")


def claims_for(path: str) -> dict[str, str]:
    if path == "/calls/events":
        return PHONE_CLAIMS
    own = _OWN_CASE_WORK.match(path)
    if own:
        sub = f"sub-of-{own.group(1)}"
        return {"sub": sub, "cognito:username": sub, "cognito:groups": "caregiver", "custom:caregiver_id": own.group(1)}
    return STAFF_CLAIMS


@pytest.fixture
def api_event():
    """An API Gateway REST proxy event, as the Api resource delivers it behind the Cognito
    authorizer: the verified claims of a caller who may call the route (`claims_for`)."""

    def build(
        method: str,
        path: str,
        query: dict[str, str] | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        headers = {
            "Accept": "application/json",
            **({"Content-Type": "application/json"} if body is not None else {}),
            **(headers or {}),
        }
        return {
            "resource": path,
            "path": path,
            "httpMethod": method,
            "headers": headers,
            "multiValueHeaders": {k: [v] for k, v in headers.items()},
            "queryStringParameters": query,
            "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
            "pathParameters": None,
            "stageVariables": None,
            "requestContext": {
                "accountId": "123456789012",
                "apiId": "abcdef1234",
                "resourcePath": path,
                "httpMethod": method,
                "path": f"/v1{path}",
                "stage": "v1",
                "requestId": "req-1",
                "requestTimeEpoch": 1793680200000,
                "identity": {"sourceIp": "192.0.2.1"},
                "authorizer": {"claims": claims_for(path)},
            },
            "body": json.dumps(body) if body is not None else None,
            "isBase64Encoded": False,
        }

    return build


# --- a realistic day at the hotline --------------------------------------------------------

CALLER_A = "+49 30 1234567"
CALLER_B = "+49 170 5550100"


class Scenario:
    """Commands through Intake, each with its own command id; remembers the case ids."""

    def __init__(self, intake: Intake) -> None:
        self.intake = intake
        self.partners = Partners(intake.store)
        self.cases: dict[str, str] = {}
        self.partner_ids: list[str] = []
        self._n = itertools.count(1)

    def meta(self, actor: str = "hotline") -> Metadata:
        n = next(self._n)
        return Metadata(command_id=f"cmd-{n}", actor=actor, correlation_id=f"corr-{n}")

    def call(self, type_: str, call_id: str, at: str, number: str | None, **extra: Any) -> dict[str, Any]:
        cmd = CallEventIn(type=type_, call_id=call_id, line="hotline-1", caller_number=number, at=at, **extra)
        return self.intake.call_event(cmd, self.meta("phone-system"))

    def partner(self, **fields: Any) -> None:
        self.partners.register(PartnerIn(**fields), self.meta("staff"))
        self.partner_ids.append(fields["partner_id"])

    def run(self) -> Scenario:
        i = self.intake
        self.partner(
            partner_id="acme-logistik",
            kind="company",
            name="ACME Logistik GmbH",
            municipality="Berlin",
            joined_on="2026-01-01",
            employees=250,
        )
        # A: a daytime call, consultation, a care need over the Berlin month boundary.
        self.cases["A"] = self.call("started", "c1", "2026-10-30T07:55:00Z", CALLER_A)["case_id"]
        self.call("answered", "c1", "2026-10-30T07:56:00Z", CALLER_A, agent="anna")
        # B: a voicemail at night enters the callback queue.
        self.cases["B"] = self.call(
            "voicemail", "v1", "2026-10-29T22:10:00Z", CALLER_B, recording_ref="s3://recordings/v1.wav"
        )["case_id"]
        self.call("ended", "c1", "2026-10-30T08:20:00Z", CALLER_A)
        a, b = self.cases["A"], self.cases["B"]
        i.consultation(
            a,
            ConsultationIn(
                agent="anna",
                started_at="2026-10-30T07:56:00Z",
                ended_at="2026-10-30T08:20:00Z",
                notes="mother in hospital",
            ),
            self.meta(),
        )
        i.need(
            a,
            NeedIn(
                persons=[{"kind": "child", "age": 4}, {"kind": "adult", "age": 81}],
                location={"kind": "home"},
                window={"start": "2026-10-30T17:00:00Z", "expected_end": "2026-11-02T07:00:00Z"},
                reasons=["hospital_stay"],
                municipality="Berlin-Neukoelln",
            ),
            self.meta(),
        )
        i.callback(b, CallbackIn(agent="anna", at="2026-10-30T08:30:00Z", reached=True), self.meta())
        i.outcome(a, OutcomeIn(outcome="care_need"), self.meta())
        i.outcome(b, OutcomeIn(outcome="advice", note="Kita emergency group"), self.meta())
        self.partner(
            partner_id="neukoelln",
            kind="municipality",
            name="Bezirk Neukoelln",
            municipality="Berlin-Neukoelln",
            joined_on="2026-10-01",
            inhabitants=330000,
            children_under_10=30000,
        )
        # C: withheld number, closed by staff.
        self.cases["C"] = self.call("started", "c3", "2026-10-30T09:00:00Z", None)["case_id"]
        self.call("answered", "c3", "2026-10-30T09:01:00Z", None, agent="bert")
        self.call("ended", "c3", "2026-10-30T09:05:00Z", None)
        i.close(self.cases["C"], CloseIn(reason="wrong number", at="2026-10-30T09:06:00Z"), self.meta())
        # A calls again: the emergency is open, so the call attaches to it.
        assert self.call("started", "c4", "2026-10-30T10:00:00Z", CALLER_A)["case_id"] == a
        # B calls again after B was closed: a new case E, referred on.
        self.cases["E"] = self.call("started", "c5", "2026-10-31T11:00:00Z", CALLER_B)["case_id"]
        e = self.cases["E"]
        i.need(
            e,
            NeedIn(
                persons=[{"kind": "child", "age": 7}],
                location={"kind": "elsewhere", "address": "Hermannstr. 1, Berlin"},
                window={"start": "2026-11-03T06:00:00Z", "expected_end": "2026-11-05T16:00:00Z"},
                reasons=["childcare_closed"],
                municipality="Berlin-Neukoelln",
            ),
            self.meta(),
        )
        i.outcome(e, OutcomeIn(outcome="referral", referral_to="Jugendamt Neukoelln"), self.meta())
        return self


@pytest.fixture
def scenario(aws) -> Scenario:
    return Scenario(aws.intake()).run()
