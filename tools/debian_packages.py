"""Install the Debian packages that the tests and the smoke runs need, when missing.

    python tools/debian_packages.py chromium           # make test: the report's browser test
    python tools/debian_packages.py redis-server postgresql   # make celery-smoke

A package counts as present when its program is on PATH (or, for postgresql, when a
server is under /usr/lib/postgresql), so a machine that has them runs nothing. Otherwise
it is installed with apt-get (as root: on this project's machines and in CI you are);
the package lists are refreshed once if the first attempt fails, since a fresh machine
may have none. Exit status 0 when every package is there afterwards.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path


class AptError(RuntimeError):
    pass


def present(package: str) -> bool:
    if package == "postgresql":
        return any(Path("/usr/lib/postgresql").glob("*/bin/postgres"))
    return shutil.which(package) is not None


def apt_install(package: str) -> None:
    """Install a Debian package (as root), refreshing the package lists once if needed."""
    if os.geteuid() != 0:
        raise AptError(f"{package} is missing; install it (apt-get install {package})")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    cmd = ["apt-get", "install", "-y", "--no-install-recommends", package]
    if subprocess.run(cmd, env=env, capture_output=True).returncode == 0:
        return
    subprocess.run(["apt-get", "update"], env=env, capture_output=True, check=False)
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise AptError(f"apt-get install {package} failed:\n{done.stderr[-2000:]}")


def ensure(package: str) -> None:
    if not present(package):
        print(f"installing {package} (apt-get)", file=sys.stderr, flush=True)
        apt_install(package)
    if not present(package):
        raise AptError(f"{package} is still missing after installing it")


def main(argv: list[str]) -> int:
    try:
        for package in argv:
            ensure(package)
    except AptError as exc:
        print(f"debian_packages: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
