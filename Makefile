# Two commands for a newcomer: `make run` and `make test`. Both install what they need first, from the
# lock files, and only when what they would install from has changed since the last time.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Parallel test processes: "auto" is one per core. `make test TEST_WORKERS=0` runs the suite in one process.
TEST_WORKERS ?= auto
# `make test PYTEST_ARGS="tests/test_members.py -k invite"` runs part of the suite the same way.
PYTEST_ARGS ?=

# A stamp's name carries a hash of the files it was installed from, so an edited lock file or a switch of
# branch installs again, and an unchanged one never does, whatever the files' times say. Stamps live in
# what they describe: deleting .venv or node_modules deletes them too.
hash_of = $(shell cat $(1) 2>/dev/null | sha256sum | cut -c1-16)
APP_STAMP := $(VENV)/.installed-app-$(call hash_of,requirements/app.txt pyproject.toml)
TEST_STAMP := $(VENV)/.installed-test-$(call hash_of,requirements/test.txt pyproject.toml)
NODE_STAMP := node_modules/.installed-$(call hash_of,package.json package-lock.json)
# The build writes the manifest last, so it stands for all of static/dist.
ASSETS := static/dist/manifest.json
ASSET_SOURCES := static/build.mjs $(shell find static/src -type f 2>/dev/null)

.PHONY: run test install install-test assets browser scanner lock
# A recipe that fails leaves no target behind, so the next run tries again rather than trusting half a job.
.DELETE_ON_ERROR:

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# The lock first (its hashes checked), then the portal itself without resolving anything again.
$(APP_STAMP): | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements/app.txt
	$(BIN)/pip install --quiet --no-deps -e .
	rm -f $(VENV)/.installed-app-*
	touch $@

$(TEST_STAMP): | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r requirements/test.txt
	$(BIN)/pip install --quiet --no-deps -e .
	rm -f $(VENV)/.installed-test-*
	touch $@

$(NODE_STAMP):
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(ASSETS): $(ASSET_SOURCES) $(NODE_STAMP)
	npm run build --silent

assets: $(ASSETS)

install: $(APP_STAMP) $(ASSETS)

install-test: $(TEST_STAMP) $(ASSETS)

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

# pytest-xdist runs the suite in TEST_WORKERS processes; conftest.py says how it shares the tests out.
test: install-test browser scanner
	$(BIN)/python -m pytest -p no:cacheprovider -n $(TEST_WORKERS) $(PYTEST_ARGS)

# Recompiles the lock files from pyproject.toml, keeping every pin that still fits (flags in
# [tool.pip-tools]). `make lock LOCK_ARGS=--upgrade` moves everything to the newest allowed versions,
# `LOCK_ARGS="--upgrade-package starlette"` one package. The test lock is held to the app lock's versions,
# so `make run` and `make test` run the same libraries.
LOCK_ARGS ?=
lock: | $(BIN)/python
	@$(BIN)/python -c "import piptools" 2>/dev/null || $(BIN)/pip install --quiet "pip-tools>=7.6,<8"
	$(BIN)/python -m piptools compile --quiet $(LOCK_ARGS) --output-file requirements/app.txt pyproject.toml
	$(BIN)/python -m piptools compile --quiet $(LOCK_ARGS) --extra test --extra dev \
	  --constraint requirements/app.txt --output-file requirements/test.txt pyproject.toml
