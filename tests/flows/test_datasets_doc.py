"""docs/DATASETS.md: up to date with the models, complete, and its examples true."""

from __future__ import annotations

import ast
import math
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from flows import datasets_doc
from flows.datasets_doc import DOC, EXAMPLES, PREAMBLE, render
from flows.io.catalog import TABLES, table_schema


def test_the_committed_dictionary_is_what_the_models_say() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), "docs/DATASETS.md is stale: make docs"


def test_every_table_and_column_is_described() -> None:
    text = render()
    for table in TABLES:
        section = text.split(f"## `{table}`\n", 1)[1].split("\n## ", 1)[0]
        for column in table_schema(table):
            assert f"| `{column}` |" in section, (table, column)
    assert "entities.linked_idx = entities.entity_idx" in text
    assert "quarantine/pub_date=__HIVE_DEFAULT_PARTITION__/_undated.parquet" in text


def test_check_mode_fails_on_a_stale_file(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    target = tmp_path / "DATASETS.md"
    assert datasets_doc.main(["--check", "--output", str(target)]) == 1
    assert "make docs" in capsys.readouterr().err
    assert datasets_doc.main(["--output", str(target)]) == 0
    assert datasets_doc.main(["--check", "--output", str(target)]) == 0
    target.write_text(render().replace("Bloom", "bloom"), encoding="utf-8")
    assert datasets_doc.main(["--check", "--output", str(target)]) == 1


# --------------------------------------------------------------------------- the examples


def _value(value: Any) -> Any:
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()  # numpy scalars
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 4)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _rows(result: Any) -> list[tuple[Any, ...]]:
    import pandas as pd
    import polars as pl

    if isinstance(result, pd.DataFrame):
        rows = [tuple(r) for r in result.itertuples(index=False)]
    elif isinstance(result, pl.DataFrame):
        rows = result.rows()
    else:  # a DuckDB relation
        rows = result.fetchall()
    return [tuple(_value(v) for v in row) for row in rows]


def _run(code: str) -> Any:
    """Run a snippet after the preamble; its last line is the answer."""
    tree = ast.parse(PREAMBLE + "\n" + code)
    last = tree.body.pop()
    assert isinstance(last, ast.Expr), code
    namespace: dict[str, Any] = {}
    exec(compile(tree, "<example>", "exec"), namespace)
    return eval(compile(ast.Expression(last.value), "<example>", "eval"), namespace)


@pytest.fixture
def in_repository_layout(
    curated_dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """A working directory whose data/curated is the test dataset, as the examples expect."""
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "curated").symlink_to(curated_dataset, target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    for name in ("ZHNEWS_CURATED", "ZHNEWS_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.title for e in EXAMPLES])
def test_each_example_gives_the_same_rows_in_polars_pandas_and_sql(
    example: datasets_doc.Example, in_repository_layout: Path
) -> None:
    from flows.io.sql import connect

    in_sql = _rows(connect().sql(example.sql))
    assert in_sql, "every example finds something in the test dataset"
    assert _rows(_run(example.polars)) == in_sql
    assert _rows(_run(example.pandas)) == in_sql


def test_the_examples_answer_what_their_titles_ask(in_repository_layout: Path) -> None:
    from flows.io.sql import connect

    answers = {e.title: _rows(connect().sql(e.sql)) for e in EXAMPLES}
    per_day = answers["Articles per day and source"]
    assert per_day == [
        ("2026-06-15", "cbn", 2),
        ("2026-06-15", "wire", 2),
        ("2026-06-16", "wire", 2),
    ]
    ticker = answers["Every mention of one ticker, with its company and the headline"]
    assert {row[3] for row in ticker} == {"交通银行"}
    assert {row[0] for row in ticker} == {"2026-06-15", "2026-06-16"}
    money = dict(
        (r[0], r[2])
        for r in answers["Amounts of money named in the same sentence as an organisation"]
    )
    assert money["招商银行"] >= 30_000_000_000  # 300亿元 in one sentence with 招商银行
    reasons = answers["What was set aside, by reason"]
    assert reasons == [("bad_date", 1), ("bad_json", 1)]
