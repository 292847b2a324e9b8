# `make test` and `make demo` work on a fresh machine: they create .venv and install what they need.
# TORCH_SPEC pins the CPU build of torch available locally here; elsewhere the same pin comes from PyPI.
PYTHON ?= python3
VENV ?= .venv
TORCH_SPEC ?= torch==2.13.0
PYTEST_WORKERS ?= auto
STAMP := $(VENV)/.installed-stamp

.PHONY: venv test demo bench clean

venv: $(STAMP)

$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check "$(TORCH_SPEC)"
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -e ".[dev]"
	touch $(STAMP)

test: $(STAMP)
	$(VENV)/bin/pytest -n $(PYTEST_WORKERS) -q

demo: $(STAMP)
	$(VENV)/bin/rlvr demo

bench: $(STAMP)
	$(VENV)/bin/python benchmarks/perf/sandbox_bench.py

clean:
	rm -rf $(VENV) runs .pytest_cache
