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
E2E_NODE_FILES := $(NODE_CACHE)/node_modules/axe-core/axe.min.js $(NODE_CACHE)/node_modules/vnu-jar/build/dist/vnu.jar \
  $(NODE_CACHE)/node_modules/oidc-provider/package.json $(NODE_CACHE)/node_modules/jose/package.json
# Every npm package in one install: `npm install --no-save` prunes packages an earlier one added.
NODE_PACKAGES := axe-core@4 vnu-jar oidc-provider@9 jose@6

.PHONY: bench-deps run test install debian translations lint check-migrations test-sqlite test-postgres test-e2e test-sso node-packages serve clean xapi-lrs

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
	@# demo accounts have published passwords: never on a production site (the seed refuses too)
	@if [ "$${LMS_ENV:-}" = production ]; then echo "LMS_ENV=production: no demo accounts"; else $(BIN)/lms demo seed; fi
	@echo "Serving on http://127.0.0.1:$(LMS_PORT) (Ctrl-C stops it)"
	exec $(BIN)/gunicorn --config gunicorn.conf.py --bind 127.0.0.1:$(LMS_PORT) lms.wsgi:app

# bench/speed.py drives the server with wrk (bench/README.md).
bench-deps: install
	@$(call apt_ensure,wrk)

lint: install
	$(BIN)/ruff check lms tests migrations
	$(BIN)/mypy lms
	$(BIN)/lint-imports
	$(BIN)/lms content check

check-migrations: install
	$(BIN)/python -m tests.migrations_check sqlite
	$(BIN)/python -m tests.migrations_check postgres

test-sqlite: install xapi-lrs
	LMS_TEST_DATABASE=sqlite $(BIN)/pytest -q -m "not e2e and not sso" -p no:cacheprovider

# The PostgreSQL run also puts two app servers behind Debian's nginx (tests/web/test_burst.py).
test-postgres: install xapi-lrs
	@$(call apt_ensure,nginx)
	LMS_TEST_DATABASE=postgres $(BIN)/pytest -q -m "not e2e and not sso" -p no:cacheprovider

# npm packages the browser and single sign-on tests need (axe-core, the Nu checker, and
# oidc-provider with jose: the real OpenID Provider the SSO tests start on loopback).
node-packages:
	@$(call apt_ensure,$$(command -v npm >/dev/null || echo npm))
	@for f in $(E2E_NODE_FILES); do test -f $$f || missing=1; done; \
	if [ -n "$$missing" ]; then npm install --prefix $(NODE_CACHE) --no-audit --no-fund --no-save $(NODE_PACKAGES); fi

test-e2e: install node-packages
	@$(call apt_ensure,$(E2E_DEBS))
	LMS_TEST_DATABASE=sqlite $(BIN)/pytest -q -m e2e -p no:cacheprovider

# The xAPI tests send statements to a real LRS: ralph (France Université Numérique), started on
# loopback by the tests. It goes into a venv of its own under the git-ignored .cache/, because it
# pins its own fastapi, pydantic and uvicorn; `requests` is imported by ralph.api but not in its
# lrs extra.
RALPH_VENV := .cache/ralph
RALPH_SPEC := ralph-malph[lrs,cli]==5.1.0
xapi-lrs: $(RALPH_VENV)/.installed-stamp

$(RALPH_VENV)/.installed-stamp:
	test -x $(RALPH_VENV)/bin/python || $(PY) -m venv $(RALPH_VENV)
	$(RALPH_VENV)/bin/python -m pip install -q --disable-pip-version-check '$(RALPH_SPEC)' requests bcrypt
	touch $@

# Single sign-on against oidc-provider on 127.0.0.1:5962, on both databases (the browser journey
# through its forms is an e2e test and runs in test-e2e).
test-sso: install node-packages
	LMS_TEST_DATABASE=sqlite $(BIN)/pytest -q -m "sso and not e2e" -p no:cacheprovider
	LMS_TEST_DATABASE=postgres $(BIN)/pytest -q -m "sso and not e2e" -p no:cacheprovider

test: lint check-migrations test-sqlite test-postgres test-sso test-e2e
	@echo "make test: all checks passed (lint, types, layers, content, migrations, SQLite, PostgreSQL, SSO, browser)"

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache
