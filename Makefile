# make run   set up on a fresh machine and serve on http://127.0.0.1:$(PORT)
# make test  install what the tests need and run the whole suite (browser tests included)
# make serve production: gunicorn, debug off, hashed and compressed static files (README, "Production")
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# The PDF needs harfbuzz-subset (WeasyPrint's fast font subsetting) and fonts; the tests also Chromium.
SERVE_PACKAGES := libharfbuzz-subset0 fonts-dejavu-core fonts-liberation2
SYSTEM_PACKAGES := chromium $(SERVE_PACKAGES)

.PHONY: run serve test lint bench load screenshots system-deps serve-deps clean

$(VENV)/.runtime: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.test: $(VENV)/.runtime requirements-test.txt
	$(PY) -m pip install --quiet -r requirements-test.txt
	touch $@

run: $(VENV)/.runtime serve-deps
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} $(PY) manage.py migrate --noinput
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} $(PY) manage.py seed_catalogue
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} $(PY) manage.py setup_roles
	@echo
	@echo "  Serving on http://127.0.0.1:$(PORT)   (admin: http://127.0.0.1:$(PORT)/admin/)"
	@echo "  Create an admin login:  DJANGO_DEBUG=1 $(PY) manage.py createsuperuser"
	@echo "  Demo editor/reviewer/auditor logins: DJANGO_DEBUG=1 $(PY) manage.py setup_roles --demo"
	@echo
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} $(PY) manage.py runserver 127.0.0.1:$(PORT)

# Production settings on this machine: DATABASE_URL (default SQLite), PORT, WEB_CONCURRENCY.
# Without DJANGO_SECRET_KEY, a key is generated once into .secret_key (mode 600) and reused: releases
# are signed with it, so it must survive restarts. A fleet sets DJANGO_SECRET_KEY instead.
SECRET_FILE := .secret_key
serve: $(VENV)/.runtime serve-deps
	@set -e; \
	if [ -z "$$DJANGO_SECRET_KEY" ]; then \
	  if [ ! -s $(SECRET_FILE) ]; then \
	    (umask 077; $(PY) -c 'import secrets; print(secrets.token_urlsafe(50))' > $(SECRET_FILE)); \
	    echo "Generated a secret key in $(SECRET_FILE); set DJANGO_SECRET_KEY to use your own."; \
	  fi; \
	  export DJANGO_SECRET_KEY="$$(cat $(SECRET_FILE))"; \
	fi; \
	export DJANGO_DEBUG=0 PORT=$(PORT); \
	$(PY) manage.py migrate --noinput; \
	$(PY) manage.py seed_catalogue; \
	$(PY) manage.py setup_roles; \
	$(PY) manage.py collectstatic --noinput --verbosity 0; \
	echo "Serving on http://$${HOST:-127.0.0.1}:$(PORT) (gunicorn, gunicorn.conf.py)"; \
	exec $(VENV)/bin/gunicorn --config gunicorn.conf.py

serve-deps:
	@dpkg -s $(SERVE_PACKAGES) >/dev/null 2>&1 || { \
	  echo "Installing $(SERVE_PACKAGES)"; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SERVE_PACKAGES) >/dev/null 2>&1 || { \
	    $(SUDO) apt-get update -qq && \
	    $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SERVE_PACKAGES); }; }

# Debian chromium (never `playwright install`), harfbuzz-subset for WeasyPrint, fonts for the PDF.
system-deps:
	@dpkg -s $(SYSTEM_PACKAGES) >/dev/null 2>&1 || { \
	  echo "Installing $(SYSTEM_PACKAGES)"; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SYSTEM_PACKAGES) >/dev/null 2>&1 || { \
	    $(SUDO) apt-get update -qq && \
	    $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SYSTEM_PACKAGES); }; }

test: $(VENV)/.test system-deps
	DJANGO_SECRET_KEY=$${DJANGO_SECRET_KEY:-test-only-secret} $(PY) -m pytest

lint: $(VENV)/.test
	$(PY) -m ruff check .
	DJANGO_SECRET_KEY=lint $(PY) manage.py makemigrations --check --dry-run

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles

# Prints timings and query counts (on $(DATABASE_URL) when set, else SQLite).
bench: $(VENV)/.test
	$(PY) tests/perf/bench.py

# The README's screenshots (desktop and phone), written to docs/screenshots/.
screenshots: $(VENV)/.test system-deps
	DJANGO_SECRET_KEY=screenshots $(PY) -m pytest -q -p no:cacheprovider tests/browser/screenshots.py

# Load benchmark: gunicorn + PostgreSQL as `make serve` runs them, driven by wrk over loopback (needs the
# shared PostgreSQL on 127.0.0.1:5432 and the Debian package wrk). Prints a table; about 2-3 minutes.
load: $(VENV)/.test
	$(PY) tests/perf/load.py
