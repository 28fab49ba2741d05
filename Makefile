# Clientbase: `make run` to try it, `make test` to prove it.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: help venv run demo test test-fast lint format messages compilemessages bench clean

help:
	@echo "make run    - set up from nothing and serve the app with demo data on http://$(HOST):$(PORT)"
	@echo "make test   - set up from nothing and run the whole suite on real PostgreSQL, Redis and Chromium"
	@echo "make lint   - ruff check, ruff format --check, mypy"

$(STAMP): pyproject.toml
	@if [ ! -x "$(PY)" ]; then \
	  interp="$${PYTHON:-$$(scripts/find-python.sh)}" || exit 1; \
	  echo "Creating $(VENV) with $$interp"; \
	  "$$interp" -m venv $(VENV) || { echo "Could not create a virtualenv: install the venv module (Debian: apt-get install python3-venv)." >&2; exit 1; }; \
	fi
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	$(PY) -m pip check
	@touch $(STAMP)

venv: $(STAMP)

compilemessages: $(STAMP)
	$(PY) manage.py compilemessages --ignore '.venv' -v 0

messages: $(STAMP)
	$(PY) manage.py makemessages -l ru -l en --ignore '.venv/*' --ignore 'staticfiles/*' --no-obsolete
	$(PY) manage.py makemessages -d djangojs -l ru -l en --ignore '.venv/*' --ignore 'static/vendor/*' --ignore 'staticfiles/*' --no-obsolete

demo: $(STAMP) compilemessages
	$(PY) manage.py migrate --no-input -v 0
	$(PY) manage.py seed_demo --if-empty

run: demo
	$(PY) manage.py runserver $(HOST):$(PORT)

test: $(STAMP) compilemessages
	scripts/test-services.sh $(MAKE) --no-print-directory test-here

# The suite against whatever DATABASE_URL and REDIS_URL point at.
test-here: $(STAMP)
	$(PY) manage.py makemigrations --check --dry-run -v 0
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) .tmp staticfiles .pytest_cache .mypy_cache .ruff_cache
