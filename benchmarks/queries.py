"""How fast typical reader queries run on a year of curated data, in the reader layout
(`flows.io.parquet.LAYOUTS`) beside the layout before it, both written in this run.

The year: `--days` dates from 2025-01-01, `--sources` sources, `--articles` articles per
source and day. Its rows come from real analysis: a pool of generated finance articles
(`benchmarks.throughput.generated_articles`) goes through the pipeline's table builder
once; each partition takes a sample of the pool under new ids and its date. Ticker codes
are then spread over 1,000 listed codes, so that one ticker shows up a few times a week,
as in a real feed, rather than in every article.

Each partition's tables are written twice:

- baseline: the writer before the reader layout (rows in the order they were built, one
  row group per file, polars' statistics);
- reader layout: `flows.io.parquet.write_frame` with the table's layout.

The queries, in polars (`flows.io.catalog.scan`) and in DuckDB (`flows.io.sql.connect`):
one day's ORG mentions; every mention of one ticker over the year; one article's sentences
by its id (no date given); the articles whose TF-IDF keywords include one word over the
year; and, for scale, all ORG mentions of the year (a full scan of the same columns). Each
runs `--repeat` times per layout, layouts taking turns, after one unmeasured run; the
report gives the median and the fastest, the baseline's time over the reader layout's
(above 1: faster), DuckDB's row groups read, the answers' row counts (the two layouts must
agree), and the size on disk. Timings are of a warm page cache on this machine.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import Any

import polars as pl

from benchmarks.throughput import generated_articles, loadavg, machine, publish, save_report
from flows.io import parquet
from flows.io.catalog import scan
from flows.io.sql import connect

FIRST_DATE = date(2025, 1, 1)
TABLES = ("articles", "sentences", "entities", "keywords")
LAYOUTS = ("baseline", "reader")
KEYWORD_RANK = 3
TICKER_CODES = tuple(
    [f"{code:06d}.SH" for code in range(600000, 600700)]
    + [f"{code:06d}.SZ" for code in range(1, 301)]
)
PACKAGES = ("zhnews", "polars", "pyarrow", "duckdb")


@dataclass(frozen=True)
class Options:
    days: int = 365
    sources: int = 2
    articles: int = 100
    pool: int = 300
    repeat: int = 7
    seed: int = 20250101
    work_dir: Path | None = None


# --- the year ----------------------------------------------------------------------------


def analysed_pool(count: int, *, seed: int) -> dict[str, pl.DataFrame]:
    """Every article table of `count` generated articles, built by the pipeline's own code."""
    from flows.io.nlp import load_models
    from transforms.pages import rebuild_article, split_lines
    from transforms.tables import SourceArticle, build_tables, make_article_id

    raw_path = f"pool/{FIRST_DATE.isoformat()}/pool.jsonl"
    articles = [
        SourceArticle(
            draft=rebuild_article(split_lines(a.text), headline=a.title, headline_line=n),
            article_id=make_article_id(raw_path, f"line:{n}"),
            source="pool",
            pub_date=FIRST_DATE,
            raw_path=raw_path,
            raw_sha256=hashlib.sha256(a.text.encode()).hexdigest(),
            raw_encoding="utf-8",
            raw_article_idx=n,
            raw_record=n,
            external_id=a.id,
        )
        for n, a in enumerate(generated_articles(count, seed=seed), start=1)
    ]
    tables = build_tables(articles, run_id="queries-benchmark", nlp=load_models())
    return {table: tables[table] for table in TABLES}


def partition_tables(
    pool: dict[str, pl.DataFrame],
    *,
    source: str,
    day: date,
    articles: int,
    rng: random.Random,
) -> dict[str, pl.DataFrame]:
    """One partition: `articles` of the pool under new ids, dated `day`, in build order."""
    pool_ids = pool["articles"]["article_id"].to_list()
    picked = sorted(rng.sample(range(len(pool_ids)), min(articles, len(pool_ids))))
    ids = pl.DataFrame(
        {
            "article_id": [pool_ids[i] for i in picked],
            "new_id": [
                hashlib.sha256(f"{source}/{day}/{i}".encode()).hexdigest()[:20] for i in picked
            ],
        }
    )
    out = {}
    for table, frame in pool.items():
        renamed = (
            frame.join(ids, on="article_id", maintain_order="left")
            .with_columns(pl.col("new_id").alias("article_id"), pl.lit(day).alias("pub_date"))
            .select(frame.columns)
        )
        out[table] = renamed
    out["articles"] = out["articles"].with_columns(
        pl.lit(source).alias("source"), pl.lit(f"{source}/{day}/feed.jsonl").alias("raw_path")
    )
    entities = out["entities"]
    codes = pl.Series([rng.choice(TICKER_CODES) for _ in range(entities.height)])
    is_ticker = pl.col("entity_type") == "TICKER"
    out["entities"] = entities.with_columns(
        pl.when(is_ticker).then(codes).otherwise(pl.col("normalized")).alias("normalized"),
        pl.when(is_ticker).then(codes.str.slice(0, 6)).otherwise(pl.col("text")).alias("text"),
    )
    return out


