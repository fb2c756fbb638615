# The two commands of README.md: `make quickstart` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: pkgs venv sysdeps js quickstart lab test lint typecheck pytest bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# the package, its test tools and JupyterLab; `venv` adds the Debian packages tests need
pkgs: $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'

venv: pkgs sysdeps

# Debian packages the tests use: chromium (the widget's browser test), graphviz (`dot`, the
# widget's layout), slurm-wlm and munge (a one-node Slurm for the HPC dispatcher's tests) and
# openssh-server (a loopback "login node" for the dispatcher's SSH context).
# Installed only when missing, and only as root with apt-get; else the tests that need them skip.
sysdeps:
	@missing=""; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	command -v dot >/dev/null 2>&1 || missing="$$missing graphviz"; \
	[ -x /usr/sbin/slurmctld ] || missing="$$missing slurm-wlm"; \
	[ -x /usr/sbin/munged ] || missing="$$missing munge"; \
	[ -x /usr/sbin/sshd ] || missing="$$missing openssh-server"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "apt-get install$$missing"; \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; } \
	      >/tmp/dflow_nb-apt.log 2>&1 || echo "warning: apt-get failed (see /tmp/dflow_nb-apt.log)"; \
	  else echo "note:$$missing missing (not root or no apt-get): some tests will skip"; fi; \
	fi

# The widget's front end: js/widget.js -> dflow_nb/static/widget.js (committed, so the wheel and
# Binder need no node). tests/test_js_build.py checks the committed file is up to date.
js:
	cd js && npm ci --no-audit --no-fund --loglevel=error && npm run --silent build

quickstart: pkgs
	$(BIN)/python -m dflow_nb.examples.quickstart

# the quickstart notebook in JupyterLab (the widget, %%dflow_op, %dflow_get)
lab: pkgs
	$(BIN)/jupyter lab notebooks/01-quickstart.ipynb

lint: venv
	$(BIN)/ruff check dflow_nb tests bench
	$(BIN)/ruff format --check dflow_nb tests bench

typecheck: venv
	$(BIN)/mypy

pytest: venv
	$(BIN)/pytest -q tests notebooks --nbval-lax

test: lint typecheck pytest

# `make bench`: dflow_nb against pydflow, Parsl, Dask and ProcessPoolExecutor (each in its own
# bench/.venv-*, made on first use); `make bench PROFILE=1`: a cProfile report of a warm
# 1,000-way fan-out in bench/results/profile.txt
bench: venv
	$(BIN)/python bench/run.py $(if $(PROFILE),--profile bench/results/profile)

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache
