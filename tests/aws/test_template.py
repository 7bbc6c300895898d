"""template.yaml, checked offline: cfn-lint passes, and the SAM transform (aws-sam-translator,
no AWS account) turns it into what the code relies on - a Lambda function per serverless
function with the table names in its environment, the stream event source mapping with
ReportBatchItemFailures, bisection, the filter and the on-failure queue, one API Gateway
route per Api event wired to its function, sign-in (every route behind the Cognito user pool
authorizer, the phone system's route behind its scope, API Gateway invoking with its own
permission and never the caller's credentials, a closed user pool whose tenant ids only
administrators set), the nightly schedule in Europe/Berlin, the sweep
every five minutes and the three invoice runs, the write-once documents bucket, and the care
and billing rules in every function's environment. Every function's handler exists under
its CodeUri.
"""

from __future__ import annotations

import ast
import copy
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from samtranslator.translator.transform import transform

from infra.local.resources import Resources
from infra.local.template import FUNCTION, Template
from notfall.domain.care import CareRules
from notfall.projection.projector import PROJECTIONS
from notfall.settings import BillingSettings, CareSettings, EligibilitySettings, StatementSettings

ROOT = Path(__file__).resolve().parents[2]


def serverless_functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each serverless function's own Properties, as written (Globals not merged in)."""
    return {lid: r["Properties"] for lid, r in Template(template).of_type(FUNCTION).items()}


