# Trulience Studio: every install step lives here, so a fresh clone needs only `make`.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PIP_FLAGS := --disable-pip-version-check --quiet

.PHONY: install demo test lint dev studio review dashboards compare queue notebooks bench browser ffmpeg screenshots

install: $(STAMP)

$(STAMP): pyproject.toml requirements-lock.txt examples/trulience-hello-plugin/pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install $(PIP_FLAGS) --upgrade pip==26.3
	# torch first and exactly pinned: pip then takes the local CPU wheel.
	$(BIN)/pip install $(PIP_FLAGS) torch==2.13.0
	$(BIN)/pip install $(PIP_FLAGS) -c requirements-lock.txt -e '.[dev]'
	# the example Studio plugin (docs/plugins.md): its page is in the tests' navigation
	$(BIN)/pip install $(PIP_FLAGS) --no-deps -e examples/trulience-hello-plugin
	touch $(STAMP)

demo: install
	$(BIN)/trulience demo

test: install browser ffmpeg lint
	$(BIN)/pytest -q

# The README's pictures, taken from the demo's catalog (not the tests' fixtures).
screenshots: install browser
	$(BIN)/python docs/screenshots.py --out docs/screenshots

# Browser tests drive Debian's chromium through Playwright (never `playwright install`).
browser:
	command -v chromium >/dev/null || (apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

dev: install
	$(BIN)/trulience dev

# The Studio: every page behind one login on one server, the public share page beside it.
STUDIO = $(BIN)/panel serve apps/studio.py apps/share.py --plugins apps.media_routes --plugins apps.cookie_routes --address 127.0.0.1 --port 5006

studio: install
	@echo "Trulience Studio: http://127.0.0.1:5006/studio"
	$(STUDIO)

# Shortcuts into the Studio (the same server), each saying its page's URL.
review: install
	@echo "Review: http://127.0.0.1:5006/studio?page=review"
	$(STUDIO)

dashboards: install
	@echo "Dashboards: http://127.0.0.1:5006/studio?page=dashboards"
	$(STUDIO)

compare: install
	@echo "Compare: http://127.0.0.1:5006/studio?page=compare"
	$(STUDIO)

queue: install
	@echo "Queue: http://127.0.0.1:5006/studio?page=queue"
	$(STUDIO)

# JupyterLab over notebooks/ on 127.0.0.1:8888 (TRULIENCE_NOTEBOOK_PORT); it prints its URL.
notebooks: install
	$(BIN)/trulience notebooks

# The full benchmarks (the test suite runs each with --quick); they print ratios.
bench: install ffmpeg
	@for b in $(wildcard benchmarks/*.py); do echo "== $$b"; $(BIN)/python $$b || exit 1; done

# The delivery benchmark (and its quick run in the tests) compares against Debian's ffmpeg.
ffmpeg:
	command -v ffmpeg >/dev/null || (apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q ffmpeg)
