# Living Well Line. `make run` and `make test` are the two commands of the quick start.
PYTHON ?= python3
VENV := .venv
TOOLS := .tools
UV := $(TOOLS)/bin/uv
export UV_PROJECT_ENVIRONMENT := $(abspath $(VENV))
export UV_LINK_MODE := copy

.PHONY: install browser run test test-faults test-shuffled lint bench migrate clean translations

$(UV):
	@echo "==> bootstrapping uv into $(TOOLS)/ (first use only)"
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv

# Bytecode is compiled at install, as in infra/Dockerfile: otherwise every process of `make run`
# compiles its imports from source whenever .pyc files cannot be written, and spends seconds
# doing it (with PYTHONDONTWRITEBYTECODE set, a start took 17 s instead of 7 s).
$(VENV)/.installed: pyproject.toml uv.lock Makefile | $(UV)
	@echo "==> installing locked dependencies into $(VENV)/"
	$(UV) sync --frozen --quiet --compile-bytecode
	@touch $@

install: $(VENV)/.installed

run: install
	$(VENV)/bin/livewell run

migrate: install
	$(VENV)/bin/livewell migrate

# The page tests drive a real Chromium: the system's, Playwright's, or Debian's package installed here.
browser: install
	@infra/scripts/ensure-browser.sh $(VENV)

test: install browser
	$(VENV)/bin/pytest -m "not faults"

test-faults: install
	$(VENV)/bin/pytest -m faults

# `make test` in a seeded shuffled order (the modules, and the tests in each; each database
# backend's tests stay together), to catch a test that leans on what another left behind.
# The seed is printed in the header; `make test-shuffled SEED=n` repeats an order.
SEED ?= $(shell date +%s)
test-shuffled: install browser
	$(VENV)/bin/pytest -m "not faults" --shuffle $(SEED)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy services gateway livewell

bench: install
	$(VENV)/bin/python -m bench

# The website's gettext catalogues: extract the templates' strings, merge them into each
# language's .po (translators edit those), compile the .mo files the site reads.
SITE_I18N := services/site/translations
translations: install
	$(VENV)/bin/pybabel extract -F services/site/babel.cfg -o $(SITE_I18N)/messages.pot \
		--sort-by-file --project "Living Well Line website" services/site
	$(VENV)/bin/pybabel update -i $(SITE_I18N)/messages.pot -d $(SITE_I18N) --no-fuzzy-matching
	$(VENV)/bin/pybabel compile -d $(SITE_I18N) --statistics

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
