# Two commands for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DEMO_DIR ?= demo-output

.PHONY: demo test lint bench install install-test test-tools clean

$(VENV)/bin/activate:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/activate
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(VENV)/bin/activate
	$(PY) -m pip install --quiet -e ".[test]"
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

demo: install
	$(VENV)/bin/gapwatch demo --out $(DEMO_DIR)

# Browser and PDF tests drive Debian's chromium and read PDFs with poppler's pdftotext:
# installed here when this is root on a Debian-like system; elsewhere those tests skip
# and say why (under CI=true they fail instead).
test-tools:
	@if command -v chromium >/dev/null 2>&1 && command -v pdftotext >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium poppler-utils >/dev/null; \
	else echo "note: chromium or pdftotext missing: browser and PDF tests will skip"; fi

# CI runs more generated examples of the property tests than a developer's machine does;
# tests run on every core (pytest-xdist).
test: install-test test-tools
	GAPWATCH_PROPERTY_EXAMPLES=$${GAPWATCH_PROPERTY_EXAMPLES:-$$( [ "$$CI" = true ] && echo 1500 || echo 150 )} \
	  $(PY) -m pytest -n auto --dist worksteal --durations=25

# CI runs this before the tests (.ci/run): lint, formatting and types are part of passing.
lint: install-test
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/mypy

bench: install-test
	$(PY) bench/stats.py
	$(PY) bench/pipeline.py --persons 1000000

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache .mypy_cache .ruff_cache
