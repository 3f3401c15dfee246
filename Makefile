# Two commands set everything up: `make book` and `make test`.
# Both create .venv if absent and install the exact versions in requirements.txt,
# torch first and alone: an unpinned torch would pull a multi-GB CUDA build.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Workers for the test suites that run side by side (2 cores on CI).
JOBS   ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: setup book test release lock clean bench-build bench-grading

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$$(grep -E '^torch==' requirements.txt)"
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $@

book: $(STAMP)
	$(BIN)/jupyter-book build . --warningiserror --nitpick --keep-going
	@echo "The site is at file://$(CURDIR)/_build/html/index.html"

test: $(STAMP)
	$(BIN)/python -m tests.run --jobs $(JOBS)

# Regenerate exercises/weekNN from solutions/weekNN (nbgrader generate_assignment).
release: $(STAMP)
	$(BIN)/autograder release $(or $(WEEK),--all)

# Wall time of a clean site build (execution on, empty cache) and of a rebuild after
# one chapter edit, in a copy of the repository (benchmarks/build_time.py).
bench-build: $(STAMP)
	$(BIN)/python benchmarks/build_time.py

# Submissions per minute: stock `nbgrader autograde` against ours on 40 submissions.
bench-grading: $(STAMP)
	$(BIN)/python benchmarks/grading_throughput.py

lock:
	{ sed -n '1,2p' requirements.txt; echo "torch==$$($(BIN)/python -c 'import torch; print(torch.__version__.split("+")[0])')"; \
	  $(BIN)/python -m pip freeze --exclude-editable | grep -vE '^(pip|setuptools|wheel|torch)=='; } > requirements.lock.tmp
	mv requirements.lock.tmp requirements.txt

clean:
	rm -rf _build
