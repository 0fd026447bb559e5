# The two commands a new user types: `make run` and `make test`. Both set everything up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test bench lint format clean translations

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

run: $(VENV)/.installed
	$(BIN)/tracker db upgrade
	$(BIN)/tracker history seal > /dev/null
	$(BIN)/tracker demo load --if-empty
	@$(BIN)/tracker demo accounts
	@echo ""
	@echo "  The tracker is at http://$(HOST):$(PORT)/  (Ctrl+C stops it)"
	@echo "  E-mails go out through the worker started beside it; with no TRACKER_MAIL_SERVER"
	@echo "  they are written as .eml files to instance/mail, to read them."
	@echo ""
	@# The outbox worker runs beside the web server and stops with it.
	@$(BIN)/tracker worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/gunicorn --bind $(HOST):$(PORT) --workers 2 --threads 4 --access-logfile - 'tracker:create_app()'

# The suite runs on every core (pytest-xdist); PYTEST_ARGS="-n 0" runs it in one process.
PYTEST_ARGS ?= -n auto

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(VENV)/.installed-test
	$(BIN)/python -m bench.run $(BENCH_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache

# Refresh the message catalogues after changing texts, then translate the new entries in
# tracker/translations/*/LC_MESSAGES/messages.po and run this again to compile them.
translations: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k N_ -k translate -k lazy_gettext --no-location --sort-output -o tracker/translations/messages.pot .
	$(BIN)/pybabel update -i tracker/translations/messages.pot -d tracker/translations --ignore-obsolete --no-fuzzy-matching
	$(BIN)/pybabel compile -d tracker/translations
