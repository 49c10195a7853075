# Two commands a new user needs: `make run` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.lock requirements-dev.lock | cksum | cut -d' ' -f1)

.PHONY: install run test test-postgres lint bench lock clean

install: $(STAMP)

$(STAMP): requirements.lock requirements-dev.lock
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.lock
	@rm -f $(VENV)/.installed-* && touch $@

run: install
	$(PY) app.py

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

# The same suite against PostgreSQL; TEST_DATABASE_URL names a server where a scratch database may be created.
test-postgres: install
	TEST_DATABASE_URL=$${TEST_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test} $(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy bot handlers storage sandbox runtime app.py

bench: install
	$(PY) bench/run_all.py

lock:
	@echo "Edit the pins in requirements*.lock, then: rm -rf $(VENV) && make install"

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
