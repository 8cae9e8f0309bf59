# One command each: `make demo` builds the sample notice, `make test` runs the tests.
# Both create .venv on first use, so a fresh machine needs only Python 3.10+.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint lowest bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,bench,lint]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/toolkit build ledgers -o out

test: $(STAMP)
	$(BIN)/python -m pytest

# ruff and mypy, as CI runs them before the tests.
lint: $(STAMP)
	$(BIN)/ruff check toolkit tests bench templates ledgers
	$(BIN)/mypy

# The tests again with the lowest versions pyproject.toml allows (.ci/lowest-versions.txt).
lowest:
	$(PYTHON) -m venv .venv-lowest
	.venv-lowest/bin/pip install --quiet --upgrade pip
	.venv-lowest/bin/pip install --quiet -e '.[test]' -c .ci/lowest-versions.txt
	.venv-lowest/bin/python -m pytest -p no:cacheprovider

bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .venv-lowest out .pytest_cache .hypothesis
