"""docs/DATASETS.md, the data dictionary, written from the pandera models and the file
layouts, so that it cannot say anything the code does not do.

    python -m flows.datasets_doc            # rewrite docs/DATASETS.md (make docs)
    python -m flows.datasets_doc --check    # exit 1 when it is out of date

The example queries are data here, not prose: a test runs every one of them, in polars,
pandas and SQL, on a dataset the pipeline built, and checks the three give the same rows.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flows.io.catalog import RUN_PARTITION_COLUMN, TABLES, partition_column, table_schema
from flows.io.parquet import (
    LAYOUTS,
    NULL_PARTITION,
    PARTITION_COLUMN,
    RUNS_TABLE,
    UNDATED_FILE,
    TableLayout,
)
from flows.io.sql import sql_type
from schemas.tables import TABLE_MODELS, table_joins, table_key

DOC = Path(__file__).resolve().parents[1] / "docs" / "DATASETS.md"


@dataclass(frozen=True)
class Example:
    """One question, answered in polars (through the reader API), pandas and DuckDB SQL;
    each answer's last line is its result, and the three give the same rows."""

    title: str
    polars: str
    pandas: str
    sql: str


EXAMPLES = (
    Example(
        "Articles per day and source",
        polars="""\
scan("articles").group_by("pub_date", "source").agg(pl.len().alias("articles")).sort(
    "pub_date", "source"
).collect()""",
        pandas="""\
articles = pd.read_parquet("data/curated/articles", columns=["source", "pub_date"])
articles.groupby(["pub_date", "source"], observed=True).size().rename("articles").reset_index()""",
        sql="""\
SELECT pub_date, source, count(*) AS articles
FROM articles
GROUP BY ALL
ORDER BY pub_date, source""",
    ),
    Example(
        "One day's organisations, most mentioned first",
        polars="""\
(
    scan("entities", start=date(2026, 6, 15), end=date(2026, 6, 15))
    .filter(pl.col("entity_type") == "ORG")
    .group_by("normalized")
    .agg(pl.len().alias("mentions"))
    .sort(["mentions", "normalized"], descending=[True, False])
    .head(10)
    .collect()
)""",
        pandas="""\
orgs = pd.read_parquet(
    "data/curated/entities",
    columns=["normalized"],
    filters=[("pub_date", "==", "2026-06-15"), ("entity_type", "==", "ORG")],
)
counts = orgs.groupby("normalized").size().rename("mentions").reset_index()
counts.sort_values(["mentions", "normalized"], ascending=[False, True]).head(10)""",
        sql="""\
SELECT normalized, count(*) AS mentions
FROM entities
WHERE pub_date = DATE '2026-06-15' AND entity_type = 'ORG'
GROUP BY ALL
ORDER BY mentions DESC, normalized
LIMIT 10""",
    ),
    Example(
        "Every mention of one ticker, with its company and the headline",
        polars="""\
entities = scan("entities")
ticker = entities.filter(pl.col("entity_type") == "TICKER", pl.col("normalized") == "601328.SH")
company = entities.select(
    "article_id", pl.col("entity_idx").alias("linked_idx"), pl.col("normalized").alias("company")
)
headline = scan("articles").select("article_id", "source", "headline")
(
    ticker.join(company, on=["article_id", "linked_idx"], how="left")
    .join(headline, on="article_id")
    .select("pub_date", "source", "headline", "company", "start")
    .sort("pub_date", "source", "headline", "start")
    .collect()
)""",
        pandas="""\
entities = pd.read_parquet("data/curated/entities")
ticker = entities[(entities.entity_type == "TICKER") & (entities.normalized == "601328.SH")]
company = entities[["article_id", "entity_idx", "normalized"]].rename(
    columns={"entity_idx": "linked_idx", "normalized": "company"}
)
headline = pd.read_parquet("data/curated/articles", columns=["article_id", "source", "headline"])
found = ticker.merge(company, on=["article_id", "linked_idx"], how="left").merge(
    headline, on="article_id"
)
found[["pub_date", "source", "headline", "company", "start"]].sort_values(
    ["pub_date", "source", "headline", "start"]
)""",
        sql="""\
SELECT t.pub_date, a.source, a.headline, c.normalized AS company, t.start
FROM entities t
LEFT JOIN entities c ON c.article_id = t.article_id AND c.entity_idx = t.linked_idx
JOIN articles a ON a.article_id = t.article_id
WHERE t.entity_type = 'TICKER' AND t.normalized = '601328.SH'
ORDER BY t.pub_date, a.source, a.headline, t.start""",
    ),
    Example(
        "Amounts of money named in the same sentence as an organisation",
        polars="""\
entities = scan("entities")
orgs = entities.filter(pl.col("entity_type") == "ORG").select(
    "article_id", "sentence_idx", pl.col("normalized").alias("org")
)
money = entities.filter(
    pl.col("entity_type") == "MONEY", pl.col("normalized").str.ends_with(" CNY")
).select("article_id", "sentence_idx", pl.col("number").alias("cny"))
(
    orgs.join(money, on=["article_id", "sentence_idx"])
    .group_by("org")
    .agg(pl.len().alias("amounts"), pl.col("cny").sum().alias("total_cny"))
    .sort(["total_cny", "org"], descending=[True, False])
    .head(10)
    .collect()
)""",
        pandas="""\
entities = pd.read_parquet(
    "data/curated/entities",
    columns=["article_id", "sentence_idx", "entity_type", "normalized", "number"],
)
orgs = entities[entities.entity_type == "ORG"].rename(columns={"normalized": "org"})
money = entities[
    (entities.entity_type == "MONEY") & entities.normalized.str.endswith(" CNY")
].rename(columns={"number": "cny"})
pairs = orgs[["article_id", "sentence_idx", "org"]].merge(
    money[["article_id", "sentence_idx", "cny"]], on=["article_id", "sentence_idx"]
)
totals = pairs.groupby("org").agg(amounts=("cny", "size"), total_cny=("cny", "sum")).reset_index()
totals.sort_values(["total_cny", "org"], ascending=[False, True]).head(10)""",
        sql="""\
SELECT o.normalized AS org, count(*) AS amounts, sum(m.number) AS total_cny
FROM entities o
JOIN entities m ON m.article_id = o.article_id AND m.sentence_idx = o.sentence_idx
WHERE o.entity_type = 'ORG' AND m.entity_type = 'MONEY' AND m.normalized LIKE '% CNY'
GROUP BY ALL
ORDER BY total_cny DESC, org
LIMIT 10""",
    ),
    Example(
        "Each day's top keywords: in how many articles a word ranks in TF-IDF's top three",
        polars="""\
(
    scan("keywords")
    .filter(pl.col("method") == "tfidf", pl.col("rank") <= 3)
    .group_by("pub_date", "keyword")
    .agg(pl.len().alias("articles"))
    .sort(["pub_date", "articles", "keyword"], descending=[False, True, False])
    .collect()
)""",
        pandas="""\
keywords = pd.read_parquet(
    "data/curated/keywords", filters=[("method", "==", "tfidf"), ("rank", "<=", 3)]
)
top = keywords.groupby(["pub_date", "keyword"], observed=True).size().rename("articles")
top = top.reset_index()
top.sort_values(["pub_date", "articles", "keyword"], ascending=[True, False, True])""",
        sql="""\
SELECT pub_date, keyword, count(*) AS articles
FROM keywords
WHERE method = 'tfidf' AND rank <= 3
GROUP BY ALL
ORDER BY pub_date, articles DESC, keyword""",
    ),
    Example(
        "What was set aside, by reason",
        polars="""\
scan("quarantine").group_by("reason").agg(pl.len().alias("rows")).sort("reason").collect()""",
        pandas="""\
# Through the reader: pandas' own reader skips files named _*, such as the undated ones.
quarantine = scan("quarantine").collect().to_pandas()
quarantine.groupby("reason").size().rename("rows").reset_index().sort_values("reason")""",
        sql="""\
SELECT reason, count(*) AS rows
FROM quarantine
GROUP BY ALL
ORDER BY reason""",
    ),
)

