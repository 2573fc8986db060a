# Two commands for a newcomer: `make run` and `make test`. Both install what they need first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test install install-test assets browser scanner

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e .
	npm ci --no-audit --no-fund --loglevel=error
	npm run build --silent

install-test: install
	$(BIN)/pip install --quiet -e '.[test]'

# Playwright cannot download browsers here; Debian's Chromium is used when it is present.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-liberation >/dev/null; \
	  else \
	    $(BIN)/python -m playwright install chromium; \
	  fi; }

# tests/test_wapiti_scan.py scans the running portal with Debian's wapiti (a web vulnerability scanner).
scanner:
	@command -v wapiti >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wapiti >/dev/null; \
	  else \
	    echo "wapiti is missing: install Debian's wapiti package, or tests/test_wapiti_scan.py is skipped"; \
	  fi; }

run: install
	$(BIN)/portal serve

test: install-test browser scanner
	$(BIN)/python -m pytest -p no:cacheprovider
