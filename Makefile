# The two commands a newcomer needs: `make run` and `make test`. Everything else is for us.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha256sum requirements.lock | cut -c1-12)

.PHONY: run test bench lint typecheck lock venv clean-var

$(STAMP): requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "ecoach needs Python 3.11 (set PYTHON=/path/to/python3.11)")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "ecoach: installing the pinned dependencies into $(VENV) (requirements.lock, hashes checked)"
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
	@# The project itself, editable and without dependencies: the `ecoach-ops` command.
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@rm -f $(VENV)/.installed-*
	@touch $@

venv: $(STAMP)

run: venv
	@$(BIN)/python -m ecoach_dev.run

test: venv
	@$(BIN)/python -m ecoach_dev.testrun

# Every benchmark of the bench/ package, one after the other (bench/__main__.py). QUICK=1: small
# counts, to check that they run (reports under var/bench/quick/, not comparable).
bench: venv
	@$(BIN)/python -m bench $(if $(QUICK),--quick)

lint: venv
	@$(BIN)/ruff check .
	@$(BIN)/ruff format --check .
	@if [ -f ../shared/tools/archcheck.py ]; then $(BIN)/python ../shared/tools/archcheck.py .; fi

typecheck: venv
	@$(BIN)/mypy

# Re-pin every dependency (with hashes) after editing pyproject.toml; then the image's own lock,
# the same pins without the dev extra (deploy/Dockerfile installs it).
lock:
	@$(BIN)/pip install --quiet uv==0.13.9
	@$(BIN)/uv pip compile --python-version 3.11 --generate-hashes --extra dev pyproject.toml -o requirements.lock
	@$(BIN)/uv pip compile --python-version 3.11 --generate-hashes pyproject.toml -c requirements.lock -o deploy/requirements.lock

clean-var:
	@$(BIN)/python -m ecoach_dev.pg stop || true
	rm -rf var
