"""Loads each function's handler from CodeUri + Handler and invokes it with a Lambda-like context."""

from __future__ import annotations

import importlib.util
import logging
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from aws_lambda_powertools import Metrics

from infra.local.aws import ACCOUNT_ID, REGION
from infra.local.resources import Resources, physical_name
from infra.local.template import Function

log = logging.getLogger("infra.local")

# Lambda runs one event per instance at a time, and the handlers keep per-process state
# (powertools' resolver holds the current event, the logger its keys, metrics one global set).
# All functions share this one process, so invocations take turns.
_INVOKE_LOCK = threading.Lock()


@dataclass
class LambdaContext:
    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    aws_request_id: str
    deadline: float
    function_version: str = "$LATEST"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return f"local/[$LATEST]{self.aws_request_id[:8]}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


@dataclass
class LoadedFunction:
    spec: Function
    module: ModuleType
    environment: dict[str, str]

    @property
    def name(self) -> str:
        return physical_name(self.spec.logical_id)

    @property
    def arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.name}"

    @property
    def handler(self) -> Callable[[dict[str, Any], Any], Any]:
        # Looked up per call, so a test can monkeypatch the module and the next event sees it.
        return getattr(self.module, self.spec.handler.rsplit(".", 1)[1])

    def context(self) -> LambdaContext:
        return LambdaContext(
            self.name, self.spec.memory, self.arn, str(uuid.uuid4()), time.monotonic() + self.spec.timeout
        )

    def invoke(self, event: dict[str, Any]) -> Any:
        with _INVOKE_LOCK:
            context = self.context()  # the clock starts when the handler does, not while it queues
            started = time.monotonic()
            try:
                result = self.handler(event, context)
            finally:
                _drop_disabled_metrics(self.module)
            took = time.monotonic() - started
        if took > self.spec.timeout:
            # A thread cannot be stopped from outside; say loudly what Lambda would have killed.
            log.warning(
                "%s took %.1fs, over its Timeout of %ss: Lambda would have stopped it",
                self.spec.logical_id,
                took,
                self.spec.timeout,
            )
        return result


def resolved_environment(fn: Function, resources: Resources) -> dict[str, str]:
    return {name: str(resources.resolve(value)) for name, value in fn.environment.items()}


def load_function(fn: Function, environment: dict[str, str]) -> LoadedFunction:
    """Import the handler's file under a module name of its own (two functions may share a file).

    Handlers build their boto3 clients and settings at import, so the function's environment
    goes into os.environ first, as the Lambda runtime has it before the init phase.
    """
    file_stem, _ = fn.handler.rsplit(".", 1)
    path = fn.code_uri / (file_stem.replace(".", "/") + ".py")
    os.environ.update(environment)
    module_name = f"_local_fn_{fn.logical_id}_{file_stem.replace('.', '_')}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"{fn.logical_id}: cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # as an import would: tools that look a module up by name find it
    spec.loader.exec_module(module)
    return LoadedFunction(fn, module, environment)


def load_all(functions: list[Function], resources: Resources) -> dict[str, LoadedFunction]:
    loaded: dict[str, LoadedFunction] = {}
    seen: dict[str, tuple[str, str]] = {}
    for fn in functions:
        env = resolved_environment(fn, resources)
        for name, value in env.items():
            # One process has one os.environ: a variable two functions set differently would leak.
            if name in seen and seen[name][1] != value:
                log.warning(
                    "%s and %s set %s differently; locally the last one loaded wins", seen[name][0], fn.logical_id, name
                )
            seen[name] = (fn.logical_id, value)
        loaded[fn.logical_id] = load_function(fn, env)
    return loaded


def _drop_disabled_metrics(module: Any) -> None:
    """The stack disables metrics (POWERTOOLS_METRICS_DISABLED), and powertools then keeps every
    value it is given, clearing only what it prints: after 100 values of a metric it prints them
    anyway, and memory grows. Lambda would have printed and cleared them at the end of the
    invocation; here they are dropped."""
    for value in vars(module).values():
        if isinstance(value, Metrics):
            value.clear_metrics()
