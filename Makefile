# make run   set up on a fresh machine and serve on http://127.0.0.1:$(PORT)
# make test  install what the tests need and run the whole suite (browser tests included)
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
SYSTEM_PACKAGES := chromium libharfbuzz-subset0 fonts-dejavu-core fonts-liberation2

.PHONY: run test lint bench system-deps clean

$(VENV)/.runtime: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.test: $(VENV)/.runtime requirements-test.txt
	$(PY) -m pip install --quiet -r requirements-test.txt
	touch $@

run: $(VENV)/.runtime
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} $(PY) manage.py migrate --noinput
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} $(PY) manage.py seed_catalogue
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} $(PY) manage.py setup_roles
	@echo
	@echo "  Serving on http://127.0.0.1:$(PORT)   (admin: http://127.0.0.1:$(PORT)/admin/)"
	@echo "  Create an admin login:  DJANGO_DEBUG=1 $(PY) manage.py createsuperuser"
	@echo "  Demo editor/reviewer/auditor logins: DJANGO_DEBUG=1 $(PY) manage.py setup_roles --demo"
	@echo
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} $(PY) manage.py runserver 127.0.0.1:$(PORT)

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
