# SchoolSMS: `make run` serves the demo, `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PG_URL ?= postgres://postgres@127.0.0.1:5432/schoolsms
export PORT ?= 8000

.PHONY: run test test-sqlite test-postgres test-rq lint bench install clean

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

REDIS_TEST_URL ?= redis://127.0.0.1:6379/15
# The pipeline's tests, run again on the RQ task backend (django-tasks-rq on Redis).
RQ_TESTS := src/schoolsms/messaging/tests/test_pipeline.py \
	src/schoolsms/messaging/tests/test_pipeline_codes.py \
	src/schoolsms/messaging/tests/test_quiet_hours.py \
	src/schoolsms/messaging/tests/test_worker.py

test: lint test-sqlite test-postgres test-rq

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

test-rq: $(STAMP)
	@if $(BIN)/python -c "import redis; redis.Redis.from_url('$(REDIS_TEST_URL)', socket_connect_timeout=3).ping()" 2>/dev/null; then \
		echo "== Redis reachable: running the pipeline tests again on the RQ task backend =="; \
		env -u DATABASE_URL SCHOOLSMS_TASK_BACKEND=rq SCHOOLSMS_REDIS_URL=$(REDIS_TEST_URL) \
			$(BIN)/pytest -q -p no:cacheprovider $(RQ_TESTS); \
	else \
		echo "NOTICE: Redis not reachable at $(REDIS_TEST_URL): skipped the RQ task backend run"; \
	fi

bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
