# Environment for a development Airflow on this checkout.
#
#   make airflow                      # sources this file, then config/airflow/standalone.py
#   . config/airflow/env.sh           # from the repository root, in another shell: then
#   airflow dags list                 # the airflow CLI talks to the same instance
#
# Airflow's state (SQLite metadata database, logs, generated airflow.cfg and admin
# password) lives in airflow_home/, which git ignores. Values already set in the
# environment win, except the folder of DAGs and the examples switch.

: "${NEWSEVENTS_ROOT:=$PWD}"
if [ ! -f "$NEWSEVENTS_ROOT/dags/news_ingest.py" ]; then
    echo "config/airflow/env.sh: run it from the repository root (or set NEWSEVENTS_ROOT)" >&2
    return 1 2>/dev/null || exit 1
fi

export AIRFLOW_HOME="${AIRFLOW_HOME:-$NEWSEVENTS_ROOT/airflow_home}"
export AIRFLOW__CORE__DAGS_FOLDER="$NEWSEVENTS_ROOT/dags"
export AIRFLOW__CORE__LOAD_EXAMPLES=False
# New DAGs start unpaused, so that the schedule and the Asset triggers work at once.
export AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION=False
# Task slots of the LocalExecutor, which starts one worker process per slot (the default,
# 32, is far more than a laptop needs).
export AIRFLOW__CORE__PARALLELISM="${AIRFLOW__CORE__PARALLELISM:-8}"
# The scheduler sleeps this long after a loop that had nothing to do (the default is 1 s).
# Every hand-off of a cycle waits for a loop: a task's end before the next task is queued,
# an Asset event before the run it triggers, the last task before its run ends. A cycle
# has about a dozen of them in a row; at 0.2 s an idle scheduler costs a few percent of
# one core.
export AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME="${AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME:-0.2}"
# Pick up edits to dags/ within seconds (the default is 300 s).
export AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL="${AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL:-5}"
# Loopback only (the UI; standalone.py turns the log servers off). Moving the port also
# needs the base URL (the task API is found from it).
export AIRFLOW__API__HOST="${AIRFLOW__API__HOST:-127.0.0.1}"
export AIRFLOW__API__PORT="${AIRFLOW__API__PORT:-8080}"
export AIRFLOW__API__BASE_URL="${AIRFLOW__API__BASE_URL:-http://$AIRFLOW__API__HOST:$AIRFLOW__API__PORT}"

# A JWT signing secret of at least 64 bytes (shorter ones make Airflow warn on every
# token), made once and kept, with the rest of Airflow's state, in AIRFLOW_HOME.
mkdir -p "$AIRFLOW_HOME"
if [ ! -s "$AIRFLOW_HOME/jwt_secret" ]; then
    (umask 077 && "$NEWSEVENTS_ROOT/.venv/bin/python" -c \
        "import secrets; print(secrets.token_urlsafe(64))" >"$AIRFLOW_HOME/jwt_secret")
fi
export AIRFLOW__API_AUTH__JWT_SECRET="${AIRFLOW__API_AUTH__JWT_SECRET:-$(cat "$AIRFLOW_HOME/jwt_secret")}"

# The feeds. Unless NEWS_FEEDS names a registry, the demo corpus, the one `newsevents demo`
# uses: standalone.py serves it on 127.0.0.1:$NEWSEVENTS_DEMO_PORT in its process group
# and writes a registry for it to $AIRFLOW_HOME/demo/feeds.yaml. The tasks may fetch from
# that one host:port (NEWS_ALLOW_PRIVATE_HOSTS), without a politeness delay (it is ours),
# and load into a database of its own. Crawling real sites is a choice:
#   NEWS_FEEDS=config/feeds.yaml NEWS_USER_AGENT="newsevents (contact: you@example.org)" make airflow
_demo_feeds="$AIRFLOW_HOME/demo/feeds.yaml"
_demo_db="$NEWSEVENTS_ROOT/data/airflow-demo.duckdb"
if [ -z "${NEWS_FEEDS:-}" ] || [ "$NEWS_FEEDS" = "$_demo_feeds" ]; then
    export NEWSEVENTS_DEMO_PORT="${NEWSEVENTS_DEMO_PORT:-8766}"
    export NEWSEVENTS_DEMO_FEEDS="$_demo_feeds"
    export NEWS_FEEDS="$_demo_feeds"
    export NEWS_DB="${NEWS_DB:-$_demo_db}"
    export NEWS_ALLOW_PRIVATE_HOSTS="127.0.0.1:$NEWSEVENTS_DEMO_PORT"
    export NEWS_PER_HOST_DELAY="${NEWS_PER_HOST_DELAY:-0}"
else
    if [ -n "${NEWSEVENTS_DEMO_FEEDS:-}" ]; then
        # This shell sourced the demo's settings before: none of them may carry over to
        # real sites (no delay, the demo's database).
        unset NEWS_ALLOW_PRIVATE_HOSTS NEWS_PER_HOST_DELAY
        if [ "${NEWS_DB:-}" = "$_demo_db" ]; then unset NEWS_DB; fi
    fi
    unset NEWSEVENTS_DEMO_FEEDS NEWSEVENTS_DEMO_PORT
    case "$NEWS_FEEDS" in
        /*) ;;
        *) NEWS_FEEDS="$PWD/$NEWS_FEEDS" ;;
    esac
    export NEWS_FEEDS
fi
unset _demo_feeds _demo_db
# The database, as an absolute path, whatever directory a task runs in.
export NEWS_DB="${NEWS_DB:-$NEWSEVENTS_ROOT/data/news.duckdb}"
case "$NEWS_DB" in
    /*) ;;
    *) export NEWS_DB="$PWD/$NEWS_DB" ;;
esac

# standalone.py starts the components as `airflow ...`: they must be on PATH.
case ":$PATH:" in
    *":$NEWSEVENTS_ROOT/.venv/bin:"*) ;;
    *) export PATH="$NEWSEVENTS_ROOT/.venv/bin:$PATH" ;;
esac
