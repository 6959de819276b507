# The two commands of the contract: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
BROWSER := /usr/bin/chromium
HOST   ?= 127.0.0.1
PORT   ?= 8080
# The demo's settings (its brand and competitors); CONFIG=your.toml serves with yours.
CONFIG ?= config/demo/crmsphere.toml

.PHONY: run test lint install install-serve mongodb-for-tests bench demo-data clean screenshots

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Two stamps, each re-installing only when the project's metadata changed: `make run` needs
# only what serving needs (no Playwright, pytest, ruff...); `make test` adds the test extras.
# The test install holds everything serving needs, so it stamps both: `make run` after
# `make test` installs nothing, and `make test` after `make run` adds only the extras.
$(VENV)/.installed-serve: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed-serve

install-serve: $(VENV)/.installed-serve

# A developer's install: serving and the test tools.
install: $(VENV)/.installed-test

# Browser tests drive Debian's Chromium (never a downloaded browser build).
$(BROWSER):
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
		echo "note: browser tests need Debian's chromium (sudo apt-get install chromium); they will be skipped"; \
	fi

# The laptop demo: whoever uses this machine is the operator (api.trust_loopback); the
# server still answers only its own host names, and refuses a non-loopback HOST without
# an admin token.  Demo mode (mailed links shown on the page: the demo has no mail server)
# only on loopback.
DEMO_MODE := $(if $(filter 127.0.0.1 localhost ::1,$(HOST)),true,false)

run: install-serve
	$(BIN)/crmsphere --config $(CONFIG) demo load
	CRMSPHERE_API__TRUST_LOOPBACK=true CRMSPHERE_FORUM__DEMO_MODE=$(DEMO_MODE) \
		$(BIN)/crmsphere --config $(CONFIG) serve --host $(HOST) --port $(PORT)

# The MongoDB half of the contract suite: $$MONGODB_URI, or mongoeco's wire server, which needs a
# Python >= 3.13 ($$MONGOECO_PYTHON, python3.13+ on PATH, or a pyenv version) to build
# .venv-mongoeco from PyPI.  Without one this fails, saying so; SKIP_MONGODB_TESTS=1 (never the
# default) runs the tests without the MongoDB half, and only then may its tests skip.
mongodb-for-tests: install
	$(BIN)/python -m tests.storage.mongo_harness

# ruff with the rules in pyproject.toml ([tool.ruff]): pyflakes, pycodestyle, bugbear.
lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

# The tests marked slow (50 reloads of a 20,000-customer gazetteer, minutes of one core) run
# beside the rest, on the second core; their output follows the rest's.  Exit 5 from the slow
# run means none were selected.
test: install lint $(BROWSER) mongodb-for-tests
	@$(BIN)/python -m pytest -q -p no:cacheprovider -m slow > $(VENV)/slow-tests.log 2>&1 & slow=$$!; \
	$(BIN)/python -m pytest -q --durations=15 -m "not slow"; rest=$$?; \
	wait $$slow; slow_rc=$$?; echo "== tests marked slow"; cat $(VENV)/slow-tests.log; \
	[ $$rest -eq 0 ] && { [ $$slow_rc -eq 0 ] || [ $$slow_rc -eq 5 ]; }

bench: install
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

# The README's pictures (docs/screenshots/), taken by the accessibility browser test.
screenshots: install $(BROWSER)
	$(BIN)/python -m tests.readme_screenshots

demo-data:
	$(PYTHON) config/demo/generate.py

clean:
	rm -rf $(VENV) data build *.egg-info .pytest_cache
