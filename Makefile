# jaxgen — quick start: `make demo` (set up .venv, run the demo through files) and `make test`.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python

# The first interpreter that is Python >= 3.12: an explicit PYTHON=..., then the usual names on PATH,
# then pyenv's installed versions (pyenv shims fail when a version is not activated, so each
# candidate is run, not just looked up).
ifndef PYTHON
PYTHON := $(shell for c in python3.14 python3.13 python3.12 python3 python \
	$$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -rV); do \
	  if "$$c" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then \
	    command -v "$$c" 2>/dev/null || echo "$$c"; break; fi; done)
endif

.PHONY: demo test venv venv-dev clean

demo: $(VENV)/.installed-base
	$(VENV)/bin/jaxgen demo

test: $(VENV)/.installed-dev
	$(PY) -m pytest

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

$(VENV)/.installed-base: $(VENV)/.created pyproject.toml
	$(PY) -m pip install --quiet -e ".[io,plot]"
	touch $@

$(VENV)/.installed-dev: $(VENV)/.created pyproject.toml
	$(PY) -m pip install --quiet -e ".[dev,io,plot]"
	touch $@ $(VENV)/.installed-base

clean:
	rm -rf "$(VENV)" build dist *.egg-info .pytest_cache jaxgen-demo-out
