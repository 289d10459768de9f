# snpapp: the two set-up commands are `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SNPAPP := $(BIN)/snpapp
STAMP := $(VENV)/.installed
# Debian mirror for the bootstrapped base image. Debian's live mirror is recorded
# as not bit-reproducible; `make demo DEBIAN_MIRROR=` uses the stack's pinned
# snapshot.debian.org date instead. A build remembers its mirror in
# artifacts/<stack>/debian-mirror: `snpapp build` typed later, without this
# variable, uses the same one and reuses what the demo built.
DEBIAN_MIRROR ?= http://deb.debian.org/debian
export SNPAPP_DEBIAN_MIRROR := $(DEBIAN_MIRROR)

.PHONY: demo example-report e2e-build e2e-deploy test lint typecheck unit integration system-deps-demo system-deps-test system-deps-e2e-deploy bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev]"
	$(BIN)/python -m compileall -q snpappliance
	@touch $@

system-deps-demo:
	@scripts/system-deps.sh demo

system-deps-test:
	@scripts/system-deps.sh test

system-deps-e2e-deploy:
	@scripts/system-deps.sh e2e-deploy

## demo: build the benchmark guest, run the built-in local campaign, render its report
demo: system-deps-demo $(STAMP)
	@scripts/ensure-dockerd.sh
	$(SNPAPP) build guest --stack debian-bookworm
	$(SNPAPP) campaign
	$(SNPAPP) report
	@echo
	@echo "snpapp is in $(VENV)/bin. To go on, type (in $(CURDIR)):"
	@echo "  . $(VENV)/bin/activate"
	@echo "  snpapp campaign status"
	@echo "  snpapp --help"
	@echo "(or type $(SNPAPP) instead of snpapp; builds by hand reuse the demo's Debian mirror, remembered in artifacts/debian-bookworm/debian-mirror)"

## example-report: the report of the bundled host measurements (no guest, no Docker)
example-report: $(STAMP)
	$(SNPAPP) report examples/host-sysbench/results.csv --out report-example

## e2e-build: build the debian-bookworm stack's OVMF, kernel and QEMU for real
## (root + Docker; about an hour on 2 cores; not part of `make test`)
e2e-build: system-deps-test $(STAMP)
	@scripts/ensure-dockerd.sh
	$(SNPAPP) stacks --check --stack debian-bookworm
	$(SNPAPP) build base --stack debian-bookworm
	time $(SNPAPP) build ovmf --stack debian-bookworm
	time $(SNPAPP) build kernel --stack debian-bookworm
	time $(SNPAPP) build qemu --stack debian-bookworm

## e2e-deploy: `snpapp deploy --reboot` and `--rollback --reboot` for real, against a
## throwaway Debian VM (QEMU TCG, OVMF, GRUB); root; about 15 minutes; not part of `make test`
e2e-deploy: system-deps-e2e-deploy $(STAMP)
	$(BIN)/python -m tests.e2e.deploy_vm

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
	$(BIN)/python benchmarks/startup_bench.py
	$(BIN)/python benchmarks/report_bench.py
	$(BIN)/python benchmarks/build_bench.py
	$(BIN)/python benchmarks/campaign_bench.py --reps 5

clean:
	rm -rf $(VENV) report report-example .mypy_cache .ruff_cache .pytest_cache
