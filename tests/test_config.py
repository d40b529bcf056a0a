"""load_settings: defaults < settings file < NEWS_* variables < explicit overrides, and bad
values refused with a message that names the setting or the file."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from pipeline.config import (
    ConfigError,
    Settings,
    check_contact,
    load_settings,
    user_agent_contact,
)


def _write(tmp_path: Path, text: str, name: str = "settings.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_file_or_environment() -> None:
    assert load_settings() == Settings()


def test_default_values_are_the_documented_ones() -> None:
    settings = load_settings()
    assert settings.timeout_s == 20.0
    assert settings.max_bytes == 5_000_000
    assert settings.concurrency == 16
    assert settings.per_host_concurrency == 2 and settings.per_host_delay_s == 1.0
    assert settings.allow_private_hosts == ()
    assert settings.db_path == Path("data/news.duckdb")
    assert settings.refetch is False
    assert settings.pass_batch_pages == 200 and settings.pass_load_pages == 1000


def test_each_store_has_its_own_folders_beside_it(tmp_path: Path) -> None:
    from pipeline.store import open_store

    a = open_store(load_settings(db_path=tmp_path / "db" / "news.duckdb"))
    b = open_store(load_settings(db=str(tmp_path / "db" / "other.duckdb")))
    assert a.spool_dir == tmp_path / "db" / "news.pipeline" / "spool"
    assert b.spool_dir == tmp_path / "db" / "other.pipeline" / "spool"
    lake = open_store(load_settings(db=f"ducklake:sqlite:{tmp_path}/l.sqlite",
                                    lake_data_path=tmp_path / "lake"))  # fmt: skip
    assert lake.spool_dir == tmp_path / "lake.pipeline" / "spool"
    assert lake.archive_dir == tmp_path / "lake.pipeline" / "archive"
    moved = open_store(load_settings(db_path=tmp_path / "n.duckdb", work_dir=str(tmp_path / "w")))
    assert moved.spool_dir == tmp_path / "w" / "spool"


def test_file_values_are_loaded_and_coerced(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "db_path: /srv/news/news.duckdb\n"
        "timeout_s: 7\n"
        "max_bytes: 1000\n"
        "user_agent: research-bot (ops@example.org)\n"
        "refetch: yes\n",
    )
    settings = load_settings(path)
    assert settings.db_path == Path("/srv/news/news.duckdb")
    assert settings.timeout_s == 7.0
    assert isinstance(settings.timeout_s, float)
    assert settings.max_bytes == 1000
    assert settings.user_agent == "research-bot (ops@example.org)"
    assert settings.refetch is True
    # Settings the file does not mention keep their defaults.
    assert settings.concurrency == Settings().concurrency


def test_empty_file_gives_defaults(tmp_path: Path) -> None:
    assert load_settings(_write(tmp_path, "")) == Settings()


def test_news_config_variable_names_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWS_CONFIG", str(_write(tmp_path, "concurrency: 3\n")))
    assert load_settings().concurrency == 3


def test_environment_overrides_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(tmp_path, "timeout_s: 7\nconcurrency: 3\nspacy_model: from_file\n")
    monkeypatch.setenv("NEWS_TIMEOUT", "2.5")
    monkeypatch.setenv("NEWS_SPACY_MODEL", "from_env")
    settings = load_settings(path)
    assert settings.timeout_s == 2.5
    assert settings.spacy_model == "from_env"
    assert settings.concurrency == 3  # not set in the environment: the file's value stays


def test_every_documented_variable_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWS_DB", "/tmp/x/news.duckdb")
    monkeypatch.setenv("NEWS_FEEDS", "/tmp/x/feeds.yaml")
    monkeypatch.setenv("NEWS_USER_AGENT", "ua-from-env")
    monkeypatch.setenv("NEWS_MAX_BYTES", "1234")
    monkeypatch.setenv("NEWS_CONCURRENCY", "2")
    monkeypatch.setenv("NEWS_MIN_WORDS", "40")
    monkeypatch.setenv("NEWS_LOCK_TIMEOUT", "1.5")
    monkeypatch.setenv("NEWS_PASS_BATCH_PAGES", "50")
    monkeypatch.setenv("NEWS_PASS_LOAD_PAGES", "400")
    settings = load_settings()
    assert settings.db_path == Path("/tmp/x/news.duckdb")
    assert settings.feeds_path == Path("/tmp/x/feeds.yaml")
    assert settings.user_agent == "ua-from-env"
    assert settings.max_bytes == 1234
    assert settings.concurrency == 2
    assert settings.min_words == 40
    assert settings.lock_timeout_s == 1.5
    assert settings.pass_batch_pages == 50 and settings.pass_load_pages == 400


def test_empty_environment_variable_is_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWS_TIMEOUT", "")
    assert load_settings().timeout_s == Settings().timeout_s


def test_explicit_overrides_win_over_environment_and_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write(tmp_path, "timeout_s: 7\n")
    monkeypatch.setenv("NEWS_TIMEOUT", "2.5")
    assert load_settings(path, timeout_s=1.0).timeout_s == 1.0


def test_none_override_means_not_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWS_TIMEOUT", "2.5")
    assert load_settings(timeout_s=None).timeout_s == 2.5


@pytest.mark.parametrize("value", ["-1", "0", "-0.5"])
def test_non_positive_timeout_is_refused(value: str) -> None:
    with pytest.raises(ConfigError, match=r"timeout_s.*must be positive"):
        load_settings(timeout_s=value)


def test_negative_value_in_file_names_the_setting(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"max_bytes.*must be positive.*-5"):
        load_settings(_write(tmp_path, "max_bytes: -5\n"))


def test_non_number_in_environment_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWS_TIMEOUT", "soon")
    with pytest.raises(ConfigError, match=r"timeout_s: expected float, got 'soon'"):
        load_settings()


def test_non_integer_for_integer_setting(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"concurrency: expected int"):
        load_settings(_write(tmp_path, "concurrency: many\n"))


def test_bad_boolean_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"refetch: expected bool, got 'maybe'"):
        load_settings(refetch="maybe")


def test_unknown_key_in_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"unknown setting 'timeout'.*known:.*timeout_s"):
        load_settings(_write(tmp_path, "timeout: 5\n"))


def test_unknown_override_is_named() -> None:
    with pytest.raises(ConfigError, match=r"unknown setting 'colour'"):
        load_settings(colour="blue")


def test_invalid_yaml_names_the_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "timeout_s: [1, 2\n")
    with pytest.raises(ConfigError, match=r"not valid YAML") as info:
        load_settings(path)
    assert str(path) in str(info.value)


def test_non_mapping_file_names_the_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "- timeout_s\n- 5\n")
    with pytest.raises(ConfigError, match=r"expected a mapping") as info:
        load_settings(path)
    assert str(path) in str(info.value)


def test_missing_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "settings.yaml"
    with pytest.raises(ConfigError, match=r"cannot read settings file") as info:
        load_settings(path)
    assert str(path) in str(info.value)


def test_missing_file_from_news_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "gone.yaml"
    monkeypatch.setenv("NEWS_CONFIG", str(path))
    with pytest.raises(ConfigError, match=r"cannot read settings file") as info:
        load_settings()
    assert str(path) in str(info.value)


def test_config_error_is_a_value_error() -> None:
    # The CLI reports ConfigError as a usage problem; callers may also catch ValueError.
    assert issubclass(ConfigError, ValueError)


def test_null_value_in_file_is_refused(tmp_path: Path) -> None:
    # `user_agent:` with no value loads as None; _coerce turns it into str(None) == "None"
    # (and `db_path:` into Path("None")) instead of refusing it like float settings do.
    with pytest.raises(ConfigError, match="user_agent"):
        load_settings(_write(tmp_path, "user_agent:\n"))


@pytest.mark.parametrize("value", ["nan", "inf"])
def test_non_finite_timeout_is_refused(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # NEWS_TIMEOUT=nan is accepted; fetch_url then raises ValueError("Invalid value NaN")
    # from the socket layer, and the whole-request deadline never fires.
    monkeypatch.setenv("NEWS_TIMEOUT", value)
    with pytest.raises(ConfigError, match="timeout_s"):
        load_settings()


def test_the_event_coder_is_a_setting_with_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings(None).coder == "rules"
    monkeypatch.setenv("NEWS_CODER", "neural")
    with pytest.raises(ConfigError, match="unknown event coder 'neural'; known: rules"):
        load_settings(None)
    monkeypatch.setenv("NEWS_CODER", "rules")
    monkeypatch.setenv("NEWS_PETRARCH_VOCABULARY", "false")
    assert load_settings(None).petrarch_vocabulary is False


def test_allow_private_hosts_entries_are_checked_when_settings_load(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NEWS_ALLOW_PRIVATE_HOSTS", "127.0.0.1, localhost:8765,[::1]:9000")
    assert load_settings().allow_private_hosts == ("127.0.0.1", "localhost:8765", "[::1]:9000")
    monkeypatch.setenv("NEWS_ALLOW_PRIVATE_HOSTS", "127.0.0.1:http")
    with pytest.raises(ConfigError, match="'http' is not a port"):
        load_settings()


# --- a contact in the User-Agent (require_contact) ---------------------------------------

BBC = "https://feeds.bbci.co.uk/news/world/rss.xml"
DEMO = "http://127.0.0.1:8765/feeds/world.rss"


@pytest.mark.parametrize(
    ("user_agent", "contact"),
    [
        ("newsevents/0.1.0 (news research crawler; contact: unset)", None),  # the default
        ("newsevents/0.1.0", None),
        ("newsevents (contact: me)", None),
        ("newsevents (ops@newsroom.org)", "ops@newsroom.org"),
        ("newsevents (mailto:Data.Desk+crawl@news-room.co.uk)", "Data.Desk+crawl@news-room.co.uk"),
        ("newsevents (+https://github.com/newsroom/crawler)", "https://github.com"),
        ("newsevents (+http://8.8.8.8/bot)", "http://8.8.8.8"),
        # Names reserved for examples and tests, private addresses: they reach nobody.
        ("newsevents (contact: you@example.org)", None),
        ("newsevents (ops@news.example.com)", None),
        ("newsevents (+https://www.example.net/bot)", None),
        ("newsevents (ops@crawler.test, http://localhost:8080/)", None),
        ("newsevents (+http://10.0.0.5/bot; http://127.0.0.1/)", None),
        ("newsevents (+http://intranet/bot; root@localhost)", None),
        ("newsevents (you@example.org, or ops@newsroom.org)", "ops@newsroom.org"),
    ],
)
def test_a_contact_is_an_email_address_or_url_that_reaches_someone(
    user_agent: str, contact: str | None
) -> None:
    assert user_agent_contact(user_agent) == contact


def test_without_require_contact_anything_may_be_crawled() -> None:
    check_contact(Settings(), [BBC])  # the default: off, for the CLI and the demo
    assert Settings().require_contact is False


def test_require_contact_refuses_other_sites_without_one_and_says_what_to_set() -> None:
    settings = Settings(require_contact=True)
    with pytest.raises(ConfigError) as exc:
        check_contact(settings, [BBC, DEMO])
    message = str(exc.value)
    assert message.startswith("refusing to crawl: require_contact is on (NEWS_REQUIRE_CONTACT)")
    assert "contact: unset" in message  # what it has
    assert "Set NEWS_USER_AGENT to one with your e-mail address or an http(s) URL, e.g. " in message
    assert 'NEWS_USER_AGENT="newsevents/' in message  # an example to copy
    # The demo's host is not allowed here, so it counts as somebody else's.
    assert "2 of 2 feeds" in message and "feeds.bbci.co.uk" in message
    placeholder = dataclasses.replace(settings, user_agent="newsevents (you@example.org)")
    with pytest.raises(ConfigError, match=r"you@example.org: a placeholder"):
        check_contact(placeholder, [BBC])


def test_require_contact_passes_with_a_contact() -> None:
    settings = Settings(require_contact=True, user_agent="newsevents (ops@newsroom.org)")
    check_contact(settings, [BBC])


@pytest.mark.parametrize(
    ("allow", "urls", "refused"),
    [
        # The demo: every feed on a loopback host and port that allow_private_hosts lists.
        (("127.0.0.1:8765",), [DEMO, "http://127.0.0.1:8765/feeds/asia.atom"], False),
        (("127.0.0.1",), ["http://127.0.0.1:9/feeds/a.rss"], False),
        (("localhost:8765",), ["http://localhost:8765/a.rss", "http://[::1]:8765/b"], False),
        (("[::1]:443",), ["https://[::1]/feed"], False),
        ((), [], False),  # nothing to crawl
        # One feed elsewhere is enough to need a contact.
        (("127.0.0.1:8765",), [DEMO, BBC], True),
        # Loopback, but another port than the allowed one, or not allowed at all.
        (("127.0.0.1:8765",), ["http://127.0.0.1:8766/feeds/world.rss"], True),
        ((), [DEMO], True),
        # Allowed, but not loopback: a server on the network is somebody's.
        (("10.0.0.5:8080",), ["http://10.0.0.5:8080/feed"], True),
        (("127.0.0.1:8765",), ["not a url"], True),
    ],
)
def test_require_contact_exempts_only_allowed_loopback_servers(
    allow: tuple[str, ...], urls: list[str], refused: bool
) -> None:
    settings = load_settings(require_contact=True, allow_private_hosts=allow)
    if refused:
        with pytest.raises(ConfigError, match="refusing to crawl"):
            check_contact(settings, urls)
    else:
        check_contact(settings, urls)


def test_require_contact_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWS_REQUIRE_CONTACT", "true")
    assert load_settings().require_contact is True
    monkeypatch.setenv("NEWS_REQUIRE_CONTACT", "sometimes")
    with pytest.raises(ConfigError, match="NEWS_REQUIRE_CONTACT"):
        load_settings()
