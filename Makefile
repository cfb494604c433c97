# Two entry points for a fresh machine:  `make book` (build the book) and `make test` (all tests).
# Both create .venv/ and install everything on first use.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

# Data root: $ROBUSTCORE_DATA if set; else a sibling ../shared/data holding MNIST (offline
# machines); else robustcore's default (~/.cache/robustcore/data, filled by torchvision's download).
ifeq ($(origin ROBUSTCORE_DATA), undefined)
ifneq ($(wildcard ../shared/data/MNIST/raw/t10k-images-idx3-ubyte),)
export ROBUSTCORE_DATA := $(abspath ../shared/data)
endif
endif
export PYDEVD_DISABLE_FILE_VALIDATION := 1
# glibc's allocator: blocks up to 256 MiB stay in the heap for reuse, instead of going back to
# the system when freed and being faulted in again page by page for the next tensor of that
# size (the chapters allocate such tensors all the time). Numbers are unchanged; time is not:
# benchmarks/allocator.py. Other C libraries ignore the variable.
export GLIBC_TUNABLES ?= glibc.malloc.mmap_threshold=268435456:glibc.malloc.trim_threshold=1073741824:glibc.malloc.top_pad=67108864

.PHONY: help venv book full test unit nbval pairing format lint bench browser mutation clean

help:
	@echo "make book   build the HTML book into _build/html (executes every chapter)"
	@echo "make full   every chapter in the full (paper-scale) profile into _build/full: executed"
	@echo "            notebooks, results, artifacts, timing.json; resumable; CHAPTERS=05 picks one,"
	@echo "            SET='03:N_IMAGES=100' changes a setting of a chapter's parameters cell"
	@echo "make test   unit tests + every chapter under nbval + the .py/.ipynb pairing check"
	@echo "make format reformat library, tests and chapters at 88 columns (ruff), re-pair the chapters"
	@echo "make bench  run benchmarks/ (and time the whole book), write benchmarks/results.json"
	@echo "make browser  open every page of the built book in headless Chromium (builds it if missing)"
	@echo "make mutation  mutation-test the algorithm modules (slow, not in CI): _build/mutation/report.md;"
	@echo "               MUTATE='metrics store' picks modules, MUTATION_JOBS=2 parallel test runs,"
	@echo "               MUTATION_ARGS=--resume reruns only survivors and mutants not run yet"

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	# robustcore with what it declares (pyproject.toml), torchattacks among them
	$(PY) -m pip install -q -e ".[book]"
	$(PY) -c "import torch, torchvision; torchvision.ops.nms; print('torch', torch.__version__, 'torchvision', torchvision.__version__)"
	touch $@

# Every page with code runs first, two at a time, into the cache the build then renders from
# (tools/execute.py; idle threads yield, as in `make test`). Progress bars are for people at a
# kernel, not for the rendered pages.
# BOOK_EXECUTED=DIR: take the chapters another run executed there (CI: the reader check's).
BOOK_EXECUTED ?=
book: $(STAMP)
	$(PY) tools/widgets_js.py
	TQDM_DISABLE=1 OMP_WAIT_POLICY=PASSIVE $(PY) tools/execute.py \
		$(if $(strip $(BOOK_EXECUTED)),--from "$(BOOK_EXECUTED)")
	$(VENV)/bin/jupyter-book build . -W --keep-going
	$(PY) -c "import glob, sys; bare = [p for p in glob.glob('_build/html/book/[0-9][0-9]_*.html') if '_images/' not in open(p).read()]; sys.exit(f'chapters rendered without figures: {bare}' if bare else 0)"

# The paper-scale book (hours on a CPU): chapter by chapter, skipping those already executed
# since their last change; tools/full.py says where everything goes.
CHAPTERS ?=
SET ?=
full: $(STAMP)
	$(PY) tools/full.py --out _build/full $(if $(strip $(CHAPTERS)),--chapters "$(CHAPTERS)") \
		$(foreach s,$(SET),--set "$(s)")

pairing: $(STAMP)
	$(VENV)/bin/jupytext --to ipynb --update book/*.py
	git diff --exit-code -- book/ || (echo "book/*.ipynb out of sync with book/*.py: run 'make pairing' and commit"; exit 1)

# Chapters are formatted in their notebooks (ruff understands cells and magics, the percent
# .py files hold commented magics it cannot parse), then the .py files are re-paired from them.
FORMATTED := robustcore tests tools benchmarks book/*.ipynb
format: $(STAMP)
	$(VENV)/bin/ruff format $(FORMATTED)
	$(VENV)/bin/jupytext --to py:percent book/*.ipynb

lint: $(STAMP)
	$(VENV)/bin/ruff format --check $(FORMATTED) || (echo "run 'make format' and commit"; exit 1)
	$(VENV)/bin/ruff check robustcore book/*.ipynb

unit: $(STAMP)
	$(PY) -m pytest tests -q --durations=10

nbval: $(STAMP)
	$(PY) -m pytest --nbval book -q --nbval-cell-timeout=900 --durations=10

# Unit tests and chapters on two workers (pytest-xdist; a chapter's cells stay in one kernel).
# The unit tests take one thread per worker; a chapter's kernel keeps the thread count of
# `make book` (a training run's numbers depend on it, and CI compares the two), and
# OMP_WAIT_POLICY=PASSIVE keeps its idle threads from spinning on cores the other worker needs
# (with another process on the cores, spinning threads made a run ten times slower).
# Among them, tests/test_second_order.py runs each test that rebuilds a shipped artifact once
# more under a second float reduction order (another instruction set and thread count:
# tools/second_order.py), so that an artifact only its own machine can rebuild fails here, not
# on the next machine; inside this session it fills the workers' gaps instead of running after.
test: pairing lint $(STAMP)
	OMP_WAIT_POLICY=PASSIVE $(PY) -m pytest tests book --nbval --nbval-cell-timeout=900 -q \
		--durations=15 -n 2 --dist loadfile --no-loadscope-reorder

bench: $(STAMP)
	$(PY) benchmarks/run_all.py

# Needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver).
browser: $(STAMP)
	test -f _build/html/index.html || $(MAKE) book
	$(PY) -m pytest tests/test_browser.py -m browser -q -p no:cacheprovider

# Mutation testing (slow; not in CI): one mutant at a time in a copy of the package, only that module's
# tests, niced. tools/mutation.py is the engine (standard library only: why not mutmut, see its doc);
# tools/mutation_equivalent.json lists the surviving mutants that cannot change behaviour.
MUTATE        ?= pgd fgsm base onepixel differential_evolution metrics novelty store
MUTATION_JOBS ?= 2
MUTATION_ARGS ?=
mutation: $(STAMP)
	nice -n 19 $(PY) tools/mutation.py --jobs $(MUTATION_JOBS) $(MUTATION_ARGS) $(MUTATE)

clean:
	rm -rf _build .pytest_cache
