# Two commands for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test test-lake check install dev bench clean chromium postgresql

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# Re-install only when the project's metadata changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
dev: $(VENV)/.installed-dev

demo: install
	$(BIN)/runlift demo

# The browser tests use Debian's Chromium (never `playwright install`: it downloads browsers).
chromium:
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	elif [ ! -x /usr/bin/chromium ]; then \
		echo "note: /usr/bin/chromium missing and not root: the browser tests will be skipped (sudo apt-get install chromium)"; \
	fi

LAKE_VENV := .venv-lake
LAKE_TESTS := tests/test_lake.py tests/test_warehouse.py

# Whole files per worker (module fixtures such as the dashboard's demo run once, not once per worker),
# handed out slowest first (SLOW_FILES in tests/conftest.py) so both workers finish together. The lake
# tests (test-lake, below) run beside them: they mostly wait on PostgreSQL and on each other's locks,
# so they cost the main suite little CPU; their output follows the main suite's.
test: dev chromium $(LAKE_VENV)/.installed-lake postgresql
	@rm -f .test-lake.log; \
	PYTEST_DEBUG_TEMPROOT="$$(mktemp -d)" $(LAKE_VENV)/bin/python -m pytest -q -p no:cacheprovider -m lake \
		$(LAKE_TESTS) > .test-lake.log 2>&1 & lake=$$!; \
	$(BIN)/python -m pytest -q -n 2 --dist loadfile --no-loadscope-reorder; main=$$?; \
	wait $$lake; lake_rc=$$?; \
	echo "--- make test-lake (run beside the main suite) ---"; cat .test-lake.log; \
	[ $$main -eq 0 ] && [ $$lake_rc -eq 0 ]

# The lake mode (docs/lake.md) in its own virtualenv: DuckDB pinned to 1.5.5, the version PyPI's
# DuckLake and postgres extension wheels are built for (the main .venv keeps DuckDB 2.x, whose files
# 1.5.5 cannot open). Its tests start PostgreSQL from Debian's packages on 127.0.0.1.
$(LAKE_VENV)/bin/python:
	$(PYTHON) -m venv $(LAKE_VENV)
	$(LAKE_VENV)/bin/python -m pip install -q --upgrade pip

$(LAKE_VENV)/.installed-lake: pyproject.toml | $(LAKE_VENV)/bin/python
	$(LAKE_VENV)/bin/python -m pip install -q -e '.[dev,lake]'
	touch $@

postgresql:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	elif ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		echo "note: PostgreSQL missing and not root: the lake tests will be skipped (sudo apt-get install postgresql)"; \
	fi

test-lake: $(LAKE_VENV)/.installed-lake postgresql
	$(LAKE_VENV)/bin/python -m pytest -q -m lake $(LAKE_TESTS)

# Lint and type check (settings in pyproject.toml). mypy sees the folders under their installed names
# (runlift.flows, ...) through a tree of links in .typecheck/, rebuilt here.
check: dev
	rm -rf .typecheck && mkdir -p .typecheck/runlift
	for layer in flows warehouse connectors standins; do \
		if [ -d $$layer ]; then ln -s ../../$$layer .typecheck/runlift/$$layer; fi; \
	done
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: dev
	$(BIN)/python bench/fit_import.py

clean:
	rm -rf $(VENV) $(LAKE_VENV) demo .pytest_cache .typecheck .mypy_cache .ruff_cache
