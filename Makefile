# Two commands for users: `make dev` (local stack) and `make test` (every test, lint and type check).
# Everything installs itself into .venv/ (the project) and .tools/ (uv and SAM CLI, kept apart
# because aws-sam-cli pins its own boto3 and click).
SHELL := /bin/bash
.DEFAULT_GOAL := help
export UV_PYTHON_DOWNLOADS := never
export AWS_DEFAULT_REGION ?= us-east-1
export SAM_CLI_TELEMETRY := 0

PY313 = $(shell scripts/find-python313)
UV := $(shell command -v uv 2>/dev/null || echo .tools/uv/bin/uv)
# Recipes (and `sam build`'s make for the layer) find the uv installed into .tools/ too.
export PATH := $(CURDIR)/.tools/uv/bin:$(PATH)
VENV := .venv
SAM := .tools/sam/bin/sam

.PHONY: help dev test bench bench-cold bench-scale capacity openapi lint typecheck template build-check requirements check-layer-requirements pytest clean

help:
	@echo "make dev    run the local stack (PostgreSQL, PostgREST + JWKS, SQS, Apify stand-ins, API, worker)"
	@echo "make test   run every test, lint and type check"
	@echo "make capacity  daily ceilings and cost of the template's capacity parameters"

.tools/uv/bin/uv:
	python3 -m venv .tools/uv
	.tools/uv/bin/pip install --quiet --disable-pip-version-check uv

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --python "$(PY313)"
	@touch $@

$(SAM): | $(UV)
	$(UV) venv --quiet --allow-existing .tools/sam --python "$(PY313)"
	$(UV) pip install --quiet --python .tools/sam/bin/python "aws-sam-cli>=1.140,<2"

dev: $(VENV)/.synced
	$(VENV)/bin/python -m devstack up

lint: $(VENV)/.synced
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(VENV)/.synced
	$(VENV)/bin/mypy layers/common/creator_sync functions devstack tests scripts benchmarks

# The layer ships what the functions import. Left out (docs/decisions.md): boto3/botocore/s3transfer,
# which the python3.13 Lambda runtime provides; and what no function ever imports
# (scripts/check_layer_imports.py exercises every path that imports lazily): dnspython,
# email-validator, pycparser.
LAYER_EXCLUDES := boto3 botocore s3transfer dnspython email-validator pycparser
EXPORT := $(UV) export --frozen --no-dev --no-hashes --no-emit-project --no-header --format requirements-txt \
	$(foreach p,$(LAYER_EXCLUDES),--no-emit-package $(p))

requirements: | $(UV)
	$(EXPORT) -o layers/common/requirements.txt >/dev/null

# The layer's requirements.txt is generated from uv.lock: fail when the checked-in copy drifts.
check-layer-requirements: | $(UV)
	@$(EXPORT) | diff -u layers/common/requirements.txt - \
		|| { echo "layers/common/requirements.txt drifted from uv.lock: run 'make requirements'"; exit 1; }

template: $(VENV)/.synced $(SAM)
	$(VENV)/bin/cfn-lint template.yaml
	$(SAM) validate --lint --template template.yaml

# sam build needs a python3.13 first on PATH; the layer build (layers/common/Makefile) byte-compiles.
build-check: $(SAM) $(VENV)/.synced
	PATH="$(dir $(PY313)):$$PATH" $(SAM) build --template template.yaml --build-dir .aws-sam/build --no-cached
	$(VENV)/bin/python scripts/check_built_layer.py .aws-sam/build
	$(VENV)/bin/python -m scripts.check_layer_imports

# pytest exits 5 when it collected nothing: that is a failure here, never a pass.
pytest: $(VENV)/.synced
	$(VENV)/bin/python -m pytest; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; exit 1; fi; exit $$rc

test: lint typecheck check-layer-requirements template build-check pytest

# Benchmarks (not part of `make test`): builds the layer for this machine's architecture too.
bench: $(VENV)/.synced
	$(VENV)/bin/python -m benchmarks.run

# The API's OpenAPI document, committed for front ends (make test fails when it drifts).
openapi: $(VENV)/.synced
	PYTHONPATH=layers/common:functions $(VENV)/bin/python -m scripts.export_openapi

# Cold start as Lambda pays it: init + first request, ours and the naive stack side by side.
bench-cold: $(VENV)/.synced
	$(VENV)/bin/python -m benchmarks.lambda_cold_start | tee benchmarks/cold_start.json

# Scale benchmarks: RPCs at 1,000,000 rows and a 10,000-creator drain on the local stack (~15 min).
bench-scale: $(VENV)/.synced
	$(VENV)/bin/python -m benchmarks.scale | tee benchmarks/scale.json

# The capacity model for the template's parameters (or ARGS="--param Name=Value --creators N").
capacity: $(VENV)/.synced
	PYTHONPATH=layers/common $(VENV)/bin/python -m scripts.capacity $(ARGS)

clean:
	rm -rf .aws-sam .devstack .mypy_cache .ruff_cache
