# One-command set-up: `make run` opens the app, `make test` runs the whole suite.
# Both create .venv from nothing when it is missing or older than the project's dependency files.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.twintrain-installed
# cpu or gpu, from what the machine has (override: make test EXTRA=cpu).
EXTRA ?= $(shell command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1 && echo gpu || echo cpu)
CONSTRAINTS := packaging/constraints.txt

.PHONY: run test lint setup clean bench

setup: $(STAMP)

$(STAMP): pyproject.toml $(CONSTRAINTS)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --progress-bar off -q --upgrade pip
	$(PY) -m pip install --progress-bar off -q -c $(CONSTRAINTS) -e ".[$(EXTRA),dev]"
	@touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/twintrain $(ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

test: lint
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q $(PYTEST_ARGS)

bench: $(STAMP)
	@for b in bench/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache
