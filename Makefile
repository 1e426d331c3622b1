# The README's two commands: `make run` (install, build, migrate, load the demo, serve) and
# `make test` (install the dev extras, build, run the whole suite on SQLite and PostgreSQL).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
TEST_POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
PYTEST_ARGS ?=
# Test worker processes (pytest-xdist): both cores of the machine CI runs on. 0 runs the suite
# in this process (for a debugger, or -x that stops at once).
PYTEST_WORKERS ?= 2
export FLASK_APP := wsgi

FRONTEND_SOURCES := $(shell find static/src -type f 2>/dev/null)
CATALOGUES := $(patsubst %.po,%.mo,$(wildcard drafting/translations/*/LC_MESSAGES/messages.po))

# What the project needs from the system (Debian's names): the DejaVu fonts for the PDF
# outcome document (Typst embeds them, by path); Chromium for the browser tests; chattr (e2fsprogs) for the test of a
# database file that cannot be written. `make run` and `make test` install
# the missing ones with apt-get when they can (as root, or through password-less sudo); else
# they say what to install. Without Chromium the app still runs and the browser tests skip
# (they fail under CI=true).
RUN_SYSTEM_PACKAGES := fonts-dejavu-core fonts-dejavu-extra
TEST_SYSTEM_PACKAGES := $(RUN_SYSTEM_PACKAGES) chromium e2fsprogs

define install_system_packages
	@if ! command -v dpkg >/dev/null 2>&1; then \
	  echo "Not a Debian system: install the equivalents of $(1) yourself (docs/deployment.md)."; \
	elif dpkg -s $(1) >/dev/null 2>&1; then :; \
	else \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; else SUDO=none; fi; \
	  if [ "$$SUDO" = none ]; then \
	    echo "Missing system packages; as root run: apt-get install --no-install-recommends $(1)"; \
	  else \
	    echo "Installing system packages: $(1)"; \
	    $$SUDO apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $(1) >/dev/null; \
	  fi; \
	fi
endef

.PHONY: run dev test test-sqlite test-postgresql system-packages system-packages-test install install-dev bundle bench-deps translations messages migrate demo lint typecheck clean

# The production server, as docs/deployment.md runs it: gunicorn's gevent WebSocket worker,
# one process (SQLite has one writer). gunicorn.conf.py makes Ctrl+C / SIGTERM safe mid-edit.
run: system-packages install bundle translations migrate demo
	@echo "Plenary is starting on http://$(HOST):$(PORT)"
	SOCKETIO_ASYNC_MODE=gevent $(BIN)/gunicorn --worker-class geventwebsocket.gunicorn.workers.GeventWebSocketWorker \
	  --workers 1 --bind "$(HOST):$(PORT)" wsgi:app

# For working on Plenary itself: Flask's development server, reloading on every change.
dev: system-packages install bundle translations migrate demo
	$(BIN)/flask run --debug --host "$(HOST)" --port "$(PORT)"

test: system-packages-test install-dev bundle bench-deps translations lint typecheck test-sqlite test-postgresql

system-packages:
	$(call install_system_packages,$(RUN_SYSTEM_PACKAGES))

system-packages-test:
	$(call install_system_packages,$(TEST_SYSTEM_PACKAGES))

test-sqlite:
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

# The same suite on PostgreSQL. Outside CI it skips with a message when no server answers;
# under CI=true a missing server fails the run.
test-postgresql:
	TEST_DATABASE_URL="$(TEST_POSTGRES_URL)" $(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

$(VENV)/.installed: setup.cfg pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[deploy]'
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

bundle: static/dist/.built

# The benchmark's load generator (bench/loadgen.mjs); the suite runs its quick mode.
bench-deps: bench/node_modules/.package-lock.json

bench/node_modules/.package-lock.json: bench/package.json bench/package-lock.json
	npm ci --prefix bench --no-audit --no-fund

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

# Python first, then the front end's sources: eslint, and TypeScript over their JSDoc types.
lint: install-dev node_modules/.package-lock.json
	$(BIN)/ruff check drafting models tests bench wsgi.py gunicorn.conf.py
	npm run lint
	npm run typecheck

typecheck: install-dev
	$(BIN)/mypy

clean:
	rm -rf $(VENV) node_modules static/dist
