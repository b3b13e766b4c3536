# Two commands do all set-up: `make demo` and `make test`. Each creates .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test install bench clean corpus

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/newsclf demo --workdir demo-output

test: $(STAMP)
	$(BIN)/python -m pytest -q

corpus: $(STAMP)
	$(BIN)/python corpora/ai-discourse-demo/build_site.py

clean:
	rm -rf demo-output .pytest_cache
