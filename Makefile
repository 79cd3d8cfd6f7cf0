# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install catalogs messages lint types i18n pytest db demo bench clean mutation

run: install catalogs
	$(BIN)/intake db upgrade
	$(BIN)/intake demo --if-empty
	$(BIN)/intake definitions sync
	$(BIN)/intake serve --host 127.0.0.1 --port 8000

test: install catalogs lint types i18n pytest

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11 or newer is needed"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

catalogs: install
	$(BIN)/pybabel compile --statistics -d locales -D messages

# Refresh the template and the catalogs after changing any translatable text.
messages: install
	$(BIN)/pybabel extract -F babel.cfg --ignore-dirs='.* __pycache__' --sort-by-file --no-location --omit-header -o locales/messages.pot .
	$(BIN)/pybabel update -i locales/messages.pot -d locales -D messages --no-fuzzy-matching --ignore-obsolete

lint:
	$(BIN)/ruff check intake tests bench
	$(BIN)/ruff format --check intake tests bench

types:
	$(BIN)/mypy

pytest:
	$(BIN)/python -m pytest

# Every shipped locale has every interface message, form text and track text.
i18n: install
	$(BIN)/intake i18n report

bench: install catalogs
	for script in bench/*.py; do $(BIN)/python $$script || exit 1; done

# Mutation testing of case rules, access, security and the workflow engine (not part of
# `make test`; the whole run takes about 40 minutes on 2 busy cores): modules and tests in
# pyproject.toml [tool.mutmut], scores and accepted survivors in tests/README.md.
# MUTANTS="intake.cases.rules*" runs a sample.
mutation: install
	$(BIN)/python -m pip install -q 'mutmut>=3.3,<4'
	rm -rf mutants
	$(BIN)/mutmut run --max-children 2 $(MUTANTS)
	$(BIN)/mutmut results

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache mutants
