"""Settings every test shares: no real AWS credentials, no metrics flushing, a fixed region;
`--clock`: the whole session on another day, to prove no test depends on today's date; and the
hypothesis profiles of the property tests (tests/domain/test_*_properties.py)."""

import os
from datetime import UTC, datetime

import pytest
import time_machine
from hypothesis import settings

os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "eu-central-1",
        "POWERTOOLS_METRICS_NAMESPACE": "NotfallTest",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_SERVICE_NAME": "notfall",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
)
os.environ.pop("AWS_ENDPOINT_URL", None)

# Property tests: `fixed` (the default) tries the same examples on every run, so `make test` is
# deterministic; HYPOTHESIS_PROFILE=long tries many more, new ones each run. No deadline: the
# clock may be moved (--clock) and a loaded machine is no failure.
settings.register_profile("fixed", max_examples=100, derandomize=True, database=None, deadline=None)
settings.register_profile("long", max_examples=5_000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "fixed"))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--clock",
        default=os.environ.get("NOTFALL_TEST_CLOCK") or None,
        metavar="MOMENT",
        help="run the session with the process clock moved to MOMENT (ISO 8601, UTC unless it "
        "names an offset, e.g. 2030-06-15T21:30 or 2027-01-01T00:30+01:00); it ticks on from "
        "there, for every thread (moto, the local stack). Also NOTFALL_TEST_CLOCK.",
    )


def clock_moment(config: pytest.Config) -> datetime | None:
    """The moment `--clock` named, aware, or None when the session runs on the real clock."""
    value = config.getoption("--clock")
    if not value:
        return None
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def pytest_configure(config: pytest.Config) -> None:
    moment = clock_moment(config)
    if moment is not None:
        # Before collection, so even module-level code sees the moved clock.
        config.stash[_TRAVEL] = traveller = time_machine.travel(moment, tick=True)
        traveller.start()


def pytest_unconfigure(config: pytest.Config) -> None:
    traveller = config.stash.get(_TRAVEL, None)
    if traveller is not None:
        traveller.stop()


@pytest.fixture(scope="session")
def clock_option(request: pytest.FixtureRequest) -> datetime | None:
    """Where `--clock` moved the session's clock to, or None on the real clock."""
    return clock_moment(request.config)


def pytest_report_header(config: pytest.Config) -> str | None:
    moment = clock_moment(config)
    return f"clock moved to {moment.isoformat()} (replay: --clock {config.getoption('--clock')})" if moment else None


_TRAVEL = pytest.StashKey[time_machine.travel]()
