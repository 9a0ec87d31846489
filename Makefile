# Set-up and everyday commands. `make run` and `make test` work on a fresh machine.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# First interpreter >= 3.12 found on PATH (pyenv shims included).
PYTHON_FOUND := $(shell for p in python3.12 python3.13 python3.14 python3 python; do \
	if command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; then \
	command -v $$p; break; fi; done)

.PHONY: run test bench venv clean

$(PY):
	@if [ -z "$(PYTHON_FOUND)" ]; then \
		echo "chipwar needs Python >= 3.12 (Mesa >= 3.4 requires it): install python3.12 (e.g. 'pyenv install 3.12' or 'apt-get install python3.12-venv') and re-run make." >&2; \
		exit 2; fi
	"$(PYTHON_FOUND)" -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(PY) -m experiments.baseline --overwrite

test: $(STAMP)
	$(PY) -m pytest
	$(VENV)/bin/ruff check .

bench: $(STAMP)
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) build *.egg-info
