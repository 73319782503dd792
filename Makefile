# Two commands on a fresh Debian machine with python3 and make:
#   make demo   set everything up and run the main job on the embedded default
#   make test   set everything up (system packages included) and run the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Debian packages the tests need (installed only when missing; needs root or sudo).
APT_PACKAGES := tzdata ca-certificates

.PHONY: demo test lint typecheck unit apt bench lock clean

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

apt:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

demo: $(STAMP)
	$(BIN)/dwelltime demo

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -q

test: apt $(STAMP) lint typecheck unit

bench: $(STAMP)
	$(BIN)/python bench/ingest.py

# Regenerate the lock from pyproject (run after changing dependencies, commit the result).
lock:
	rm -rf /tmp/dwelltime-lock && $(PYTHON) -m venv /tmp/dwelltime-lock
	/tmp/dwelltime-lock/bin/pip install --quiet --disable-pip-version-check '.[dev,scope,notify]'
	/tmp/dwelltime-lock/bin/pip freeze --exclude-editable | grep -v '^dwelltime' > requirements.lock

clean:
	rm -rf $(VENV) build *.egg-info
