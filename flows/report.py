"""The run report: one summary, rendered for the terminal, a Prefect artifact and `runs`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

SLOWEST = 5


@dataclass(frozen=True)
class PartitionLine:
    """One row of the report's partition table."""

    source: str
    pub_date: date
    status: str  # curated, failed, skipped, removed
    reason: str
    seconds: float
    articles: int
    quarantined: int
    message: str = ""

    def as_row(self) -> dict[str, object]:
        return {
            "source": self.source,
            "pub_date": self.pub_date.isoformat(),
            "status": self.status,
            "reason": self.reason,
            "seconds": round(self.seconds, 2),
            "articles": self.articles,
            "quarantined": self.quarantined,
            "message": self.message,
        }


def slowest(lines: Sequence[PartitionLine], n: int = SLOWEST) -> list[PartitionLine]:
    timed = [line for line in lines if line.status in ("curated", "failed")]
    return sorted(timed, key=lambda line: (-line.seconds, line.source, line.pub_date))[:n]


def quality_notes(summary: Mapping[str, object]) -> list[str]:
    """What an analyst should know about the data this run wrote, in plain sentences."""
    notes: list[str] = []
    quality = summary.get("quality") or {}
    assert isinstance(quality, dict)
    articles = sum(quality.values())
    for flag, count in sorted(quality.items()):
        if flag != "clean" and count:
            notes.append(f"{count} of {articles} articles have text_quality `{flag}`")
    duplicates = summary.get("duplicates") or 0
    assert isinstance(duplicates, int)
    if duplicates:
        verb = "article repeats" if duplicates == 1 else "articles repeat"
        notes.append(f"{duplicates} {verb} an earlier article (`duplicate_of` set)")
    records = summary.get("records_quarantined") or 0
    assert isinstance(records, int)
    if records:
        notes.append(f"{records} JSONL records quarantined")
    failures = summary.get("failures") or []
    assert isinstance(failures, list)
    notes.extend(f"partition failed, old data kept: {message}" for message in failures)
    return notes


def _table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out.extend("| " + " | ".join(str(cell) for cell in row) + " |" for row in rows)
    return out


def markdown(summary: Mapping[str, object], lines: Sequence[PartitionLine]) -> str:
    rows = summary["rows"]
    reasons = summary["reasons"]
    planned = summary.get("planned") or {}
    assert isinstance(rows, dict) and isinstance(reasons, dict) and isinstance(planned, dict)
    why = ", ".join(f"{reason} {count}" for reason, count in planned.items())
    out = [
        f"# {summary['flow_name']} run `{summary['run_id']}`: {summary['status']}",
        "",
        f"- partitions: {summary['partitions']} curated"
        + (f" ({why})" if why else "")
        + f", {summary['partitions_skipped']} skipped as up to date,"
        f" {summary['partitions_failed']} failed, {summary['partitions_removed']} removed",
        f"- files: {summary['files_seen']} seen, {summary['files_curated']} curated,"
        f" {summary['files_quarantined']} quarantined, {summary['files_ignored']} ignored,"
        f" {summary['files_failed']} failed, {summary['files_unchanged']} unchanged",
        f"- JSONL records: {summary.get('records_seen', 0)} seen,"
        f" {summary['records_curated']} curated, {summary['records_quarantined']} quarantined",
        f"- time: {summary['seconds']:.1f} s",
        "",
        "## Rows written",
        "",
        *_table(("table", "rows"), sorted(rows.items())),
    ]
    if reasons:
        out += ["", "## Quarantine by reason", ""]
        ranked = sorted(reasons.items(), key=lambda kv: (-int(kv[1]), str(kv[0])))
        out += _table(("reason", "count"), ranked)
    slow = slowest(lines)
    if slow:
        out += ["", "## Slowest partitions", ""]
        out += _table(
            ("source", "pub_date", "seconds", "articles"),
            [(s.source, s.pub_date, f"{s.seconds:.2f}", s.articles) for s in slow],
        )
    notes = quality_notes(summary)
    out += ["", "## Data quality", ""]
    out += [f"- {note}" for note in notes] if notes else ["- nothing to report"]
    return "\n".join(out) + "\n"