def write_baseline(frame: pl.DataFrame, path: Path) -> None:
    """The writer before the reader layout: build order, one row group, polars' stats."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.drop(parquet.PARTITION_COLUMN).write_parquet(
        path, compression=parquet.COMPRESSION, statistics=True
    )


def write_year(root: Path, options: Options) -> dict[str, Any]:
    """Both layouts of the year under root/<layout>/; what a query looks for."""
    started = time.perf_counter()
    rng = random.Random(options.seed)
    pool = analysed_pool(options.pool, seed=options.seed)
    pooled = time.perf_counter() - started
    sources = [f"source{n}" for n in range(1, options.sources + 1)]
    lookup_id = ticker = None
    counts = dict.fromkeys(TABLES, 0)
    for offset in range(options.days):
        day = FIRST_DATE + timedelta(days=offset)
        for source in sources:
            tables = partition_tables(
                pool, source=source, day=day, articles=options.articles, rng=rng
            )
            if lookup_id is None and offset >= options.days // 2:
                # What the needle queries look for: an article and a ticker of mid-year.
                lookup_id = tables["articles"]["article_id"][0]
                tickers = tables["entities"].filter(pl.col("entity_type") == "TICKER")
                ticker = tickers["normalized"][0] if tickers.height else TICKER_CODES[0]
            for table, frame in tables.items():
                counts[table] += frame.height
                base = parquet.partition_file(root / "baseline", table, day, source)
                assert isinstance(base, Path)
                write_baseline(frame, base)
                reader = parquet.partition_file(root / "reader", table, day, source)
                parquet.write_frame(frame, reader, parquet.layout_of(table))
    # A word among the top keywords of one pool article: a few hundred articles a year.
    keyword = (
        pool["keywords"]
        .filter(pl.col("method") == "tfidf", pl.col("rank") <= KEYWORD_RANK)
        .group_by("keyword")
        .len()
        .filter(pl.col("len") == pl.col("len").min())
        .sort("keyword")
        .item(0, "keyword")
    )
    return {
        "rows": counts,
        "lookup_article_id": lookup_id,
        "ticker": ticker,
        "keyword": keyword,
        "pool_seconds": round(pooled, 2),
        "write_seconds": round(time.perf_counter() - started - pooled, 2),
        "bytes": {
            layout: {
                table: sum(p.stat().st_size for p in (root / layout / table).rglob("*.parquet"))
                for table in TABLES
            }
            for layout in LAYOUTS
        },
    }


# --- the queries -------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    name: str
    what: str
    polars: Callable[[Path], pl.DataFrame]
    sql: str


def queries(year: dict[str, Any], options: Options) -> list[Query]:
    day = FIRST_DATE + timedelta(days=options.days // 2)
    article_id = year["lookup_article_id"]
    ticker = year["ticker"]
    keyword = year["keyword"]
    return [
        Query(
            "org_day",
            f"one day's ORG mentions ({day})",
            lambda root: (
                scan("entities", root)
                .filter(pl.col("pub_date") == day, pl.col("entity_type") == "ORG")
                .group_by("normalized")
                .agg(pl.len())
                .collect()
            ),
            f"SELECT normalized, count(*) FROM entities "
            f"WHERE pub_date = DATE '{day}' AND entity_type = 'ORG' GROUP BY normalized",
        ),
        Query(
            "ticker_year",
            f"every mention of one ticker over the year ({ticker})",
            lambda root: (
                scan("entities", root)
                .filter(pl.col("entity_type") == "TICKER", pl.col("normalized") == ticker)
                .select("pub_date", "article_id", "start")
                .collect()
            ),
            "SELECT pub_date, article_id, start FROM entities "
            f"WHERE entity_type = 'TICKER' AND normalized = '{ticker}'",
        ),
        Query(
            "article_sentences",
            "one article's sentences by article_id, date unknown",
            lambda root: (
                scan("sentences", root).filter(pl.col("article_id") == article_id).collect()
            ),
            f"SELECT * FROM sentences WHERE article_id = '{article_id}'",
        ),
        Query(
            "keyword_year",
            f"articles with one word among their top {KEYWORD_RANK} TF-IDF keywords "
            f"over the year ({keyword})",
            lambda root: (
                scan("keywords", root)
                .filter(
                    pl.col("keyword") == keyword,
                    pl.col("method") == "tfidf",
                    pl.col("rank") <= KEYWORD_RANK,
                )
                .select("pub_date", "article_id")
                .collect()
            ),
            f"SELECT pub_date, article_id FROM keywords WHERE keyword = '{keyword}' "
            f"AND method = 'tfidf' AND rank <= {KEYWORD_RANK}",
        ),
        Query(
            "org_year",
            "all ORG mentions of the year (reads every file: the scale of a full scan)",
            lambda root: (
                scan("entities", root)
                .filter(pl.col("entity_type") == "ORG")
                .group_by("normalized")
                .agg(pl.len())
                .collect()
            ),
            "SELECT normalized, count(*) FROM entities WHERE entity_type = 'ORG' "
            "GROUP BY normalized",
        ),
    ]


def row_groups_read(con: Any, sql: str) -> tuple[int, int] | None:
    """DuckDB's count of row groups read out of those in the files it opened."""
    plan = con.sql(f"EXPLAIN ANALYZE {sql}").fetchall()[0][1]
    read = total = 0
    found = False
    for line in plan.splitlines():
        text = line.strip("│ ")
        if text.startswith("Row Groups Scanned:"):
            done, _, of = text.split(":", 1)[1].partition("/")
            read, total = read + int(done), total + int(of)
            found = True
    return (read, total) if found else None


