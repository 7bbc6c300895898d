"""Creates the template's tables, queues, buckets and KMS keys in moto; resolves !Ref, !GetAtt, !Sub against them."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

import boto3

from infra.local.aws import ACCOUNT_ID, REGION
from infra.local.template import BUCKET, KMS_KEY, QUEUE, TABLE, Template

STACK_NAME = "notfall-local"

# create_table takes these Properties as they are; StreamSpecification it takes with StreamEnabled added.
_TABLE_KEYS = (
    "KeySchema",
    "AttributeDefinitions",
    "GlobalSecondaryIndexes",
    "LocalSecondaryIndexes",
    "BillingMode",
    "ProvisionedThroughput",
)
# Table Properties with no local effect.
TABLE_KEYS_WITHOUT_LOCAL_EFFECT = frozenset(
    {"SSESpecification", "PointInTimeRecoverySpecification", "TimeToLiveSpecification", "Tags"}
)
# Bucket Properties created locally; the rest has no local effect (or none moto models).
BUCKET_KEYS = frozenset(
    {
        "ObjectLockEnabled",
        "ObjectLockConfiguration",
        "VersioningConfiguration",
        "PublicAccessBlockConfiguration",
        "BucketEncryption",
        "LifecycleConfiguration",
    }
)
_QUEUE_ATTRIBUTES = (
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
    "FifoQueue",
    "ContentBasedDeduplication",
)


def physical_name(logical_id: str) -> str:
    return f"{STACK_NAME}-{logical_id}"


@dataclass
class Resources:
    """Physical names and attributes of what was created, by logical id."""

    parameters: dict[str, Any]
    conditions: dict[str, Any] = field(default_factory=dict)  # the template's Conditions, unevaluated
    refs: dict[str, str] = field(default_factory=dict)
    attributes: dict[str, dict[str, str]] = field(default_factory=dict)

    def pseudo(self, name: str) -> str:
        return {
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::StackName": STACK_NAME,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }[name]

    def ref(self, name: str) -> Any:
        if name.startswith("AWS::"):
            return self.pseudo(name)
        if name in self.parameters:
            return self.parameters[name]
        if name in self.refs:
            return self.refs[name]
        raise KeyError(
            f"!Ref {name}: the local stack creates no such resource (only tables, queues, buckets and KMS keys)"
        )

    def get_att(self, name: str, attribute: str) -> str:
        try:
            return self.attributes[name][attribute]
        except KeyError:
            raise KeyError(f"!GetAtt {name}.{attribute}: unknown locally") from None

    def resolve(self, value: Any) -> Any:
        """Replace intrinsics in `value` by local values; plain values pass through."""
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if set(value) == {"Ref"}:
            return self.ref(value["Ref"])
        if set(value) == {"Fn::GetAtt"}:
            return self.get_att(*value["Fn::GetAtt"])
        if set(value) == {"Fn::Sub"}:
            return self._sub(value["Fn::Sub"])
        if set(value) == {"Fn::If"}:
            name, if_true, if_false = value["Fn::If"]
            return self.resolve(if_true if self.condition(name) else if_false)
        if set(value) == {"Fn::Join"}:
            sep, parts = value["Fn::Join"]
            return sep.join(str(self.resolve(p)) for p in parts)
        return {k: self.resolve(v) for k, v in value.items()}

    def condition(self, name: str) -> bool:
        return self._holds(self.conditions[name])

    def _holds(self, spec: dict[str, Any]) -> bool:
        [(function, args)] = spec.items()
        if function == "Fn::Equals":
            left, right = (self.resolve(a) for a in args)
            return str(left) == str(right)
        if function == "Fn::Not":
            return not self._holds(args[0])
        if function == "Fn::And":
            return all(self._holds(a) for a in args)
        if function == "Fn::Or":
            return any(self._holds(a) for a in args)
        if function == "Condition":
            return self.condition(args)
        raise KeyError(f"condition {function}: not modelled locally")

    def _sub(self, spec: Any) -> str:
        text, names = (spec, {}) if isinstance(spec, str) else (spec[0], self.resolve(spec[1]))

        def one(match: re.Match[str]) -> str:
            key = match.group(1)
            if key in names:
                return str(names[key])
            if "." in key and not key.startswith("AWS::"):
                return str(self.get_att(*key.split(".", 1)))
            return str(self.ref(key))

        return re.sub(r"\$\{([^}!]+)\}", one, text)


def create_all(template: Template, parameters: dict[str, Any] | None = None) -> Resources:
    """Create every table, queue and bucket of the template in moto, through boto3's default clients
    in REGION: a moto server (AWS_ENDPOINT_URL pointing there) or moto's in-process mock_aws()."""
    res = Resources({**template.parameter_defaults(), **(parameters or {})}, template.raw.get("Conditions", {}))
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    s3 = boto3.client("s3", region_name=REGION)
    kms = boto3.client("kms", region_name=REGION)
    for logical_id, key in template.of_type(KMS_KEY).items():
        res.refs[logical_id], res.attributes[logical_id] = create_key(kms, key.get("Properties", {}))
    for logical_id, bucket in template.of_type(BUCKET).items():
        res.refs[logical_id], res.attributes[logical_id] = create_bucket(s3, logical_id, bucket.get("Properties", {}))
    for logical_id, table in template.of_type(TABLE).items():
        res.refs[logical_id], res.attributes[logical_id] = _create_table(dynamodb, logical_id, table["Properties"])
    for logical_id, queue in template.of_type(QUEUE).items():
        res.refs[logical_id], res.attributes[logical_id] = _create_queue(sqs, logical_id, queue.get("Properties", {}))
    return res


