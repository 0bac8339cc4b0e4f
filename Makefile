# jingpinke — two commands: `make run` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cksum requirements.txt | cut -d' ' -f1)

# Debian packages the product or its tests use: Chromium (browser tests), a CJK font (pages and
# certificate PDFs) and poppler-utils (pdftoppm: tests render certificates to images).
APT_PACKAGES := chromium fonts-wqy-microhei poppler-utils

.PHONY: run test test-postgres test-s3 bench bench-table system-deps venv migrate demo lint clean

venv: $(STAMP)

$(STAMP): requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	@rm -f $(VENV)/.installed-*
	@touch $@

# Installs the missing apt packages when running as root; otherwise says what is missing
# (the tests that need them then skip and say why).
system-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
		echo "Installing:$$missing"; \
		(apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	else \
		echo "Missing Debian packages:$$missing (not root: the tests that need them will skip)"; \
	fi

migrate: $(STAMP)
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py load_demo --if-empty

run: $(STAMP) system-deps
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo --if-empty
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) manage.py serve

test: $(STAMP) system-deps
	$(VENV)/bin/pytest

# The same suite against the PostgreSQL server on this machine.
test-postgres: $(STAMP) system-deps
	JPK_DATABASE_URL=$${JPK_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test} $(VENV)/bin/pytest

# The same suite against PostgreSQL and an S3 object store: a loopback S3 server (moto in server mode,
# started by the test run itself on 127.0.0.1) instead of the local media folder.
test-s3: $(STAMP) system-deps
	JPK_DATABASE_URL=$${JPK_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test} JPK_TEST_STORAGE=s3 $(VENV)/bin/pytest

# Every section, the province table (`python -m bench table`) last; it alone: `make bench-table`
# (on PostgreSQL: JPK_DATABASE_URL=postgres://… make bench-table). The certificates section renders
# PDFs with the CJK font that system-deps installs.
bench: $(STAMP) system-deps
	$(PY) -m bench

bench-table: $(STAMP) system-deps
	$(PY) -m bench table

lint: $(STAMP)
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) var/static
