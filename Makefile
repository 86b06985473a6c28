# Two commands on a fresh machine: `make demo` and `make test`. Everything installs into .venv.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: install test lint demo bench serve clean

$(STAMP): requirements.txt requirements_test.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Poky needs Python 3.11 or newer (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements_test.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)

install: $(STAMP)

lint: install
	$(VENV)/bin/ruff check .

test: lint
	$(PY) -m pytest -q

demo: install
	$(PY) demo/demo.py

bench: install
	$(PY) bench/run.py

serve: install
	$(VENV)/bin/poky serve

clean:
	rm -rf $(VENV) .poky .pytest_cache .ruff_cache *.egg-info
