"""The CAMEO code table: names, PLOVER categories, QuadClass and Goldstein values.

Data: pipeline/data/codes/cameo_codes.tsv (provenance and licences in the README there).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib import resources
from pathlib import Path


@dataclass(frozen=True)
class CodeInfo:
    code: str
    root: str
    name: str
    root_name: str
    plover: str
    quad_class: int
    goldstein: float


def default_codes_path() -> Path:
    return Path(str(resources.files("pipeline") / "data" / "codes" / "cameo_codes.tsv"))


def load_codes(path: Path | None = None) -> dict[str, CodeInfo]:
    path = path or default_codes_path()
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    roots = {r["cameo_code"]: r["description"] for r in rows if len(r["cameo_code"]) == 2}
    out: dict[str, CodeInfo] = {}
    for r in rows:
        root = r["root_code"]
        out[r["cameo_code"]] = CodeInfo(
            code=r["cameo_code"],
            root=root,
            name=r["description"],
            root_name=roots.get(root, "").capitalize(),
            plover=r["plover_2021"],
            quad_class=int(r["quad_class"]),
            goldstein=float(r["goldstein"]),
        )
    return out
