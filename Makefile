# Two commands for a fresh machine: `make run` (local backend on moto, with demo data)
# and `make test` (the whole suite). Both install what they need into .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install run test lint bench clean

$(BIN)/.installed: requirements-dev.txt src/requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt -e .
	touch $@

install: $(BIN)/.installed

run: install
	$(BIN)/python -m infra.local

# After the normal pass, `make test` runs the whole suite again on other days: the process clock
# moved (tests/conftest.py --clock) to a random moment of 2027 and one of 2030, printed so that a
# failure can be replayed: make test CLOCK_DAYS="2027-03-28T00:30Z 2030-12-31T22:59Z". No test may
# depend on today's date.
CLOCK_DAYS ?= $(shell $(PYTHON) -c 'import random; from datetime import datetime, timedelta; \
	print(*((datetime(y, 1, 1) + timedelta(minutes=random.randrange((datetime(y + 1, 1, 1) - datetime(y, 1, 1)).days * 1440))).strftime("%Y-%m-%dT%H:%MZ") for y in (2027, 2030)))')

test: install
	$(BIN)/python -m pytest
	@for moment in $(CLOCK_DAYS); do \
		echo "=== the whole suite again, the clock moved to $$moment (replay: make test CLOCK_DAYS=$$moment)"; \
		$(BIN)/python -m pytest --clock $$moment || exit 1; \
	done

lint: install
	$(BIN)/cfn-lint template.yaml

bench: install
	$(BIN)/python -m bench.commands
	$(BIN)/python -m bench.projection

clean:
	rm -rf $(VENV) .pytest_cache
