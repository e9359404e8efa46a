# HerdSec: every target sets itself up (virtualenv, install, browser); nothing is installed by hand.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml setup.py src/herdsec/scan/_prefilter.c | sha1sum | cut -c1-12)
PORT ?= 8000
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help setup browser demo serve test test-fast test-browser lint bench i18n clean consumers

help:  ## Show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml setup.py src/herdsec/scan/_prefilter.c
	@PYTHON=$(PYTHON) scripts/install-compiler.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[server,dev]"
	rm -f $(VENV)/.installed-*
	touch $@

setup: $(STAMP)  ## Create .venv and install HerdSec with its server and dev extras

browser:  ## Install Debian's Chromium for the browser tests (skipped when present)
	@test -x /usr/bin/chromium || scripts/install-chromium.sh

consumers:  ## Install Debian's BIND and nftables, the real consumers of the detection exports (skipped when present)
	@scripts/install-bind.sh

demo: setup  ## Recreate the demo database and serve the hub on http://127.0.0.1:$(PORT)/
	HERDSEC_MODE=demo $(BIN)/herdsec demo --port $(PORT)

serve: setup  ## Serve ./herdsec.db in dev mode
	HERDSEC_MODE=dev $(BIN)/herdsec serve --port $(PORT)

lint: setup  ## ruff and mypy --strict
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

test: setup browser consumers lint  ## Lint, types, the whole suite on SQLite and (when reachable) PostgreSQL, browser tests
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

test-fast: setup  ## The suite without the browser tests
	$(BIN)/python -m pytest -q -m "not browser" $(PYTEST_ARGS)

test-browser: setup browser  ## Only the browser tests
	$(BIN)/python -m pytest -q -m browser $(PYTEST_ARGS)

bench: setup  ## Benchmarks against the peers named in the issues (results: docs/performance.md)
	$(BIN)/python -m benchmarks

i18n: setup  ## Extract messages and update the Vietnamese catalogue (then translate the new entries)
	$(BIN)/pybabel extract -F babel.cfg -o src/herdsec/locale/messages.pot --no-location --sort-output --width 120 --project HerdSec .
	$(BIN)/pybabel update -i src/herdsec/locale/messages.pot -d src/herdsec/locale -l vi --no-fuzzy-matching --ignore-obsolete --width 120

clean:  ## Remove the virtualenv and caches
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis herdsec-demo.db*
