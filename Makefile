# Two entry points: `make demo` and `make test`. Both create .venv and install what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-slow lint typecheck unit integration e2e bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "toir needs Python 3.11 or newer"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/toir demo

# The slow fault drills (broker kill -9, a database outage for ingest) run with `make test-slow`.
# Three test processes: most integration and end-to-end tests wait on brokers and child
# processes, so three keep two cores busy (TEST_WORKERS=0 runs them in this process).
TEST_WORKERS ?= 3
test: browser-deps lint typecheck
	$(BIN)/python -m pytest -q -m "not slow" -n $(TEST_WORKERS)

test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -m slow

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/python -m pytest -q tests/unit

integration: $(STAMP)
	$(BIN)/python -m pytest -q tests/integration

e2e: $(STAMP)
	$(BIN)/python -m pytest -q tests/e2e

bench: $(STAMP)
	$(BIN)/toir bench ingest

clean:
	rm -rf $(VENV) .toir .mypy_cache .ruff_cache .pytest_cache .hypothesis

# What the browser tests need (tests/browser): the Python package playwright, driving Debian's
# Chromium at /usr/bin/chromium (no browser is ever downloaded). Installs what it can and never
# fails: without root or apt-get it says so, and tests/browser/conftest.py skips those tests
# with the reason printed at the end of the run.
.PHONY: browser-deps
browser-deps: $(STAMP)
	@$(BIN)/python -c 'import playwright' 2>/dev/null \
		|| $(BIN)/python -m pip install --quiet 'playwright>=1.50' \
		|| echo "browser-deps: pip could not install playwright: browser tests will be skipped"
	@if [ -x /usr/bin/chromium ]; then \
		echo "browser-deps: $$(/usr/bin/chromium --version 2>/dev/null)"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "browser-deps: installing Debian's chromium (about 30 s)"; \
		apt-get install -y -q chromium >/dev/null \
		|| { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; } \
		|| echo "browser-deps: apt-get could not install chromium: browser tests will be skipped"; \
	else \
		echo "browser-deps: no /usr/bin/chromium, and not root with apt-get to install it:" \
			"browser tests will be skipped (install Debian's chromium package to run them)"; \
	fi