# What every polars and pandas answer needs.
PREAMBLE = """\
from datetime import date

import pandas as pd
import polars as pl

from flows.io.catalog import scan"""


def _check_text(check: Any) -> str:
    stats = dict(check.statistics or {})
    name = check.name
    if name == "isin":
        return "one of " + ", ".join(f"`{v}`" for v in stats["allowed_values"])
    if name == "greater_than_or_equal_to":
        return f"≥ {stats['min_value']}"
    if name == "greater_than":
        return f"> {stats['min_value']}"
    if name == "str_matches":
        return f"matches `{stats['pattern']}`"
    if name == "str_length":
        return f"at least {stats['min_value']} character" + ("s" if stats["min_value"] > 1 else "")
    return str(check.error or name)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _layout_text(table: str, layout: TableLayout) -> list[str]:
    lines = []
    if layout.sort_by:
        lines.append("- rows sorted by " + ", ".join(f"`{c}`" for c in layout.sort_by))
    if layout.group_by == "article_id":
        lines.append(
            f"- row groups of whole articles, each {layout.min_group_rows:,} rows or more "
            f"(at most {layout.max_group_rows:,}): in a day with more rows than that, a "
            "filter on `article_id` reads one group"
        )
    elif layout.group_by:
        lines.append(
            f"- row groups of whole `{layout.group_by}` values, each "
            f"{layout.min_group_rows:,} rows or more (at most {layout.max_group_rows:,}): in a "
            f"day with more rows than that, a filter on `{layout.group_by}` reads only the "
            "groups holding it"
        )
    elif table != RUNS_TABLE:
        lines.append(f"- row groups of at most {layout.max_group_rows:,} rows")
    if layout.bloom:
        lines.append(
            "- Bloom filters on "
            + ", ".join(f"`{c}`" for c in layout.bloom)
            + ": DuckDB skips the row groups an equality filter cannot match"
        )
    if layout.unindexed:
        lines.append("- no min/max statistics on " + ", ".join(f"`{c}`" for c in layout.unindexed))
    return lines


