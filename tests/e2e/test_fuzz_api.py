"""The short seeded schemathesis pass of `make test`: every operation of the API's OpenAPI document,
valid and invalid input, against a fresh local stack in its own process (so the generated
partners, cases and runs never meet the other walks' data). Longer runs: `python -m infra.local.fuzz`."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from infra.local.template import Template

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SEED = os.environ.get("FUZZ_SEED", "20261203")
EXAMPLES = os.environ.get("FUZZ_EXAMPLES", "3")
SUMMARY = re.compile(
    r"schemathesis: (\d+) operations, (\d+) cases, (\d+) server errors, (\d+) responses violating the document"
)


def test_every_operation_fuzzed_without_server_errors_or_answers_the_document_does_not_describe(
    capsys: pytest.CaptureFixture[str],
) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "infra.local.fuzz", "--examples", EXAMPLES, "--seed", SEED],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    found = SUMMARY.search(run.stdout)
    assert found, run.stdout + run.stderr
    with capsys.disabled():
        answers = re.search(r"answers by status: .*", run.stdout)
        print(f"\n{found.group(0)} (seed {SEED}, {EXAMPLES} valid and {EXAMPLES} invalid cases per operation)")
        print(answers.group(0) if answers else "")
    operations, cases, server_errors, violations = (int(g) for g in found.groups())
    routes = sum(len(fn.events_of("Api")) for fn in Template.load().functions)
    assert operations == routes - 2  # every route but the two that serve the document itself
    assert cases >= operations * int(EXAMPLES)
    assert (server_errors, violations) == (0, 0), run.stdout
    assert run.returncode == 0, run.stdout + run.stderr
