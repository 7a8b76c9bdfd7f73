# Crowd: `make run` sets up and serves the API, `make test` runs the whole suite.
# Both build the virtualenv first, so a fresh clone needs nothing but Python 3.11+ and make.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
# Where `make test` looks for the second run (and `migrate-check` for PostgreSQL).
TEST_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/postgres
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
LINT_PATHS := crowd accounts members customers organisations notifications recruitment helpcentre community crowd_health invoicing registration privacy console demo jobs payouts onboarding mentoring support scripts tests bench migrations/env.py wsgi.py

# pip runs again only when requirements.txt is newer than this stamp.
STAMP := $(VENV)/.requirements-installed
FLASK := $(BIN)/flask

SHELL := /bin/bash
export FLASK_APP := wsgi.py
export TEST_DATABASE_URL TEST_REDIS_URL

.DEFAULT_GOAL := help
# `test` runs its steps in the order listed, even under `make -j`.
.NOTPARALLEL:
.PHONY: help venv run test pytest pytest-services lint migrate-check worker serve-prod \
  bench-load clean i18n-extract i18n-update i18n-compile

help:
	@echo "make run            set up, migrate, load demo data, serve http://$(HOST):$(PORT)"
	@echo "make test           lint, migration check, tests on SQLite, then on PostgreSQL + Redis"
	@echo "make lint           ruff check, ruff format --check, the layers (import-linter)"
	@echo "make migrate-check  migrations match the models (fresh SQLite, and PostgreSQL if up)"
	@echo "make worker         RQ worker (needs REDIS_URL)"
	@echo "make serve-prod     gunicorn on 0.0.0.0:8000"
	@echo "make bench-load     load benchmark: gunicorn + PostgreSQL + Redis, mixed API load"
	@echo "make i18n-extract   collect the texts (_, _l, N_) into crowd/translations/messages.pot"
	@echo "make i18n-update    merge the template into the de and en catalogues (.po)"
	@echo "make i18n-compile   compile the catalogues (.mo, committed with the .po)"
	@echo "make clean          remove the virtualenv, caches and the local SQLite database"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --disable-pip-version-check -r requirements.txt
	@touch $@

venv: $(STAMP)

# The tick loop is the embedded default's scheduler (no Redis): it stops with the server.
run: venv
	$(FLASK) db upgrade
	$(FLASK) crowd seed-demo
	@echo "Serving http://$(HOST):$(PORT) (API docs: http://$(HOST):$(PORT)/api/v1/docs; staff console: http://$(HOST):$(PORT)/console); Ctrl-C stops."
	@$(FLASK) crowd tick --loop & tick=$$!; \
	trap 'kill $$tick 2>/dev/null; wait $$tick 2>/dev/null' EXIT; \
	$(FLASK) run --host $(HOST) --port $(PORT)

test: venv lint migrate-check pytest pytest-services

# The embedded default: a temporary SQLite database, background work inline.
pytest: venv
	@echo "== pytest on SQLite, background work inline"
	env -u CROWD_TEST_DATABASE_URL -u CROWD_TEST_REDIS_URL $(BIN)/pytest

# The production pair, when it is there; with CI=true it has to be.
pytest-services: venv
	@if $(BIN)/python -c "$$SERVICES_REACHABLE" postgres redis; then \
	  echo "== pytest on PostgreSQL ($(TEST_DATABASE_URL)) and Redis ($(TEST_REDIS_URL))"; \
	  CROWD_TEST_DATABASE_URL="$(TEST_DATABASE_URL)" CROWD_TEST_REDIS_URL="$(TEST_REDIS_URL)" \
	    $(BIN)/pytest; \
	elif [ "$${CI:-}" = true ]; then \
	  echo "PostgreSQL/Redis not reachable and CI=true: failing"; exit 1; \
	else \
	  echo "PostgreSQL/Redis not reachable: skipped the PostgreSQL+Redis run"; \
	fi

lint: venv
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)
	$(BIN)/lint-imports --no-cache

