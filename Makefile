# Pelican quickstart-style Makefile. Every target bootstraps .venv from the pinned
# requirements.txt first (and again whenever requirements.txt changes).

PY ?= python3
VENV ?= $(CURDIR)/.venv
PYTHON = $(VENV)/bin/python
PELICAN = $(VENV)/bin/pelican
PELICANOPTS ?= --fatal errors

BASEDIR = $(CURDIR)
INPUTDIR = $(BASEDIR)/content
OUTPUTDIR = $(BASEDIR)/output
CONFFILE = $(BASEDIR)/pelicanconf.py
PUBLISHCONF = $(BASEDIR)/publishconf.py

SERVER ?= 127.0.0.1
PORT ?= 8000

DEBUG ?= 0
ifeq ($(DEBUG), 1)
	PELICANOPTS += -D
endif

RELATIVE ?= 0
ifeq ($(RELATIVE), 1)
	PELICANOPTS += --relative-urls
endif

STAMP = $(VENV)/.installed-requirements

.PHONY: help venv html clean regenerate serve serve-global devserver publish test lint check new fix
.PHONY: bench bench-build bench-photos bench-related bench-search bench-floor bench-ab

help:
	@echo 'Makefile for the VPHU Gia Lộc news site'
	@echo
	@echo 'Usage:'
	@echo '   make serve                 build the site and serve it on http://$(SERVER):$(PORT)'
	@echo '   make test                  run the whole test suite'
	@echo '   make html                  (re)generate the web site into output/'
	@echo '   make clean                 remove the generated files'
	@echo '   make regenerate            regenerate files upon modification'
	@echo '   make devserver [PORT=8000] serve and regenerate (rebuild and reload on change)'
	@echo '   make publish               check, then build with production settings into'
	@echo '                              output/ (all or nothing: output/ is swapped in atomically)'
	@echo '   make check                 check every article and page without building'
	@echo '   make new TITLE="…"         start a new article (optional CATEGORY="…")'
	@echo '   make fix                   convert files typed in old encodings to UTF-8'
	@echo '   make lint                  ruff on the Python code'
	@echo '   make bench                 every benchmark (figures for docs/BENCHMARKS.md)'
	@echo '   make bench-ab BASE=<rev>   a change timed against BASE, alternating (AB_OPTIONS="…")'
	@echo
	@echo 'Set the DEBUG variable to 1 to enable debugging, e.g. make DEBUG=1 html'
	@echo 'Set the RELATIVE variable to 1 to enable relative urls'

$(STAMP): requirements.txt
	test -x $(PYTHON) || $(PY) -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $(STAMP)

venv: $(STAMP)

html: $(STAMP)
	$(PELICAN) $(INPUTDIR) -o $(OUTPUTDIR) -s $(CONFFILE) $(PELICANOPTS)

clean:
	[ ! -d $(OUTPUTDIR) ] || rm -rf $(OUTPUTDIR)

regenerate: $(STAMP)
	$(PELICAN) -r $(INPUTDIR) -o $(OUTPUTDIR) -s $(CONFFILE) $(PELICANOPTS)

serve: html
	$(PELICAN) -l $(INPUTDIR) -o $(OUTPUTDIR) -s $(CONFFILE) $(PELICANOPTS) -p $(PORT) -b $(SERVER)

serve-global: html
	$(PELICAN) -l $(INPUTDIR) -o $(OUTPUTDIR) -s $(CONFFILE) $(PELICANOPTS) -p $(PORT) -b 0.0.0.0

devserver: $(STAMP)
	$(PELICAN) -lr $(INPUTDIR) -o $(OUTPUTDIR) -s $(CONFFILE) $(PELICANOPTS) -p $(PORT) -b $(SERVER)

publish: $(STAMP)
	$(PYTHON) -m tools.publish -s $(PUBLISHCONF) --content $(INPUTDIR) -o $(OUTPUTDIR)

check: $(STAMP)
	$(PYTHON) -m plugins.content_check -s $(CONFFILE)

new: $(STAMP)
	$(PYTHON) -m tools.new_article -s $(CONFFILE) --title "$(TITLE)" --category "$(CATEGORY)"

fix: $(STAMP)
	$(PYTHON) -m tools.fix_encoding -s $(CONFFILE)

# axe-core for the accessibility tests, from package-lock.json. Without npm (or offline) the
# axe tests are skipped locally; under CI=true they fail (.ci/run runs `npm ci` itself).
NODE_STAMP = node_modules/.package-lock.json
$(NODE_STAMP): package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	    npm ci --no-audit --no-fund || echo "npm ci failed: the axe tests will be skipped"; \
	else echo "npm not found: the axe tests will be skipped"; fi

test: $(STAMP) $(NODE_STAMP)
	$(PYTHON) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check plugins tests tools bench pelicanconf.py publishconf.py

# Benchmarks: figures and machine in docs/BENCHMARKS.md.
BENCH_RELATED_SIZES ?= 10000,50000

bench: bench-build bench-related bench-photos bench-search bench-floor

bench-related: $(STAMP)
	$(PYTHON) -m bench.bench_related --sizes $(BENCH_RELATED_SIZES)

bench-photos: $(STAMP)
	$(PYTHON) bench/bench_photos.py

# Pagefind index size and time for 10,000 generated articles.
bench-search: $(STAMP)
	$(PYTHON) bench/bench_search.py

# The least CPU a cold build with search can take (Markdown alone + Pagefind alone) against
# what two cores give in half of stock Pelican's cold build.
bench-floor: $(STAMP)
	$(PYTHON) -m bench.bench_floor

# Whole-site builds: ours (cold, no change, one edit) against stock Pelican, same corpus.
BENCH_BUILD_SIZES ?= 1000,10000
bench-build: $(STAMP)
	$(PYTHON) -m bench.bench_build --sizes $(BENCH_BUILD_SIZES)

# A change timed against the git revision BASE (the working tree by default), alternating
# builds of both on one corpus, outputs compared: make bench-ab BASE=main~1
AB_OPTIONS ?=
bench-ab: $(STAMP)
	@test -n "$(BASE)" || { echo 'make bench-ab BASE=<git revision> [AB_OPTIONS="--size 1000"]'; exit 2; }
	$(PYTHON) -m bench.bench_ab $(BASE) $(AB_OPTIONS)
