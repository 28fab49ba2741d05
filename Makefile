# Clientbase: `make run` to try it, `make test` to prove it.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: help venv run demo test test-here lint format messages check-messages compilemessages clean bench-import bench-pages bench

help:
	@echo "make run    - set up from nothing and serve the app with demo data on http://$(HOST):$(PORT)"
	@echo "make test   - set up from nothing and run the whole suite on real PostgreSQL, Redis and Chromium"
	@echo "make lint   - ruff check, ruff format --check, mypy"
	@echo "make bench-import - import 1 000 000 shipment lines on PostgreSQL and print the figures"
	@echo "make bench-pages - the list, card and \"my day\" over HTTP with gunicorn on 50 000 clients / 10 000 000 lines"
	@echo "make bench  - the metric engine and the pages on 50 000 clients and 10 000 000 lines, then bench-import"

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

# The compiled catalogues are committed, so a machine without gettext still
# serves Russian; where msgfmt exists they are rebuilt from the .po files.
compilemessages: $(STAMP)
	@if command -v msgfmt >/dev/null 2>&1; then $(PY) manage.py compilemessages --ignore '.venv' -v 0; fi

messages: $(STAMP)
	$(PY) manage.py makemessages -l ru -l en --ignore '.venv/*' --ignore 'staticfiles/*' --ignore 'tests/*' --no-obsolete --add-location file
	$(PY) manage.py makemessages -d djangojs -l ru -l en --ignore '.venv/*' --ignore 'static/vendor/*' --ignore 'staticfiles/*' --no-obsolete --add-location file

# Fails when makemessages finds a string the catalogues lack, or a Russian
# entry is untranslated or fuzzy (new strings arrive untranslated).
check-messages: messages
	@for po in locale/ru/LC_MESSAGES/*.po; do \
	  stats=$$(LC_ALL=C msgfmt --statistics -o /dev/null "$$po" 2>&1); \
	  case "$$stats" in *untranslated*|*fuzzy*) \
	    echo "$$po: $$stats. Translate the new strings and commit the catalogue." >&2; exit 1;; esac; \
	done

demo: $(STAMP) compilemessages
	$(PY) manage.py migrate --no-input -v 0
	$(PY) manage.py sync_schedules -v 0
	$(PY) manage.py seed_demo --if-empty

run: demo
	$(PY) manage.py runserver $(HOST):$(PORT)

test: $(STAMP) compilemessages
	scripts/test-services.sh $(MAKE) --no-print-directory test-here

# The suite against whatever DATABASE_URL and REDIS_URL point at.
test-here: $(STAMP)
	$(PY) manage.py makemigrations --check --dry-run -v 0
	$(PY) manage.py check --fail-level WARNING
	$(PY) -m pytest $(PYTEST_ARGS)
	@echo "Again on SQLite, the zero-set-up default (browser journeys excluded):"
	DATABASE_URL=sqlite:///$(CURDIR)/.tmp/test-sqlite.sqlite3 REDIS_URL= $(PY) -m pytest -q -m "not e2e" $(PYTEST_ARGS)

# Benchmarks print figures on a private PostgreSQL; they assert nothing.
bench-import: $(STAMP)
	CLIENTBASE_SKIP_BROWSER=1 scripts/test-services.sh $(PY) tests/bench/bench_import.py

bench-pages: $(STAMP)
	CLIENTBASE_SKIP_BROWSER=1 scripts/test-services.sh $(PY) tests/bench/bench_pages.py

# The engine and the pages share one seeded database (seeding takes minutes).
bench: $(STAMP)
	CLIENTBASE_SKIP_BROWSER=1 scripts/test-services.sh sh -c '$(PY) tests/bench/bench_metrics.py && $(PY) tests/bench/bench_pages.py'
	$(MAKE) --no-print-directory bench-import

lint: $(STAMP) check-messages
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) .tmp staticfiles .pytest_cache .mypy_cache .ruff_cache
