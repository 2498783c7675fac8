# secondapproval — every target works on a fresh machine: it creates .venv first.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test quick lint typecheck unit scenarios bench-smoke wheel-check bench bench-long fuzz mutants test-browser clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m secondapproval.demo --rules rules --samples samples/applications.jsonl --out .demo

test: $(STAMP) lint typecheck unit scenarios bench-smoke wheel-check

# The inner loop (under a minute): every test file under the quick Hypothesis profile (few examples,
# tests/reference.examples caps a test's own count), without the tests marked `long` — kill -9 and
# fork runs, 80,000 records from 8 threads, the peers — nor lint (all in make test); one pytest-xdist
# worker per core.
quick: $(STAMP)
	HYPOTHESIS_PROFILE=quick $(BIN)/pytest -q -x -n auto tests -m "not slow and not long"

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

# Two pytest-xdist workers, one per core of the stated machine (about 7 minutes instead of 14).
unit: $(STAMP)
	$(BIN)/pytest -q -n 2 tests scenarios

# The bundled rules and scenarios checked, analysed and run; then a small impact run from the
# command line: the sample applications, the bundled rules against themselves (nothing may flip).
scenarios: $(STAMP)
	$(BIN)/secondapproval check rules
	$(BIN)/secondapproval analyze rules
	$(BIN)/secondapproval test scenarios --coverage
	$(BIN)/secondapproval impact --rules rules --baseline rules samples/applications.jsonl \
		--vouch all --workers 2 --rows 300 --out build/impact-smoke \
		--fail-on approve-to-refer --fail-on refer-to-approve

bench-smoke: $(STAMP)
	$(BIN)/pytest -q benchmarks --benchmark-disable -p no:cacheprovider

# The wheel as a user gets it: built, installed with its dependencies in a fresh venv, and run
# from a folder outside the checkout (the CLI, the demo, every module imported, no benchmarks/).
wheel-check: $(STAMP)
	$(BIN)/python tests/wheel_check.py

# Benchmarks run on one core when taskset is there; the ratio table follows the pytest-benchmark one.
PIN := $(shell command -v taskset >/dev/null 2>&1 && echo taskset -c 0)

bench: $(STAMP)
	$(PIN) $(BIN)/pytest -q benchmarks --benchmark-enable --benchmark-only --benchmark-columns=min,median,mean,max,rounds
	$(PIN) $(BIN)/python -m benchmarks.ratios
	$(BIN)/python -m benchmarks.throughput
	$(BIN)/python -m benchmarks.gather
	$(PIN) $(BIN)/python -m benchmarks.analysis_parts
	$(BIN)/python -m benchmarks.service_load

# The long runs: the slow benchmarks on one core, then impact analysis of 10 million applications
# on two Dask workers (benchmarks/impact_scale.py; it needs both cores, so it is not pinned).
bench-long: $(STAMP)
	$(PIN) $(BIN)/pytest -q -s benchmarks -m slow --benchmark-enable
	$(BIN)/python -m benchmarks.impact_scale --rows 10000000 --sample 1000000

fuzz: $(STAMP)
	$(BIN)/python tests/fuzz_differential.py --cases 1000000
	$(BIN)/pytest -q tests -m slow

# Mutation testing of the core ([tool.mutmut] in pyproject.toml; figures in docs/mutation.md).
# MUTATE picks mutants by name (default: the whole core), e.g.
#   make mutants MUTATE='secondapproval.idcodes* secondapproval.lang.kleene*'
# A run stops after MUTANTS_SECONDS; mutmut keeps its results in mutants/, so the next run resumes.
MUTATE ?=
MUTANTS_SECONDS ?= 3600
mutants: $(STAMP)
	timeout $(MUTANTS_SECONDS) $(BIN)/mutmut run $(MUTATE) || test $$? -eq 124
	$(BIN)/python tests/mutation_score.py

# Guides in headless Chromium (needs Debian's chromium; .ci/run installs it): blank, A4, QR.
test-browser: $(STAMP)
	$(BIN)/python tests/browser/check_guides.py rules tests/fixtures/guide/rules tests/fixtures/guide/large --out build/browser

clean:
	rm -rf $(VENV) .demo build *.egg-info src/*.egg-info
