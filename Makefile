# The two commands: `make run` (set up, then `dvc repro`) and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := .make/installed
BROWSER := .make/chromium
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: run test test-fast lint ui bench params setup pretrain

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

# The fast tier: no DVC, no stage subprocess, no server (about 2 minutes on 2 cores).
test-fast: $(STAMP)
	$(PY) -m pytest -q -m "not slow"

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

# Re-make the committed pretrained weights: the frozen pretrain stage's command (`dvc
# repro` never runs a frozen stage; `dvc unfreeze` would re-sort dvc.yaml).
pretrain: $(STAMP)
	$(PY) -m pipeline.pretrain

# Rewrite params.yaml from conf/ (dvc exp run does this by itself).
params: $(STAMP)
	$(PY) -m pipeline.config.compose

ui: $(STAMP)
	mlflow ui --backend-store-uri sqlite:///$(CURDIR)/mlflow.db --host 127.0.0.1 --port 5000

# quality_curve.py takes about 2.5 hours on 2 cores with native bf16 (about 4 on an
# AVX2-only CPU): 3 random pairs, each one run of 40
# minutes with the smaller budgets branched off it. Add `--recipes current,before` to put
# the recipe before issue 10 beside it (which trains each budget from scratch).
bench: $(STAMP)
	$(PY) bench/render_speed.py
	$(PY) bench/train_speed.py
	$(PY) bench/swap_speed.py
	$(PY) bench/collect_speed.py
	$(PY) bench/voice_speed.py
	$(PY) bench/audio_mark.py
	$(PY) bench/quality_curve.py --recipes current --plot reports/quality_curve.png \
	  --previews reports/quality_previews
