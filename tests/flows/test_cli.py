"""The installed `zhnews` command, run as a user would, in a subprocess."""

from __future__ import annotations

import contextlib
import json
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


def test_the_command_starts_before_loading_the_heavy_libraries():
    # `run` starts Prefect's temporary server first thing; what the command module loads
    # before that delays the server, and with it every run.
    script = (
        "import sys, flows.cli, flows.temporary_server\n"
        "heavy = ('pyarrow', 'polars', 'prefect', 'pydantic_settings', 'httpx', 'jieba')\n"
        "print(' '.join(name for name in heavy if name in sys.modules))\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.split()
    assert loaded == []


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


def test_server_serves_the_api_and_stops_on_sigterm(tmp_path: Path):
    """`zhnews server` is the server process itself: a supervisor's SIGTERM stops it and
    frees the port, instead of orphaning a server that keeps it."""
    import signal
    import socket

    import httpx

    from flows.temporary_server import free_port, wait_for_api

    port = free_port()
    home = tmp_path / "server-home"
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "elsewhere")}
    env.pop("PREFECT_API_URL", None)
    command = [str(ZHNEWS), "server", "--port", str(port), "--prefect-home", str(home)]
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        api_url = f"http://127.0.0.1:{port}/api"
        try:
            wait_for_api(api_url, proc, 180, "zhnews server")
        except RuntimeError as err:
            pytest.fail(f"{err}:\n{log.read_text()}")
        assert httpx.get(f"{api_url}/health", timeout=2).json() is True
        assert (home / "prefect.db").is_file()

        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        with socket.socket() as sock:
            assert sock.connect_ex(("127.0.0.1", port)) != 0, "a server still holds the port"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def test_bad_arguments_fail_fast_with_a_clear_message(tmp_path: Path, prefect_home: Path):
    bad_date = _zhnews("run", "--raw", str(tmp_path), "--since", "2026-13-01", home=prefect_home)
    assert bad_date.returncode != 0
    assert "YYYY-MM-DD" in bad_date.stderr

    missing = _zhnews("run", "--raw", str(tmp_path / "nowhere"), home=prefect_home)
    assert missing.returncode == 2
    assert "is not a directory" in missing.stderr


def test_backfill_runs_without_a_server(tmp_path: Path, prefect_home: Path):
    raw = tmp_path / "raw"
    for day in ("2026-06-15", "2026-06-16"):
        (raw / "cbn" / day).mkdir(parents=True)
        shutil.copy(SAMPLE_PAGE, raw / "cbn" / day / "page.txt")
    curated = tmp_path / "curated"
    args = ["backfill", "--start", "2026-06-14", "--end", "2026-06-15"]
    args += ["--raw", str(raw), "--curated", str(curated)]

    first = _zhnews(*args, home=prefect_home)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "backfill" in first.stdout and "completed" in first.stdout
    assert "1 processed (new 1), 0 up to date" in first.stdout
    assert not (curated / "articles" / "pub_date=2026-06-16").exists()

    bad = _zhnews("backfill", "--start", "2026-06-16", "--end", "2026-06-15", home=prefect_home)
    assert bad.returncode != 0
    assert "--start is after --end" in bad.stderr


def test_config_prints_the_effective_settings_and_their_origin(tmp_path: Path, prefect_home: Path):
    (tmp_path / "site.toml").write_text('schedule = "45 3 * * *"\n', encoding="utf-8")
    env_run = subprocess.run(
        [str(ZHNEWS), "--config", str(tmp_path / "site.toml"), "config", "--curated", "/x"],
        capture_output=True,
        text=True,
        env={**os.environ, "ZHNEWS_TIMEZONE": "UTC"},
        timeout=120,
    )
    assert env_run.returncode == 0, env_run.stderr
    lines = {line.split()[0]: line for line in env_run.stdout.splitlines()}
    assert lines["schedule"].endswith(f"45 3 * * *  (file {tmp_path / 'site.toml'})")
    assert lines["timezone"].endswith("UTC  (env ZHNEWS_TIMEZONE)")
    assert lines["curated"].endswith("/x  (flag)")
    assert lines["raw"].endswith("data/raw  (default)")

    bad = subprocess.run(
        [str(ZHNEWS), "config"],
        capture_output=True,
        text=True,
        env={**os.environ, "ZHNEWS_SCHEDULE": "nightly"},
        timeout=120,
    )
    assert bad.returncode == 2
    assert "not a cron expression" in bad.stderr


