# The two commands a new user needs: `make demo` and `make test`. Both create .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_REPORT := reports/demo

.PHONY: demo test bench lint eval-real install clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/signals extract seeds/
	$(BIN)/signals train
	$(BIN)/signals score "If they strike our positions again, our response will know no limits."
	$(BIN)/signals score "We announce the suspension of military operations against the occupation forces, for now."
	$(BIN)/signals report --out $(DEMO_REPORT)

test: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python -m benchmarks

eval-real: $(STAMP)
	$(BIN)/signals eval-real

lint: $(STAMP)
	$(BIN)/ruff check signals tests benchmarks

clean:
	rm -rf $(VENV) build *.egg-info
