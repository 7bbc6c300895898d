"""The event store's DynamoDB stream, read through boto3's dynamodbstreams API against moto.

Proves the stream the projector consumes exists as the template declares it (KEYS_ONLY) and
carries one INSERT per appended event, written by TransactWriteItems, in commit order. With
boto3 >= 1.44 and moto 5.2.5 DescribeStream answers "Not yet implemented": this test is the
alarm for an upgrade that breaks streams (see requirements-dev.txt).
"""

from __future__ import annotations

from aws_lambda_powertools.utilities.parser.models import DynamoDBStreamModel

from notfall.projection.projector import projection_for


def test_stream_carries_every_appended_event(aws, scenario):
    description = aws.streams.describe_stream(StreamArn=aws.stream_arn)["StreamDescription"]
    assert description["StreamStatus"] == "ENABLED"
    assert description["StreamViewType"] == "KEYS_ONLY"
    assert description["Shards"], "the stream has no shard"

    records = aws.stream_records()
    inserts = [r for r in records if r["eventName"] == "INSERT" and r["dynamodb"]["Keys"]["stream_id"]["S"] != "$log"]
    keys = [(r["dynamodb"]["Keys"]["stream_id"]["S"], int(r["dynamodb"]["Keys"]["version"]["N"])) for r in inserts]
    log = [(i["stream_id"]["S"], int(i["version"]["N"])) for i in aws.event_items()]  # by position
    assert keys == log  # every event once, in commit (= position) order
    assert all(set(r["dynamodb"]["Keys"]) == {"stream_id", "version"} for r in records)
    assert all("NewImage" not in r["dynamodb"] and "OldImage" not in r["dynamodb"] for r in records)
    sequence = [int(r["dynamodb"]["SequenceNumber"]) for r in records]
    assert sequence == sorted(sequence) and len(set(sequence)) == len(sequence)
    # The global counter item moves with every append (moto reports its creation as two
    # INSERTs); the projector's filter keeps these records away from it.
    counter = [r["eventName"] for r in records if r["dynamodb"]["Keys"]["stream_id"]["S"] == "$log"]
    assert counter[0] == "INSERT" and counter[-1] == "MODIFY" and set(counter) == {"INSERT", "MODIFY"}


def test_converted_records_are_what_lambda_delivers(aws, scenario, stream_batch_sample):
    """After conversion the records have the shape of the sample payload and pass powertools'
    own model of a DynamoDB stream event; the template's filter keeps exactly the INSERTs of
    the streams the projector has a projection for (cases, partners)."""
    batch = {"Records": aws.lambda_records()}
    DynamoDBStreamModel.model_validate(batch)
    DynamoDBStreamModel.model_validate(stream_batch_sample)
    sample = stream_batch_sample["Records"][0]
    for record in batch["Records"]:
        assert set(record) == set(sample)
        assert set(record["dynamodb"]) == set(sample["dynamodb"])
        assert record["awsRegion"] == sample["awsRegion"] == "eu-central-1"
        assert isinstance(record["dynamodb"]["ApproximateCreationDateTime"], int | float)
        assert record["eventSourceARN"].startswith(
            f"arn:aws:dynamodb:eu-central-1:123456789012:table/{aws.events_table}/stream/"
        )
        assert record["eventName"] == "INSERT"
    kept = [
        (r["dynamodb"]["Keys"]["stream_id"]["S"], int(r["dynamodb"]["Keys"]["version"]["N"])) for r in batch["Records"]
    ]
    projected = [
        (i["stream_id"]["S"], int(i["version"]["N"]))
        for i in aws.event_items()
        if projection_for(i["stream_id"]["S"]) is not None
    ]
    assert kept == projected
    assert {s.split("-")[0] for s, _ in kept} == {"case", "partner"}
