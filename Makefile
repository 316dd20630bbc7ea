# The two commands of README.md: `make demo` and `make test`. Everything else supports them.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
HOST   ?= 127.0.0.1
PORT   ?= 8000
# pytest-xdist workers of `make test`; the tests wait on sockets, processes and the database more
# than they compute, so more workers than cores pay.
TEST_WORKERS ?= 3

.PHONY: demo test messages lint typecheck serve install bench bench-pages bench-load-plan

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[test]"
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

## Run the whole system on the embedded defaults with demo data and simulated chargers.
demo: $(STAMP)
	$(BIN)/python -m cpms.catalogs
	$(BIN)/python manage.py migrate --noinput -v 0
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py demo --host $(HOST) --port $(PORT)

## Lint, check types and migrations, and run the whole suite (CI=true: on PostgreSQL and Redis).
test: $(STAMP) lint typecheck
	@# Models and migrations agree; no database is needed for that (SQLite in memory).
	DATABASE_URL=sqlite://:memory: $(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python -m cpms.catalogs
	@# In parallel, each worker on a PostgreSQL and a Redis database of its own (tests/parallel.py);
	@# a module whose server outlives its tests keeps them on one worker (xdist_group).
	$(BIN)/pytest -p no:playwright --ignore=tests/browser --ignore=tests/faults --ignore=tests/bench \
		-n $(TEST_WORKERS) --dist loadgroup
	@# The fault suite and the benchmarks start many processes each and load the machine: alone.
	@# -rA prints what passing tests wrote: the fault suite's timeline and ledger reconciliation.
	$(BIN)/pytest -p no:playwright -rA tests/faults tests/bench
	@# Browser tests run in a process of their own: Playwright's loop breaks async tests.
	@if [ -d tests/browser ]; then $(BIN)/pytest tests/browser; fi

## Gather the marked messages into the catalogs (locale/<lang>/LC_MESSAGES/django.po) to
## translate; needs GNU gettext. The catalogs are compiled by `make demo` and `make test`.
messages: $(STAMP)
	$(BIN)/python manage.py makemessages --no-location --ignore=.venv --ignore=var --ignore=bench --ignore=tests \
		$(foreach l,de fr es,-l $(l))

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## mypy over the product code, as configured in pyproject.toml. The django plugin imports the
## settings; that needs no database (SQLite in memory).
typecheck: $(STAMP)
	DATABASE_URL=sqlite://:memory: $(BIN)/mypy

## Benchmark the OCPP server against a bare `ocpp` library server (a few minutes; not in `make
## test`). Sizes: make bench BENCH_ARGS="--hold 10000 --storm 5000 --command-chargers 1000".
bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

## Render the dashboard's pages for 10,000 chargers and a million sessions on a scratch PostgreSQL
## database (a few minutes; not in `make test`). Smaller: BENCH_PAGES_ARGS="--chargers 1000
## --sessions 100000"; keep the database to measure again: "--keep", then "--database NAME".
bench-pages: $(STAMP)
	$(BIN)/python -m bench.pages $(BENCH_PAGES_ARGS)

## Recompute the load plan of a site of 1,000 connectors on 20 circuits (a minute or two; not in
## `make test`): time per recompute and commands sent when nothing changed.
bench-load-plan: $(STAMP)
	$(BIN)/python -m bench.load_plan $(BENCH_LOAD_PLAN_ARGS)
