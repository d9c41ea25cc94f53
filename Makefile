# jaxgen — quick start: `make demo` (set up .venv, run the demo through files) and `make test`.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
# Pinned versions of every dependency, so that a fresh install is the one that was tested ('make lock' refreshes).
CONSTRAINTS ?= .ci/constraints.txt

# The first interpreter that is Python >= 3.12: an explicit PYTHON=..., then the usual names on PATH,
# then pyenv's installed versions (pyenv shims fail when a version is not activated, so each
# candidate is run, not just looked up).
ifndef PYTHON
PYTHON := $(shell for c in python3.14 python3.13 python3.12 python3 python \
	$$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -rV); do \
	  if "$$c" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then \
	    command -v "$$c" 2>/dev/null || echo "$$c"; break; fi; done)
endif

.PHONY: demo test venv venv-dev lock clean

demo: $(VENV)/.installed-base
	$(VENV)/bin/jaxgen demo

# Test processes (pytest-xdist): the suite is mostly single-threaded compilation, so two processes on two cores
# take 510 s where one took 890 s. TEST_WORKERS=0 runs it in this process.
TEST_WORKERS ?= 2

test: $(VENV)/.installed-dev
	$(PY) -m pytest -n $(TEST_WORKERS)

venv: $(VENV)/.installed-base
venv-dev: $(VENV)/.installed-dev

$(VENV)/.created:
	@if [ -z "$(PYTHON)" ]; then \
	  echo "error: jaxgen needs Python >= 3.12 and none was found (tried python3.14 ... python3," \
	       "and pyenv versions). Install one, or run: make PYTHON=/path/to/python3.12 $(MAKECMDGOALS)" >&2; \
	  exit 1; fi
	@if [ -x "$(PY)" ] && ! "$(PY)" -c 'import sys; sys.exit(sys.version_info < (3, 12))'; then \
	  echo "removing $(VENV): it was made with Python < 3.12"; rm -rf "$(VENV)"; fi
	"$(PYTHON)" -m venv "$(VENV)"
	$(PY) -m pip install --quiet --upgrade pip
	touch $@

$(VENV)/.installed-base: $(VENV)/.created pyproject.toml $(CONSTRAINTS)
	$(PY) -m pip install --quiet -c $(CONSTRAINTS) -e ".[io,plot]"
	touch $@

$(VENV)/.installed-dev: $(VENV)/.created pyproject.toml $(CONSTRAINTS)
	$(PY) -m pip install --quiet -c $(CONSTRAINTS) -e ".[dev,io,plot]"
	touch $@ $(VENV)/.installed-base

# Resolve today's versions in a scratch venv and write them to $(CONSTRAINTS); then run make test.
lock:
	@test -n "$(PYTHON)" || { echo "error: no Python >= 3.12 found" >&2; exit 1; }
	rm -rf .venv-lock && "$(PYTHON)" -m venv .venv-lock
	.venv-lock/bin/python -m pip install --quiet --upgrade pip
	.venv-lock/bin/python -m pip install --quiet -e ".[dev,io,plot]"
	{ echo "# Versions a fresh install resolved on $$(date +%Y-%m-%d) ($$(.venv-lock/bin/python -V), $$(uname -sm))."; \
	  echo "# make demo / make test install within these pins; refresh with 'make lock' (a fresh resolve, then make test)."; \
	  .venv-lock/bin/python -m pip freeze --exclude-editable | grep -v '^jaxgen'; } > $(CONSTRAINTS)
	rm -rf .venv-lock
	@echo "wrote $(CONSTRAINTS); now run: rm -rf $(VENV) && make test"

clean:
	rm -rf "$(VENV)" build dist *.egg-info .pytest_cache jaxgen-demo-out
