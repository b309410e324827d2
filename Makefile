# Two commands for a fresh machine: `make run` (the demo) and `make test` (the whole suite).
SHELL := /bin/bash
.DEFAULT_GOAL := run
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

# The first interpreter >= 3.12 that actually runs (a pyenv shim can sit on PATH and still fail).
PYTHON ?= $(shell for p in python3.14 python3.13 python3.12 $$(ls -d $$(pyenv root 2>/dev/null)/versions/3.1[2-9]*/bin/python3 2>/dev/null) python3; do \
	if command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then echo $$p; break; fi; done)

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# The kiosk's voice: espeak-ng speaks, opus-tools compresses (and decodes for sox, which measures in the tests).
VOICE_PACKAGES := espeak-ng opus-tools sox
APT_PACKAGES := chromium fonts-noto-cjk gettext libpango-1.0-0 libpangoft2-1.0-0 poppler-utils $(VOICE_PACKAGES)

.PHONY: run test test-only lint install install-test system-deps assets messages voice migrate demo serve-prod clean

$(VENV)/.installed: requirements.txt
	@if [ -z "$(PYTHON)" ]; then echo "No Python 3.12 or newer found (tried python3.13, python3.12, pyenv versions). Install one and retry." >&2; exit 1; fi
	@echo "Using $(PYTHON) ($$($(PYTHON) --version))"
	[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed requirements-test.txt
	$(PY) -m pip install --quiet -r requirements-test.txt
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test system-deps assets

# Debian packages the pages and tests need, installed only when missing.
system-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "Installing Debian packages:$$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; fi

# Front-end files come from npm packages and are copied into static/vendor (kiosks have no internet).
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

assets: node_modules/.package-lock.json
	mkdir -p static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js static/vendor/htmx.min.js
	cp node_modules/twilio-video/dist/twilio-video.min.js static/vendor/twilio-video.min.js

messages: $(VENV)/.installed
	@command -v msgfmt >/dev/null || { echo "Installing gettext"; $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq gettext >/dev/null; }
	DJANGO_ALLOW_DEV_SECRET=1 $(PY) manage.py compilemessages --ignore=.venv --ignore=node_modules -v0

migrate: $(VENV)/.installed
	DEBUG=1 $(PY) manage.py migrate --noinput -v0

demo: migrate
	DEBUG=1 $(PY) manage.py seed_demo

# The kiosk's spoken prompts, rendered into static/voice/ (gitignored); only new or changed prompts are rendered.
voice: $(VENV)/.installed messages
	@$(MAKE) --no-print-directory system-deps APT_PACKAGES="$(VOICE_PACKAGES)"
	DJANGO_ALLOW_DEV_SECRET=1 $(PY) manage.py kiosk_voice build

run: $(VENV)/.installed assets messages voice demo
	@echo "Serving http://$(HOST):$(PORT)/ (kiosk at /kiosk/, staff at /staff/, API docs at /api/docs). Ctrl-C stops."
	@DEBUG=1 $(PY) manage.py worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	DEBUG=1 $(PY) manage.py runserver $(HOST):$(PORT)

lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy departments scheduler appointments

test: install-test messages voice lint test-only

test-only:
	$(PY) -m pytest $(PYTEST_ARGS)

# Production serving on one machine, with settings from the environment (DEBUG=0, SECRET_KEY, FIELD_ENCRYPTION_KEY,
# DATABASE_URL, REDIS_URL, ALLOWED_HOSTS: see deploy/README.md). Task workers run beside it: `manage.py worker`.
serve-prod: $(VENV)/.installed messages voice
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) manage.py migrate --noinput -v0
	exec $(VENV)/bin/gunicorn -c deploy/gunicorn.conf.py scheduler.wsgi

clean:
	rm -rf $(VENV) node_modules staticfiles db.sqlite3* .test-db*
