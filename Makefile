# The README's two commands: `make run` (install, build, migrate, load the demo, serve) and
# `make test` (install the dev extras, build, run the whole suite on SQLite and PostgreSQL).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
TEST_POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
PYTEST_ARGS ?=
export FLASK_APP := wsgi

FRONTEND_SOURCES := $(shell find static/src -type f 2>/dev/null)
CATALOGUES := $(patsubst %.po,%.mo,$(wildcard drafting/translations/*/LC_MESSAGES/messages.po))

.PHONY: run test test-sqlite test-postgresql install install-dev bundle translations messages migrate demo lint typecheck clean

run: install bundle translations migrate demo
	@echo "Plenary is starting on http://$(HOST):$(PORT)"
	$(BIN)/flask run --host "$(HOST)" --port "$(PORT)"

test: install-dev bundle translations lint typecheck test-sqlite test-postgresql

test-sqlite:
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The same suite on PostgreSQL. Outside CI it skips with a message when no server answers;
# under CI=true a missing server fails the run.
test-postgresql:
	TEST_DATABASE_URL="$(TEST_POSTGRES_URL)" $(BIN)/python -m pytest $(PYTEST_ARGS)

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

$(VENV)/.installed: setup.cfg pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

bundle: static/dist/.built

static/dist/.built: node_modules/.package-lock.json $(FRONTEND_SOURCES)
	npm run build
	touch $@

# Compiled catalogues are build output (git-ignored); the .po files are the source.
translations: $(CATALOGUES)

drafting/translations/%/LC_MESSAGES/messages.mo: drafting/translations/%/LC_MESSAGES/messages.po $(VENV)/.installed
	$(BIN)/pybabel compile -d drafting/translations -l $*

# After marking new strings: refresh the template and every language's catalogue, then translate.
messages: install
	$(BIN)/pybabel extract -F babel.cfg -k lazy_gettext -k _l -o drafting/translations/messages.pot --no-location --sort-output --project Plenary .
	$(BIN)/pybabel update -i drafting/translations/messages.pot -d drafting/translations --no-fuzzy-matching

migrate: install
	$(BIN)/flask db upgrade

demo: install
	$(BIN)/flask demo load

lint: install-dev
	$(BIN)/ruff check drafting models tests bench wsgi.py

typecheck: install-dev
	$(BIN)/mypy

clean:
	rm -rf $(VENV) node_modules static/dist
