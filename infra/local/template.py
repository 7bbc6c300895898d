"""Reads template.yaml into what the local stack needs: tables, queues, buckets, functions and their events."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"

FUNCTION = "AWS::Serverless::Function"
TABLE = "AWS::DynamoDB::Table"
QUEUE = "AWS::SQS::Queue"
BUCKET = "AWS::S3::Bucket"
KMS_KEY = "AWS::KMS::Key"


class CfnLoader(yaml.SafeLoader):
    """SafeLoader that turns CloudFormation short tags (!Ref, !GetAtt, !Sub...) into their long form."""


def _intrinsic(loader: CfnLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)  # the short form writes "Resource.Attribute"
    return {f"Fn::{suffix}": value}


CfnLoader.add_multi_constructor("!", _intrinsic)


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    return yaml.load(path.read_text(), Loader=CfnLoader)


@dataclass(frozen=True)
class Event:
    """One entry under a function's Events: an Api route, a DynamoDB stream, a schedule."""

    name: str
    type: str
    properties: dict[str, Any]


@dataclass(frozen=True)
class Function:
    logical_id: str
    properties: dict[str, Any]  # Globals.Function merged in
    events: list[Event] = field(default_factory=list)

    @property
    def code_uri(self) -> Path:
        return ROOT / self.properties["CodeUri"]

    @property
    def handler(self) -> str:
        return self.properties["Handler"]

    @property
    def timeout(self) -> int:
        return int(self.properties.get("Timeout", 3))  # 3 s is Lambda's default

    @property
    def memory(self) -> int:
        return int(self.properties.get("MemorySize", 128))

    @property
    def environment(self) -> dict[str, Any]:
        """Unresolved variables (intrinsics still in place)."""
        return self.properties.get("Environment", {}).get("Variables", {})

    def events_of(self, *types: str) -> list[Event]:
        return [e for e in self.events if e.type in types]


def merge_globals(globals_fn: dict[str, Any], own: dict[str, Any]) -> dict[str, Any]:
    """SAM's rule in short: the function's own value wins; Environment variables merge by name."""
    merged = {**copy.deepcopy(globals_fn), **copy.deepcopy(own)}
    variables = {
        **globals_fn.get("Environment", {}).get("Variables", {}),
        **own.get("Environment", {}).get("Variables", {}),
    }
    if variables:
        merged["Environment"] = {"Variables": copy.deepcopy(variables)}
    return merged


@dataclass(frozen=True)
class Template:
    raw: dict[str, Any]

    @classmethod
    def load(cls, path: Path = TEMPLATE) -> Template:
        return cls(load_template(path))

    @property
    def resources(self) -> dict[str, Any]:
        return self.raw["Resources"]

    def of_type(self, type_: str) -> dict[str, dict[str, Any]]:
        return {name: res for name, res in self.resources.items() if res["Type"] == type_}

    @property
    def globals_function(self) -> dict[str, Any]:
        return self.raw.get("Globals", {}).get("Function", {})

    def parameter_defaults(self) -> dict[str, Any]:
        return {name: p.get("Default") for name, p in self.raw.get("Parameters", {}).items()}

    @property
    def functions(self) -> list[Function]:
        out = []
        for logical_id, res in self.of_type(FUNCTION).items():
            props = merge_globals(self.globals_function, res.get("Properties", {}))
            events = [Event(name, ev["Type"], ev.get("Properties", {})) for name, ev in props.get("Events", {}).items()]
            out.append(Function(logical_id, props, events))
        return out

    def route_auth(self, event: Event) -> tuple[str | None, tuple[str, ...]]:
        """(authorizer, AuthorizationScopes) of an Api event: its own Auth, else its API's
        DefaultAuthorizer; None for `Authorizer: NONE` or an API without one."""
        api_ref = event.properties.get("RestApiId")
        api_id = api_ref.get("Ref") if isinstance(api_ref, dict) else None
        api_auth = self.resources.get(api_id, {}).get("Properties", {}).get("Auth", {}) if api_id else {}
        own = event.properties.get("Auth", {})
        authorizer = own.get("Authorizer", api_auth.get("DefaultAuthorizer"))
        if authorizer in (None, "NONE"):
            return None, ()
        scopes = own.get(
            "AuthorizationScopes", api_auth.get("Authorizers", {}).get(authorizer, {}).get("AuthorizationScopes", [])
        )
        return authorizer, tuple(scopes)

    def authorizer(self, event: Event, name: str) -> dict[str, Any]:
        """The declaration of an authorizer of the event's API (UserPoolArn, Identity...)."""
        api_id = event.properties["RestApiId"]["Ref"]
        return self.resources[api_id]["Properties"]["Auth"]["Authorizers"][name]

    def api_paths(self) -> list[tuple[str, str]]:
        """(method, path) of every Api event in the template."""
        return [
            (e.properties["Method"].upper(), e.properties["Path"]) for fn in self.functions for e in fn.events_of("Api")
        ]
