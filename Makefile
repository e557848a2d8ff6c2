# Two commands for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test check install dev bench clean chromium

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

# Whole files per worker (module fixtures such as the dashboard's demo run once, not once per worker),
# handed out slowest first (SLOW_FILES in tests/conftest.py) so both workers finish together.
test: dev chromium
	$(BIN)/python -m pytest -q -n 2 --dist loadfile --no-loadscope-reorder

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
	rm -rf $(VENV) demo .pytest_cache .typecheck .mypy_cache .ruff_cache
