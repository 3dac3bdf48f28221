# Two commands for a fresh machine:
#   make gallery   set up what is missing, build the gallery (offline default pair) into site/
#   make test      set up what is missing (browser included) and run the test suite
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
N ?= 12
SCALE ?= 500
PORT ?= 8000
SENTENCES ?= sentences/gallery.yaml
PAIR ?= minilm-sst2
OUT ?= site

.PHONY: setup browser gallery gallery-dev serve watch test test-fast bench bench-scale bench-scale-synthetic bench-pages bench-live bench-memory bench-method bench-against findings train evaluate clean

$(STAMP): requirements.txt pyproject.toml
	@echo "== setting up $(VENV) (Python packages, pinned in requirements.txt)"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $(STAMP)

setup: $(STAMP)
	@command -v npm >/dev/null || { echo "== installing npm (fetches the live page's runtime and tokenizer, ESLint)"; \
	  apt-get update -qq && apt-get install -y -qq npm >/dev/null; }
	@test node_modules/.installed -nt package-lock.json || { echo "== npm ci (ESLint and esbuild for the site's JavaScript, pinned in package-lock.json)"; \
	  npm ci --no-audit --no-fund --silent && touch node_modules/.installed; }

browser:
	@command -v chromium >/dev/null || { echo "== installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

gallery: setup
	$(PY) scripts/build_gallery.py --sentences $(SENTENCES) --pair $(PAIR) --out $(OUT)

# Every SST-2 dev sentence as a page, as JOBS shard processes side by side (site-dev/)
gallery-dev: setup
	$(PY) scripts/gallery_dev.py --jobs $(or $(JOBS),2) $(if $(LIMIT),--limit $(LIMIT),) $(if $(DEV),--dev $(DEV),)

serve:
	@echo "serving $(OUT)/ at http://127.0.0.1:$(PORT)/ (Ctrl-C stops)"
	$(PY) -m http.server $(PORT) --bind 127.0.0.1 --directory $(OUT)

watch: setup
	$(PY) scripts/build_gallery.py --watch --port $(PORT) --sentences $(SENTENCES) --pair $(PAIR) --out $(OUT)

test: setup browser
	$(PY) -m pytest -q

test-fast: setup
	$(PY) -m pytest -q -m "not slow and not browser"

bench-against: setup
	$(PY) scripts/bench_against.py --rev $(or $(REV),HEAD~1) --rounds $(or $(ROUNDS),5)

findings: setup
	$(PY) scripts/findings.py $(if $(LIMIT),--limit $(LIMIT),)

bench: setup
	$(PY) scripts/bench.py --n $(N)

bench-scale: setup browser
	$(PY) scripts/bench_overview.py --build --jobs $(or $(JOBS),2) --stages 8 --write

bench-scale-synthetic: setup
	$(PY) scripts/bench.py --scale $(SCALE)

bench-method: setup
	$(PY) scripts/bench_method.py --method $(or $(METHOD),norms)

bench-pages: setup browser
	$(PY) scripts/bench_pages.py

bench-live: setup browser
	$(PY) scripts/bench_live.py --site $(OUT)

# a warm kernel's memory over many notebooks (SST-2 dev sentences), as built and with NO_TRIM=1 without malloc_trim
bench-memory: setup
	$(PY) scripts/bench_kernel_memory.py --n $(or $(N_NOTEBOOKS),60) $(if $(NO_TRIM),--no-trim,)

train: setup
	OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(PY) scripts/train_default.py --threads 1

evaluate: setup
	$(PY) scripts/evaluate.py --pair $(PAIR)

clean:
	rm -rf site docs/gallery docs/assets/vendor .cache
