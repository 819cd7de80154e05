"""Every run accounts for what it saw: files seen = curated + quarantined + ignored + failed
+ unchanged, JSONL records seen = curated + quarantined; a run where that does not hold
fails loudly, and says so in `runs`."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from flows import partition, pipeline
from flows.cli import EXIT_FAILED, app
from flows.pipeline import AccountingError, RunSummary
from tests.flows.hostile import TEXTS

DAY = "2026-06-15"


def _summary(**counts: int) -> RunSummary:
    summary = RunSummary("r-1")
    for key, value in {
        "files_seen": 9,
        "files_curated": 3,
        "files_quarantined": 2,
        "files_ignored": 1,
        "files_failed": 1,
        "files_unchanged": 2,
        "records_seen": 5,
        "records_curated": 4,
        "records_quarantined": 1,
        **counts,
    }.items():
        setattr(summary, key, value)
    return summary


def test_a_summary_whose_counts_add_up_passes() -> None:
    summary = _summary()
    assert summary.accounting_errors() == []
    summary.check_accounting()


@pytest.mark.parametrize(
    ("counts", "message"),
    [
        (
            {"files_seen": 10},
            "10 files seen but 9 accounted for (3 curated, 2 quarantined, 1 ignored, "
            "1 failed, 2 unchanged)",
        ),
        ({"files_quarantined": 1}, "9 files seen but 8 accounted for"),
        ({"files_unchanged": 3}, "9 files seen but 10 accounted for"),
        (
            {"records_seen": 6},
            "6 JSONL records seen but 5 accounted for (4 curated, 1 quarantined)",
        ),
        ({"records_curated": 5}, "5 JSONL records seen but 6 accounted for"),
    ],
)
def test_a_summary_whose_counts_do_not_add_up_fails_loudly(
    counts: dict[str, int], message: str
) -> None:
    summary = _summary(**counts)
    assert len(summary.accounting_errors()) == 1
    with pytest.raises(AccountingError, match="counts do not add up") as err:
        summary.check_accounting()
    assert message in str(err.value)


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    root = tmp_path / "raw"
    (root / "cbn" / DAY).mkdir(parents=True)
    (root / "cbn" / DAY / "page-1.txt").write_text(TEXTS["utf-8"], encoding="utf-8")
    (root / "cbn" / DAY / "page-2.txt").write_text(TEXTS["gbk"], encoding="utf-8")
    (root / "wire" / DAY).mkdir(parents=True)
    (root / "wire" / DAY / "feed.jsonl").write_text(
        "\n".join(
            json.dumps(record, ensure_ascii=False)
            for record in ({"id": "w-1", "text": TEXTS["gb2312"]}, {"id": "w-2", "text": 7})
        ),
        encoding="utf-8",
    )
    return root


def _loses(monkeypatch: pytest.MonkeyPatch, name: str, *, records: bool = False) -> None:
    """Make one file's articles (or its JSONL rejections) vanish without a trace."""
    real = partition.document_articles

    def losing(doc, **kwargs):  # type: ignore[no-untyped-def]
        articles, rejections = real(doc, **kwargs)
        if doc.raw_path.endswith(name):
            return (articles, []) if records else ([], [])
        return articles, rejections

    monkeypatch.setattr(partition, "document_articles", losing)


@pytest.mark.usefixtures("prefect_harness")
def test_real_runs_account_for_every_file_and_record(raw: Path, tmp_path: Path) -> None:
    curated = tmp_path / "curated"
    first = pipeline.call(pipeline.run_pipeline, raw_root=str(raw), curated_root=str(curated))
    second = pipeline.call(pipeline.run_pipeline, raw_root=str(raw), curated_root=str(curated))

    assert (first["files_seen"], first["files_curated"], first["files_unchanged"]) == (3, 3, 0)
    assert (first["records_seen"], first["records_curated"], first["records_quarantined"]) == (
        2,
        1,
        1,
    )
    assert (second["files_seen"], second["files_unchanged"], second["records_seen"]) == (3, 3, 0)
    runs = pl.read_parquet(curated / "runs").sort("started_at")
    assert runs["status"].to_list() == ["completed", "completed"]
    assert runs["records_seen"].to_list() == [2, 0]


@pytest.mark.usefixtures("prefect_harness")
@pytest.mark.parametrize(
    ("name", "records", "message"),
    [
        ("page-2.txt", False, "3 files seen but 2 accounted for"),
        ("feed.jsonl", True, "2 JSONL records seen but 1 accounted for"),
    ],
)
def test_a_run_that_loses_a_file_or_a_record_fails_and_says_so(
    raw: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    records: bool,
    message: str,
) -> None:
    curated = tmp_path / "curated"
    _loses(monkeypatch, name, records=records)

    with pytest.raises(AccountingError, match=message):
        pipeline.call(pipeline.run_pipeline, raw_root=str(raw), curated_root=str(curated))

    (row,) = pl.read_parquet(curated / "runs").iter_rows(named=True)
    assert row["status"] == "failed"
    assert row["error"].startswith("AccountingError: counts do not add up")
    assert message in row["error"]
    assert "failed" in row["report"].splitlines()[0]


@pytest.mark.usefixtures("prefect_harness")
def test_the_command_exits_2_when_the_counts_do_not_add_up(
    raw: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _loses(monkeypatch, "page-1.txt")
    done = CliRunner().invoke(
        app, ["run", "--raw", str(raw), "--curated", str(tmp_path / "curated")]
    )
    assert done.exit_code == EXIT_FAILED == 2
    assert "AccountingError: counts do not add up: 3 files seen but 2 accounted for" in (
        done.output
    )
