"""One typed configuration: flags over environment over config file over defaults."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from flows.settings import CONFIG_ENV, describe, load_settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("RAW", "CURATED", "SCHEDULE", "TIMEZONE", "RETRIES", "CONFIG"):
        monkeypatch.delenv(f"ZHNEWS_{name}", raising=False)
    monkeypatch.chdir(tmp_path)  # no ./zhnews.toml unless a test writes one


def test_defaults_are_a_nightly_run_at_two_in_shanghai():
    settings = load_settings()
    assert settings.schedule == "0 2 * * *"
    assert settings.timezone == "Asia/Shanghai"
    assert (settings.raw, settings.curated) == (Path("data/raw"), Path("data/curated"))
    assert {origin for _, _, origin in describe(settings, set())} == {"default"}


def test_flag_beats_environment_beats_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    (tmp_path / "zhnews.toml").write_text(
        'raw = "/file/raw"\ncurated = "/file/curated"\nschedule = "30 1 * * *"\nretries = 5\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("ZHNEWS_CURATED", "/env/curated")
    monkeypatch.setenv("ZHNEWS_RAW", "/env/raw")

    settings = load_settings(raw=Path("/flag/raw"), schedule=None)

    assert settings.raw == Path("/flag/raw")
    assert settings.curated == Path("/env/curated")
    assert settings.schedule == "30 1 * * *"
    assert settings.retries == 5
    origins = {name: origin for name, _, origin in describe(settings, {"raw"})}
    assert origins["raw"] == "flag"
    assert origins["curated"] == "env ZHNEWS_CURATED"
    assert origins["schedule"] == "file zhnews.toml"
    assert origins["timezone"] == "default"


def test_a_named_config_file_must_exist(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv(CONFIG_ENV, str(tmp_path / "missing.toml"))
    with pytest.raises(FileNotFoundError, match=r"missing\.toml"):
        load_settings()
    other = tmp_path / "prod.toml"
    other.write_text('timezone = "UTC"\n', encoding="utf-8")
    monkeypatch.setenv(CONFIG_ENV, str(other))
    assert load_settings().timezone == "UTC"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("schedule", "every night", "not a cron expression"),
        ("timezone", "Asia/Atlantis", "not a known time zone"),
        ("retries", -1, "greater than or equal to 0"),
        ("max_file_mb", 0, "greater than 0"),
    ],
)
def test_bad_values_are_refused_with_the_reason(field: str, value: object, message: str):
    with pytest.raises(ValidationError, match=message):
        load_settings(**{field: value})


def test_unknown_keys_in_the_file_are_an_error(tmp_path: Path):
    (tmp_path / "zhnews.toml").write_text('schedul = "0 3 * * *"\n', encoding="utf-8")
    with pytest.raises(ValidationError, match="schedul"):
        load_settings()


def test_retries_back_off_exponentially():
    assert load_settings(retries=3, retry_delay=1.5).retry_delays() == [1.5, 3.0, 6.0]


def test_roots_may_be_object_store_urls(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("ZHNEWS_CURATED", "s3://lake/zhnews/curated/")
    settings = load_settings(raw="s3://lake/zhnews/raw")
    # Kept as URLs: read as paths they would lose their `//`.
    assert (settings.raw, settings.curated) == ("s3://lake/zhnews/raw", "s3://lake/zhnews/curated")
    rows = {name: (value, origin) for name, value, origin in describe(settings, {"raw"})}
    assert rows["raw"] == ("s3://lake/zhnews/raw", "flag")
    assert rows["curated"] == ("s3://lake/zhnews/curated", "env ZHNEWS_CURATED")

    monkeypatch.delenv("ZHNEWS_CURATED")
    (tmp_path / "zhnews.toml").write_text('curated = "s3://archive/curated"\n', encoding="utf-8")
    assert load_settings().curated == "s3://archive/curated"
    assert load_settings(curated="relative/curated").curated == Path("relative/curated")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("gs://lake/raw", "not supported"),
        ("s3://AKIA:secret@lake/raw", "credentials do not belong in the URL"),
        ("s3://", "no bucket"),
    ],
)
def test_root_urls_the_pipeline_cannot_use_are_refused(value: str, message: str):
    with pytest.raises(ValidationError, match=message):
        load_settings(raw=value)
