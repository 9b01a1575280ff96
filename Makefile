# Two commands do all the set-up: `make demo` and `make test` (each creates .venv).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench bench-smoke clean slurm-up slurm-down fonts

$(STAMP): pyproject.toml constraints-cpu.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# CPU torch pinned by the constraints file (never the multi-GB CUDA build).
	$(PY) -m pip install --quiet -c constraints-cpu.txt -e '.[dev]'
	touch $(STAMP)

# The main job through the control plane: start in the background, follow it with a
# progress bar, print the test metrics next to bicubic and the run directory.
demo: $(STAMP)
	$(VENV)/bin/oceansr start experiment=demo --follow

test: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy
	$(VENV)/bin/lint-imports
	$(PY) -m pytest -q

lint: $(STAMP)
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

BENCH := quality overhead control predict mcp_wait

bench: $(STAMP)
	set -e; for name in $(BENCH); do $(PY) benchmarks/$$name.py; done

# The same scripts at their smallest sizes (--smoke): whether `make bench` runs to the end,
# in minutes instead of most of an hour; their figures mean nothing.
bench-smoke: $(STAMP)
	set -e; for name in $(BENCH); do $(PY) benchmarks/$$name.py --smoke; done

# A CJK font for Chinese plot titles/labels (lang=zh): WenQuanYi Micro Hei, Debian's
# fonts-wqy-microhei (Apache-2.0 or GPLv3 with font exception). Root or sudo needed.
fonts:
	fc-list :lang=zh | grep -q . || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get install -y -q fonts-wqy-microhei || \
		{ $$SUDO apt-get update -q && $$SUDO apt-get install -y -q fonts-wqy-microhei; }; }

# A local two-node Slurm cluster (root): the Slurm tests skip without it, and fail in CI.
slurm-up:
	scripts/slurm-local.sh up

slurm-down:
	scripts/slurm-local.sh down

clean:
	rm -rf $(VENV) runs .pytest_cache .ruff_cache
