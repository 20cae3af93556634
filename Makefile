# crmlab: the front door. `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help setup report test test-all lint lab bench clean-reports

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv
	$(BIN)/uv pip install --python $(BIN)/python --quiet --compile-bytecode -e ".[dev,fast,postgres]"
	$(BIN)/python -m ipykernel install --sys-prefix --name crmlab --display-name "Python (crmlab)" >/dev/null
	@# a per-user "crmlab" kernel (made by older versions of this Makefile) would shadow this
	@# checkout's own kernel, so that one checkout ran another's code: remove it
	@user_kernel="$$($(BIN)/jupyter --data-dir)/kernels/crmlab"; \
	  if [ -d "$$user_kernel" ]; then rm -rf "$$user_kernel"; echo "removed the per-user kernel $$user_kernel"; fi
	@touch $(STAMP)
	@echo "crmlab environment ready in $(VENV) (Jupyter kernel: crmlab, inside $(VENV))"

setup: $(STAMP)  ## create the virtual environment, install crmlab, register the Jupyter kernel

report: $(STAMP)  ## render every notebook on the embedded data into reports/
	$(BIN)/crmlab render --all

lint: $(STAMP)  ## check the code for errors and dead code (ruff)
	$(BIN)/ruff check crmlab tests bench

test: $(STAMP) browser postgres spark lint  ## run the test suite (slow cases left out)
	$(BIN)/python -m pytest -n 2 --dist loadgroup -m "not slow" $(PYTEST_ARGS)

test-all: $(STAMP) browser postgres spark  ## run every test, the slow ones too (and thousands of random files)
	CRMLAB_HYPOTHESIS_EXAMPLES=3000 $(BIN)/python -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

lab: $(STAMP)  ## start JupyterLab on the project
	$(BIN)/jupyter lab --notebook-dir=.

bench: $(STAMP)  ## run the benchmarks in bench/ against their peers (figures go to bench/results/)
	$(BIN)/uv pip install --python $(BIN)/python --quiet -e ".[dev,fast,postgres,bench]"
	$(BIN)/python bench/run_all.py

clean-reports:  ## delete rendered reports
	rm -rf reports/*/ reports/index.html

.PHONY: browser
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
browser:  ## install Debian's chromium and a Korean font for the browser tests (nothing to do when present)
	@test -x /usr/bin/chromium -a -d /usr/share/fonts/truetype/nanum || \
	  { $(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends chromium fonts-nanum; }

.PHONY: postgres
postgres:  ## install Debian's PostgreSQL server for the database tests (nothing to do when present)
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || \
	  { $(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends postgresql; }

.PHONY: spark
spark: $(STAMP)  ## install PySpark (the spark extra) and Debian's Java 17 for the Spark tests
	@command -v java >/dev/null || { $(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends openjdk-17-jre-headless; }
	$(BIN)/uv pip install --python $(BIN)/python --quiet -e ".[dev,fast,postgres,spark]"
