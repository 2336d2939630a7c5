# Two commands do all set-up on a fresh machine: `make run` and `make test` (see README.md).
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
LMS_PORT ?= 5000
# Debian packages the project needs: Pango for WeasyPrint, HarfBuzz's subsetter (makes PDF
# fonts ~10x faster), and fonts that cover every Vietnamese letter for the certificates; ICU and
# what builds PyICU against it (Vietnamese collation of names).
DEBS := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core fonts-noto-core libicu-dev pkg-config g++
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/postgres
# Browser tests: Debian's Chromium (Playwright never downloads a browser here), a Java runtime for
# the Nu HTML Checker when none is installed, npm when missing; axe-core and vnu-jar from npm
# into a git-ignored cache inside the project.
E2E_DEBS := chromium $$(command -v java >/dev/null || echo default-jre-headless) $$(command -v npm >/dev/null || echo npm)
NODE_CACHE := .cache/node
E2E_NODE_FILES := $(NODE_CACHE)/node_modules/axe-core/axe.min.js $(NODE_CACHE)/node_modules/vnu-jar/build/dist/vnu.jar

.PHONY: run test install debian translations lint check-migrations test-sqlite test-postgres test-e2e serve clean

install: debian $(STAMP) translations

# $(call apt_ensure,PACKAGES): install those of the Debian PACKAGES that are missing, nothing else.
define apt_ensure
missing=""; for p in $(1); do \
  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; done; \
if [ -n "$$missing" ]; then \
  echo "Installing Debian packages:$$missing"; \
  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
fi
endef

debian:
	@$(call apt_ensure,$(DEBS))

$(STAMP): setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[dev]'
	touch $@

translations: $(STAMP)
	@if ls lms/translations/*/LC_MESSAGES/messages.po >/dev/null 2>&1; then \
	  $(BIN)/pybabel compile -d lms/translations >/dev/null; fi

run: install
	$(BIN)/lms db upgrade
	$(BIN)/lms content sync
	$(BIN)/lms demo seed
	@echo "Serving on http://127.0.0.1:$(LMS_PORT) (Ctrl-C stops it)"
	exec $(BIN)/gunicorn --bind 127.0.0.1:$(LMS_PORT) --workers 2 --timeout 60 --graceful-timeout 10 lms.wsgi:app

lint: install
	$(BIN)/ruff check lms tests migrations
	$(BIN)/mypy lms
	$(BIN)/lint-imports
	$(BIN)/lms content check

check-migrations: install
	$(BIN)/python -m tests.migrations_check sqlite
	$(BIN)/python -m tests.migrations_check postgres

test-sqlite: install
	LMS_TEST_DATABASE=sqlite $(BIN)/pytest -q -m "not e2e" -p no:cacheprovider

test-postgres: install
	LMS_TEST_DATABASE=postgres $(BIN)/pytest -q -m "not e2e" -p no:cacheprovider

test-e2e: install
	@$(call apt_ensure,$(E2E_DEBS))
	@for f in $(E2E_NODE_FILES); do test -f $$f || missing=1; done; \
	if [ -n "$$missing" ]; then npm install --prefix $(NODE_CACHE) --no-audit --no-fund --no-save axe-core@4 vnu-jar; fi
	LMS_TEST_DATABASE=sqlite $(BIN)/pytest -q -m e2e -p no:cacheprovider

test: lint check-migrations test-sqlite test-postgres test-e2e
	@echo "make test: all checks passed (lint, types, layers, content, migrations, SQLite, PostgreSQL, browser)"

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache
