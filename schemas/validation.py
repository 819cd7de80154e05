"""Validate a partition's tables together and set aside the articles that fail.

An article is the unit of rejection: when any of its rows fails a check, in any table,
all its rows leave every table, so the curated tables never disagree with each other.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Final

import numpy as np
import pandera.polars as pa
import polars as pl

from schemas.tables import ARTICLE_MODELS

_MAX_DETAIL_CASES = 5
_SPAN_TABLES = {"sentences": "text", "tokens": "token", "entities": "text"}
# pandera collects one query per check, some forty a table. polars' default engine sets up
# its streaming executor for each (about 0.2 ms, ten times the query itself on a worker's
# group of files); the in-memory engine gives the same frames without it. That set-up was
# half of a group's validation time.
_ENGINE: Final = "in-memory"


class SchemaStructureError(RuntimeError):
    """A table misses a column or has a wrong dtype: a pipeline bug, not bad input."""


def checked(
    model: type[pa.DataFrameModel], frame: pl.DataFrame, *, lazy: bool = False
) -> pl.DataFrame:
    """`model.validate(frame, lazy=lazy)`, its queries on the in-memory engine."""
    with pl.Config(engine_affinity=_ENGINE):
        return model.validate(frame, lazy=lazy)  # type: ignore[return-value]


def _row_failures(
    table: str, frame: pl.DataFrame, model: type[pa.DataFrameModel]
) -> dict[str, list[str]]:
    try:
        checked(model, frame, lazy=True)
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

    `text[start:end] == value` for every row, compared all at once as arrays of code
    points (UTF-32): polars itself finds a character offset by walking the UTF-8 from the
    start, so one long article's tokens would take time in the square of its length, and a
    Python slice per row took a third of a second on a partition's 900,000 tokens. Rows
    with offsets a slice would read otherwise (negative, or reversed) are judged by the
    slice itself.
    """
    articles = (
        tables["articles"]
        .select("article_id", "text")
        .unique("article_id", keep="last", maintain_order=True)
        .with_columns(length=pl.col("text").str.len_chars().cast(pl.Int64))
        .with_columns(base=pl.col("length").cum_sum() - pl.col("length"))
    )
    chars = _code_points(articles["text"])
    places = articles.select("article_id", "base", "length")
    found: dict[str, list[str]] = defaultdict(list)
    for table, column in _SPAN_TABLES.items():
        frame = tables[table]
        if frame.is_empty():
            continue
        rows = (
            frame.select("article_id", pl.col(column).alias("value"), "start", "end")
            .with_row_index("row")
            # a null offset is the row checks' to report
            .filter(pl.col("start").is_not_null() & pl.col("end").is_not_null())
            .join(places, on="article_id", how="left", maintain_order="left")
            .with_columns(width=pl.col("value").str.len_chars().cast(pl.Int64))
        )
        plain = (
            pl.col("base").is_not_null()
            & pl.col("value").is_not_null()
            & (pl.col("start") >= 0)
            & (pl.col("start") <= pl.col("end"))
            & (pl.col("end") <= pl.col("length"))
        )
        rows = rows.with_columns(plain=plain.fill_null(False))
        odd = rows.filter(~pl.col("plain"))
        bad = set(_odd_failures(odd, articles)) if odd.height else set()
        # Plain rows: a slice of `end - start` characters, equal to the value or not.
        even = rows.filter(pl.col("plain"))
        bad.update(even.filter(pl.col("width") != pl.col("end") - pl.col("start"))["row"])
        even = even.filter(
            (pl.col("width") == pl.col("end") - pl.col("start")) & (pl.col("width") > 0)
        )
        bad.update(_differing_rows(even, chars))
        if not bad:
            continue
        wrong = rows.filter(pl.col("row").is_in(sorted(bad)))
        for article_id, value, start in wrong.select("article_id", "value", "start").iter_rows():
            found[article_id].append(
                f"{table}.{column}: offset {start} does not index text ({value!r})"
            )
    return found


def _code_points(texts: pl.Series) -> np.ndarray:
    """The texts end to end, one UTF-32 code point each."""
    joined = texts.str.join("").item() if texts.len() else ""
    return np.frombuffer(joined.encode("utf-32-le"), dtype="<u4")


def _differing_rows(rows: pl.DataFrame, chars: np.ndarray) -> list[int]:
    """The `row` of each of `rows` (each with `width = end - start > 0` characters, inside
    its article) whose value differs from the text at `base + start`."""
    if rows.is_empty():
        return []
    values = _code_points(rows["value"])
    widths = rows["width"].to_numpy()
    first = (rows["base"] + rows["start"]).to_numpy()
    # Text position of each value character: its row's first position, then on by one.
    ends = np.cumsum(widths)
    at = np.repeat(first - (ends - widths), widths) + np.arange(len(values))
    differs = np.logical_or.reduceat(chars[at] != values, ends - widths)
    return rows["row"].filter(pl.Series(differs)).to_list()


def _odd_failures(rows: pl.DataFrame, articles: pl.DataFrame) -> list[int]:
    """Rows whose offsets or article a plain slice cannot take: each judged by the slice."""
    texts = dict(zip(articles["article_id"], articles["text"], strict=True))
    bad = []
    for row, article_id, value, start, end in rows.select(
        "row", "article_id", "value", "start", "end"
    ).iter_rows():
        text = texts.get(article_id)
        if text is None or end > len(text) or text[start:end] != value:
            bad.append(row)
    return bad


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
        checked(model, kept[table], lazy=True)
    return kept, rejected
