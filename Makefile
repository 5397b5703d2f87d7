# Two commands for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DEMO_DIR ?= demo-output

.PHONY: demo test lint bench install install-test clean

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

# CI runs more generated examples of the property tests than a developer's machine does.
test: install-test
	GAPWATCH_PROPERTY_EXAMPLES=$${GAPWATCH_PROPERTY_EXAMPLES:-$$( [ "$$CI" = true ] && echo 1500 || echo 150 )} $(PY) -m pytest

lint: install-test
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/mypy

bench: install-test
	$(PY) bench/stats.py
	$(PY) bench/pipeline.py --persons 1000000

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache .mypy_cache .ruff_cache
