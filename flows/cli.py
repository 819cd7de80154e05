"""The `zhnews` command."""

from __future__ import annotations

import os
import time
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    help="Chinese news text to validated, partitioned Parquet.",
    no_args_is_help=True,
    add_completion=False,
)

EXIT_OK = 0
EXIT_PARTIAL = 1
EXIT_FAILED = 2


def _quiet_defaults() -> None:
    """No telemetry from a batch job; set before Prefect is imported."""
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # A fresh Prefect home migrates its database first; on a small machine that alone
    # can outlast Prefect's 20 s default.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")


def _parse_day(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError as err:
        raise typer.BadParameter(f"{value!r} is not a date in YYYY-MM-DD form") from err


def format_summary(result: dict[str, object]) -> str:
    rows = result["rows"]
    reasons = result["reasons"]
    assert isinstance(rows, dict) and isinstance(reasons, dict)
    lines = [
        f"run {result['run_id']}: {result['status']} in {result['seconds']:.1f}s"
        + (
            f" ({result['wall_seconds']:.1f}s with Prefect start-up)"
            if "wall_seconds" in result
            else ""
        ),
        f"  partitions  {result['partitions']} processed, {result['partitions_failed']} failed, "
        f"{result['partitions_removed']} removed",
        f"  files       {result['files_seen']} seen: {result['files_curated']} curated, "
        f"{result['files_quarantined']} quarantined, {result['files_ignored']} ignored, "
        f"{result['files_failed']} failed",
        f"  records     {result['records_curated']} curated, "
        f"{result['records_quarantined']} quarantined (JSONL lines)",
        f"  articles    {rows.get('articles', 0)}",
        "  rows        " + ", ".join(f"{table} {count}" for table, count in rows.items()),
    ]
    if reasons:
        lines.append("  quarantine  " + ", ".join(f"{r} {n}" for r, n in sorted(reasons.items())))
    failures = result.get("failures") or []
    assert isinstance(failures, list)
    lines.extend(f"  FAILED      {message}" for message in failures)
    return "\n".join(lines)


@app.callback()
def _commands() -> None:
    """Chinese news text to validated, partitioned Parquet."""


RawOption = Annotated[
    Path, typer.Option("--raw", envvar="ZHNEWS_RAW", help="Raw root: <source>/<YYYY-MM-DD>/<file>.")
]
CuratedOption = Annotated[
    Path, typer.Option("--curated", envvar="ZHNEWS_CURATED", help="Curated Parquet root.")
]


@app.command()
def run(
    raw: RawOption = Path("data/raw"),
    curated: CuratedOption = Path("data/curated"),
    since: Annotated[
        str | None, typer.Option(help="First publication date to process (YYYY-MM-DD).")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Last publication date to process (YYYY-MM-DD).")
    ] = None,
    max_file_mb: Annotated[
        float, typer.Option(help="Files larger than this are quarantined as too_large.")
    ] = 64.0,
    lock_timeout: Annotated[
        float, typer.Option(help="Seconds to wait for another run to release the curated root.")
    ] = 3600.0,
) -> None:
    """Curate the raw tree into Parquet tables, printing a summary at the end."""
    first, last = _parse_day(since), _parse_day(until)
    if first and last and first > last:
        raise typer.BadParameter("--since is after --until")
    if not raw.is_dir():
        typer.echo(f"error: raw root {raw} is not a directory", err=True)
        raise typer.Exit(EXIT_FAILED)
    _quiet_defaults()
    started = time.perf_counter()
    from flows.pipeline import run_pipeline

    try:
        result = run_pipeline(
            raw_root=str(raw),
            curated_root=str(curated),
            since=first,
            until=last,
            max_file_bytes=int(max_file_mb * 1024 * 1024),
            lock_timeout=lock_timeout,
        )
    except Exception as err:
        typer.echo(f"error: run failed: {type(err).__name__}: {err}", err=True)
        raise typer.Exit(EXIT_FAILED) from err
    result["wall_seconds"] = time.perf_counter() - started
    typer.echo(format_summary(result))
    raise typer.Exit(EXIT_PARTIAL if result["status"] == "partial" else EXIT_OK)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
