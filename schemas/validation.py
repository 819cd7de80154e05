"""Validate a partition's tables together and set aside the articles that fail.

An article is the unit of rejection: when any of its rows fails a check, in any table,
all its rows leave every table, so the curated tables never disagree with each other.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

import pandera.polars as pa
import polars as pl

from schemas.tables import ARTICLE_MODELS

_MAX_DETAIL_CASES = 5
_SPAN_TABLES = {"sentences": "text", "tokens": "token", "entities": "text"}


class SchemaStructureError(RuntimeError):
    """A table misses a column or has a wrong dtype: a pipeline bug, not bad input."""


def _row_failures(
    table: str, frame: pl.DataFrame, model: type[pa.DataFrameModel]
) -> dict[str, list[str]]:
    try:
        model.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as err:
        cases = err.failure_cases
        structural = cases.filter(pl.col("index").is_null())
        if structural.height:
            raise SchemaStructureError(
                f"{table}: " + "; ".join(structural["check"].cast(pl.String).to_list())
            ) from err
        ids = frame["article_id"]
        found: dict[str, list[str]] = defaultdict(list)
        for row in cases.iter_rows(named=True):
            column = row["column"] if row["schema_context"] == "Column" else "*"
            value = str(row["failure_case"])[:80]
            found[ids[row["index"]]].append(f"{table}.{column}: {row['check']} ({value!r})")
        return found
    return {}


def _span_failures(tables: Mapping[str, pl.DataFrame]) -> dict[str, list[str]]:
    """Offsets must index `articles.text`: a cross-table check no single model can make.

    Checked row by row against each article's text, in Python, where a slice costs only
    its own length: polars finds a character offset by walking the UTF-8 from the start,
    so there one long article's tokens would take time in the square of its length.
    """
    articles = tables["articles"]
    texts = dict(zip(articles["article_id"].to_list(), articles["text"].to_list(), strict=True))
    found: dict[str, list[str]] = defaultdict(list)
    for table, column in _SPAN_TABLES.items():
        frame = tables[table]
        if frame.is_empty():
            continue
        rows = frame.select("article_id", column, "start", "end").iter_rows()
        for article_id, value, start, end in rows:
            if start is None or end is None:
                continue  # a null offset is the row checks' to report
            text = texts.get(article_id)
            if text is None or end > len(text) or text[start:end] != value:
                found[article_id].append(
                    f"{table}.{column}: offset {start} does not index text ({value!r})"
                )
    return found


# The tables an article's analysis gives whole and a partition's finish leaves as they are:
# checked where they are made (`analysed_failures`, file by file, in the workers), so that
# the finish, one partition after another in one process, checks only what it adds to.
ANALYSED_TABLES = ("paragraphs", "sentences", "tokens", "entities")


def analysed_failures(tables: Mapping[str, pl.DataFrame]) -> dict[str, list[str]]:
    """What fails in `ANALYSED_TABLES` and in their offsets into `articles.text`, by
    article: a partition's `validate_tables(..., prechecked=...)` takes it as found."""
    failures: dict[str, list[str]] = defaultdict(list)
    for table in ANALYSED_TABLES:
        found = _row_failures(table, tables[table], ARTICLE_MODELS[table])
        for article_id, problems in found.items():
            failures[article_id].extend(problems)
    for article_id, problems in _span_failures(tables).items():
        failures[article_id].extend(problems)
    return dict(failures)


def validate_tables(
    tables: Mapping[str, pl.DataFrame],
    *,
    prechecked: Mapping[str, list[str]] | None = None,
) -> tuple[dict[str, pl.DataFrame], dict[str, str]]:
    """Tables without the failing articles, and why each failing article was rejected.

    `prechecked`: the `analysed_failures` of the articles these tables hold, found
    already; only the other tables are checked here then.
    """
    failures: dict[str, list[str]] = defaultdict(list)
    skipped = ANALYSED_TABLES if prechecked is not None else ()
    for table, model in ARTICLE_MODELS.items():
        if table in skipped:
            continue
        for article_id, problems in _row_failures(table, tables[table], model).items():
            failures[article_id].extend(problems)
    found = _span_failures(tables) if prechecked is None else prechecked
    for article_id, problems in found.items():
        failures[article_id].extend(problems)

    rejected = {
        article_id: f"{len(problems)} failed checks: " + "; ".join(problems[:_MAX_DETAIL_CASES])
        for article_id, problems in sorted(failures.items())
    }
    if not rejected:
        return dict(tables), {}
    kept = {
        table: frame.filter(~pl.col("article_id").is_in(list(rejected)))
        for table, frame in tables.items()
    }
    for table, model in ARTICLE_MODELS.items():
        model.validate(kept[table], lazy=True)
    return kept, rejected
