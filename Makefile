# The two commands of README.md: `make quickstart` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: venv quickstart test lint typecheck pytest bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

venv: $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'

quickstart: venv
	$(BIN)/python -m dflow_nb.examples.quickstart

lint: venv
	$(BIN)/ruff check dflow_nb tests bench
	$(BIN)/ruff format --check dflow_nb tests bench

typecheck: venv
	$(BIN)/mypy

pytest: venv
	$(BIN)/pytest -q tests notebooks --nbval-lax

test: lint typecheck pytest

bench: venv
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache
