"""Stream Lambda: projects case events from the event store's DynamoDB stream.

Failed records are reported one by one (ReportBatchItemFailures); Lambda retries from the
lowest failed one, and the projector's version check makes the redelivered ones harmless.
"""

from collections import Counter

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from notfall.projection.projector import Projector
from notfall.wiring import Wiring

logger = Logger()
tracer = Tracer()
metrics = Metrics()
wiring = Wiring()
projector = Projector(wiring.store, wiring.readmodel)
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
outcomes: Counter[str] = Counter()  # of the batch being processed


def record_handler(record: DynamoDBRecord) -> str:
    keys = record.dynamodb.keys
    outcome = projector.project(str(keys["stream_id"]), int(keys["version"]))
    outcomes[outcome] += 1
    return outcome


@metrics.log_metrics
@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event, context):
    outcomes.clear()
    answer = process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
    # One value per outcome and batch: a value per record reaches powertools' 100-value limit
    # in a full batch, which then prints the metrics itself even where they are disabled.
    for outcome, count in outcomes.items():
        metrics.add_metric(name=f"Projection-{outcome}", unit=MetricUnit.Count, value=count)
    return answer