def _time(run: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = run()
    return time.perf_counter() - started, result


def _in_polars(query: Query, root: Path) -> Callable[[], Any]:
    return lambda: query.polars(root)


def _in_duckdb(query: Query, con: Any) -> Callable[[], Any]:
    return lambda: con.sql(query.sql).fetchall()


def measure(root: Path, year: dict[str, Any], options: Options) -> list[dict[str, Any]]:
    connections = {layout: connect(root / layout) for layout in LAYOUTS}
    results = []
    for query in queries(year, options):
        runs: dict[tuple[str, str], Callable[[], Any]] = {}
        for layout in LAYOUTS:
            runs[("polars", layout)] = _in_polars(query, root / layout)
            runs[("duckdb", layout)] = _in_duckdb(query, connections[layout])
        rows = {key: len(run()) for key, run in runs.items()}  # warm-up, and the answers
        if len(set(rows.values())) != 1:
            raise AssertionError(f"{query.name}: layouts and engines disagree: {rows}")
        seconds: dict[tuple[str, str], list[float]] = {key: [] for key in runs}
        for _ in range(options.repeat):
            for key, run in runs.items():  # layouts take turns: noise hits both alike
                seconds[key].append(_time(run)[0])
        row = {"query": query.name, "what": query.what, "rows": next(iter(rows.values()))}
        for engine in ("polars", "duckdb"):
            medians = {lay: statistics.median(seconds[(engine, lay)]) for lay in LAYOUTS}
            fastest = {lay: min(seconds[(engine, lay)]) for lay in LAYOUTS}
            row[engine] = {
                **{
                    lay: {"median_s": round(medians[lay], 4), "min_s": round(fastest[lay], 4)}
                    for lay in LAYOUTS
                },
                "speedup_median": round(medians["baseline"] / medians["reader"], 2),
                "speedup_min": round(fastest["baseline"] / fastest["reader"], 2),
            }
        row["duckdb_row_groups"] = {
            layout: row_groups_read(connections[layout], query.sql) for layout in LAYOUTS
        }
        results.append(row)
    return results


# --- the report --------------------------------------------------------------------------


def environment() -> dict[str, Any]:
    info = machine()
    info["packages"] = {}
    for name in PACKAGES:
        try:
            info["packages"][name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            info["packages"][name] = None
    info["loadavg"] = loadavg()
    return info


def run_benchmark(options: Options) -> dict[str, Any]:
    started = datetime.now(UTC)
    work = options.work_dir or Path(tempfile.mkdtemp(prefix="zhnews-queries-"))
    try:
        year = write_year(work, options)
        results = measure(work, year, options)
    finally:
        if options.work_dir is None:
            shutil.rmtree(work, ignore_errors=True)
    return {
        "started_at": started.isoformat(timespec="seconds"),
        "options": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(options).items()},
        "data": {
            "days": options.days,
            "sources": options.sources,
            "partitions": options.days * options.sources,
            "articles": year["rows"]["articles"],
            **year,
        },
        "layouts": {
            "baseline": "build order, one row group per file, polars' writer",
            "reader": {t: asdict(parquet.layout_of(t)) for t in TABLES},
        },
        "queries": results,
        "machine": environment(),
    }


def _mb(size: int) -> str:
    return f"{size / 1e6:,.1f}"


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f}"