# `flask db check` fails when the models have changes no migration covers.
migrate-check: venv
	@echo "== migrations on a fresh SQLite database"
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	export DATABASE_URL="sqlite:///$$tmp/check.db" REDIS_URL=; \
	$(FLASK) db upgrade && $(FLASK) db check
	@if $(BIN)/python -c "$$SERVICES_REACHABLE" postgres; then \
	  echo "== migrations on a fresh PostgreSQL database"; \
	  url=$$($(BIN)/python -c "$$SCRATCH_DATABASE" create) || exit 1; \
	  key=$$($(BIN)/python -c "import secrets; print(secrets.token_urlsafe(32))"); \
	  trap '$(BIN)/python -c "$$SCRATCH_DATABASE" drop "$$url"' EXIT; \
	  DATABASE_URL="$$url" REDIS_URL= SECRET_KEY="$$key" $(FLASK) db upgrade && \
	  DATABASE_URL="$$url" REDIS_URL= SECRET_KEY="$$key" $(FLASK) db check; \
	elif [ "$${CI:-}" = true ]; then \
	  echo "PostgreSQL not reachable and CI=true: failing"; exit 1; \
	else \
	  echo "PostgreSQL not reachable: checked the migrations on SQLite only"; \
	fi

worker: venv
	$(FLASK) crowd worker

serve-prod: venv
	$(BIN)/gunicorn -c gunicorn.conf.py -w 4 -b 0.0.0.0:8000 --timeout 30 \
	  --graceful-timeout 30 --access-logfile - wsgi:app

# Needs PostgreSQL (DATABASE_URL, default the local server) and Redis (REDIS_URL, default db 11).
bench-load: venv
	$(BIN)/python bench/load.py $(BENCH_ARGS)

# The message catalogues (crowd.core.i18n). The .mo files are committed with their .po, so a
# fresh clone runs without compiling; tests/crowd/test_translations.py fails when either is stale.
I18N_SOURCES := crowd accounts members customers organisations notifications recruitment helpcentre community \
  crowd_health registration demo jobs payouts onboarding mentoring support console invoicing privacy
PYBABEL := $(BIN)/python -m babel.messages.frontend

i18n-extract: venv
	$(PYBABEL) extract -F babel.cfg -k _ -k _l -k N_ --no-default-keywords --no-location \
	  --sort-output --omit-header -o crowd/translations/messages.pot $(I18N_SOURCES)

i18n-update: i18n-extract
	$(PYBABEL) update -i crowd/translations/messages.pot -d crowd/translations \
	  --no-fuzzy-matching --ignore-obsolete --width 100

i18n-compile: venv
	$(PYBABEL) compile -d crowd/translations --statistics

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache instance/crowd.db instance/crowd.db-wal \
	  instance/crowd.db-shm
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

# Exit 0 when every named service answers within 2 seconds, else say why on stderr.
define SERVICES_REACHABLE
import os, sys
try:
    if "postgres" in sys.argv:
        import psycopg
        from sqlalchemy.engine import make_url
        url = make_url(os.environ["TEST_DATABASE_URL"]).set(drivername="postgresql")
        psycopg.connect(url.render_as_string(hide_password=False), connect_timeout=2).close()
    if "redis" in sys.argv:
        import redis
        redis.Redis.from_url(
            os.environ["TEST_REDIS_URL"], socket_connect_timeout=2, socket_timeout=2
        ).ping()
except Exception as error:
    print(f"  {type(error).__name__}: {error}".strip().splitlines()[0], file=sys.stderr)
    sys.exit(1)
endef
export SERVICES_REACHABLE

# `create` prints the URL of a new empty database next to TEST_DATABASE_URL; `drop URL` drops it.
define SCRATCH_DATABASE
import os, sys
import psycopg
from sqlalchemy.engine import make_url
base = make_url(os.environ["TEST_DATABASE_URL"])
admin = base.set(drivername="postgresql").render_as_string(hide_password=False)
if sys.argv[1] == "create":
    name = f"crowd_migrate_check_{os.getppid()}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    print(base.set(database=name).render_as_string(hide_password=False))
else:
    name = make_url(sys.argv[2]).database
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
endef
export SCRATCH_DATABASE
