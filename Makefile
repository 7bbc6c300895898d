# Two commands for a fresh machine: `make run` (local backend on moto, with demo data)
# and `make test` (the whole suite). Both install what they need into .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install lock run test lint bench clean run-history test-history

# The locks pin every package; the project itself goes in without dependencies of its own.
$(BIN)/.installed: requirements-dev.txt src/requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

install: $(BIN)/.installed

# Recompile the locks from the *.in files (README, "Dependencies"): the layer's first, then the
# dev lock constrained by it. --universal writes markers, so one lock serves this machine's
# Python 3.11 and the layer's 3.13. Versions already in a lock are kept unless an input changes.
LOCK := $(BIN)/uv pip compile --quiet --universal --python-version 3.11 --custom-compile-command "make lock"

lock: install
	$(LOCK) src/requirements.in -o src/requirements.txt
	$(LOCK) requirements-dev.in -c src/requirements.txt -o requirements-dev.txt

run: install
	$(BIN)/python -m infra.local

# The local stack with the generated history of 2014-09-01 to 2022-02-28 instead of the demo
# (docs/history.md); the history's tests on the published span (about half a minute more).
run-history: install
	$(BIN)/python -m infra.local --history

test-history: install
	NOTFALL_FULL_HISTORY=1 $(BIN)/python -m pytest tests/history tests/aws/test_history_copy.py

# After the normal pass, `make test` runs the whole suite again on other days: the process clock
# moved (tests/conftest.py --clock) to a random moment of 2027 and one of 2030, printed so that a
# failure can be replayed: make test CLOCK_DAYS="2027-03-28T00:30Z 2030-12-31T22:59Z". No test may
# depend on today's date.
CLOCK_DAYS ?= $(shell $(PYTHON) -c 'import random; from datetime import datetime, timedelta; \
	print(*((datetime(y, 1, 1) + timedelta(minutes=random.randrange((datetime(y + 1, 1, 1) - datetime(y, 1, 1)).days * 1440))).strftime("%Y-%m-%dT%H:%MZ") for y in (2027, 2030)))')

# Style and types first (seconds), then the suite. cfn-lint runs inside the suite
# (tests/aws/test_template.py), without its rules that read today's date.
test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy src
	$(BIN)/python -m pytest
	@for moment in $(CLOCK_DAYS); do \
		echo "=== the whole suite again, the clock moved to $$moment (replay: make test CLOCK_DAYS=$$moment)"; \
		$(BIN)/python -m pytest --clock $$moment || exit 1; \
	done

# Style, types and the template with every cfn-lint rule, those that read today's date included
# (a runtime past its end of life). Settings in pyproject.toml.
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy src
	$(BIN)/cfn-lint template.yaml

bench: install
	$(BIN)/python -m bench.commands
	$(BIN)/python -m bench.projection
	$(BIN)/python -m bench.local_stack

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
