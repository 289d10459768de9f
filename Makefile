# snpapp: the two set-up commands are `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SNPAPP := $(BIN)/snpapp
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck unit integration system-deps-demo system-deps-test bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev]"
	@touch $@

system-deps-demo:
	@scripts/system-deps.sh demo

system-deps-test:
	@scripts/system-deps.sh test

## demo: render the report for the bundled example results and print the PDF's path
demo: system-deps-demo $(STAMP)
	$(SNPAPP) report examples/host-sysbench/results.csv --out report
	@echo "PDF: $(CURDIR)/report/report.pdf"

## test: install what is needed, lint, type-check, run every test
test: system-deps-test $(STAMP) lint typecheck
	$(BIN)/python -m pytest -q tests

lint: $(STAMP)
	$(BIN)/ruff check snpappliance tests benchmarks
	$(BIN)/ruff format --check snpappliance tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/python -m pytest -q tests/unit

integration: $(STAMP)
	$(BIN)/python -m pytest -q tests/integration

bench: $(STAMP)
	$(BIN)/python benchmarks/report_bench.py

clean:
	rm -rf $(VENV) report .mypy_cache .ruff_cache .pytest_cache
