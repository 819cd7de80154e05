"""Every setting of zhnews in one typed place.

Precedence, highest first: a command-line flag, a `ZHNEWS_*` environment variable, the
config file (`zhnews.toml` in the working directory, or the file `ZHNEWS_CONFIG` or
`--config` names), then the defaults below.

The two roots are local paths (kept as given, relative ones too) or object-store URLs
(`s3://bucket/prefix`), kept as text: a URL read as a path would lose its `//`.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BeforeValidator, Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from flows.io.store import root_setting

CONFIG_ENV = "ZHNEWS_CONFIG"
DEFAULT_CONFIG = Path("zhnews.toml")


# A local Path, or an object-store URL as text (see flows.io.store).
Root = Annotated[Path | str, BeforeValidator(root_setting)]


class Settings(BaseSettings):
    """What a run, a backfill and the served deployments need to know."""

    model_config = SettingsConfigDict(env_prefix="ZHNEWS_", extra="forbid")

    raw: Root = Field(
        Path("data/raw"),
        description="raw root: <source>/<YYYY-MM-DD>/<file>, or s3://bucket/prefix",
    )
    curated: Root = Field(
        Path("data/curated"), description="curated Parquet root, or s3://bucket/prefix"
    )
    schedule: str = Field("0 2 * * *", description="cron of the nightly deployment")
    timezone: str = Field("Asia/Shanghai", description="time zone the cron is read in")
    deployment: str = Field("zhnews", description="name of both served deployments")
    max_file_mb: float = Field(64.0, gt=0, description="larger files are quarantined")
    lock_timeout: float = Field(
        3600.0, ge=0, description="seconds to wait for another run's lock on the curated root"
    )
    retries: int = Field(2, ge=0, description="retries of a failing I/O task")
    retry_delay: float = Field(
        2.0, ge=0, description="first retry delay in seconds; it doubles on each retry"
    )
    workers: int | None = Field(
        None,
        ge=1,
        description="processes that analyse raw files (unset: 1, or every core for a pool)",
    )
    task_runner: Literal["local", "process", "dask"] | None = Field(
        None, description="local (the flow's process), process (a local pool) or dask"
    )
    dask_address: str | None = Field(
        None, description="scheduler of an existing Dask cluster, e.g. tcp://10.0.0.5:8786"
    )
    prefect_home: Path = Field(
        Path(".prefect"), description="PREFECT_HOME of `zhnews server` (its SQLite database)"
    )
    api_url: str = Field(
        "http://127.0.0.1:4200/api",
        description="Prefect API that `zhnews serve` registers with, unless PREFECT_API_URL is set",
    )
    server_port: int = Field(4200, ge=1, le=65535, description="port of `zhnews server`")

    @field_validator("schedule")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        from prefect.schedules import Cron  # here: importing prefect costs seconds

        try:
            Cron(value)
        except (ValueError, KeyError) as err:
            raise ValueError(f"{value!r} is not a cron expression") from err
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as err:
            raise ValueError(f"{value!r} is not a known time zone") from err
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            env_settings,
            TomlConfigSettingsSource(settings_cls, toml_file=config_file()),
        )

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_mb * 1024 * 1024)

    def retry_delays(self) -> list[float]:
        return backoff(self.retries, self.retry_delay)


def backoff(retries: int, delay: float) -> list[float]:
    """Exponential backoff: `delay`, then twice that, and so on, once per retry."""
    return [delay * 2**attempt for attempt in range(retries)]


def config_file() -> Path | None:
    """The config file in force, if any; a named file that does not exist is an error."""
    named = os.environ.get(CONFIG_ENV)
    if named:
        path = Path(named)
        if not path.is_file():
            raise FileNotFoundError(f"{CONFIG_ENV}={named}: no such config file")
        return path
    return DEFAULT_CONFIG if DEFAULT_CONFIG.is_file() else None


def load_settings(**overrides: Any) -> Settings:
    """Settings with the flags a command was given (None means "not given") on top."""
    return Settings(**{key: value for key, value in overrides.items() if value is not None})


def describe(settings: Settings, flags: set[str]) -> list[tuple[str, str, str]]:
    """(name, effective value, where it came from) for `zhnews config`."""
    path = config_file()
    in_file: set[str] = set()
    if path is not None:
        with path.open("rb") as fh:
            in_file = set(tomllib.load(fh))
    environment = {key.upper() for key in os.environ}
    rows = []
    for name in Settings.model_fields:
        env_name = f"ZHNEWS_{name.upper()}"
        if name in flags:
            origin = "flag"
        elif env_name in environment:
            origin = f"env {env_name}"
        elif name in in_file:
            origin = f"file {path}"
        else:
            origin = "default"
        rows.append((name, str(getattr(settings, name)), origin))
    return rows
