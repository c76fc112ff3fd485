# Two commands for a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
SITE_URL ?= http://localhost:$(PORT)
export PORT SITE_URL

.PHONY: run test install install-test services messages browser bench clean

$(VENV)/bin/python:
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(PY) -m pip install -q -e ".[test]"
	touch $@

$(VENV)/.installed-bench: pyproject.toml $(VENV)/.installed-test
	$(PY) -m pip install -q -e ".[test,bench]"
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

var:
	mkdir -p var/mail var/private var/cache var/static var/celery/queue var/celery/processed var/celery/control

# The demo and the developer commands name the local (DEBUG) settings: portal.wsgi, portal.celery and
# manage.py never fall back to them (see CONTRIBUTING.md). `make test` uses pytest's settings instead.
run messages: export DJANGO_SETTINGS_MODULE := portal.settings.local

messages: $(VENV)/.installed
	@command -v msgfmt >/dev/null || { apt-get update -qq && apt-get install -y -qq gettext >/dev/null; }
	$(PY) manage.py compilemessages --ignore=.venv --ignore=var -v 0

# honcho -e /dev/null: honcho would read .env too and let it override the environment; each process
# reads it once itself (portal/environment.py), where the environment wins.
run: install var messages
	$(PY) manage.py migrate --noinput -v 0
	$(PY) manage.py seed_demo
	$(VENV)/bin/honcho -f Procfile -e /dev/null start -p $(PORT)

# PostgreSQL and Redis on 127.0.0.1, started if they are down (see CONTRIBUTING.md).
services:
	@pg_isready -q -h 127.0.0.1 -p 5432 || { pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start && sleep 2; }
	@redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 || { redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no && sleep 1; }
	@pg_isready -h 127.0.0.1 -p 5432 >/dev/null && redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null

# The browser journeys (tests/e2e) drive Debian's chromium; Playwright's own browser download is not used.
# Installed here when missing and apt-get can (as root); CHROMIUM_PATH names another build.
browser:
	@[ -n "$$CHROMIUM_PATH" ] || command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || echo "chromium missing and not installable: the browser tests will fail (set CHROMIUM_PATH)"

test: install-test services messages browser
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy
	$(PY) -m pytest --create-db $(PYTEST_ARGS)

# Never part of `make test` (pytest collects tests/ only). Its own databases (portal_bench, helpdesk_bench),
# Redis 11 and 12, and django-helpdesk's venv under var/bench/; writes bench/results.md (bench/run.py).
bench: $(VENV)/.installed-bench services messages
	$(PY) -m bench.run

clean:
	rm -rf var
