"""The package without Airflow: `pip install .` is the core (the CLI and the demo), and
Airflow comes with the extra `pip install "newsevents[airflow]"`. The pipeline never
imports airflow; a core install into a fresh virtualenv runs `newsevents demo`."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from pipeline.demo import stored_pages
from tests.conftest import ROOT

AIRFLOW_BLOCKED = """
import importlib.abc, pkgutil, sys
attempts = []
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "airflow":
            attempts.append(name)
            raise ImportError(f"{name} is not installed (blocked by the test)")
sys.meta_path.insert(0, Block())
import pipeline
names = sorted(m.name for m in pkgutil.walk_packages(pipeline.__path__, "pipeline."))
for name in names:
    __import__(name)
print(len(names), sorted(set(attempts)))
"""


def _name(requirement: str) -> str:
    """The normalised project name of a requirement line: 'spacy>=3.8' -> 'spacy'."""
    name = re.split(r"[\s<>=!~;\[]", requirement.strip(), maxsplit=1)[0]
    return re.sub(r"[-_.]+", "-", name).lower()


def _pyproject() -> dict[str, list[str]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return {"core": project["dependencies"], **project["optional-dependencies"]}


def test_every_pipeline_module_imports_without_airflow() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", AIRFLOW_BLOCKED],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    count, attempts = proc.stdout.strip().splitlines()[-1].split(" ", 1)
    assert int(count) > 20  # every module of pipeline, pipeline.coding and pipeline.geo
    assert attempts == "[]"  # and none of them even tried


def test_airflow_is_an_extra_and_the_requirements_agree_with_pyproject() -> None:
    deps = {group: {_name(r) for r in reqs} for group, reqs in _pyproject().items()}
    assert not {d for d in deps["core"] if d.startswith("apache-airflow")}
    assert {"apache-airflow", "apache-airflow-providers-standard"} <= deps["airflow"]
    # requirements.in is every direct requirement of make setup and the image: the core,
    # the airflow and celery extras, and two that only the checkout or the compose image
    # use.
    listed = {
        _name(line)
        for line in (ROOT / "requirements.in").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    extra_only = {"duckdb-cli", "apache-airflow-providers-fab"}
    assert listed == deps["core"] | deps["airflow"] | deps["celery"] | extra_only
    # and requirements.txt pins every one of them
    pins = {
        _name(line)
        for line in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith((" ", "#"))
    }
    assert listed <= pins


@pytest.fixture(scope="module")
def core_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with `pip install -c requirements.txt .` (uv, offline: every
    pinned package is in uv's cache once `make setup` has run), from a copy of the source
    tree, so that nothing is built inside the checkout."""
    uv = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    assert uv, "uv is not installed (make setup installs it into .venv)"
    base = tmp_path_factory.mktemp("core")
    src, venv = base / "src", base / "venv"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__")
    for name in ("pipeline", "sql", "samples/demo"):
        shutil.copytree(ROOT / name, src / name, ignore=ignore)
    subprocess.run([uv, "venv", "-q", "--python", sys.executable, str(venv)], check=True,
                   timeout=120)  # fmt: skip
    subprocess.run(
        [uv, "pip", "install", "-q", "--offline", "--python", str(venv / "bin" / "python"),
         "-c", str(ROOT / "requirements.txt"), str(src)],
        check=True, timeout=600,
    )  # fmt: skip
    return venv


def test_a_core_install_has_no_airflow_and_runs_the_demo(core_venv: Path, tmp_path: Path) -> None:
    python = core_venv / "bin" / "python"
    probe = (
        "import importlib.util as u; print(u.find_spec('airflow'), u.find_spec('pipeline').origin)"
    )
    found = subprocess.run([python, "-c", probe], capture_output=True, text=True, check=True,
                           cwd=tmp_path)  # fmt: skip
    airflow, origin = found.stdout.split()
    assert airflow == "None"
    assert origin.startswith(str(core_venv))  # the installed copy, not the checkout
    # Run from elsewhere: the demo corpus must come from the installed package.
    demo = subprocess.run(
        [core_venv / "bin" / "newsevents", "demo", "--db", str(tmp_path / "news.duckdb"),
         "--port", "0"],
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
    )  # fmt: skip
    assert demo.returncode == 0, demo.stderr[-3000:]
    assert f"serving the demo corpus from {core_venv}" in demo.stdout
    assert "ok but for the demo's expected failures" in demo.stdout
    assert re.search(rf"^Articles loaded: {stored_pages()} ", demo.stdout, re.M), demo.stdout
    assert re.search(r"^Events: +[1-9]", demo.stdout, re.M), demo.stdout
    # The report too: its queries, its scripts and its world outline come with the package.
    report = subprocess.run(
        [core_venv / "bin" / "newsevents", "report", "--db", str(tmp_path / "news.duckdb")],
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
    )  # fmt: skip
    assert report.returncode == 0, report.stderr[-3000:]
    (page,) = (tmp_path / "reports").glob("news-*.html")
    text = page.read_text(encoding="utf-8")
    assert "window.vegaEmbed" in text and '"type":"Topology"' in text
    # Search, and saved queries by name, from the installed package too (its sql/).
    runs = [(["search", "rare earth"], "1. Japan and Australia"),
            (["query", "dyad_by_week", "--format", "csv"], "week,events,a_to_b")]  # fmt: skip
    for argv, expect in runs:
        ran = subprocess.run([core_venv / "bin" / "newsevents", *argv, "--db",
                              str(tmp_path / "news.duckdb")],
                             capture_output=True, text=True, cwd=tmp_path, timeout=120)  # fmt: skip
        assert ran.returncode == 0 and expect in ran.stdout, ran.stderr[-2000:]