def _table_section(table: str) -> list[str]:
    model = TABLE_MODELS[table]
    schema = model.to_schema()
    readers = table_schema(table)
    key = table_key(model)
    column = partition_column(table)
    if table == RUNS_TABLE:
        where = f"`{table}/{column}=YYYY-MM-DD/<run_id>.parquet` (the UTC date the run started)"
    else:
        where = f"`{table}/{PARTITION_COLUMN}=YYYY-MM-DD/<source>.parquet`"
        if table == "quarantine":
            where += (
                f"; files in undated folders: `{table}/{PARTITION_COLUMN}={NULL_PARTITION}/"
                f"{UNDATED_FILE}.parquet` (a null `pub_date`)"
            )
    lines = [
        f"## `{table}`",
        "",
        " ".join((schema.description or "").split()),
        "",
        "- one row per: "
        + (", ".join(f"`{c}`" for c in key) if key else "quarantined file or record"),
        f"- files: {where}",
        *_layout_text(table, LAYOUTS[table]),
        "",
        "| column | type | SQL type | null | meaning | values |",
        "|---|---|---|---|---|---|",
    ]
    for name, dtype in readers.items():
        if name == RUN_PARTITION_COLUMN and table == RUNS_TABLE:
            meaning, checks, nullable = (
                "the partition folder: the UTC date the run started",
                [],
                False,
            )
        else:
            col = schema.columns[name]
            meaning, nullable = col.description or "", col.nullable
            checks = [_check_text(c) for c in col.checks]
            if col.unique:
                checks.append("unique")
        lines.append(
            f"| `{name}` | {dtype} | {sql_type(dtype)} | {'yes' if nullable else ''} | "
            f"{_cell(meaning)} | {_cell('; '.join(checks))} |"
        )
    rules = [check.error for check in schema.checks if check.error]
    unique = getattr(model.__config__, "unique", None)
    if unique:
        rules.append(f"({', '.join(unique)}) is unique")
    if rules:
        lines += ["", "Checked on every write: " + "; ".join(rules) + "."]
    return [*lines, ""]


def _joins_section() -> list[str]:
    lines = [
        "## Joins",
        "",
        "| from | to | on | |",
        "|---|---|---|---|",
    ]
    graph = ["```mermaid", "flowchart LR"]
    for table in TABLES:
        for join in table_joins(TABLE_MODELS[table]):
            on = " AND ".join(f"{table}.{here} = {join.table}.{there}" for here, there in join.on)
            lines.append(f"| `{table}` | `{join.table}` | `{on}` | {join.note} |")
            label = ", ".join(
                here if here == there else f"{here}→{there}" for here, there in join.on
            )
            graph.append(f'    {table} -- "{label}" --> {join.table}')
    return [*lines, "", *graph, "```", ""]


