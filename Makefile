# The two commands that matter on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# `make demo` needs the package alone (numpy, numba, matplotlib, scikit-learn), not the test
# extra; `make test` adds that extra to the same venv.
DEMO_STAMP := $(VENV)/.installed-demo
# The demo's report goes under reports/demo/, which git ignores: the committed example
# reports/quickstart/ is regenerated on purpose (accelsim run quickstart --out reports/quickstart).
DEMO_OUT ?= reports/demo/quickstart

.PHONY: install demo test test-slow validate bench bench-scalesim lint clean

$(DEMO_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip "setuptools>=77" wheel
	$(PY) -m pip install --quiet -e .
	touch $(DEMO_STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip "setuptools>=77" wheel
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(DEMO_STAMP)
	$(VENV)/bin/accelsim demo --out $(DEMO_OUT)

lint: $(STAMP)
	$(VENV)/bin/ruff check accelsim tests
	$(VENV)/bin/mypy

test: $(STAMP)
	$(VENV)/bin/ruff check accelsim tests
	$(VENV)/bin/mypy
	$(PY) -m pytest -q

test-slow: $(STAMP)
	$(PY) -m pytest -q -m slow --ignore=tests/benchmarks

# Live checks: time this host (numpy/BLAS against the CPU model) and print every comparison.
# They depend on the host's speed and load, so `make test` never runs them.
# Whole networks on cpu-host are timed live through PyTorch (the optional `validate` extra).
validate: $(STAMP)
	$(PY) -m pip install --quiet -e '.[test,validate]'
	$(PY) -m pytest -q -s -m host
	$(VENV)/bin/accelsim validate cpu-host
	$(VENV)/bin/accelsim validate cpu-host --networks
	$(VENV)/bin/accelsim validate cpu-host --layers
	$(VENV)/bin/accelsim validate cpu-epyc-zen4-2vcpu-2026-12-07 --layers
	$(VENV)/bin/accelsim validate cpu-epyc-zen4-2vcpu-mkl-grid-2026-12-07 --layers
	$(VENV)/bin/accelsim validate cpu-epyc-zen4-2vcpu-nets-2026-12-07 --layers
	$(VENV)/bin/accelsim validate cpu-epyc-zen4-2vcpu-lstm-2026-12-07 --layers
	$(VENV)/bin/accelsim validate cpu-epyc-zen4-2vcpu-small-conv-2026-12-07 --layers
	$(VENV)/bin/accelsim validate cpu-epyc-zen3-2vcpu-2026-11-27
	$(VENV)/bin/accelsim validate cpu-epyc-zen3-2vcpu-2026-11-27 --networks
	$(VENV)/bin/accelsim validate cpu-intel-16core-2026-11-27
	$(VENV)/bin/accelsim validate cpu-intel-16core-2026-11-27 --networks
	$(VENV)/bin/accelsim validate gpu-h200
	$(VENV)/bin/accelsim validate gpu-h200 --networks

bench: $(STAMP)
	$(PY) -m pytest -q tests/benchmarks -m "slow or not slow" --benchmark-only

# SCALE-Sim 3.0.0 needs its own environment (numpy 2.1.2, pandas 2.2.3); the benchmark then
# runs it and accelsim side by side on LeNet-5's layers and prints the speed ratios.
.venv-scalesim/.installed:
	$(PYTHON) -m venv .venv-scalesim
	.venv-scalesim/bin/python -m pip install --quiet numpy==2.1.2 pandas==2.2.3 scalesim==3.0.0
	touch $@

bench-scalesim: $(STAMP) .venv-scalesim/.installed
	$(PY) -m pytest -q -s tests/benchmarks/test_bench_tpu.py -m slow -k scalesim

clean:
	rm -rf $(VENV) .venv-scalesim build *.egg-info
