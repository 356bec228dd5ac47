# Storefront. `make run` serves the shop, `make test` runs the whole suite. `make help` lists all.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
PYTEST_ARGS ?=
# pytest-xdist: one worker per core, each with its own MariaDB and Redis servers; a test module
# stays on one worker (its module fixtures start once). PYTEST_WORKERS=0 runs in this process.
PYTEST_WORKERS ?= auto
PYTEST_XDIST = -n $(PYTEST_WORKERS) --dist loadscope

.DEFAULT_GOAL := help
.PHONY: help run test test-fast lint security format db-upgrade seed shell worker uwsgi bench bench-million bench-checkout cluster cluster-down clean system-run system-test translations translations-extract translations-update frontend frontend-dev frontend-client frontend-check

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk -F':.*?## ' '{printf "  make %-15s %s\n", $$1, $$2}'

system-run:
	@scripts/system-packages.sh run

system-test:
	@scripts/system-packages.sh test

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# The pinned requirements, then the package itself, editable (`flask`, `storefront` and the
# scripts all run app/ from this checkout; pyproject.toml names the dependencies, unpinned).
INSTALL_PACKAGE := $(BIN)/pip install --quiet --progress-bar off --no-deps -e .

$(VENV)/.installed-run: requirements.txt pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --progress-bar off -r requirements.txt
	$(INSTALL_PACKAGE)
	@touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --progress-bar off -r requirements-dev.txt
	$(INSTALL_PACKAGE)
	@touch $@ $(VENV)/.installed-run

