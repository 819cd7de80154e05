"""The `zhnews` command: run, backfill, serve, server, config, query, tables."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

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
    """No telemetry from a batch job; Prefect reads these when it is first imported."""
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # A fresh Prefect home migrates its database first; on a small machine that alone
    # can outlast Prefect's 20 s default.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")


_quiet_defaults()

if TYPE_CHECKING:
    from flows.settings import Settings

# The settings and storage modules load pyarrow and pydantic-settings: the commands import
# them when they need them, so that `run` and `backfill` start Prefect's temporary server
# before they load.


def _parse_day(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError as err:
        raise typer.BadParameter(f"{value!r} is not a date in YYYY-MM-DD form") from err


def _counts(value: object) -> str:
    assert isinstance(value, dict)
    return ", ".join(f"{key} {count}" for key, count in value.items())


def _rows(value: object) -> list[dict[str, Any]]:
    return value if isinstance(value, list) else []


def format_summary(result: dict[str, object]) -> str:
    rows = result["rows"]
    reasons = result["reasons"]
    assert isinstance(rows, dict) and isinstance(reasons, dict)
    lines = [
        f"{result.get('flow_name', 'run')} {result['run_id']}: {result['status']} "
        f"in {result['seconds']:.1f}s"
        + (
            f" ({result['wall_seconds']:.1f}s with Prefect start-up)"
            if "wall_seconds" in result
            else ""
        ),
        f"  partitions  {result['partitions']} processed"
        + (f" ({_counts(result.get('planned'))})" if result.get("planned") else "")
        + f", {result.get('partitions_skipped', 0)} up to date, "
        f"{result['partitions_failed']} failed, {result['partitions_removed']} removed",
        f"  files       {result['files_seen']} seen: {result['files_curated']} curated, "
        f"{result['files_quarantined']} quarantined, {result['files_ignored']} ignored, "
        f"{result['files_failed']} failed, {result.get('files_unchanged', 0)} unchanged",
        f"  records     {result.get('records_seen', 0)} seen: {result['records_curated']} "
        f"curated, {result['records_quarantined']} quarantined (JSONL lines)",
        f"  articles    {rows.get('articles', 0)}",
        "  rows        " + ", ".join(f"{table} {count}" for table, count in rows.items()),
    ]
    if reasons:
        lines.append("  quarantine  " + ", ".join(f"{r} {n}" for r, n in sorted(reasons.items())))
    slow = sorted(
        (line for line in _rows(result.get("lines")) if line["status"] == "curated"),
        key=lambda line: -float(line["seconds"]),
    )[:3]
    if len(slow) > 1:
        lines.append(
            "  slowest     "
            + ", ".join(f"{s['source']}/{s['pub_date']} {s['seconds']}s" for s in slow)
        )
    failures = result.get("failures") or []
    assert isinstance(failures, list)
    from flows.report import quality_notes

    lines.extend(
        f"  note        {note}"
        for note in quality_notes({**result, "failures": []})
        if not note.endswith("JSONL records quarantined")
    )
    lines.extend(f"  FAILED      {message}" for message in failures)
    return "\n".join(lines)


def _settings(**flags: Any) -> Settings:
    """Effective settings, or a clear message and exit code 2 when they are invalid."""
    from pydantic import ValidationError

    from flows.settings import load_settings

    try:
        return load_settings(**flags)
    except (ValidationError, FileNotFoundError, ValueError) as err:
        typer.echo(f"error: invalid configuration: {err}", err=True)
        raise typer.Exit(EXIT_FAILED) from err


def _require_dir(label: str, root: str, *, hint: str = "") -> None:
    """Exit 2 with a clear message unless `root` is a folder (or an object-store prefix)
    that can be reached."""
    from flows.io.store import location

    try:
        found = location(root).is_dir()
    except OSError as err:  # an object store that cannot be reached or refuses access
        typer.echo(f"error: {label}: {err}", err=True)
        raise typer.Exit(EXIT_FAILED) from err
    if not found:
        typer.echo(f"error: {label} is not a directory{hint}", err=True)
        raise typer.Exit(EXIT_FAILED)


@app.callback()
def _commands(
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            help="TOML config file (default: ./zhnews.toml when present; also $ZHNEWS_CONFIG).",
        ),
    ] = None,
) -> None:
    """Chinese news text to validated, partitioned Parquet."""
    if config is not None:
        from flows.settings import CONFIG_ENV

        os.environ[CONFIG_ENV] = str(config)


# Text, not Path: a root may be an s3://bucket/prefix URL, which a Path would mangle.
RawOption = Annotated[
    str | None,
    typer.Option(
        "--raw",
        help="Raw root: <source>/<YYYY-MM-DD>/<file>, a folder or s3://bucket/prefix "
        "(env ZHNEWS_RAW).",
    ),
]
CuratedOption = Annotated[
    str | None,
    typer.Option(
        "--curated",
        help="Curated Parquet root, a folder or s3://bucket/prefix (env ZHNEWS_CURATED).",
    ),
]
SourceOption = Annotated[
    str | None, typer.Option("--source", help="Only this source (a raw root folder).")
]
ForceOption = Annotated[
    bool, typer.Option("--force", help="Rebuild partitions even when they are up to date.")
]
MaxFileOption = Annotated[
    float | None,
    typer.Option(help="Files larger than this many MB are quarantined as too_large."),
]
WorkersOption = Annotated[
    int | None,
    typer.Option(
        "--workers",
        min=1,
        help="Processes that analyse raw files; more than 1 alone means --task-runner "
        "process (env ZHNEWS_WORKERS).",
    ),
]
TaskRunnerOption = Annotated[
    str | None,
    typer.Option(
        "--task-runner",
        help="local (one process), process (a local pool, every core unless --workers) or "
        "dask (a LocalCluster of --workers processes, or --dask-address).",
    ),
]
DaskAddressOption = Annotated[
    str | None,
    typer.Option("--dask-address", help="Scheduler of an existing Dask cluster (tcp://…)."),
]
LockTimeoutOption = Annotated[
    float | None,
    typer.Option(help="Seconds to wait for another run to release the curated root."),
]


def _execute(run: Any, flags: dict[str, Any], **parameters: Any) -> None:
    """Run a flow in this process and exit with 0 (done), 1 (partial) or 2 (failed)."""
    started = time.perf_counter()
    from flows import temporary_server

    # First of all, so that it boots on another core while this process imports polars,
    # pandera, Prefect and jieba and loads the dictionaries.
    server = temporary_server.TemporaryServer() if temporary_server.needed() else None
    with server or contextlib.nullcontext():
        settings = _settings(**flags)

        _require_dir(f"raw root {settings.raw}", str(settings.raw))
        from flows.io.store import check_writable, location

        try:
            check_writable(location(settings.curated))
        except OSError as err:
            typer.echo(f"error: {err.strerror or err}", err=True)
            raise typer.Exit(EXIT_FAILED) from err
        from flows.runners import Scale, long_lived, start_worker_server

        try:
            scale = Scale.resolve(settings.workers, settings.task_runner, settings.dask_address)
        except ValueError as err:
            typer.echo(f"error: {err}", err=True)
            raise typer.Exit(EXIT_FAILED) from err
        if scale.runner == "process":
            # Local workers are forked from a server that prepares itself meanwhile.
            start_worker_server()
        from flows.stage_times import install_from_env

        install_from_env()  # only with ZHNEWS_STAGE_TIMES set (the throughput benchmark)
        with long_lived():
            from flows import pipeline
            from flows.io.nlp import load_models, load_tagging_models

            if scale.parallel:
                load_models()  # the workers tag; this process finishes partitions
            else:
                load_tagging_models()
        try:
            if server is not None:
                server.wait_ready()
            with temporary_server.without_heartbeats() if server else contextlib.nullcontext():
                result = pipeline.call(
                    getattr(pipeline, run),
                    raw_root=str(settings.raw),
                    curated_root=str(settings.curated),
                    max_file_bytes=settings.max_file_bytes,
                    lock_timeout=settings.lock_timeout,
                    retries=settings.retries,
                    retry_delay=settings.retry_delay,
                    workers=settings.workers,
                    task_runner=settings.task_runner,
                    dask_address=settings.dask_address,
                    **parameters,
                )
        except Exception as err:
            typer.echo(f"error: run failed: {type(err).__name__}: {err}", err=True)
            raise typer.Exit(EXIT_FAILED) from err
    result["wall_seconds"] = time.perf_counter() - started
    typer.echo(format_summary(result))
    raise typer.Exit(EXIT_PARTIAL if result["status"] == "partial" else EXIT_OK)


@app.command()
def run(
    raw: RawOption = None,
    curated: CuratedOption = None,
    since: Annotated[
        str | None, typer.Option(help="First publication date to process (YYYY-MM-DD).")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Last publication date to process (YYYY-MM-DD).")
    ] = None,
    source: SourceOption = None,
    force: ForceOption = False,
    max_file_mb: MaxFileOption = None,
    lock_timeout: LockTimeoutOption = None,
    workers: WorkersOption = None,
    task_runner: TaskRunnerOption = None,
    dask_address: DaskAddressOption = None,
) -> None:
    """Curate every partition that is new or changed (all of them with --force)."""
    first, last = _parse_day(since), _parse_day(until)
    if first and last and first > last:
        raise typer.BadParameter("--since is after --until")
    flags = {
        "raw": raw,
        "curated": curated,
        "max_file_mb": max_file_mb,
        "lock_timeout": lock_timeout,
        "workers": workers,
        "task_runner": task_runner,
        "dask_address": dask_address,
    }
    _execute("run_pipeline", flags, since=first, until=last, source=source, force=force)


@app.command()
def backfill(
    start: Annotated[str, typer.Option(help="First publication date (YYYY-MM-DD).")],
    end: Annotated[str, typer.Option(help="Last publication date (YYYY-MM-DD).")],
    raw: RawOption = None,
    curated: CuratedOption = None,
    source: SourceOption = None,
    force: ForceOption = False,
    max_file_mb: MaxFileOption = None,
    lock_timeout: LockTimeoutOption = None,
    workers: WorkersOption = None,
    task_runner: TaskRunnerOption = None,
    dask_address: DaskAddressOption = None,
) -> None:
    """Bring every partition in [start, end] up to date, in date order; no server needed.

    Rerunning an interrupted backfill (with the same dates, source and --force) skips what
    it already did.
    """
    first, last = _parse_day(start), _parse_day(end)
    assert first is not None and last is not None
    if first > last:
        raise typer.BadParameter("--start is after --end")
    flags = {
        "raw": raw,
        "curated": curated,
        "max_file_mb": max_file_mb,
        "lock_timeout": lock_timeout,
        "workers": workers,
        "task_runner": task_runner,
        "dask_address": dask_address,
    }
    _execute("backfill", flags, start=first, end=last, source=source, force=force)


@app.command()
def serve(
    raw: RawOption = None,
    curated: CuratedOption = None,
    schedule: Annotated[
        str | None, typer.Option(help="Cron of the nightly deployment (env ZHNEWS_SCHEDULE).")
    ] = None,
    timezone: Annotated[
        str | None, typer.Option(help="Time zone of the cron (env ZHNEWS_TIMEZONE).")
    ] = None,
) -> None:
    """Register the nightly and backfill deployments with a Prefect server and serve them."""
    settings = _settings(raw=raw, curated=curated, schedule=schedule, timezone=timezone)
    from flows.deployments import NoServer, api_url, check_server

    url = api_url(settings)
    os.environ["PREFECT_API_URL"] = url
    try:
        check_server(url)
    except NoServer as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(EXIT_FAILED) from err
    from flows.deployments import serve_deployments
    from flows.io.store import absolute

    typer.echo(
        f"serving nightly/{settings.deployment} ({settings.schedule}, {settings.timezone}) "
        f"and backfill/{settings.deployment} at {url}\n"
        f"  raw {absolute(settings.raw)}\n  curated {absolute(settings.curated)}"
    )
    serve_deployments(settings)


@app.command()
def server(
    port: Annotated[int | None, typer.Option(help="Port (env ZHNEWS_SERVER_PORT).")] = None,
    prefect_home: Annotated[
        Path | None,
        typer.Option(help="PREFECT_HOME for the server's database (env ZHNEWS_PREFECT_HOME)."),
    ] = None,
) -> None:
    """Start a Prefect server on 127.0.0.1 with its SQLite database under PREFECT_HOME.

    PREFECT_API_DATABASE_CONNECTION_URL, when set, is passed on (e.g. PostgreSQL).
    """
    settings = _settings(server_port=port, prefect_home=prefect_home)
    home = settings.prefect_home.resolve()
    home.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "PREFECT_HOME": str(home),
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    }
    env.pop("PREFECT_API_URL", None)
    typer.echo(
        f"Prefect server on http://127.0.0.1:{settings.server_port} (PREFECT_HOME={home}); "
        f"export PREFECT_API_URL=http://127.0.0.1:{settings.server_port}/api"
    )
    command = [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1"]
    command += ["--port", str(settings.server_port)]
    sys.stdout.flush()
    if os.name == "posix":
        # This process becomes the server: a SIGTERM from a supervisor (or `kill`) reaches
        # it, instead of ending a parent and leaving the server holding the port.
        os.execve(sys.executable, command, env)
    try:
        raise typer.Exit(subprocess.call(command, env=env))
    except KeyboardInterrupt:
        raise typer.Exit(EXIT_OK) from None


@app.command()
def config(
    raw: RawOption = None,
    curated: CuratedOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Print the effective settings and where each comes from."""
    flags = {"raw": raw, "curated": curated}
    settings = _settings(**flags)
    from flows.settings import describe

    rows = describe(settings, {name for name, value in flags.items() if value is not None})
    if as_json:
        typer.echo(json.dumps({name: value for name, value, _ in rows}, indent=1))
        return
    width = max(len(name) for name, _, _ in rows)
    for name, value, origin in rows:
        typer.echo(f"{name:<{width}}  {value}  ({origin})")


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"
    jsonl = "jsonl"


