# Two set-up commands, both self-installing on a fresh machine with Python 3.11:
#   make demo   creates .venv, installs landpatrol, runs the demo region flow
#   make test   creates .venv if needed, runs the test suite
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test venv bench catalogue notebook clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found (landpatrol needs Python 3.11)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/landpatrol demo

test: $(STAMP)
	PREFECT_SERVER_ANALYTICS_ENABLED=false $(BIN)/python -m pytest -n 2 --dist loadfile

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_pipeline.py

# the analyst's notebook (notebooks/explore_run.ipynb) in JupyterLab, in the project's own .venv
notebook: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[notebook]'
	$(BIN)/jupyter lab notebooks/explore_run.ipynb

# gettext .mo files from the message catalogue (the app reads the .po files directly)
catalogue: $(STAMP)
	$(BIN)/pybabel compile -d pipeline/locale -D landpatrol

# ruff over pipeline/, flows/, models/, lab/, tests/, benchmarks/ and mypy over the first three: all clean, so any new finding fails the target.
# mypy is not part of `make test`: a cold run takes ~60 s of one core (measured, 207 files).
lint: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[lint]'
	$(BIN)/ruff check pipeline flows models lab tests benchmarks
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
