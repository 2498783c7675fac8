# secondapproval — every target works on a fresh machine: it creates .venv first.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck unit scenarios bench-smoke bench bench-long fuzz clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m secondapproval.demo --rules rules --samples samples/applications.jsonl --out .demo

test: $(STAMP) lint typecheck unit scenarios bench-smoke

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -q tests scenarios

scenarios: $(STAMP)
	$(BIN)/secondapproval check rules
	$(BIN)/secondapproval test scenarios --coverage

bench-smoke: $(STAMP)
	$(BIN)/pytest -q benchmarks --benchmark-disable -p no:cacheprovider

bench: $(STAMP)
	$(BIN)/pytest -q benchmarks --benchmark-enable --benchmark-only --benchmark-columns=min,median,mean,max,rounds

bench-long: $(STAMP)
	$(BIN)/pytest -q benchmarks -m slow --benchmark-enable

fuzz: $(STAMP)
	$(BIN)/pytest -q tests -m slow

clean:
	rm -rf $(VENV) .demo build *.egg-info src/*.egg-info
