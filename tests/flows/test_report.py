"""The run report an operator reads in the Prefect UI and in `runs.report`."""

from __future__ import annotations

from datetime import date

from flows.report import PartitionLine, markdown, quality_notes, slowest

DAY = date(2026, 6, 15)


def _summary(**overrides: object) -> dict[str, object]:
    summary: dict[str, object] = {
        "flow_name": "nightly",
        "run_id": "r-1",
        "status": "partial",
        "partitions": 3,
        "partitions_skipped": 40,
        "partitions_failed": 1,
        "partitions_removed": 0,
        "files_seen": 50,
        "files_curated": 5,
        "files_quarantined": 2,
        "files_ignored": 1,
        "files_failed": 1,
        "files_unchanged": 41,
        "seconds": 12.5,
        "rows": {"articles": 9, "tokens": 4000},
        "reasons": {"not_text": 1, "bad_json": 3},
        "planned": {"new": 2, "changed": 1},
        "quality": {"clean": 8, "garbled": 1},
        "duplicates": 2,
        "records_seen": 10,
        "records_curated": 7,
        "records_quarantined": 3,
        "failures": ["wire/2026-06-16: disk went away"],
    }
    summary.update(overrides)
    return summary


def _lines() -> list[PartitionLine]:
    return [
        PartitionLine("cbn", DAY, "curated", "new", 1.5, 4, 0),
        PartitionLine("xinhua", DAY, "curated", "changed", 7.25, 5, 2),
        PartitionLine("wire", date(2026, 6, 16), "failed", "new", 0.0, 0, 0, "disk went away"),
        PartitionLine("cbn", date(2026, 6, 1), "skipped", "up to date", 0.0, 0, 0),
    ]


def test_markdown_has_counts_reasons_slowest_and_quality():
    text = markdown(_summary(), _lines())

    assert text.startswith("# nightly run `r-1`: partial")
    assert "3 curated (new 2, changed 1), 40 skipped as up to date, 1 failed" in text
    assert "41 unchanged" in text
    assert "- JSONL records: 10 seen, 7 curated, 3 quarantined" in text
    assert "| tokens | 4000 |" in text
    # Reasons by count, most frequent first.
    assert text.index("| bad_json | 3 |") < text.index("| not_text | 1 |")
    assert text.index("| xinhua | 2026-06-15 | 7.25 | 5 |") < text.index("| cbn | 2026-06-15 |")
    assert "- 1 of 9 articles have text_quality `garbled`" in text
    assert "- partition failed, old data kept: wire/2026-06-16: disk went away" in text


def test_slowest_leaves_out_skipped_partitions():
    assert [line.source for line in slowest(_lines(), 2)] == ["xinhua", "cbn"]


def test_a_clean_run_says_so():
    clean = _summary(
        quality={"clean": 3}, duplicates=0, records_quarantined=0, failures=[], reasons={}
    )
    assert quality_notes(clean) == []
    text = markdown(clean, [])
    assert "- nothing to report" in text
    assert "Quarantine by reason" not in text
