"""The installed `zhnews` command, run as a user would, in a subprocess."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from tests.conftest import SAMPLE_PAGE

ZHNEWS = Path(sys.executable).with_name("zhnews")


def _zhnews(*args: str, home: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PREFECT_HOME": str(home)}
    env.pop("PREFECT_API_URL", None)
    return subprocess.run(
        [str(ZHNEWS), *args], capture_output=True, text=True, env=env, timeout=timeout
    )


@pytest.fixture(scope="module")
def prefect_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("prefect-home")


def test_command_is_installed():
    assert ZHNEWS.exists(), "the project must install a zhnews console script"


def test_run_on_the_sample_prints_a_summary_and_writes_tables(tmp_path: Path, prefect_home: Path):
    raw = tmp_path / "raw" / "cbn" / "2026-06-15"
    raw.mkdir(parents=True)
    shutil.copy(SAMPLE_PAGE, raw / SAMPLE_PAGE.name)
    (raw / "notes.docx").write_bytes(b"PK\x03\x04 not really a document")
    curated = tmp_path / "curated"

    done = _zhnews(
        "run", "--raw", str(tmp_path / "raw"), "--curated", str(curated), home=prefect_home
    )

    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert "completed" in out
    assert "2 seen: 1 curated, 1 quarantined" in out
    assert "articles    2" in out
    assert "unsupported_type 1" in out
    for table in ("articles", "paragraphs", "sentences", "tokens", "entities", "keywords"):
        assert (curated / table / "pub_date=2026-06-15" / "cbn.parquet").is_file(), table
    articles = pl.read_parquet(curated / "articles", hive_partitioning=True)
    assert articles.height == 2
    assert f"tokens {pl.read_parquet(curated / 'tokens').height}" in out


def test_bad_arguments_fail_fast_with_a_clear_message(tmp_path: Path, prefect_home: Path):
    bad_date = _zhnews("run", "--raw", str(tmp_path), "--since", "2026-13-01", home=prefect_home)
    assert bad_date.returncode != 0
    assert "YYYY-MM-DD" in bad_date.stderr

    missing = _zhnews("run", "--raw", str(tmp_path / "nowhere"), home=prefect_home)
    assert missing.returncode == 2
    assert "is not a directory" in missing.stderr
