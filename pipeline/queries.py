"""Saved queries (sql/queries/): their header, their parameters, and the values to bind.

Every saved query opens with a header comment (sql/queries/README.md):

    -- Question: Who met whom in the last week of events?
    -- Params: since (date, default null: the last 7 days of events), country (ISO3, default CHN)
    -- Backend: ducklake
    -- (any other comment lines: notes)

`Question` is required, `Params` lists every `$name` the SQL uses (name, then in
parentheses what it is and `default VALUE`; `default null` binds SQL NULL; without a
default the parameter is required), `Backend: ducklake` marks a query for DuckLake only.
Values are bound by DuckDB as prepared parameters, never pasted into the SQL text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.store.sql import sql_dir

NAME = re.compile(r"[a-z0-9_]+")
_PLACEHOLDER = re.compile(r"\$([A-Za-z_]\w*)")
# What the SQL text holds besides code: comments, string literals, $$-quoted strings.
_NOT_CODE = re.compile(r"--[^\n]*|'(?:[^']|'')*'|\$\$.*?\$\$|\"(?:[^\"]|\"\")*\"", re.S)
_HEADER_KEY = re.compile(r"--\s*(Question|Params|Backend)\s*:\s*(.*)", re.I)


class QueryError(ValueError):
    """A saved query or its parameters are wrong. The message says what to do."""


@dataclass(frozen=True)
class Param:
    name: str
    description: str = ""
    default: Any = None
    required: bool = True


@dataclass(frozen=True)
class SavedQuery:
    name: str
    path: Path
    question: str
    params: tuple[Param, ...] = ()
    backend: str = ""  # "" (every backend) or "ducklake"
    sql: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)


def queries_dir() -> Path:
    return sql_dir() / "queries"


def placeholders(sql: str) -> list[str]:
    """The $name parameters the SQL uses, in order of first use (comments and string
    literals aside)."""
    names: list[str] = []
    for name in _PLACEHOLDER.findall(_NOT_CODE.sub(" ", sql)):
        if name not in names:
            names.append(name)
    return names


def _split_top(text: str) -> list[str]:
    """Split at the commas that are not inside parentheses."""
    parts, depth, current = [], 0, ""
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    return [p.strip() for p in parts if p.strip()]


def _value(text: str) -> Any:
    """A default or a --param value: whole numbers as numbers, null as NULL, else text."""
    text = text.strip()
    if text.lower() == "null":
        return None
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    return text


def parse_params(text: str, where: str) -> tuple[Param, ...]:
    """`a (what, default X), b (what)` -> Params. `none` for no parameters."""
    if text.strip().lower() in ("", "none"):
        return ()
    out = []
    for item in _split_top(text):
        match = re.fullmatch(r"([A-Za-z_]\w*)\s*(?:\((.*)\))?", item, re.S)
        if not match:
            raise QueryError(
                f"{where}: cannot read parameter {item!r}: write name (what, default X)"
            )
        name, inside = match.group(1), (match.group(2) or "").strip()
        default = re.search(r"(?:^|[,;])\s*default\s+([^,]+?)\s*(?::|$|,)", inside, re.I)
        if default:
            out.append(Param(name, inside, _value(default.group(1)), required=False))
        else:
            out.append(Param(name, inside))
    return tuple(out)


def parse(path: Path) -> SavedQuery:
    """A saved query with its header read."""
    sql = path.read_text(encoding="utf-8")
    question, params_text, backend, notes = "", "", "", []
    for line in sql.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if not stripped.startswith("--"):
            break  # the header is the comment block at the top
        key = _HEADER_KEY.match(stripped)
        if key is None:
            notes.append(stripped.removeprefix("--").strip())
        elif key.group(1).lower() == "question":
            question = key.group(2).strip()
        elif key.group(1).lower() == "params":
            params_text = key.group(2)
        else:
            backend = key.group(2).strip().lower()
    return SavedQuery(
        name=path.stem, path=path, question=question,
        params=parse_params(params_text, path.name), backend=backend, sql=sql,
        notes=tuple(notes),
    )  # fmt: skip


def saved_queries() -> list[SavedQuery]:
    return [parse(p) for p in sorted(queries_dir().glob("*.sql"))]


def find(name: str) -> SavedQuery | None:
    """The saved query called NAME (sql/queries/NAME.sql), if there is one."""
    if not NAME.fullmatch(name):
        return None
    path = queries_dir() / f"{name}.sql"
    return parse(path) if path.is_file() else None


def parse_pairs(pairs: Sequence[str]) -> dict[str, Any]:
    """--param NAME=VALUE pairs -> values (whole numbers as numbers, `null` as NULL)."""
    out: dict[str, Any] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise QueryError(f"--param {pair!r}: expected NAME=VALUE")
        out[name.strip()] = _value(value)
    return out


def bind(sql: str, given: Mapping[str, Any], declared: Sequence[Param] = (),
         what: str = "the query") -> dict[str, Any]:  # fmt: skip
    """The values for the SQL's $name parameters: given ones, then declared defaults.
    A parameter that has neither, or a given one that the SQL does not use, is an error
    that names the parameters there are."""
    used = placeholders(sql)
    known = {p.name: p for p in declared}

    def listing() -> str:
        if not used:
            return f"{what} takes no parameters"
        shown = [
            f"{n} ({known[n].description})" if n in known and known[n].description else n
            for n in used
        ]
        return f"{what} takes: {', '.join(shown)}"

    unknown = [n for n in given if n not in used]
    if unknown:
        raise QueryError(f"unknown parameter {', '.join(unknown)}: {listing()}")
    values: dict[str, Any] = {}
    for name in used:
        if name in given:
            values[name] = given[name]
        elif name in known and not known[name].required:
            values[name] = known[name].default
        else:
            raise QueryError(f"missing --param {name}=VALUE: {listing()}")
    return values
