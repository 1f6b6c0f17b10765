# stocksite: `make run` serves the demo on http://127.0.0.1:8000; `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help run test screenshots lint format bench bench-alerts bench-import install install-dev assets messages migrate demo migrations-check clean

help:
	@echo "make run    set up everything and serve the demo on http://$(HOST):$(PORT)"
	@echo "make test   install the dev requirements and run the whole suite"
	@echo "make screenshots  run the browser tests, saving screenshots under test-output/screenshots/"
	@echo "make lint   ruff check and format check, the import contracts of the layers"
	@echo "make bench  print the similarity and snapshot store benchmarks"
	@echo "make bench-alerts  print the shape alerts benchmark (10,000 alerts)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# uv installs the pinned requirements into the venv (the same packages as pip, in seconds
# rather than a minute); pip itself installs uv, pinned too. It also writes the packages' bytecode
# at install time: where PYTHONDONTWRITEBYTECODE is set, every process (each test worker, server
# and command a test starts) would otherwise compile Django and the rest from source, 5 to 7 s
# each.
UV_VERSION := 0.9.17
$(BIN)/uv: | $(BIN)/python
	$(BIN)/pip install --quiet uv==$(UV_VERSION)

$(VENV)/.installed-runtime: requirements.txt | $(BIN)/uv
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/uv
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -r requirements-dev.txt
	touch $@ $(VENV)/.installed-runtime

install: $(VENV)/.installed-runtime
install-dev: $(VENV)/.installed-dev

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

static/vendor/.built: node_modules/.package-lock.json scripts/vendor.mjs
	npm run --silent vendor
	touch $@

assets: static/vendor/.built

# Translations: the .po files are the source, the compiled .mo files are built, never committed.
CATALOGS := $(patsubst %.po,%.mo,$(wildcard locale/*/LC_MESSAGES/*.po))

locale/%.mo: locale/%.po
	@command -v msgfmt >/dev/null || { echo "msgfmt not found: install gettext (apt-get install gettext)"; exit 1; }
	msgfmt --check -o $@ $<

messages: $(CATALOGS)

migrate: install
	$(BIN)/python manage.py migrate --noinput

# The embedded default: SQLite under var/, Celery tasks run eagerly, the bundled demo market.
run: export DEBUG ?= 1
run: install assets messages migrate
	$(BIN)/python manage.py install_schedule
	$(BIN)/python manage.py bootstrap_demo --url http://$(HOST):$(PORT)
	$(BIN)/python manage.py build_snapshot
	$(BIN)/python manage.py calibrate --demo
	$(BIN)/python manage.py demo_track_record
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

# The suite runs on TEST_WORKERS pytest-xdist processes, each with a test database, a Redis
# database and a snapshot folder of its own (docs/architecture.md, "Worker-safe tests"): three on
# the 2-core machine, since many tests wait on a browser, a server or a process they started.
# TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= 3
# The project's own bytecode, written once rather than compiled by every process of the suite.
SOURCES := manage.py gunicorn.conf.py accounts alerts billing core market similarity stocksite tests benchmarks scripts
# The ten slowest steps and the suite's wall-clock time close the output: keep it to a few minutes.
test: install-dev assets messages
	@started=$$(date +%s); \
	$(BIN)/python -m compileall -q -j 0 $(SOURCES) || exit $$?; \
	$(BIN)/pytest --numprocesses=$(TEST_WORKERS) --dist=loadfile --durations=10; status=$$?; \
	elapsed=$$(( $$(date +%s) - started )); \
	echo "make test: the suite took $$((elapsed / 60)) min $$((elapsed % 60)) s (wall clock)"; \
	exit $$status

# The browser tests, each step's page saved as a full-page PNG under test-output/screenshots/
# for people to look at: `make test` takes none (they assert nothing and cost Chromium CPU).
screenshots: install-dev assets messages
	SCREENSHOTS=1 $(BIN)/pytest tests/browser

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

migrations-check: install-dev
	$(BIN)/python manage.py makemigrations --check --dry-run

bench: install-dev
	$(BIN)/python benchmarks/similarity_bench.py
	$(BIN)/python benchmarks/snapshot_store_bench.py
	$(BIN)/python benchmarks/timeframes_bench.py

bench-alerts: install-dev
	$(BIN)/python benchmarks/alerts_bench.py

# Deletes every daily bar of DATABASE_URL first: point it at a scratch database.
bench-import: install-dev
	$(BIN)/python benchmarks/import_bench.py

clean:
	rm -rf $(VENV) node_modules static/vendor staticfiles $(CATALOGS)
