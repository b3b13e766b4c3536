# Two commands do all set-up: `make demo` and `make test`. Each creates .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test install install-transformer bench clean corpus

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# The optional encoder backend (`newsclf train --backend minilm`). pip's default torch on Linux is a
# CUDA build of several GB: point TORCH at a CPU build (e.g. TORCH='torch --index-url
# https://download.pytorch.org/whl/cpu'; .ci/run uses the CPU wheel this machine kind keeps on
# disk).
TORCH ?= torch
install-transformer: $(STAMP)
	$(BIN)/pip install --quiet $(TORCH)
	$(BIN)/pip install --quiet -e '.[dev,transformer]'

demo: $(STAMP)
	$(BIN)/newsclf demo --workdir demo-output

# Style first (seconds): the formatter's check and the linter, at the line width in pyproject.toml.
test: $(STAMP)
	$(BIN)/ruff format --check --quiet .
	$(BIN)/ruff check --quiet .
	$(BIN)/python -m pytest -q

corpus: $(STAMP)
	$(BIN)/python corpora/ai-discourse-demo/build_site.py

clean:
	rm -rf demo-output .pytest_cache
