"""schemathesis against the local stack: every operation of the API's own OpenAPI document, with
valid and with invalid input, checked for server errors and for answers the document does not
describe (status, content type, body schema, headers).

`make test` runs a short seeded pass (tests/e2e/test_fuzz_api.py); a longer one is a command that
starts its own empty stack, or fuzzes a running one:

    .venv/bin/python -m infra.local.fuzz --examples 50 --seed 7
    .venv/bin/python -m infra.local.fuzz --url http://127.0.0.1:3000

Each case is sent once and judged, never shrunk: a failure is reported with a curl command
that repeats it, and the run goes on, so the summary counts every operation and case.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from infra.local.tokens import Tokens
from notfall.api.access import BY_KEY
from notfall.api.identity import Role

# The answer must match the document: these checks judge every case.
CONTRACT = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Input the document calls invalid must be refused with a 4xx, never taken.
REFUSES_INVALID = [negative_data_rejection]

Headers = Callable[[str, str], dict[str, str]]  # (method, path template) -> headers of a caller allowed there


@dataclass
class Failure:
    operation: str
    check: str
    status: int
    curl: str


@dataclass
class Summary:
    operations: int = 0
    cases: int = 0
    server_errors: int = 0
    violations: int = 0
    failures: list[Failure] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)

    def line(self) -> str:
        return (
            f"schemathesis: {self.operations} operations, {self.cases} cases, "
            f"{self.server_errors} server errors, {self.violations} responses violating the document"
        )

    def report(self) -> str:
        answers = ", ".join(f"{status}: {n}" for status, n in sorted(self.statuses.items()))
        lines = [self.line(), f"  answers by status: {answers}"]
        for f in self.failures[:50]:
            lines.append(f"  {f.operation}: {f.check} (answered {f.status})\n    {f.curl}")
        return "\n".join(lines)


# Each operation is fuzzed signed in as the first of these roles its declaration grants
# (notfall.api.access), so the cases reach the route and not just the role check; a route only
# caregivers or partners may call goes as the demo caregiver or partner (403 on others' ids).
_PREFERRED = (Role.PHONE_SYSTEM, Role.HOTLINE, Role.ACCOUNTING, Role.ADMIN, Role.AUDITOR, Role.CAREGIVER, Role.PARTNER)


def declared_role(method: str, path: str) -> str | None:
    declared = BY_KEY.get((method, path))
    if declared is None or declared.public:
        return None
    return next((r.value for r in _PREFERRED if r in declared.roles()), None)


def signed_in(tokens: Tokens) -> Headers:
    def headers_for(method: str, path: str) -> dict[str, str]:
        role = declared_role(method, path)
        return tokens.headers(role) if role else {}

    return headers_for


def fuzz(base_url: str, examples: int = 5, run_seed: int = 0, headers_for: Headers | None = None) -> Summary:
    """Fuzz every operation: `examples` valid and `examples` invalid cases each, from `run_seed`,
    signed in as a role that may call it (the stack's demo users) unless `headers_for` says otherwise."""
    headers_for = headers_for or signed_in(Tokens(base_url))
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    summary = Summary()
    session = requests.Session()
    for result in schema.get_all_operations():
        operation = result.ok()
        summary.operations += 1
        headers = headers_for(operation.method.upper(), operation.path)
        for mode, checks in (
            (GenerationMode.POSITIVE, CONTRACT),
            (GenerationMode.NEGATIVE, CONTRACT + REFUSES_INVALID),
        ):
            _fuzz_operation(operation, mode, checks, examples, run_seed, base_url, headers, session, summary)
    return summary


def _fuzz_operation(
    operation: Any,
    mode: GenerationMode,
    checks: list[Any],
    examples: int,
    run_seed: int,
    base_url: str,
    headers: dict[str, str],
    session: requests.Session,
    summary: Summary,
) -> None:
    @seed(run_seed)
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def one(case: Any) -> None:
        summary.cases += 1
        try:
            response = case.call(base_url=base_url, session=session, headers=headers, timeout=120)
        except requests.RequestException as err:  # no answer at all: as bad as a 5xx
            summary.server_errors += 1
            summary.failures.append(
                Failure(operation.label, f"no answer ({type(err).__name__})", 0, case.as_curl_command(headers=headers))
            )
            return
        summary.statuses[response.status_code] += 1
        try:
            case.validate_response(response, checks=checks, headers=headers)
        except AssertionError as failed:  # schemathesis' failures are AssertionErrors (a group of them)
            for problem in getattr(failed, "exceptions", [failed]):
                title = getattr(problem, "title", type(problem).__name__)
                if response.status_code >= 500:
                    summary.server_errors += 1
                else:
                    summary.violations += 1
                summary.failures.append(
                    Failure(operation.label, title, response.status_code, case.as_curl_command(headers=headers))
                )

    with contextlib.suppress(Unsatisfiable):  # nothing of the operation can be made invalid (no input)
        one()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.local.fuzz", description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="fuzz this running stack (default: start an empty one)")
    parser.add_argument("--examples", type=int, default=25, help="valid and invalid cases per operation, each")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.url:
        summary = fuzz(args.url.rstrip("/"), args.examples, args.seed)
    else:
        from infra.local.stack import LocalStack

        stack = LocalStack(port=0, parameters={"LogLevel": "ERROR"})
        stack.start()
        try:
            summary = fuzz(stack.url, args.examples, args.seed)
        finally:
            stack.stop()
    sys.stdout.write(summary.report() + "\n")
    return 0 if not summary.failures else 1


if __name__ == "__main__":
    sys.exit(main())
