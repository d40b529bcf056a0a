"""Write .env for docker-compose.yml from compose.env.example, with fresh random secrets.

Run by `make compose-env`. Never overwrites an existing .env. The file is created readable
by its owner only.
"""

from __future__ import annotations

import base64
import os
import re
import secrets
import sys
from pathlib import Path

EXAMPLE = Path(__file__).with_name("compose.env.example")


def main(target: str = ".env") -> int:
    values = {
        "POSTGRES_PASSWORD": secrets.token_urlsafe(32),
        "AIRFLOW_FERNET_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
        "AIRFLOW_JWT_SECRET": secrets.token_urlsafe(64),
        "AIRFLOW_API_SECRET_KEY": secrets.token_urlsafe(32),
        "AIRFLOW_ADMIN_PASSWORD": secrets.token_urlsafe(16),
    }
    text = re.sub(
        r"^(\w+)=$",
        lambda m: m.group(0) + values.get(m.group(1), ""),
        EXAMPLE.read_text(encoding="utf-8"),
        flags=re.M,
    )
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        print(f"{target} exists; not overwriting it", file=sys.stderr)
        return 1
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    print(f"wrote {target} with fresh secrets. Set NEWS_USER_AGENT in it to your contact.")
    # The password goes to the file only (mode 600), never to the terminal or its scrollback.
    print(f"The UI login is admin; its password is AIRFLOW_ADMIN_PASSWORD in {target}.")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
