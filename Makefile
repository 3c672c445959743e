# The two commands: `make run` (set up, then `dvc repro`) and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := .make/installed
BROWSER := .make/chromium
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: run test lint ui bench params setup pretrain

setup: $(STAMP)

# Re-install when the project's dependency list changes. torch==2.13.0 resolves to the
# CPU build on these machines (see README for a CUDA build).
$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@mkdir -p .make && touch $(STAMP)

run: $(STAMP)
	dvc repro

test: $(STAMP) $(BROWSER) lint
	$(PY) -m pytest -q

# The browser test (tests/test_sweep.py) needs Debian's chromium: installed once with
# apt-get (as root, or through sudo) when it is missing.
$(BROWSER):
	@command -v chromium >/dev/null || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }
	@mkdir -p .make && touch $@

lint: $(STAMP)
	$(PY) -m ruff check pipeline tests bench hydra_plugins
	$(PY) -m ruff format --check pipeline tests bench hydra_plugins

# Re-make the committed pretrained weights (a frozen stage: `dvc repro` never re-runs it).
pretrain: $(STAMP)
	dvc unfreeze pretrain
	dvc repro pretrain; status=$$?; dvc freeze pretrain; exit $$status

# Rewrite params.yaml from conf/ (dvc exp run does this by itself).
params: $(STAMP)
	$(PY) -m pipeline.config.compose

ui: $(STAMP)
	mlflow ui --backend-store-uri sqlite:///$(CURDIR)/mlflow.db --host 127.0.0.1 --port 5000

bench: $(STAMP)
	$(PY) bench/render_speed.py
	$(PY) bench/train_speed.py
	$(PY) bench/swap_speed.py
	$(PY) bench/collect_speed.py
