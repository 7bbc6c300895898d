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

test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/cfn-lint template.yaml

bench: install
	$(BIN)/python -m bench.commands
	$(BIN)/python -m bench.projection

clean:
	rm -rf $(VENV) .pytest_cache
