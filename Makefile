# The README's commands. `make test` works on a fresh machine with Python 3.11+ and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PYTEST_ARGS ?=
SANDBOX_ARGS ?=

.PHONY: sandbox run test check messages bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

sandbox: $(STAMP)  ## try it offline: the bot, an emulated Telegram and a chat page on 127.0.0.1:8080
	$(BIN)/yishi sandbox $(SANDBOX_ARGS)

run: $(STAMP)  ## the bot on real Telegram (needs YISHI_TELEGRAM_TOKEN) or YISHI_TELEGRAM_API_URL
	$(BIN)/yishi run

test: $(STAMP)  ## the whole suite (SQLite; also PostgreSQL when YISHI_TEST_DATABASE_URL is set)
	$(BIN)/pytest -q $(PYTEST_ARGS)

check: $(STAMP)  ## linters, types and the import contracts (pyproject.toml)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check bot handlers storage scheduler tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports --no-logo

messages: $(STAMP)  ## re-extract the translatable strings into the catalogs
	$(BIN)/pybabel extract -F babel.cfg -k _ -k N_ -k ngettext:2,3 --no-location \
		--sort-output --omit-header -o $(VENV)/yishi.pot .
	$(BIN)/pybabel update -i $(VENV)/yishi.pot -d handlers/words/locales -D yishi \
		--omit-header --ignore-obsolete --no-fuzzy-matching --width 100

bench: $(STAMP)  ## the intake benchmark
	$(BIN)/python bench/intake.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
