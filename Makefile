# The two commands a new user needs: `make demo` and `make test`. Both create .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_REPORT := reports/demo
DEMO_MODEL := build/demo

.PHONY: demo test bench lint eval-real install clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/signals extract seeds/
	$(BIN)/signals train --out $(DEMO_MODEL)
	$(BIN)/signals score --model $(DEMO_MODEL)/model.joblib \
		"If they strike our positions again, our response will know no limits."
	$(BIN)/signals score --model $(DEMO_MODEL)/model.joblib \
		"We announce the suspension of military operations against the occupation forces, for now."
	$(BIN)/signals report --model $(DEMO_MODEL)/model.joblib --out $(DEMO_REPORT)
	@echo "demo report: $(DEMO_REPORT)/report.html (model trained into $(DEMO_MODEL)/; the shipped model in training/ is untouched)"

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
