# The README's commands. Both set-up targets create the virtualenv at .venv in the project root.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test crawl lint bench clean ferretdb system

$(VENV)/.runtime: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

# FerretDB v1.24.2 (MongoDB wire protocol over SQLite), built from the Go module proxy; see tools/ferretdb.
FERRETDB := .tools/bin/ferretdb
$(FERRETDB): tools/ferretdb/main.go tools/ferretdb/go.mod tools/ferretdb/go.sum
	cd tools/ferretdb && go build -o ../../$(FERRETDB) .
ferretdb: $(FERRETDB)

# Debian packages: Chromium, redis-server, a CJK font (installed when root and missing).
system:
	bash deploy/install-system-packages.sh

# The main job, offline: start the local replica of the portal, crawl it through it as a proxy, summarise.
demo: system $(VENV)/.dev $(FERRETDB)
	$(BIN)/python -m tests.replica.demo --out articles.jsonl

test: system $(VENV)/.dev $(FERRETDB)
	$(BIN)/python -m pytest -q

# Crawl the live portal (politely: AutoThrottle, robots.txt). SINCE defaults to the first day of this month.
SINCE ?= $(shell date +%Y-%m-01)
crawl: $(VENV)/.runtime
	$(BIN)/scrapy crawl gscn -a since=$(SINCE) -O articles.jsonl

lint: $(VENV)/.dev
	$(BIN)/ruff check gansunews tests bench
	$(BIN)/ruff format --check gansunews tests bench

bench: system $(VENV)/.dev $(FERRETDB)
	$(BIN)/python -m bench.parse_speed
	$(BIN)/python -m bench.extract_quality
	$(BIN)/python -m bench.mongo_write
	$(BIN)/python -m bench.reposts
	$(BIN)/python -m bench.crawl --scale 80
	$(BIN)/python -m bench.memory
	$(BIN)/python -m bench.stream

clean:
	rm -rf $(VENV) .tools .pytest_cache .ruff_cache articles.jsonl