def _examples_section() -> list[str]:
    lines = [
        "## Example queries",
        "",
        "Run from the repository root (the reader finds `data/curated`, or the root in "
        "`ZHNEWS_CURATED` or `zhnews.toml`). Each answer's last line is its result. "
        "The polars and pandas answers start with:",
        "",
        "```python",
        PREAMBLE,
        "```",
        "",
        'and the SQL runs as `zhnews query "…"`, or in Python on `flows.io.sql.connect()`.',
        "",
    ]
    for example in EXAMPLES:
        lines += [
            f"### {example.title}",
            "",
            "```python",
            "# polars",
            example.polars,
            "```",
            "",
            "```python",
            "# pandas",
            example.pandas,
            "```",
            "",
            "```sql",
            example.sql,
            "```",
            "",
        ]
    return lines


def render() -> str:
    overview = [
        "| table | one row per | partition | what |",
        "|---|---|---|---|",
    ]
    for table in TABLES:
        model = TABLE_MODELS[table]
        key = table_key(model)
        summary = " ".join((model.to_schema().description or "").split()).split(". ")[0]
        overview.append(
            f"| [`{table}`](#{table}) | {', '.join(key) or 'rejection'} | "
            f"`{partition_column(table)}` | {_cell(summary.rstrip('.'))} |"
        )
    lines = [
        "# Curated datasets",
        "",
        "<!-- Generated by `make docs` (python -m flows.datasets_doc) from the pandera models in "
        "schemas/tables.py and the layouts in flows/io/parquet.py. Do not edit by hand. -->",
        "",
        "Every table is a folder of Parquet files under the curated root (`data/curated` by "
        "default), partitioned by publication date: "
        f"`<root>/<table>/{PARTITION_COLUMN}=YYYY-MM-DD/<source>.parquet`, one file per "
        f"table, date and source (`runs` by `{RUN_PARTITION_COLUMN}`, one file per run). The "
        f"date lives in the folder name only: readers that understand Hive partitions "
        f"(polars, DuckDB, pyarrow, pandas) add it as a column and skip the folders a filter on "
        f"it rules out. Folders beside the tables (`_staging`, `_journal`, `_state`) are the "
        f"pipeline's own; never read them.",
        "",
        "Ways in, fastest to write first:",
        "",
        '- `zhnews query "SELECT …"` — DuckDB SQL over every table (each one a view); '
        "`--format csv|json|jsonl` for other programs; `zhnews tables` lists what is there.",
        '- `from flows.io.catalog import scan` — `scan("entities", start=…, end=…, '
        "sources=[…])` is a polars LazyFrame with the columns and types below, whatever "
        "release wrote each file; `flows.io.sql.connect()` is a DuckDB connection with the "
        "same views as `zhnews query`. Both take a folder or an `s3://bucket/prefix` root.",
        '- plain polars: `pl.scan_parquet("data/curated/entities/**/*.parquet", '
        "hive_partitioning=True)`; plain DuckDB: "
        "`read_parquet('data/curated/entities/*/*.parquet', hive_partitioning = true)`; "
        'pandas: `pd.read_parquet("data/curated/entities")` '
        "(`pub_date` comes back as text categories, and files whose name starts with `_` — "
        "the undated quarantine — are skipped).",
        "",
        "Offsets (`start`, `end`) index `articles.text` as Python string indices (characters). "
        "Every `article_id` in another table is in `articles` for the same `pub_date`. A column "
        "added in a later release is nullable and reads as null in older partitions.",
        "",
        *overview,
        "",
        *_joins_section(),
    ]
    for table in TABLES:
        lines += _table_section(table)
    lines += _examples_section()
    return "\n".join(lines).rstrip() + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m flows.datasets_doc", description="Write docs/DATASETS.md."
    )
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    parser.add_argument("--output", type=Path, default=DOC)
    args = parser.parse_args(argv)
    text = render()
    current = args.output.read_text(encoding="utf-8") if args.output.is_file() else None
    if args.check:
        if current != text:
            print(f"{args.output} is out of date: run `make docs`", file=sys.stderr)
            return 1
        return 0
    if current != text:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text, encoding="utf-8")
        print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
