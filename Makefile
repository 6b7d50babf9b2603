# Two commands: `make run` and `make test`. Everything they need is installed here.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: install run test test-chaos bench chromium poppler asyncapi clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[embedded,pdf,test,security]'
	rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

# Browser tests drive Debian's Chromium (Playwright cannot download browsers here).
chromium:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# The manifesto's PDF test turns a page into PNG with poppler's pdftoppm.
poppler:
	@command -v pdftoppm >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils >/dev/null; }

run: install
	$(VENV)/bin/palabre up

test: install chromium poppler
	$(PY) -m pytest -q -m "not chaos"

test-chaos: install
	$(PY) -m pytest -q -m chaos

bench: install
	$(VENV)/bin/palabre bench

asyncapi: install
	$(VENV)/bin/palabre asyncapi --output asyncapi

clean:
	rm -rf var .pytest_cache
