# The project's commands. `make demo` and `make test` are all a new machine needs.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

# aws-cdk-lib runs on Node through jsii; Node 20 is supported by the pinned release.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
# Each test worker imports the whole project on every run; keep the compiled bytecode even where
# the environment turns caching off, so later runs skip compiling it again.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: help install demo test lint format synth ls openapi clean bench moto-drift

help: ## List the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml .python-version
	@python="$$(scripts/find_python.sh)" && \
	  { [ -x $(PY) ] && $(PY) -c 'import sys' 2>/dev/null || "$$python" -m venv --clear $(VENV); }
	$(PY) -m pip install --quiet --upgrade 'pip>=25.1'
	$(PY) -m pip install --quiet --group dev
	$(PY) -m pip install --quiet --no-deps --editable .
	@# The ETL's layer (pyiceberg, pyarrow as arm64 wheels), built once per set of pins and kept
	@# in .cache/layers, so no synth (the suite synthesizes often) downloads it.
	$(PY) -m infra.constructs.dependency_layer etl-layer
	@touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

install: $(VENV)/.installed node_modules/.installed ## Create or refresh .venv and the pinned CDK CLI

synth: install ## Synthesize every stack into cdk.out/ with the CDK CLI (cdk-nag runs; a finding fails)
	npx cdk synth --quiet

ls: install ## List the stacks
	npx cdk ls

demo: install synth ## Run every finished pattern's scenario locally on moto and print what happened
	$(PY) -m demo

lint: install ## ruff check + ruff format --check + the architecture's import contracts
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	PYTHONPATH=.:functions $(VENV)/bin/lint-imports --no-cache

# One worker more than cores: end-to-end tests spend part of their time waiting (the CDK CLI's
# subprocesses, delivery on scaled real time), which the extra worker fills (on 2 cores: 137 s
# with 2 workers, 117 s with 3). A module's tests stay on one worker, so a module-scoped server
# or deploy is set up once. pytest exits 5 when it collects no test, which fails the target as
# any failure.
TEST_WORKERS ?= $(shell echo $$(( $$(nproc) + 1 )))
test: install lint ## Run the whole test suite in parallel (unit, functional, infra, lint)
	$(VENV)/bin/pytest -n $(TEST_WORKERS) --dist loadscope $(PYTEST_ARGS)

format: install ## Apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

openapi: install ## Regenerate docs/request_response/openapi.json from the API's code
	$(PY) scripts/export_openapi.py

bench: $(VENV)/.installed ## Time localcloud (invoke, SQS and Kinesis delivery, Step Functions, REST API, the order saga on both workflows), the event store and the ETL figures (BENCH_ARGS=--help)
	$(PY) -m bench.localcloud_bench $(BENCH_ARGS)
	PYTHONPATH=functions:. $(PY) -m bench.event_sourcing_bench

MOTO_DRIFT_VENV := .venv-moto-drift

moto-drift: ## Run localcloud's tests on the newest moto release (a separate venv; moto stays pinned)
	@python="$$(scripts/find_python.sh)" && "$$python" -m venv --clear $(MOTO_DRIFT_VENV)
	$(MOTO_DRIFT_VENV)/bin/python -m pip install --quiet --upgrade 'pip>=25.1'
	$(MOTO_DRIFT_VENV)/bin/python -m pip install --quiet --group dev
	$(MOTO_DRIFT_VENV)/bin/python -m pip install --quiet --upgrade 'moto[server]'
	@$(MOTO_DRIFT_VENV)/bin/python -c 'import moto; print("localcloud against moto", moto.__version__)'
	$(MOTO_DRIFT_VENV)/bin/pytest -p no:cacheprovider -p no:xdist tests/unit/localcloud tests/localcloud

clean: ## Remove generated files (keeps .venv and node_modules)
	rm -rf cdk.out .pytest_cache .ruff_cache
