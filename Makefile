# plategrid — two commands on a fresh Debian machine:
#   make run    set up everything and serve the demo city on http://127.0.0.1:8000
#   make test   set up everything and run ruff, mypy and the whole test suite
# make stop stops only what these targets started.

PY := .venv/bin/python
MANAGE := $(PY) manage.py
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test stop setup system venv messages assets db demo lint typecheck pytest

# The server and the background worker (imports and other jobs); Ctrl-C stops both.
run: setup demo
	@DJANGO_SETTINGS_MODULE=web.settings.demo $(MANAGE) db_worker --no-reload & echo $$! > var/worker.pid; \
	trap 'kill $$(cat var/worker.pid) 2>/dev/null; rm -f var/worker.pid' EXIT; \
	DJANGO_SETTINGS_MODULE=web.settings.demo $(MANAGE) runserver $(HOST):$(PORT) --noreload & echo $$! > var/runserver.pid; wait $$!

test: setup lint typecheck pytest

setup: system venv messages assets db

system:
	@scripts/system-packages.sh

venv: system
	@scripts/venv.sh

messages: venv
	@DJANGO_SETTINGS_MODULE=web.settings.test $(MANAGE) compilemessages -v 0 -i .venv -i node_modules -i var

assets: system
	@scripts/npm.sh

db: system
	@scripts/db.sh start

demo: venv assets db
	DJANGO_SETTINGS_MODULE=web.settings.demo $(MANAGE) migrate --noinput -v 0
	DJANGO_SETTINGS_MODULE=web.settings.demo $(MANAGE) registry_keys init
	DJANGO_SETTINGS_MODULE=web.settings.demo $(MANAGE) demo_city --if-empty
	DJANGO_SETTINGS_MODULE=web.settings.demo $(MANAGE) create_demo_accounts
	DJANGO_SETTINGS_MODULE=web.settings.demo $(MANAGE) demo_history
	DJANGO_SETTINGS_MODULE=web.settings.demo $(MANAGE) demo_people --if-empty
	DJANGO_SETTINGS_MODULE=web.settings.demo $(MANAGE) demo_sweep

lint: venv
	.venv/bin/ruff format --check .
	.venv/bin/ruff check .
	scripts/pip-audit.sh

typecheck: venv
	.venv/bin/mypy gis grid data web registry layers benchmarks

# Two pytest processes (pytest-xdist), one test database each; PYTEST_WORKERS=0 runs in one.
PYTEST_WORKERS ?= 2
pytest: venv assets db
	$(PY) -m pytest -q -p no:cacheprovider -n $(PYTEST_WORKERS)

stop:
	@if [ -f var/runserver.pid ]; then kill $$(cat var/runserver.pid) 2>/dev/null || true; rm -f var/runserver.pid; echo "server: stopped"; fi
	@if [ -f var/worker.pid ]; then kill $$(cat var/worker.pid) 2>/dev/null || true; rm -f var/worker.pid; echo "worker: stopped"; fi
	@scripts/db.sh stop
