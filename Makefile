# Two commands on a fresh machine: `make demo` and `make test`. Everything installs into .venv.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: install test lint demo bench reliability serve package clean

$(STAMP): requirements.txt requirements_test.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Poky needs Python 3.11 or newer (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements_test.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)

install: $(STAMP)

lint: install
	$(VENV)/bin/ruff check .

test: lint package
	$(PY) -m pytest -q

demo: install
	$(PY) demo/demo.py

bench: install
	$(PY) bench/run.py

reliability: install
	$(PY) bench/reliability.py

serve: install
	$(VENV)/bin/poky serve

# The Lambda zip, built by Zappa from a virtualenv holding only what the Lambda needs (and Zappa,
# which zappa_settings.json excludes from the zip). Works offline once the packages are installed.
LAMBDA_VENV := .venv-lambda
LAMBDA_ZIP  := dist/poky-lambda.zip

$(LAMBDA_VENV)/.installed: requirements_lambda.txt
	rm -rf $(LAMBDA_VENV)
	$(PYTHON) -m venv $(LAMBDA_VENV)
	$(LAMBDA_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements_lambda.txt "zappa==0.63.*"
	@touch $@

package: $(LAMBDA_VENV)/.installed
	@mkdir -p dist
	rm -f $(LAMBDA_ZIP)
	@# --json also skips Zappa's check for a newer release, so packaging needs no network.
	VIRTUAL_ENV=$(CURDIR)/$(LAMBDA_VENV) PATH=$(CURDIR)/$(LAMBDA_VENV)/bin:$$PATH \
		$(LAMBDA_VENV)/bin/zappa package dev --json --output $(LAMBDA_ZIP)
	@$(PYTHON) -c 'import os, sys; print(f"{sys.argv[1]}: {os.path.getsize(sys.argv[1]) / 1e6:.1f} MB (goal: 12 MB or less)")' $(LAMBDA_ZIP)

clean:
	rm -rf $(VENV) $(LAMBDA_VENV) dist .poky .pytest_cache .ruff_cache *.egg-info
