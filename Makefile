# kotoeval: every target sets up what it needs, from a clean clone, with nothing installed by hand.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
CONSTRAINTS := requirements/constraints.txt
STAMP := $(VENV)/.installed
DEMO_OUT ?= out/demo

.PHONY: help setup java chromium demo test lint typecheck contracts unit bench lock clean

help:
	@echo "make demo   - set up, then world → ingest → OSKE and KOSKE studies → release → reports"
	@echo "make test   - set up, run the test suite, ruff, mypy and the zone import contracts"
	@echo "make bench  - run the benchmarks in benchmarks/ (time and peak memory)"
	@echo "make lock   - refresh $(CONSTRAINTS) from a fresh resolution (maintainers only)"

$(STAMP): pyproject.toml $(CONSTRAINTS)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade -c $(CONSTRAINTS) pip hatchling editables wheel
	$(BIN)/python -m pip install --quiet --no-build-isolation -c $(CONSTRAINTS) -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP)

# The Spark engine (and its parity tests) needs Java 17 or newer.
java:
	@command -v java >/dev/null 2>&1 || { \
		echo "Installing Java 17 (openjdk-17-jre-headless) for the Spark engine"; \
		SUDO=$$(test "$$(id -u)" -eq 0 || echo sudo); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq openjdk-17-jre-headless; }

# The report's PDF and its browser tests need headless Chromium; pdftotext checks the PDF.
chromium:
	@{ command -v chromium >/dev/null 2>&1 && command -v pdftotext >/dev/null 2>&1; } || { \
		echo "Installing Chromium and poppler-utils for the report's PDF and browser tests"; \
		SUDO=$$(test "$$(id -u)" -eq 0 || echo sudo); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium poppler-utils; }

demo: $(STAMP)
	$(BIN)/kotoeval demo --out $(DEMO_OUT)

test: lint typecheck contracts unit

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

contracts: $(STAMP)
	$(BIN)/lint-imports

unit: $(STAMP) java chromium
	$(BIN)/pytest -q

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

lock:
	rm -rf /tmp/kotoeval-lock && $(PYTHON) -m venv /tmp/kotoeval-lock
	/tmp/kotoeval-lock/bin/python -m pip install --quiet --upgrade pip hatchling editables wheel
	/tmp/kotoeval-lock/bin/python -m pip install --quiet --no-build-isolation -e ".[dev]"
	/tmp/kotoeval-lock/bin/python -m pip freeze --exclude-editable --all > $(CONSTRAINTS)

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