def unhandled_table_properties(props: dict[str, Any]) -> set[str]:
    """Table Properties neither passed to CreateTable nor known to have no local effect: somebody must decide."""
    return set(props) - set(_TABLE_KEYS) - {"StreamSpecification"} - TABLE_KEYS_WITHOUT_LOCAL_EFFECT


def create_table_kwargs(props: dict[str, Any], name: str) -> dict[str, Any]:
    """CreateTable's arguments for a table of these template Properties (copies: the template stays as it is)."""
    kwargs: dict[str, Any] = {"TableName": name, **{k: copy.deepcopy(props[k]) for k in _TABLE_KEYS if k in props}}
    if "StreamSpecification" in props:
        # CloudFormation infers StreamEnabled from the block; the API wants it said.
        kwargs["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
    return kwargs


def create_table(client: Any, name: str, props: dict[str, Any]) -> dict[str, str]:
    """Create one table of the template's schema under `name`; its GetAtt attributes (Arn, StreamArn)."""
    desc = client.create_table(**create_table_kwargs(props, name))["TableDescription"]
    attrs = {"Arn": desc["TableArn"]}
    if "LatestStreamArn" in desc:
        attrs["StreamArn"] = desc["LatestStreamArn"]
    return attrs


def _create_table(client: Any, logical_id: str, props: dict[str, Any]) -> tuple[str, dict[str, str]]:
    name = physical_name(logical_id)
    return name, create_table(client, name, props)


def _create_queue(client: Any, logical_id: str, props: dict[str, Any]) -> tuple[str, dict[str, str]]:
    name = physical_name(logical_id) + (".fifo" if props.get("FifoQueue") else "")
    attributes = {
        k: str(props[k]).lower() if isinstance(props[k], bool) else str(props[k])
        for k in _QUEUE_ATTRIBUTES
        if k in props
    }
    url = client.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    # A queue's Ref is its URL in CloudFormation.
    return url, {"Arn": arn, "QueueName": name, "QueueUrl": url}


def create_key(client: Any, props: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """A KMS key of the declared usage and spec (the key policy has no local effect). Its Ref is the key id."""
    meta = client.create_key(
        KeyUsage=props.get("KeyUsage", "ENCRYPT_DECRYPT"),
        KeySpec=props.get("KeySpec", "SYMMETRIC_DEFAULT"),
        Description=props.get("Description", ""),
    )["KeyMetadata"]
    return meta["KeyId"], {"Arn": meta["Arn"], "KeyId": meta["KeyId"]}


def bucket_name(logical_id: str) -> str:
    """S3 bucket names are lower case: notfall-local-documentsbucket."""
    return physical_name(logical_id).lower()


def create_bucket(client: Any, logical_id: str, props: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """A bucket as declared: Object Lock (with its default retention), versioning, the public
    access block and default encryption. Its Ref is the name; GetAtt gives Arn and domain names."""
    unknown = set(props) - BUCKET_KEYS
    if unknown:
        raise ValueError(f"{logical_id}: bucket properties the local stack does not create: {sorted(unknown)}")
    name = bucket_name(logical_id)
    kwargs: dict[str, Any] = {"Bucket": name, "CreateBucketConfiguration": {"LocationConstraint": REGION}}
    if props.get("ObjectLockEnabled"):
        kwargs["ObjectLockEnabledForBucket"] = True  # turns versioning on too
    client.create_bucket(**kwargs)
    if "ObjectLockConfiguration" in props:
        client.put_object_lock_configuration(
            Bucket=name, ObjectLockConfiguration=copy.deepcopy(props["ObjectLockConfiguration"])
        )
    if "VersioningConfiguration" in props:
        client.put_bucket_versioning(
            Bucket=name, VersioningConfiguration=copy.deepcopy(props["VersioningConfiguration"])
        )
    if "PublicAccessBlockConfiguration" in props:
        client.put_public_access_block(
            Bucket=name, PublicAccessBlockConfiguration=copy.deepcopy(props["PublicAccessBlockConfiguration"])
        )
    if "BucketEncryption" in props:
        # CloudFormation lists the rules with ServerSideEncryptionByDefault; the API wants
        # {"Rules": [{"ApplyServerSideEncryptionByDefault": ...}]}.
        rules = [
            {
                ("ApplyServerSideEncryptionByDefault" if k == "ServerSideEncryptionByDefault" else k): v
                for k, v in copy.deepcopy(rule).items()
            }
            for rule in props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        ]
        client.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": rules})
    if "LifecycleConfiguration" in props:
        # CloudFormation's rule shape (Id, ExpirationInDays) in the API's (ID, Expiration.Days).
        rules = [
            {
                "ID": rule.get("Id", "rule"),
                "Status": rule["Status"],
                "Filter": {"Prefix": rule.get("Prefix", "")},
                "Expiration": {"Days": rule["ExpirationInDays"]},
            }
            for rule in props["LifecycleConfiguration"]["Rules"]
        ]
        client.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": rules})
    return name, {
        "Arn": f"arn:aws:s3:::{name}",
        "DomainName": f"{name}.s3.amazonaws.com",
        "RegionalDomainName": f"{name}.s3.{REGION}.amazonaws.com",
    }
