# `make test` and `make demo` work on a fresh machine: they create .venv and install what they need.
# TORCH_SPEC pins the CPU build of torch available locally here; elsewhere the same pin comes from PyPI,
# or from TORCH_INDEX_URL when set (e.g. https://download.pytorch.org/whl/cpu for the CPU-only build).
PYTHON ?= python3
VENV ?= .venv
TORCH_SPEC ?= torch==2.13.0
TORCH_INDEX_URL ?=
PYTEST_WORKERS ?= auto
STAMP := $(VENV)/.installed-stamp

.PHONY: venv test demo bench clean

venv: $(STAMP)

$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check "$(TORCH_SPEC)" $(if $(TORCH_INDEX_URL),--index-url "$(TORCH_INDEX_URL)")
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
