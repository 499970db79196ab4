# SchoolSMS: `make run` serves the demo, `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PG_URL ?= postgres://postgres@127.0.0.1:5432/schoolsms
export PORT ?= 8000

.PHONY: run test test-sqlite test-postgres lint bench install clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

run: export SCHOOLSMS_PUBLIC_URL ?= http://127.0.0.1:$(PORT)
run: $(STAMP)
	$(BIN)/schoolsms migrate --no-input -v 0
	$(BIN)/schoolsms demo --if-empty
	$(BIN)/schoolsms serve --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint test-sqlite test-postgres

test-sqlite: $(STAMP)
	@test -x /usr/bin/chromium || echo "NOTICE: /usr/bin/chromium not found: browser tests will be SKIPPED (apt-get install -y chromium)"
	env -u DATABASE_URL $(BIN)/pytest -q -p no:cacheprovider

test-postgres: $(STAMP)
	@if $(BIN)/python -c "import psycopg,sys; psycopg.connect('$(PG_URL)'.rsplit('/',1)[0]+'/postgres', connect_timeout=3).close()" 2>/dev/null; then \
		echo "== PostgreSQL reachable: running the suite again on PostgreSQL =="; \
		DATABASE_URL=$(PG_URL) $(BIN)/pytest -q -p no:cacheprovider -m "not browser"; \
	else \
		echo "NOTICE: PostgreSQL not reachable at $(PG_URL): skipped the PostgreSQL run"; \
	fi

bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