def _groups(value: Any) -> str:
    return f"{value[0]:,} / {value[1]:,}" if value else "–"


def markdown(report: dict[str, Any]) -> str:
    data = report["data"]
    env = report["machine"]
    lines = [
        "# Reader queries on a year of curated data",
        "",
        f"`python -m benchmarks.queries` (`make bench-queries`), {report['started_at']}: "
        f"{data['days']} days × {data['sources']} sources = {data['partitions']:,} partitions, "
        f"{data['articles']:,} articles; {data['rows']['entities']:,} entities, "
        f"{data['rows']['sentences']:,} sentences, {data['rows']['keywords']:,} keywords. "
        f"Each table written in both layouts in this run; every query run "
        f"{report['options']['repeat']} times per layout, layouts taking turns, after a warm-up "
        "(a warm page cache). Speed-up = the baseline layout's time over the reader layout's: "
        "above 1 the reader layout is faster.",
        "",
        "| query | engine | rows | baseline median ms | reader median ms | speed-up (median) | "
        "speed-up (fastest) | DuckDB row groups read, baseline → reader |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in report["queries"]:
        for engine in ("polars", "duckdb"):
            timing = row[engine]
            groups = row["duckdb_row_groups"]
            lines.append(
                f"| {row['what'] if engine == 'polars' else ''} | {engine} | {row['rows']:,} | "
                f"{_ms(timing['baseline']['median_s'])} | {_ms(timing['reader']['median_s'])} | "
                f"{timing['speedup_median']:.2f}× | {timing['speedup_min']:.2f}× | "
                + (
                    f"{_groups(groups['baseline'])} → {_groups(groups['reader'])} |"
                    if engine == "duckdb"
                    else " |"
                )
            )
    by_name = {row["query"]: row for row in report["queries"]}
    if "org_day" in by_name and "org_year" in by_name:
        day, year = by_name["org_day"], by_name["org_year"]
        lines += [
            "",
            "What the date in the path saves, reader layout: the year's ORG mentions take "
            + ", ".join(
                f"{year[e]['reader']['median_s'] / day[e]['reader']['median_s']:.0f}× "
                f"one day's in {e}"
                for e in ("polars", "duckdb")
            )
            + f" (the year is {data['partitions']:,} partitions, the day {data['sources']}).",
        ]
    lines += [
        "",
        "| table | baseline MB | reader MB | ratio |",
        "|---|---|---|---|",
    ]
    for table in TABLES:
        base, reader = data["bytes"]["baseline"][table], data["bytes"]["reader"][table]
        lines.append(f"| {table} | {_mb(base)} | {_mb(reader)} | {reader / base:.2f} |")
    packages = ", ".join(f"{k} {v}" for k, v in env["packages"].items())
    lines += [
        "",
        f"Machine: {env['usable_cores']} usable cores, {env['platform']}, Python "
        f"{env['python']}; {packages}; load average {env['loadavg']}. Building the pool took "
        f"{data['pool_seconds']} s, writing both layouts {data['write_seconds']} s.",
    ]
    return "\n".join(lines)


def write_results(report: dict[str, Any], path: Path) -> Path:
    return save_report(report, path, markdown(report))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.queries",
        description="Typical reader queries on a generated year, reader layout vs baseline.",
    )
    defaults = Options()
    parser.add_argument("--days", type=int, default=defaults.days)
    parser.add_argument("--sources", type=int, default=defaults.sources)
    parser.add_argument("--articles", type=int, default=defaults.articles, help="per partition")
    parser.add_argument("--pool", type=int, default=defaults.pool, help="distinct articles")
    parser.add_argument("--repeat", type=int, default=defaults.repeat)
    parser.add_argument("--work-dir", type=Path, help="keep the generated year here")
    parser.add_argument("--json", type=Path, help="also write the report there, and as .md")
    args = parser.parse_args(argv)
    options = Options(
        days=args.days,
        sources=args.sources,
        articles=args.articles,
        pool=args.pool,
        repeat=args.repeat,
        work_dir=args.work_dir,
    )
    report = run_benchmark(options)
    publish(report, markdown(report), args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
