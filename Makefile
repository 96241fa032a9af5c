# Aksio backend. The two commands a newcomer needs: `make run` and `make test`.
# Both install what is missing first (idempotent), so a fresh clone needs nothing else
# than Python 3.11, Node 20 and Java 17.

PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PORT   ?= 8080
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help install run test test-unit lint format package openapi openapi-accept contract bench \
        firestore-emulator conformance clean terraform-check screenshots

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-20s %s\n", $$1, $$2}'

$(STAMP): requirements.txt requirements-dev.txt
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) not found: install Python 3.11 (or run make PYTHON=/path/to/python3.11)"; exit 1; }
	@[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(PY) -c "import pathlib, site; pathlib.Path(site.getsitepackages()[0], 'aksio-dev.pth').write_text('$(CURDIR)/lib\n')"
	@touch $@

install: $(STAMP) ## install Python deps into .venv and node deps (idempotent)
	@bash local/install.sh

run: install ## start the whole local stack and the gateway on http://127.0.0.1:8000 (Ctrl-C stops it)
	$(PY) local/stack run

test: install lint ## lint, start the local stack, run every test, stop the stack
	AKSIO_SCHEDULER_CLOCK=off $(PY) local/stack exec --free-ports -- $(PY) -m pytest -q $(PYTEST_ARGS)

test-unit: $(STAMP) ## the tests that need no running peer (fast: unit and service tiers)
	$(PY) -m pytest -q tests/unit tests/service $(PYTEST_ARGS)

lint: $(STAMP) ## ruff (lint and format check) and mypy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: $(STAMP) ## apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

package: $(STAMP) ## build each function's deployable source into build/<function>/
	$(PY) local/package.py

openapi: $(STAMP) ## print the OpenAPI 3.1 document the code generates
	@$(PY) -m aksio.openapi

contract: $(STAMP) ## the API contract against git ref BASE (default HEAD~1): no drift, no unversioned breaking change
	$(PY) local/contract.py check --require-base --base $(or $(BASE),HEAD~1)

openapi-accept: $(STAMP) ## commit-ready lib/aksio/openapi.json (refuses a breaking change without a version bump and changelog entry)
	$(PY) local/contract.py accept

SCREENS := study tutor stats
screenshots: install ## the web app's study, tutor and stats screens as PNGs in docs/ (runs their browser tests)
	AKSIO_SCHEDULER_CLOCK=off $(PY) local/stack exec --free-ports -- $(PY) -m pytest -q \
	  tests/browser/test_study.py tests/browser/test_tutor.py tests/browser/test_stats.py
	@mkdir -p docs && for s in $(SCREENS); do cp .local/artifacts/browser/$$s.png docs/$$s.png; done
	@echo "docs/: $(addsuffix .png,$(SCREENS))"

bench: install ## print benchmark figures (cold imports, Firestore emulator, review-card latency and concurrency)
	$(PY) bench/cold_import.py
	$(PY) local/stack exec --free-ports -- $(PY) bench/cold_start.py
	$(PY) bench/firestore_emulator.py
	$(PY) local/stack exec --free-ports -- $(PY) bench/review_card.py
	$(PY) local/stack exec --free-ports -- $(PY) bench/concurrency.py
	$(PY) local/stack exec --free-ports -- $(PY) bench/documents.py
	$(PY) local/stack exec --free-ports -- $(PY) bench/ai.py

firestore-emulator: $(STAMP) ## run the Firestore emulator in the foreground (PORT=8080 [DATA=path])
	PYTHONPATH=local $(PY) -m firestore_emulator --host 127.0.0.1 --port $(PORT) $(if $(DATA),--data $(DATA))

conformance: $(STAMP) ## run Google's Firestore system suite (2.34.1) against the emulator
	bash local/conformance.sh

CHECKOV_VERSION := 3.3.30
CHECKOV_VENV    := .local/venvs/checkov
CHECKOV         := $(CHECKOV_VENV)/bin/checkov

$(CHECKOV):
	@[ -x $(CHECKOV_VENV)/bin/python ] || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check checkov==$(CHECKOV_VERSION)

terraform-check: $(CHECKOV) ## terraform fmt -check (when terraform is installed) and checkov over terraform/
	@if command -v terraform >/dev/null; then \
	  echo "terraform fmt -check -recursive terraform"; \
	  terraform fmt -check -recursive terraform || exit 1; \
	  tmp=$$(mktemp -d); cp terraform/variables.tf terraform/example.tfvars $$tmp/; \
	  terraform -chdir=$$tmp init -input=false >/dev/null && \
	    terraform -chdir=$$tmp plan -input=false -var-file=example.tfvars >/dev/null; \
	  status=$$?; rm -rf $$tmp; [ $$status -eq 0 ] || exit 1; \
	  echo "terraform/example.tfvars passes every variable validation (plan of variables.tf alone)"; \
	else echo "terraform not installed: fmt and variable checks skipped (Cloud Build runs them)"; fi
	$(CHECKOV) --directory terraform --framework terraform --quiet --compact --skip-download

clean: ## remove build output and local data (not the virtualenvs)
	rm -rf build .local/logs .local/*.sqlite .pytest_cache .mypy_cache .ruff_cache