FormatOption = Annotated[
    OutputFormat,
    typer.Option(
        "--format",
        "-f",
        help="table (for reading), csv (header first), json (an array of objects) or jsonl "
        "(one object per line).",
    ),
]
MaxRowsOption = Annotated[
    int,
    typer.Option(min=0, help="Rows the table format shows (0: all); the others print all."),
]


def _curated_for_reading(curated: str | None) -> str:
    """The curated root to read, or exit 2 when a local one does not exist."""
    root = str(_settings(curated=curated).curated)
    _require_dir(f"curated root {root}", root, hint=" (run `zhnews run`)")
    return root


def _print_frame(frame: Any, fmt: OutputFormat, max_rows: int) -> None:
    from rich.console import Console

    from flows.query import as_text, print_table

    if fmt is OutputFormat.table:
        # On a terminal, its width; into a file or a pipe, each column as wide as it needs.
        console = Console() if sys.stdout.isatty() else Console(width=100_000)
        print_table(frame, console, max_rows=max_rows)
    else:
        typer.echo(as_text(frame, fmt.value), nl=False)


@app.command()
def query(
    sql: Annotated[
        str,
        typer.Argument(
            help="One SQL statement (DuckDB) over the views articles, paragraphs, sentences, "
            "tokens, entities, keywords, doc_freq, quarantine and runs; - reads it from stdin."
        ),
    ],
    curated: CuratedOption = None,
    fmt: FormatOption = OutputFormat.table,
    max_rows: MaxRowsOption = 50,
) -> None:
    """Run SQL over every curated table and print the result.

    Example: zhnews query "SELECT normalized, count(*) AS n FROM entities
    WHERE entity_type = 'ORG' GROUP BY ALL ORDER BY n DESC LIMIT 10"
    """
    text = sys.stdin.read() if sql == "-" else sql
    if not text.strip():
        raise typer.BadParameter("no SQL given")
    root = _curated_for_reading(curated)
    import duckdb

    from flows.query import run_query

    try:
        result = run_query(text, root)
    except duckdb.Error as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(EXIT_FAILED) from err
    if result is not None:
        _print_frame(result, fmt, max_rows)


@app.command()
def tables(
    curated: CuratedOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """List the curated tables: files, dates, sources and rows of each."""
    root = _curated_for_reading(curated)
    from flows.query import table_summary

    _print_frame(table_summary(root), fmt, 0)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
