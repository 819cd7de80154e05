"""What `zhnews query` and `zhnews tables` print, on a dataset the pipeline built."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from rich.console import Console

from flows.query import as_text, print_table, run_query, table_summary
from tests.datasets import JUNE_15, JUNE_16

TICKERS = """
    SELECT e.normalized AS ticker, c.normalized AS company, count(*) AS mentions,
           min(e.pub_date) AS first_seen
    FROM entities e
    LEFT JOIN entities c ON c.article_id = e.article_id AND c.entity_idx = e.linked_idx
    WHERE e.entity_type = 'TICKER'
    GROUP BY ALL ORDER BY mentions DESC, ticker
"""


@pytest.fixture(scope="module")
def tickers(curated_dataset: Path) -> pl.DataFrame:
    result = run_query(TICKERS, curated_dataset)
    assert result is not None
    return result


def test_a_query_joins_tickers_to_their_companies(tickers: pl.DataFrame) -> None:
    rows = {r["ticker"]: r for r in tickers.iter_rows(named=True)}
    assert rows["601328.SH"]["company"] == "交通银行"
    assert rows["600036.SH"]["company"] == "招商银行"
    assert rows["600519.SH"]["company"] == "贵州茅台"
    assert rows["600519.SH"]["first_seen"] == JUNE_16
    assert rows["601328.SH"]["mentions"] >= 2


def test_the_table_format_shows_chinese_text_and_counts_rows(tickers: pl.DataFrame) -> None:
    out = io.StringIO()
    print_table(tickers, Console(file=out, width=200), max_rows=2)
    text = out.getvalue()
    assert "ticker" in text and "company" in text
    assert text.count("银行") + text.count("茅台") == 2  # two rows shown
    assert f"({tickers.height} rows, {tickers.height - 2} not shown" in text


def test_long_cells_are_cut_and_nulls_shown() -> None:
    frame = pl.DataFrame(
        {"text": ["央行" * 50, None], "authors": [["王希", "李娜"], []], "n": [1.5, None]}
    )
    out = io.StringIO()
    print_table(frame, Console(file=out, width=400))
    text = out.getvalue()
    assert "…" in text and "央行" * 31 not in text
    assert "NULL" in text
    assert '["王希", "李娜"]' in text
    assert "(2 rows)" in text


def test_csv_has_a_header_and_lists_as_json(curated_dataset: Path) -> None:
    result = run_query(
        "SELECT article_id, authors, headline FROM articles WHERE pub_date = DATE '2026-06-16' "
        "ORDER BY headline",
        curated_dataset,
    )
    assert result is not None
    rows = list(csv.DictReader(io.StringIO(as_text(result, "csv"))))
    assert [r["headline"] for r in rows] == ["招商银行拟发行二级资本债", "贵州茅台股价创新高"]
    assert json.loads(rows[0]["authors"]) == ["张伟"]


def test_json_and_json_lines_keep_types_readable(tickers: pl.DataFrame) -> None:
    records = json.loads(as_text(tickers, "json"))
    assert records[0].keys() == {"ticker", "company", "mentions", "first_seen"}
    assert {r["first_seen"] for r in records} <= {JUNE_15.isoformat(), JUNE_16.isoformat()}
    lines = as_text(tickers, "jsonl").splitlines()
    assert [json.loads(line) for line in lines] == records
    with pytest.raises(ValueError, match="unknown format"):
        as_text(tickers, "xml")


def test_the_summary_counts_files_dates_sources_and_rows(curated_dataset: Path) -> None:
    summary = {r["table"]: r for r in table_summary(curated_dataset).iter_rows(named=True)}
    articles = summary["articles"]
    assert (articles["files"], articles["dates"], articles["sources"]) == (3, 2, 2)
    assert (articles["first"], articles["last"], articles["rows"]) == (JUNE_15, JUNE_16, 6)
    quarantine = summary["quarantine"]
    assert quarantine["files"] == 2 and quarantine["sources"] == 1 and quarantine["rows"] == 2
    assert summary["runs"]["partition"] == "run_date" and summary["runs"]["sources"] is None
    assert summary["tokens"]["rows"] == pl.read_parquet(curated_dataset / "tokens").height
    assert isinstance(summary["runs"]["first"], date)