def test_serve_without_a_server_says_how_to_start_one(tmp_path: Path, prefect_home: Path):
    env = {
        **os.environ,
        "PREFECT_HOME": str(prefect_home),
        "PREFECT_API_URL": "http://127.0.0.1:9/api",
    }
    done = subprocess.run(
        [str(ZHNEWS), "serve", "--raw", str(tmp_path), "--curated", str(tmp_path / "c")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 2
    assert "no Prefect server answers at http://127.0.0.1:9/api" in done.stderr
    assert "make server" in done.stderr


def test_summary_names_reasons_skips_slow_partitions_and_quality():
    from flows.cli import format_summary

    result: dict[str, object] = {
        "flow_name": "nightly",
        "run_id": "r-1",
        "status": "partial",
        "seconds": 12.0,
        "partitions": 2,
        "planned": {"new": 1, "changed": 1},
        "partitions_skipped": 30,
        "partitions_failed": 1,
        "partitions_removed": 0,
        "files_seen": 40,
        "files_curated": 3,
        "files_quarantined": 1,
        "files_ignored": 0,
        "files_failed": 1,
        "files_unchanged": 35,
        "records_seen": 3,
        "records_curated": 2,
        "records_quarantined": 1,
        "rows": {"articles": 5},
        "reasons": {"not_text": 1},
        "quality": {"clean": 4, "suspect": 1},
        "duplicates": 1,
        "failures": ["wire/2026-06-16: disk went away"],
        "lines": [
            {"source": "cbn", "pub_date": "2026-06-15", "status": "curated", "seconds": 2.5},
            {"source": "xh", "pub_date": "2026-06-15", "status": "curated", "seconds": 4.0},
            {"source": "wire", "pub_date": "2026-06-16", "status": "failed", "seconds": 0.0},
        ],
    }
    text = format_summary(result)
    assert text.startswith("nightly r-1: partial in 12.0s")
    assert "2 processed (new 1, changed 1), 30 up to date, 1 failed" in text
    assert "35 unchanged" in text
    assert "records     3 seen: 2 curated, 1 quarantined (JSONL lines)" in text
    assert "slowest     xh/2026-06-15 4.0s, cbn/2026-06-15 2.5s" in text
    assert "note        1 of 5 articles have text_quality `suspect`" in text
    assert "note        1 article repeats an earlier article" in text
    assert text.endswith("FAILED      wire/2026-06-16: disk went away")


def test_query_prints_a_table_csv_or_json(curated_dataset: Path, prefect_home: Path):
    sql = (
        "SELECT normalized AS org, count(*) AS mentions FROM entities "
        "WHERE entity_type = 'ORG' AND pub_date = DATE '2026-06-16' "
        "GROUP BY ALL ORDER BY mentions DESC, org"
    )
    table = _zhnews("query", sql, "--curated", str(curated_dataset), home=prefect_home)
    assert table.returncode == 0, table.stderr
    assert "┃ org" in table.stdout and "招商银行" in table.stdout
    assert table.stdout.rstrip().endswith("rows)")

    as_csv = _zhnews(
        "query", sql, "--curated", str(curated_dataset), "-f", "csv", home=prefect_home
    )
    lines = as_csv.stdout.splitlines()
    assert lines[0] == "org,mentions"
    assert lines[1] == "招商银行,2"

    env = {**os.environ, "ZHNEWS_CURATED": str(curated_dataset)}
    piped = subprocess.run(
        [str(ZHNEWS), "query", "--format", "json", "-"],
        input="SELECT count(*) AS articles, count(DISTINCT source) AS sources FROM articles",
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert piped.returncode == 0, piped.stderr
    assert json.loads(piped.stdout) == [{"articles": 6, "sources": 2}]


def test_query_errors_exit_2_with_duckdbs_message(curated_dataset: Path, prefect_home: Path):
    wrong = _zhnews(
        "query", "SELECT * FROM article", "--curated", str(curated_dataset), home=prefect_home
    )
    assert wrong.returncode == 2
    assert "article" in wrong.stderr and "does not exist" in wrong.stderr

    nowhere = _zhnews(
        "query", "SELECT 1", "--curated", str(curated_dataset / "nope"), home=prefect_home
    )
    assert nowhere.returncode == 2
    assert "is not a directory" in nowhere.stderr


def test_tables_lists_what_each_table_holds(curated_dataset: Path, prefect_home: Path):
    done = _zhnews("tables", "--curated", str(curated_dataset), "-f", "jsonl", home=prefect_home)
    assert done.returncode == 0, done.stderr
    rows = {r["table"]: r for r in map(json.loads, done.stdout.splitlines())}
    assert list(rows) == [
        "articles",
        "paragraphs",
        "sentences",
        "tokens",
        "entities",
        "keywords",
        "doc_freq",
        "quarantine",
        "runs",
    ]
    assert rows["articles"]["rows"] == 6 and rows["articles"]["first"] == "2026-06-15"
