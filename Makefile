# Two commands: `make book` (build the course) and `make test` (what CI runs).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# The install stamp is keyed on pyproject.toml's content: editing it reinstalls, nothing else does.
STAMP  := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)
DATA   := data/MNIST/raw/.verified.json

.PHONY: book test install data lint clean

book: install data  ## Train every model and build the full book into _build/html
	$(BIN)/jupyter-book build . -W -n --keep-going

test: install data  ## Run the whole test suite (unit tests, notebooks in smoke mode, book build)
	$(BIN)/ruff check .
	$(BIN)/pytest -n 2 --dist loadgroup

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	rm -f $(VENV)/.installed-*
	touch $@

data: $(DATA)

$(DATA): | $(STAMP)
	$(BIN)/python -m labutils.data

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf _build data/MNIST checkpoints
