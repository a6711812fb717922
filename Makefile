# Custodian: two commands do all set-up on a fresh machine.
#   make demo   install into .venv, migrate the embedded SQLite database, load a synthetic county, build the face
#               models, create the demo accounts and serve on http://127.0.0.1:8000
#   make test   install and run the whole suite
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
DEMO_ENV := DEBUG=1 MATCH_DEMONSTRATION=1 SECRET_KEY=$$(cat var/demo-secret-key)
DEMO_BOOKINGS ?= 5000

.PHONY: install demo test lint lock serve

$(BIN)/.installed: requirements/lock.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements/lock.txt
	touch $@

install: $(BIN)/.installed

var/demo-secret-key:
	mkdir -p var
	$(BIN)/python -c "import secrets; print(secrets.token_urlsafe(50))" > $@

demo: install var/demo-secret-key
	$(DEMO_ENV) $(BIN)/python manage.py migrate --no-input
	$(DEMO_ENV) $(BIN)/python manage.py demo_setup --bookings $(DEMO_BOOKINGS)
	$(DEMO_ENV) $(BIN)/python manage.py runserver 127.0.0.1:8000

serve: install var/demo-secret-key
	$(DEMO_ENV) $(BIN)/python manage.py runserver 127.0.0.1:8000

test: install
	mkdir -p var
	DEBUG=1 $(BIN)/python manage.py makemigrations --check --dry-run
	DEBUG=1 $(BIN)/python manage.py policy validate
	DEBUG=1 $(BIN)/python manage.py policy test
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DEBUG=1 $(BIN)/mypy .

# Re-pin after changing requirements/*.in: resolves in a scratch venv and writes the exact versions.
lock:
	rm -rf var/lock-venv && $(PYTHON) -m venv var/lock-venv
	var/lock-venv/bin/python -m pip install --quiet --upgrade pip
	var/lock-venv/bin/python -m pip install --quiet -r requirements/base.in -r requirements/dev.in
	var/lock-venv/bin/python -m pip freeze --exclude-editable > requirements/lock.txt
	rm -rf var/lock-venv