# The site's translations (app/i18n.py): the .po catalogues are committed, the .mo compiled here.
TRANSLATIONS := app/translations
CATALOGUES := $(wildcard $(TRANSLATIONS)/*/LC_MESSAGES/messages.po)
COMPILED := $(CATALOGUES:.po=.mo)
$(TRANSLATIONS)/%/LC_MESSAGES/messages.mo: $(TRANSLATIONS)/%/LC_MESSAGES/messages.po | $(VENV)/.installed-run
	$(BIN)/pybabel compile --statistics -d $(TRANSLATIONS) -l $*

translations-extract: $(VENV)/.installed-run ## Collect the messages of app/ into app/translations/messages.pot
	$(BIN)/pybabel extract -F babel.cfg -k _l --sort-by-file --omit-header -o $(TRANSLATIONS)/messages.pot app

translations-update: translations-extract ## Merge new messages into each language's .po (then translate them)
	$(BIN)/pybabel update -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) --width 100

translations: $(COMPILED) ## Compile the .po catalogues (make run and make test do it)

instance/application.cfg.py:
	$(BIN)/python scripts/write_instance_config.py $@

db-upgrade: system-run $(VENV)/.installed-run $(COMPILED) instance/application.cfg.py ## Apply migrations
	$(BIN)/python dbmanager.py db upgrade

seed: db-upgrade ## Load demo data where it is missing
	$(BIN)/python dbmanager.py seed

run: seed frontend ## Install what is missing, migrate, seed, serve on http://$(HOST):$(PORT)
	@echo "Serving on http://$(HOST):$(PORT), the React storefront on /app/  (mail goes to instance/outbox/; Ctrl-C stops)"
	HOST=$(HOST) PORT=$(PORT) SITE_URL="$${SITE_URL:-http://$(HOST):$(PORT)}" $(BIN)/python server.py

# The React storefront (frontend/, README "The React storefront"): its npm packages pinned by
# frontend/package-lock.json, Node.js and npm from Debian (scripts/system-packages.sh). The
# bundle in frontend/dist is built here, never committed; Flask serves it under /app/.
FRONTEND_NODE := frontend/node_modules/.package-lock.json
$(FRONTEND_NODE): frontend/package-lock.json | system-run
	cd frontend && npm ci --no-audit --no-fund --loglevel=error

FRONTEND_SOURCES := $(shell find frontend/src -type f) frontend/index.html frontend/vite.config.ts frontend/tsconfig.json app/static/favicon.svg
frontend/dist/index.html: $(FRONTEND_NODE) $(FRONTEND_SOURCES)
	cd frontend && npm run --silent build -- --logLevel=warn

frontend: frontend/dist/index.html ## Build the React storefront into frontend/dist (make run and make test do it)

frontend-dev: seed $(FRONTEND_NODE) ## The React storefront from Vite's dev server on :5173 (reloads on save), Flask on :$(PORT) behind it
	@echo "Open http://127.0.0.1:5173/app/  (Flask serves the API on :$(PORT); Ctrl-C stops both)"
	trap 'kill 0' EXIT; \
	HOST=$(HOST) PORT=$(PORT) SITE_URL="$${SITE_URL:-http://$(HOST):$(PORT)}" $(BIN)/python server.py & \
	cd frontend && FLASK_URL=http://$(HOST):$(PORT) npm run --silent dev

# The typed client: frontend/src/api/schema.d.ts, from openapi.json as the code documents it
# (scripts/openapi_document.py). Committed; frontend-check fails when it is out of date. A
# field with a default is optional in what the app sends (--default-non-nullable=false).
FRONTEND_SCHEMA := frontend/src/api/schema.d.ts
# The client as the code documents it now, written to $$tmp/schema.d.ts (both targets use it).
GENERATE_CLIENT := $(BIN)/python scripts/openapi_document.py "$$tmp/openapi.json" && \
	npx --prefix frontend --no-install openapi-typescript "$$tmp/openapi.json" \
	--default-non-nullable=false --output "$$tmp/schema.d.ts" >/dev/null
frontend-client: $(VENV)/.installed-run $(FRONTEND_NODE) ## Regenerate the frontend's typed API client from /api/v1/openapi.json
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && $(GENERATE_CLIENT) && \
	cp "$$tmp/schema.d.ts" $(FRONTEND_SCHEMA) && echo "Wrote $(FRONTEND_SCHEMA)"

frontend-check: $(VENV)/.installed-run $(FRONTEND_NODE) ## The frontend's typed-client drift check, type check, lint and unit tests (Vitest)
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && $(GENERATE_CLIENT) && \
	{ diff -u $(FRONTEND_SCHEMA) "$$tmp/schema.d.ts" >"$$tmp/drift" || \
	  { head -40 "$$tmp/drift"; echo "$(FRONTEND_SCHEMA) is not what openapi.json says: run make frontend-client and commit it." >&2; exit 1; }; }
	cd frontend && npm run --silent typecheck && npm run --silent lint && npm run --silent test -- --reporter=dot

# What the browser tests load into pages (axe-core), from the npm registry: tests/e2e/package.json.
E2E_NODE := tests/e2e/node_modules/.package-lock.json
$(E2E_NODE): tests/e2e/package-lock.json | system-test
	cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error

test: system-test $(VENV)/.installed-dev $(COMPILED) $(E2E_NODE) lint security frontend-check frontend ## Lint, type and security checks, then the whole suite on SQLite and MariaDB
	$(BIN)/python -m pytest $(PYTEST_XDIST) $(PYTEST_ARGS)

# The inner loop: no lint, no MariaDB, no browser, no schemathesis or uwsgi runs. One test
# still starts redis-server (installed with the test system packages). CI runs `make test`.
test-fast: system-test $(VENV)/.installed-dev $(COMPILED) ## pytest only, on SQLite, without the e2e and slow tests (the inner loop)
	$(BIN)/python -m pytest $(PYTEST_XDIST) --db=sqlite -m "not e2e and not slow" $(PYTEST_ARGS)

# mypy reads [tool.mypy] in pyproject.toml (app/, check_untyped_defs).
lint: $(VENV)/.installed-dev ## ruff check and format check, mypy over app/
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# bandit reads [tool.bandit] in pyproject.toml; a finding is fixed or carries `# nosec BXXX: why`.
# pip-audit: scripts/audit_requirements.py (vulnerabilities to ignore, each with its reason,
# are listed there); AUDIT_REQUIRED=1 turns an unreachable vulnerability service into a failure.
security: $(VENV)/.installed-dev ## bandit over app/, pip-audit over the pinned requirements
	$(BIN)/bandit -q -c pyproject.toml -r app
	$(BIN)/python scripts/audit_requirements.py

format: $(VENV)/.installed-dev ## ruff fix and format
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

worker: db-upgrade ## Run queued jobs (JOBS_EAGER = False in the instance config, Redis at JOBS_BROKER_URL)
	$(BIN)/celery --app app.jobs.worker worker --beat --loglevel=INFO --concurrency=2

cluster: system-test $(VENV)/.installed-run $(COMPILED) frontend ## The production stack on loopback: nginx (TLS), two uwsgi app servers, MariaDB, Redis, the worker
	$(BIN)/python scripts/cluster.py up

cluster-down: ## Stop everything `make cluster` started and remove its directory (.cluster/)
	@$(BIN)/python scripts/cluster.py down

shell: db-upgrade ## IPython with the app loaded
	$(BIN)/python cli.py

uwsgi: seed frontend ## Try uwsgi.ini on http://127.0.0.1:8000 with development settings
	$(BIN)/uwsgi --ini uwsgi.ini --env ENV=development

# Issue 22's targets: the project against a bare Flask app under the same uwsgi (bench/run.py
# says how); `make bench BENCH_QUICK=1` is a two-minute subset.
bench: system-run $(VENV)/.installed-run $(COMPILED) ## Load benchmark: the project vs bare Flask under uwsgi and wrk (BENCH_QUICK=1: 2 min)
	@command -v wrk >/dev/null || { echo "Installing wrk"; $(if $(filter 0,$(shell id -u)),,sudo) apt-get install -y -qq wrk; }
	BENCH_QUICK=$(BENCH_QUICK) $(BIN)/python bench/run.py $(BENCH_ARGS)

# Issue 27's targets on a million products, on MariaDB (from the test system packages) that the
# bench starts in .bench/mariadb/ and keeps: the first run seeds the million (about 2 min).
bench-million: system-test $(VENV)/.installed-run $(COMPILED) ## Search, facets and deep pages on a million products, MariaDB (BENCH_QUICK=1: 3 s runs)
	@command -v wrk >/dev/null || { echo "Installing wrk"; $(if $(filter 0,$(shell id -u)),,sudo) apt-get install -y -qq wrk; }
	BENCH_QUICK=$(BENCH_QUICK) $(BIN)/python bench/run.py --million $(BENCH_ARGS)

# MariaDB and redis-server come with the test system packages, requests with the dev ones.
bench-checkout: system-test $(VENV)/.installed-dev ## Checkout load on MariaDB, crashed mid-run: 500s and stock audit
	$(BIN)/python bench/checkout_load.py $(BENCH_ARGS)

clean: ## Remove the virtualenv and caches (keeps instance/)
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache tests/e2e/screenshots frontend/node_modules frontend/dist
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
