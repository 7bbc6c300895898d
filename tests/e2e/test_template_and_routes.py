"""What the local stack reads from template.yaml, and how it matches paths the way API Gateway does."""

from __future__ import annotations

import pytest
import yaml

from infra.local.apigw import Route, find_route
from infra.local.template import CfnLoader, Template, merge_globals

pytestmark = pytest.mark.e2e


def test_short_tags_load_as_their_long_form():
    doc = yaml.load(
        "a: !Ref T\nb: !GetAtt T.StreamArn\nc: !Sub '${T.Arn}/index/Q'\nd: !Join [',', [x, y]]\n", Loader=CfnLoader
    )
    assert doc == {
        "a": {"Ref": "T"},
        "b": {"Fn::GetAtt": ["T", "StreamArn"]},
        "c": {"Fn::Sub": "${T.Arn}/index/Q"},
        "d": {"Fn::Join": [",", ["x", "y"]]},
    }


def test_globals_merge_into_functions_and_the_functions_own_values_win():
    merged = merge_globals(
        {"Timeout": 10, "Environment": {"Variables": {"A": "g", "B": "g"}}},
        {"Timeout": 60, "Environment": {"Variables": {"B": "own"}}},
    )
    assert merged == {"Timeout": 60, "Environment": {"Variables": {"A": "g", "B": "own"}}}


def test_the_template_gives_every_function_the_global_environment():
    functions = {fn.logical_id: fn for fn in Template.load().functions}
    projector = functions["ProjectorFunction"]
    assert projector.timeout == 60 and projector.memory == 512
    assert projector.environment["EVENTS_TABLE"] == {"Ref": "EventStoreTable"}
    assert [e.type for e in projector.events] == ["DynamoDB"]


def test_routes_prefer_literal_segments_then_parameters_then_greedy():
    routes = sorted(
        [Route("GET", path, None, path) for path in ("/{proxy+}", "/cases/{case_id}", "/cases/open", "/files/{key+}")],
        key=Route.specificity,
    )
    assert find_route(routes, "GET", "/cases/open", "v1")[0].resource == "/cases/open"
    route, params, _ = find_route(routes, "GET", "/v1/cases/c%2D1", "v1")
    assert (route.resource, params) == ("/cases/{case_id}", {"case_id": "c-1"})
    route, params, _ = find_route(routes, "GET", "/files/a/b.txt", "v1")
    assert (route.resource, params) == ("/files/{key+}", {"key": "a/b.txt"})
    assert find_route(routes, "GET", "/anything/else", "v1")[0].resource == "/{proxy+}"
    assert find_route(routes, "POST", "/cases/open", "v1") is None


def test_the_local_stack_runs_every_function_with_the_tracer_off(stack):
    """No X-Ray daemon here: the stack deploys the template with Tracing=Disabled."""
    assert stack.parameters["Tracing"] == "Disabled"
    assert {fn.environment["POWERTOOLS_TRACE_DISABLED"] for fn in stack.functions.values()} == {"true"}
