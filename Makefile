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
	$(BIN)/lint-imports --no-cache --no-logo

REDIS_TEST_URL ?= redis://127.0.0.1:6379/15
# The pipeline's tests, run again on the RQ task backend (django-tasks-rq on Redis).
RQ_TESTS := src/schoolsms/messaging/tests/test_pipeline.py \
	src/schoolsms/messaging/tests/test_transitions.py \
	src/schoolsms/messaging/tests/test_quiet_hours.py \
	src/schoolsms/messaging/tests/test_worker.py \
	src/schoolsms/messaging/tests/test_task_leases.py


# Under CI (CI=true, see .ci/run) nothing may be skipped: a missing Chromium, PostgreSQL or Redis
# fails the run.
CHROMIUM := /usr/bin/chromium
PG_UP = $(BIN)/python -c "import psycopg; psycopg.connect('$(PG_URL)'.rsplit('/',1)[0]+'/postgres', connect_timeout=3).close()" 2>/dev/null
SUMMARY := $(VENV)/.test-summary

test: $(STAMP)
	@rm -f $(SUMMARY)
	@$(MAKE) --no-print-directory lint
	@echo "lint (ruff, mypy, import contracts): passed" >> $(SUMMARY)
	@$(MAKE) --no-print-directory test-sqlite
	@$(MAKE) --no-print-directory test-postgres
	@$(MAKE) --no-print-directory test-rq
	@echo; echo "== make test: what ran =="; cat $(SUMMARY); rm -f $(SUMMARY)

test-sqlite: $(STAMP)
	@if [ ! -x $(CHROMIUM) ]; then \
		if [ "$$CI" = "true" ]; then echo "FAILED: CI runs the browser tests but $(CHROMIUM) is missing"; exit 1; fi; \
		echo "NOTICE: $(CHROMIUM) not found: browser tests will be SKIPPED (apt-get install -y chromium)"; \
	fi
	env -u DATABASE_URL $(BIN)/pytest -q -p no:cacheprovider
	@if [ -x $(CHROMIUM) ]; then \
		echo "SQLite suite: passed, browser tests included" >> $(SUMMARY); \
	else \
		echo "SQLite suite: passed; browser tests SKIPPED: $(CHROMIUM) not found (apt-get install -y chromium)" >> $(SUMMARY); \
	fi

test-postgres: $(STAMP)
	@if $(PG_UP); then \
		echo "== PostgreSQL reachable: running the suite again on PostgreSQL =="; \
		DATABASE_URL=$(PG_URL) $(BIN)/pytest -q -p no:cacheprovider -m "not browser" \
		&& echo "PostgreSQL suite: passed (browser tests run on SQLite only)" >> $(SUMMARY); \
	elif [ "$$CI" = "true" ]; then \
		echo "FAILED: CI runs the PostgreSQL suite but nothing answers at $(PG_URL)"; exit 1; \
	else \
		echo "NOTICE: PostgreSQL not reachable at $(PG_URL): skipped the PostgreSQL run"; \
		echo "PostgreSQL suite: SKIPPED: nothing answers at $(PG_URL) (start PostgreSQL or set PG_URL=...)" >> $(SUMMARY); \
	fi

test-rq: $(STAMP)
	@if $(BIN)/python -c "import redis; redis.Redis.from_url('$(REDIS_TEST_URL)', socket_connect_timeout=3).ping()" 2>/dev/null; then \
		echo "== Redis reachable: running the pipeline tests again on the RQ task backend =="; \
		env -u DATABASE_URL SCHOOLSMS_TASK_BACKEND=rq SCHOOLSMS_REDIS_URL=$(REDIS_TEST_URL) \
			$(BIN)/pytest -q -p no:cacheprovider $(RQ_TESTS) \
		&& echo "RQ task backend (pipeline tests): passed" >> $(SUMMARY); \
	elif [ "$$CI" = "true" ]; then \
		echo "FAILED: CI runs the RQ task backend tests but Redis does not answer at $(REDIS_TEST_URL)"; exit 1; \
	else \
		echo "NOTICE: Redis not reachable at $(REDIS_TEST_URL): skipped the RQ task backend run"; \
		echo "RQ task backend (pipeline tests): SKIPPED: Redis does not answer at $(REDIS_TEST_URL)" >> $(SUMMARY); \
	fi

# make bench SCALE=small: every bench at a hundredth of the issues' sizes (a quick look).
SCALE ?= full
# bench_workers drops and re-creates this database on every run.
BENCH_WORKERS_PG ?= $(PG_URL)_bench_workers
bench: $(STAMP)
	BENCH_WORKERS_PG=$(BENCH_WORKERS_PG) $(BIN)/python bench/run.py --scale $(SCALE)

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