def events_of(template: dict[str, Any], type_: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(function, event name, properties) of every event of that type."""
    return [
        (fid, name, e["Properties"])
        for fid, props in serverless_functions(template).items()
        for name, e in props.get("Events", {}).items()
        if e["Type"] == type_
    ]


def of_type(resources: dict[str, Any], type_: str) -> dict[str, dict[str, Any]]:
    return {lid: r for lid, r in resources.items() if r["Type"] == type_}


class _NoManagedPolicies:
    """The translator's managed-policy loader, without asking IAM."""

    def load(self) -> dict[str, str]:
        return {}


@pytest.fixture(scope="module")
def translated(template) -> dict[str, Any]:
    return translate(template)


def translate(template: dict[str, Any], parameters: dict[str, str] | None = None) -> dict[str, Any]:
    """The resources `sam deploy` would create, with these parameter values (else the defaults)."""
    local = copy.deepcopy(template)
    for lid, resource in local["Resources"].items():
        props = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if isinstance(props.get(key), str):
                props[key] = f"s3://notfall-artifacts/{lid}.zip"
    region = os.environ.get("AWS_DEFAULT_REGION")
    os.environ["AWS_DEFAULT_REGION"] = "eu-central-1"
    try:
        return transform(local, parameters or {}, _NoManagedPolicies())["Resources"]
    finally:
        if region is None:
            os.environ.pop("AWS_DEFAULT_REGION")
        else:
            os.environ["AWS_DEFAULT_REGION"] = region


RUNTIME_LIFECYCLE = ("E2531", "E2533", "W2531")  # cfn-lint: runtime deprecated for creation, for update, soon


def test_cfn_lint_passes():
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    assert cfn_lint.exists(), "cfn-lint is not installed in this environment (requirements-dev.txt)"
    # Without the Lambda runtime life-cycle rules: they compare the runtime's end-of-life dates with
    # the day the lint runs, so they would fail this suite on a fixed day; `make lint` keeps them.
    result = subprocess.run(
        [str(cfn_lint), "--ignore-checks", *RUNTIME_LIFECYCLE, "--", "template.yaml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_function_becomes_a_lambda_with_the_tables_in_its_environment(template, translated):
    functions = serverless_functions(template)
    assert set(functions) >= {"IntakeFunction", "ProjectorFunction", "AuditFunction", "ReplayCheckFunction"}
    lambdas = of_type(translated, "AWS::Lambda::Function")
    assert set(lambdas) == set(functions)
    layer = next(iter(of_type(translated, "AWS::Lambda::LayerVersion")))
    for fid, props in functions.items():
        built = lambdas[fid]["Properties"]
        assert built["Handler"] == props["Handler"]
        assert built["Runtime"] == template["Globals"]["Function"]["Runtime"]
        assert built["Layers"] == [{"Ref": layer}]
        env = built["Environment"]["Variables"]
        assert env["EVENTS_TABLE"] == {"Ref": "EventStoreTable"}
        assert env["COMMANDS_TABLE"] == {"Ref": "CommandsTable"}
        assert env["READ_MODEL_TABLE"] == {"Ref": "ReadModelTable"}
        assert env["POWERTOOLS_METRICS_NAMESPACE"]  # Metrics raise on flush without one


def test_stream_event_source_mapping(template, translated):
    [(fid, _name, source)] = events_of(template, "DynamoDB")
    [esm] = of_type(translated, "AWS::Lambda::EventSourceMapping").values()
    props = esm["Properties"]
    assert props["FunctionName"] == {"Ref": fid}
    assert props["EventSourceArn"] == {"Fn::GetAtt": ["EventStoreTable", "StreamArn"]}
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert props["BisectBatchOnFunctionError"] is True
    assert props["StartingPosition"] == "TRIM_HORIZON"
    assert props["FilterCriteria"] == source["FilterCriteria"]
    failure_queue = {"Fn::GetAtt": ["ProjectorFailures", "Arn"]}
    assert props["DestinationConfig"]["OnFailure"]["Destination"] == failure_queue
    assert translated["ProjectorFailures"]["Type"] == "AWS::SQS::Queue"
    # The function's role may send to that queue (SAM adds the statement for the destination).
    statements = [
        s for p in translated[f"{fid}Role"]["Properties"]["Policies"] for s in p["PolicyDocument"]["Statement"]
    ]
    assert any(
        s["Action"] in ("sqs:SendMessage", ["sqs:SendMessage"]) and s["Resource"] == failure_queue for s in statements
    )


def test_one_api_route_per_api_event(template, translated):
    api_events = events_of(template, "Api")
    wanted = {(p["Path"], p["Method"].lower()): fid for fid, _, p in api_events}
    assert len(wanted) == len(api_events), "two Api events declare the same route"
    [api] = of_type(translated, "AWS::ApiGateway::RestApi").values()
    paths = api["Properties"]["Body"]["paths"]
    routes = {(path, method): op for path, methods in paths.items() for method, op in methods.items()}
    assert set(routes) == set(wanted)
    for route, op in routes.items():
        integration = op["x-amazon-apigateway-integration"]
        assert integration["type"] == "aws_proxy"
        assert f"${{{wanted[route]}.Arn}}" in integration["uri"]["Fn::Sub"]
    assert ("/audit/events", "get") in routes and ("/calls/events", "post") in routes


# --- sign-in and who invokes the functions ----------------------------------------------------

ROLES = {"hotline", "accounting", "caregiver", "partner", "auditor", "admin"}
CALL_EVENTS_SCOPE = "notfall/call-events"
CUSTOM_IDS = {"custom:caregiver_id", "custom:partner_id"}


def _operations(translated: dict[str, Any]) -> tuple[dict[str, Any], dict[tuple[str, str], dict[str, Any]]]:
    [api] = of_type(translated, "AWS::ApiGateway::RestApi").values()
    body = api["Properties"]["Body"]
    routes = {(path, method): op for path, methods in body["paths"].items() for method, op in methods.items()}
    return body, routes


def test_every_route_needs_a_token_of_the_user_pool(translated):
    """One Cognito user pools authorizer, on every method; the phone system's route wants its scope
    (an access token of the client credentials grant), the others a person's id token."""
    body, routes = _operations(translated)
    [(name, scheme)] = body["securityDefinitions"].items()
    authorizer = scheme["x-amazon-apigateway-authorizer"]
    assert authorizer["type"] == scheme["x-amazon-apigateway-authtype"] == "cognito_user_pools"
    assert authorizer["providerARNs"] == [{"Fn::GetAtt": ["UserPool", "Arn"]}]
    assert (scheme["in"], scheme["name"]) == ("header", "Authorization")
    public = {("/openapi.json", "get"), ("/swagger", "get")}  # the API's description: no data
    assert public <= set(routes)
    for route, op in routes.items():
        if route in public:
            assert "security" not in op or op["security"] in ([], [{"NONE": []}]), route
            continue
        scopes = [CALL_EVENTS_SCOPE] if route == ("/calls/events", "post") else []
        assert op["security"] == [{name: scopes}], route


def test_no_route_invokes_a_function_with_the_callers_credentials(translated):
    """Not IAM: a caller needs no lambda:InvokeFunction, so cannot invoke a function directly
    with a forged request context; API Gateway invokes with its own permission."""
    body, routes = _operations(translated)
    for route, op in routes.items():
        integration = op["x-amazon-apigateway-integration"]
        assert "credentials" not in integration, route
        assert "AWS_IAM" not in json.dumps(op["security"]), route
    assert "sigv4" not in json.dumps(body["securityDefinitions"])
    assert "arn:aws:iam::*:user/*" not in json.dumps(translated)  # SAM's CALLER_CREDENTIALS


def test_the_invoke_permissions_are_for_api_gateway_on_this_api_only(template, translated):
    """One AWS::Lambda::Permission per route: principal API Gateway, source this API's ARN
    with the route's method and path (any stage), nothing else may invoke."""
    permissions = of_type(translated, "AWS::Lambda::Permission")
    wanted = {
        (fid, p["Method"].upper(), re.sub(r"\{\w+\}", "*", p["Path"])) for fid, _, p in events_of(template, "Api")
    }
    granted = set()
    for lid, permission in permissions.items():
        props = permission["Properties"]
        assert (props["Action"], props["Principal"]) == ("lambda:InvokeFunction", "apigateway.amazonaws.com"), lid
        arn, names = props["SourceArn"]["Fn::Sub"]
        assert names["__ApiId__"] == {"Ref": "Api"}, lid
        prefix = "arn:aws:execute-api:${AWS::Region}:${AWS::AccountId}:${__ApiId__}/${__Stage__}/"
        assert arn.startswith(prefix), lid
        method, _, path = arn.removeprefix(prefix).partition("/")
        granted.add((props["FunctionName"]["Ref"], method, f"/{path}"))
    assert granted == wanted
    assert len(permissions) == len(wanted)


def test_the_user_pool_is_closed_and_the_ids_are_set_by_administrators_only(template, translated):
    pool = template["Resources"]["UserPool"]
    props = pool["Properties"]
    assert props["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True  # no self sign-up
    assert pool["DeletionPolicy"] == pool["UpdateReplacePolicy"] == "Retain"
    password = props["Policies"]["PasswordPolicy"]
    assert password["MinimumLength"] >= 12 and password["TemporaryPasswordValidityDays"] <= 7
    assert {f"custom:{a['Name']}" for a in props["Schema"]} == CUSTOM_IDS
    groups = of_type(translated, "AWS::Cognito::UserPoolGroup").values()
    assert {g["Properties"]["GroupName"] for g in groups} == ROLES
    assert all(g["Properties"]["UserPoolId"] == {"Ref": "UserPool"} for g in groups)
    clients = of_type(translated, "AWS::Cognito::UserPoolClient")
    assert set(clients) == {"UserClient", "PhoneSystemClient"}
    for lid, client in clients.items():
        c = client["Properties"]
        # listed explicitly (left out, every attribute would be writable) and without the ids
        assert isinstance(c["WriteAttributes"], list) and not CUSTOM_IDS & set(c["WriteAttributes"]), lid
    users = clients["UserClient"]["Properties"]
    assert set(users["ReadAttributes"]) >= CUSTOM_IDS
    assert users["GenerateSecret"] is False and "AllowedOAuthFlows" not in users
    assert set(users["ExplicitAuthFlows"]) == {
        "ALLOW_USER_SRP_AUTH",
        "ALLOW_USER_PASSWORD_AUTH",
        "ALLOW_REFRESH_TOKEN_AUTH",
    }


def test_the_phone_system_is_a_machine_client_with_one_scope(template, translated):
    phone = of_type(translated, "AWS::Cognito::UserPoolClient")["PhoneSystemClient"]["Properties"]
    assert phone["GenerateSecret"] is True  # the secret lives in Cognito, never in this repository
    assert phone["AllowedOAuthFlows"] == ["client_credentials"] and phone["AllowedOAuthFlowsUserPoolClient"] is True
    assert phone["AllowedOAuthScopes"] == [CALL_EVENTS_SCOPE]
    [server] = of_type(translated, "AWS::Cognito::UserPoolResourceServer").values()
    identifier, _, scope = CALL_EVENTS_SCOPE.partition("/")
    assert server["Properties"]["Identifier"] == identifier
    assert [s["ScopeName"] for s in server["Properties"]["Scopes"]] == [scope]
    [domain] = of_type(translated, "AWS::Cognito::UserPoolDomain")
    outputs = template["Outputs"]
    assert {"UserPoolId", "UserClientId", "PhoneSystemClientId", "TokenUrl", "ApiUrl"} <= set(outputs)
    assert outputs["TokenUrl"]["Value"] == {
        "Fn::Sub": f"https://${{{domain}}}.auth.${{AWS::Region}}.amazoncognito.com/oauth2/token"
    }
    assert "ClientSecret" not in json.dumps(outputs)


def _schedules(template, translated) -> dict[str, tuple[str, dict[str, Any], dict[str, Any]]]:
    """Event name -> (function, the event's properties, the translated schedule's properties)."""
    built = of_type(translated, "AWS::Scheduler::Schedule")
    events = events_of(template, "ScheduleV2")
    assert len(built) == len(events)
    # SAM names each schedule after its function and event.
    return {name: (fid, props, built[f"{fid}{name}"]["Properties"]) for fid, name, props in events}


def test_nightly_schedule_in_berlin_time(template, translated):
    fid, schedule, props = _schedules(template, translated)["Nightly"]
    assert props["ScheduleExpressionTimezone"] == "Europe/Berlin"
    assert props["ScheduleExpression"] == schedule["ScheduleExpression"]
    assert props["Target"]["Arn"] == {"Fn::GetAtt": [fid, "Arn"]}
    assert serverless_functions(template)[fid]["Handler"] == "app.replay_check_handler"


def test_the_sweep_runs_every_five_minutes(template, translated):
    fid, _, props = _schedules(template, translated)["SweepUnassigned"]
    assert props["ScheduleExpression"] == "rate(5 minutes)"
    function = serverless_functions(template)[fid]
    assert (function["CodeUri"], function["Handler"]) == ("functions/assign/", "app.sweep_handler")
    assert "Events" in function and not any(e["Type"] == "Api" for e in function["Events"].values())


def test_the_care_rules_are_set_for_every_function_and_equal_the_code_defaults(template, translated):
    """Local and cloud read the same values from Globals; they are the defaults the docs name."""
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    names = {f.alias for f in CareSettings.model_fields.values()}
    assert names <= variables.keys()
    assert all(isinstance(variables[n], str) for n in names)  # CloudFormation wants strings
    assert CareSettings.model_validate({n: variables[n] for n in names}).rules() == CareRules()
    for fid in serverless_functions(template):
        env = of_type(translated, "AWS::Lambda::Function")[fid]["Properties"]["Environment"]["Variables"]
        assert names <= env.keys(), fid


def test_every_handler_exists_under_its_code_uri(template):
    for fid, props in serverless_functions(template).items():
        module, _, attribute = props["Handler"].rpartition(".")
        path = ROOT / props["CodeUri"] / f"{module.replace('.', '/')}.py"
        assert path.is_file(), f"{fid}: {path} is missing"
        tree = ast.parse(path.read_text())
        defined = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
        assert attribute in defined, f"{fid}: {path.name} defines no function {attribute}"
    layer = template["Resources"]["SharedLayer"]["Properties"]
    assert (ROOT / layer["ContentUri"] / "notfall" / "__init__.py").is_file()
    assert (ROOT / layer["ContentUri"] / "requirements.txt").is_file()


def test_every_handler_is_traced_by_powertools(template):
    """One trace segment per invocation (capture_lambda_handler); the template switches it (below)."""
    for fid, props in serverless_functions(template).items():
        module, _, attribute = props["Handler"].rpartition(".")
        tree = ast.parse((ROOT / props["CodeUri"] / f"{module.replace('.', '/')}.py").read_text())
        assigned = {
            (t.id, ast.unparse(n.value))
            for n in tree.body
            if isinstance(n, ast.Assign)
            for t in n.targets
            if isinstance(t, ast.Name)
        }
        assert ("tracer", "Tracer()") in assigned, fid
        [handler] = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == attribute]
        assert "tracer.capture_lambda_handler" in [ast.unparse(d) for d in handler.decorator_list], fid


@pytest.mark.parametrize(("tracing", "active"), [("Active", True), ("Disabled", False)])
def test_the_tracing_parameter_switches_x_ray_and_the_tracer(template, tracing, active):
    """Active: X-Ray on the API stage and every function, with the write permission, and
    powertools' Tracer on. Disabled: none of it, and the Tracer off."""
    assert template["Parameters"]["Tracing"]["Default"] == "Active"
    built = translate(template, {"Tracing": tracing})
    resources = Resources({"Tracing": tracing}, template["Conditions"])  # resolves as CloudFormation would
    [stage] = of_type(built, "AWS::ApiGateway::Stage").values()
    assert resources.resolve(stage["Properties"]["TracingEnabled"]) is active
    lambdas = of_type(built, "AWS::Lambda::Function")
    assert set(lambdas) == set(serverless_functions(template))
    for fid, fn in lambdas.items():
        props = fn["Properties"]
        assert ("TracingConfig" in props) is active, fid
        if active:
            assert resources.resolve(props["TracingConfig"]) == {"Mode": "Active"}
        env = props["Environment"]["Variables"]
        assert resources.resolve(env["POWERTOOLS_TRACE_DISABLED"]) == ("false" if active else "true"), fid
        # responses and errors may carry personal data: never into a trace
        assert env["POWERTOOLS_TRACER_CAPTURE_RESPONSE"] == env["POWERTOOLS_TRACER_CAPTURE_ERROR"] == "false"
        role = built[f"{fid}Role"]["Properties"]
        assert ("arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess" in role["ManagedPolicyArns"]) is active, fid


def test_the_projector_sees_exactly_the_streams_that_have_read_models(template):
    """case-, partner-, caregiver-, invoice-, family-: not the caller ledgers, series, billing
    keys or tariffs (no rows), whose records would only cost invocations."""
    [(_, _, source)] = events_of(template, "DynamoDB")
    [flt] = source["FilterCriteria"]["Filters"]
    pattern = json.loads(flt["Pattern"])
    assert pattern["eventName"] == ["INSERT"]
    prefixes = [p["prefix"] for p in pattern["dynamodb"]["Keys"]["stream_id"]["S"]]
    assert prefixes == ["case-", "partner-", "caregiver-", "invoice-", "family-"]
    assert sorted(prefixes) == sorted(p.prefix for p in PROJECTIONS)


INVOICE_RUNS = {
    "FamilyInvoices": ("cron(0 6 1 * ? *)", {"kind": "family", "period": "previous"}),
    "PartnerMonthlyInvoices": ("cron(15 6 1 * ? *)", {"kind": "partner-monthly", "period": "previous"}),
    "PartnerYearlyInvoices": ("cron(0 7 15 1 ? *)", {"kind": "partner-yearly", "period": "previous"}),
}


def test_the_invoice_runs_are_scheduled_in_berlin_time_with_their_input(template, translated):
    schedules = _schedules(template, translated)
    for event, (expression, payload) in INVOICE_RUNS.items():
        fid, declared, built = schedules[event]
        assert fid == "InvoiceRunFunction"
        assert (built["ScheduleExpression"], built["ScheduleExpressionTimezone"]) == (expression, "Europe/Berlin")
        assert json.loads(built["Target"]["Input"]) == payload == json.loads(declared["Input"])
        assert built["Target"]["Arn"] == {"Fn::GetAtt": [fid, "Arn"]}
    run = serverless_functions(template)["InvoiceRunFunction"]
    assert (run["CodeUri"], run["Handler"], run["Timeout"], run["MemorySize"]) == (
        "functions/invoice/",
        "app.run_handler",
        900,
        1024,
    )
    assert not any(e["Type"] == "Api" for e in run["Events"].values())
    invoice_api = serverless_functions(template)["InvoiceFunction"]
    assert (invoice_api["CodeUri"], invoice_api["Handler"]) == ("functions/invoice/", "app.handler")


def test_the_documents_bucket_is_write_once_for_eight_years_and_private(template, translated):
    declared = template["Resources"]["DocumentsBucket"]
    built = translated["DocumentsBucket"]
    for resource in (declared, built):
        assert resource["Type"] == "AWS::S3::Bucket"
        assert resource["DeletionPolicy"] == resource["UpdateReplacePolicy"] == "Retain"
        props = resource["Properties"]
        assert props["ObjectLockEnabled"] is True
        assert props["ObjectLockConfiguration"] == {
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Years": 8}},
        }
        assert props["VersioningConfiguration"] == {"Status": "Enabled"}
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
        [rule] = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    # Only the invoice functions know the bucket.
    lambdas = of_type(translated, "AWS::Lambda::Function")
    with_bucket = {
        fid for fid, fn in lambdas.items() if "DOCUMENTS_BUCKET" in fn["Properties"]["Environment"]["Variables"]
    }
    assert with_bucket == {"InvoiceFunction", "InvoiceRunFunction"}
    for fid in with_bucket:
        assert lambdas[fid]["Properties"]["Environment"]["Variables"]["DOCUMENTS_BUCKET"] == {"Ref": "DocumentsBucket"}


def test_only_the_invoice_functions_may_touch_the_documents(template):
    s3 = {
        fid: [
            st
            for policy in props.get("Policies", [])
            for st in policy["Statement"]
            if any(a.startswith("s3:") for a in st["Action"]) and "CheckpointsBucket" not in json.dumps(st["Resource"])
        ]
        for fid, props in serverless_functions(template).items()
    }
    assert {fid for fid, statements in s3.items() if statements} == {"InvoiceFunction", "InvoiceRunFunction"}
    for fid in ("InvoiceFunction", "InvoiceRunFunction"):
        granted = {(a, json.dumps(st["Resource"], sort_keys=True)) for st in s3[fid] for a in st["Action"]}
        # the statements' short-lived downloads (issue 11.1): written and read by the route's function only
        statements = json.dumps({"Fn::Sub": "${StatementsBucket.Arn}/statements/*"})
        if fid == "InvoiceFunction":
            assert {g for g in granted if "StatementsBucket" in g[1]} == {
                ("s3:PutObject", statements),
                ("s3:GetObject", statements),
            }
        granted = {g for g in granted if "StatementsBucket" not in g[1]}
        objects = json.dumps({"Fn::Sub": "${DocumentsBucket.Arn}/invoices/*"})
        bucket = json.dumps({"Fn::GetAtt": ["DocumentsBucket", "Arn"]})
        assert granted == {
            ("s3:PutObject", objects),
            ("s3:PutObjectRetention", objects),
            ("s3:GetObject", objects),
            ("s3:ListBucket", bucket),
            ("s3:ListBucketVersions", bucket),
        }, fid
        # never a way to shorten a retention or delete a document
        assert not any(
            a in ("s3:DeleteObject", "s3:DeleteObjectVersion", "s3:BypassGovernanceRetention", "s3:*")
            for a, _ in granted
        )


@pytest.mark.parametrize("settings", [BillingSettings, EligibilitySettings, StatementSettings])
def test_the_billing_settings_are_set_for_every_function_and_equal_the_code_defaults(template, translated, settings):
    """The issuer, VAT and rounding (BillingSettings), the eligibility (EligibilitySettings) and
    the statements' threshold (StatementSettings) in Globals are the code's defaults (an empty
    value means unset); the buckets are no globals."""
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    buckets = {"DOCUMENTS_BUCKET", "STATEMENTS_BUCKET"}
    names = {f.alias for f in settings.model_fields.values()} - buckets
    assert names <= variables.keys()
    assert not buckets & variables.keys()
    assert all(isinstance(variables[n], str) for n in names)  # CloudFormation wants strings
    from_template = settings.model_validate({n: variables[n] for n in names if variables[n] != ""})
    assert from_template == settings()
    for fid in serverless_functions(template):
        env = of_type(translated, "AWS::Lambda::Function")[fid]["Properties"]["Environment"]["Variables"]
        assert names <= env.keys(), fid


def test_checkpoints_are_signed_by_an_asymmetric_key_and_kept_write_once(template, translated):
    """Issue 12.2: an hourly function signs the log's head with an ECC P-256 KMS key and puts it
    once into its own Object Lock bucket; it can neither delete a checkpoint nor shorten its lock."""
    key = template["Resources"]["LogSigningKey"]
    assert key["Type"] == "AWS::KMS::Key" and key["DeletionPolicy"] == "Retain"
    assert key["Properties"]["KeyUsage"] == "SIGN_VERIFY" and key["Properties"]["KeySpec"] == "ECC_NIST_P256"
    bucket = template["Resources"]["CheckpointsBucket"]["Properties"]
    assert bucket["ObjectLockConfiguration"]["Rule"] == {"DefaultRetention": {"Mode": "COMPLIANCE", "Years": 10}}
    [schedule] = [
        r for r in of_type(translated, "AWS::Scheduler::Schedule").values() if "CheckpointFunction" in json.dumps(r)
    ]
    assert schedule["Properties"]["ScheduleExpression"] == "rate(1 hour)"
    functions = serverless_functions(template)
    granted = {
        fid: {a for policy in props.get("Policies", []) for st in policy["Statement"] for a in st["Action"]}
        for fid, props in functions.items()
    }
    assert granted["CheckpointFunction"] == {
        "dynamodb:GetItem",
        "s3:PutObject",
        "s3:GetObject",
        "s3:ListBucket",
        "kms:Sign",
    }
    assert {"kms:GetPublicKey", "s3:GetObject", "s3:ListBucket"} <= granted["AuditFunction"]
    assert not any("kms:Sign" in actions for fid, actions in granted.items() if fid != "CheckpointFunction")
    for fid in ("AuditFunction", "CheckpointFunction"):
        env = functions[fid]["Environment"]["Variables"]
        assert env == {"CHECKPOINTS_BUCKET": {"Ref": "CheckpointsBucket"}, "LOG_SIGNING_KEY": {"Ref": "LogSigningKey"}}
