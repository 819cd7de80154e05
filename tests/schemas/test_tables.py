"""Each pandera model accepts the frames the pipeline builds and rejects specific violations."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pandera.polars as pa
import polars as pl
import pytest

from schemas.tables import (
    ARTICLE_MODELS,
    Articles,
    Entities,
    Keywords,
    Paragraphs,
    Quarantine,
    Runs,
    Sentences,
    Tokens,
)
from tests.schemas.builders import ARTICLES as SHARED_RECORDS
from tests.schemas.builders import PUB, RAW_PATH, record_articles
from transforms.tables import ARTICLE_TABLES, QUARANTINE_DTYPES, build_tables

# The first two shared records: a byline and entities each, one pandera frame per table.
ARTICLES = SHARED_RECORDS[:2]


@pytest.fixture(scope="module")
def tables(nlp) -> dict[str, pl.DataFrame]:  # type: ignore[no-untyped-def]
    articles = record_articles(ARTICLES, raw_path=RAW_PATH, pub_date=PUB)
    return build_tables(articles, run_id="run-0001", nlp=nlp)


def _failed_checks(model: type[pa.DataFrameModel], frame: pl.DataFrame) -> set[str]:
    with pytest.raises(pa.errors.SchemaErrors) as info:
        model.validate(frame, lazy=True)
    return {str(c) for c in info.value.failure_cases["check"].to_list()}


Corruption = Callable[[pl.DataFrame], pl.DataFrame]


def _first_row(column: str, value: object) -> pl.Expr:
    """`value` in the first row of `column`, the column unchanged elsewhere."""
    return (
        pl.when(pl.int_range(pl.len()) == 0)
        .then(pl.lit(value, dtype=None))
        .otherwise(pl.col(column))
        .alias(column)
    )


def _dup_first(frame: pl.DataFrame) -> pl.DataFrame:
    return pl.concat([frame, frame.head(1)])


def _reuse_key(column: str) -> Corruption:
    """The second row takes the first row's `column`: same key, different row."""

    def corrupt(frame: pl.DataFrame) -> pl.DataFrame:
        assert frame["article_id"][0] == frame["article_id"][1]
        return frame.with_columns(
            pl.when(pl.int_range(pl.len()) == 1)
            .then(pl.col(column).first())
            .otherwise(pl.col(column))
            .alias(column)
        )

    return corrupt


@pytest.mark.parametrize("table", ARTICLE_TABLES)
def test_built_frames_pass_their_model(tables: dict[str, pl.DataFrame], table: str) -> None:
    frame = tables[table]
    assert frame.height > 0
    validated = ARTICLE_MODELS[table].validate(frame)
    assert validated.equals(frame)


CASES: list[tuple[str, Corruption, str]] = [
    # articles
    ("articles", _dup_first, "field_uniqueness"),
    ("articles", lambda f: f.with_columns(_first_row("article_id", "abc")), "str_length"),
    ("articles", lambda f: f.with_columns(_first_row("source", "CBN")), "str_matches"),
    ("articles", lambda f: f.with_columns(_first_row("text", "")), "str_length"),
    (
        "articles",
        lambda f: f.with_columns(n_chars=pl.col("n_chars") + 1),
        "n_chars must equal the length of text",
    ),
    ("articles", lambda f: f.with_columns(_first_row("n_tokens", 0)), "greater_than(0)"),
    ("articles", lambda f: f.with_columns(_first_row("n_sentences", 0)), "greater_than(0)"),
    (
        "articles",
        lambda f: f.with_columns(_first_row("raw_path", "/abs/feed.jsonl")),
        "str_matches",
    ),
    (
        "articles",
        lambda f: f.with_columns(_first_row("raw_record", 0)),
        "greater_than_or_equal_to(1)",
    ),
    ("articles", lambda f: f.with_columns(_first_row("raw_sha256", "AB" * 32)), "str_matches"),
    ("articles", lambda f: f.with_columns(_first_row("content_sha256", "ab" * 31)), "str_matches"),
    ("articles", lambda f: f.with_columns(extra=pl.lit(1)), "column_in_schema"),
    ("articles", lambda f: f.drop("n_chars"), "column_in_dataframe"),
    ("articles", lambda f: f.with_columns(pl.col("n_chars").cast(pl.Int32)), "dtype('Int64')"),
    # paragraphs
    ("paragraphs", lambda f: f.with_columns(_first_row("kind", "advert")), "isin"),
    ("paragraphs", _dup_first, "multiple_fields_uniqueness"),
    ("paragraphs", _reuse_key("paragraph_idx"), "multiple_fields_uniqueness"),
    (
        "paragraphs",
        lambda f: f.with_columns(_first_row("raw_line_start", 99)),
        "raw_line_start must not exceed raw_line_end",
    ),
    (
        "paragraphs",
        lambda f: f.with_columns(_first_row("paragraph_idx", -1)),
        "greater_than_or_equal_to(0)",
    ),
    ("paragraphs", lambda f: f.with_columns(_first_row("text", "")), "str_length"),
    # sentences
    (
        "sentences",
        lambda f: f.with_columns(_first_row("text", "据交通银行消息。")),
        "a sentence spans end - start characters of text",
    ),
    ("sentences", _dup_first, "multiple_fields_uniqueness"),
    ("sentences", _reuse_key("sentence_idx"), "multiple_fields_uniqueness"),
    ("sentences", lambda f: f.with_columns(_first_row("start", -1)), "greater_than_or_equal_to(0)"),
    # tokens
    (
        "tokens",
        lambda f: f.with_columns(_first_row("token", "交通银行股份")),
        "a token spans end - start characters of token",
    ),
    (
        "tokens",
        lambda f: f.with_columns(end=pl.col("end") + 1),
        "a token spans end - start characters of token",
    ),
    ("tokens", lambda f: f.with_columns(_first_row("pos", "NT")), "str_matches"),
    ("tokens", lambda f: f.with_columns(_first_row("pos", "")), "str_matches"),
    ("tokens", _dup_first, "multiple_fields_uniqueness"),
    ("tokens", _reuse_key("token_idx"), "multiple_fields_uniqueness"),
    ("tokens", lambda f: f.drop("pos"), "column_in_dataframe"),
    # entities
    ("entities", lambda f: f.with_columns(entity_type=pl.lit("EVENT")), "isin"),
    (
        "entities",
        lambda f: f.with_columns(
            number=pl.when(pl.col("entity_type") == "MONEY").then(None).otherwise(pl.col("number"))
        ),
        "numeric entity types carry a number",
    ),
    (
        "entities",
        lambda f: f.with_columns(_first_row("end", 999)),
        "an entity spans end - start characters of text",
    ),
    ("entities", lambda f: f.with_columns(_first_row("normalized", "")), "str_length"),
    ("entities", _dup_first, "multiple_fields_uniqueness"),
    ("entities", _reuse_key("entity_idx"), "multiple_fields_uniqueness"),
    # keywords
    ("keywords", lambda f: f.with_columns(_first_row("method", "lda")), "isin"),
    ("keywords", lambda f: f.with_columns(_first_row("rank", 0)), "greater_than_or_equal_to(1)"),
    (
        "keywords",
        lambda f: f.with_columns(_first_row("weight", -0.5)),
        "greater_than_or_equal_to(0)",
    ),
    ("keywords", _dup_first, "multiple_fields_uniqueness"),
    ("keywords", _reuse_key("rank"), "multiple_fields_uniqueness"),
]


@pytest.mark.parametrize(
    ("table", "corrupt", "check"),
    CASES,
    ids=[f"{t}-{i}" for i, (t, _, _) in enumerate(CASES)],
)
def test_models_reject_violations(
    tables: dict[str, pl.DataFrame], table: str, corrupt: Corruption, check: str
) -> None:
    frame = corrupt(tables[table])
    failed = _failed_checks(ARTICLE_MODELS[table], frame)
    assert any(check in name for name in failed), failed


def test_null_number_is_fine_for_dates_and_names(tables: dict[str, pl.DataFrame]) -> None:
    entities = tables["entities"]
    non_numeric = entities.filter(
        ~pl.col("entity_type").is_in(["MONEY", "PERCENT", "PERCENT_POINT"])
    )
    assert non_numeric.height > 0
    assert non_numeric["number"].null_count() == non_numeric.height
    Entities.validate(non_numeric)


def test_null_line_range_is_allowed(tables: dict[str, pl.DataFrame]) -> None:
    frame = tables["paragraphs"].with_columns(
        _first_row("raw_line_start", None), _first_row("raw_line_end", None)
    )
    assert Paragraphs.validate(frame).height == frame.height


def test_duplicate_keys_across_articles_are_fine(tables: dict[str, pl.DataFrame]) -> None:
    # sentence_idx 0 exists once per article: unique per (article_id, sentence_idx) only.
    assert tables["sentences"].filter(pl.col("sentence_idx") == 0).height == 2
    Sentences.validate(tables["sentences"])
    Tokens.validate(tables["tokens"])
    Keywords.validate(tables["keywords"])
    Articles.validate(tables["articles"])


# --- quarantine --------------------------------------------------------------------------


def _quarantine(**overrides: object) -> pl.DataFrame:
    row = {
        "run_id": "run-0001",
        "source": "cbn",
        "pub_date": PUB,
        "raw_path": RAW_PATH,
        "record": 3,
        "reason": "date_mismatch",
        "detail": "pub_date 2026-06-14 differs from folder date 2026-06-15",
    }
    row.update(overrides)
    return pl.DataFrame([row], schema=QUARANTINE_DTYPES)


def test_quarantine_accepts_a_rejection() -> None:
    frame = pl.concat([_quarantine(), _quarantine(source=None, pub_date=None, record=None)])
    assert Quarantine.validate(frame).height == 2


@pytest.mark.parametrize(
    ("overrides", "check"),
    [
        ({"reason": "Bad JSON"}, "str_matches"),
        ({"reason": "bad-json"}, "str_matches"),
        ({"record": 0}, "greater_than_or_equal_to(1)"),
        ({"raw_path": None}, "not_nullable"),
    ],
)
def test_quarantine_rejects(overrides: dict[str, object], check: str) -> None:
    assert any(check in c for c in _failed_checks(Quarantine, _quarantine(**overrides)))


# --- runs --------------------------------------------------------------------------------


def _runs(**overrides: object) -> pl.DataFrame:
    row: dict[str, object] = {
        "run_id": "run-0001",
        "flow_name": "zhnews",
        "parameters": "{}",
        "started_at": datetime(2026, 6, 16, 1, 0, tzinfo=UTC),
        "ended_at": datetime(2026, 6, 16, 1, 5, tzinfo=UTC),
        "status": "completed",
        "partitions": 1,
        "partitions_skipped": 2,
        "partitions_failed": 0,
        "partitions_removed": 0,
        "files_seen": 7,
        "files_curated": 2,
        "files_quarantined": 1,
        "files_ignored": 1,
        "files_failed": 0,
        "files_unchanged": 3,
        "records_seen": 3,
        "records_curated": 2,
        "records_quarantined": 1,
        "articles": 4,
        "rows_articles": 4,
        "rows_paragraphs": 30,
        "rows_sentences": 40,
        "rows_tokens": 900,
        "rows_entities": 50,
        "rows_keywords": 80,
        "rows_quarantine": 2,
        "rows_doc_freq": 30,
        "quarantine_reasons": '{"not_text": 1}',
        "partition_report": "[]",
        "report": "# run",
        "error": None,
        "versions": '{"jieba": "0.42.1"}',
    }
    row.update(overrides)
    return pl.DataFrame([row]).with_columns(
        pl.col("started_at", "ended_at").cast(pl.Datetime("us", "UTC")),
        pl.col("error").cast(pl.String),
    )


def test_runs_accepts_an_accounted_run() -> None:
    assert Runs.validate(_runs()).height == 1
    assert (
        Runs.validate(_runs(status="failed", error="boom", files_failed=1, files_seen=8)).height
        == 1
    )


def test_a_failed_run_is_recorded_whatever_its_counts() -> None:
    """A run that failed part way, or because its counts did not add up, keeps its row."""
    row = _runs(status="failed", error="AccountingError: …", files_seen=9, records_seen=5)
    assert Runs.validate(row).height == 1


@pytest.mark.parametrize(
    ("overrides", "check"),
    [
        ({"files_seen": 8}, "files seen = curated + quarantined + ignored + failed + unchanged"),
        ({"files_unchanged": 0}, "files seen = curated + quarantined"),
        ({"files_curated": 3}, "files seen = curated + quarantined + ignored + failed"),
        ({"status": "partial", "files_seen": 6}, "files seen = curated + quarantined"),
        ({"records_seen": 4}, "records seen = curated + quarantined"),
        ({"records_quarantined": 0}, "records seen = curated + quarantined"),
        ({"status": "running"}, "isin"),
        ({"rows_tokens": -1}, "greater_than_or_equal_to(0)"),
    ],
)
def test_runs_rejects(overrides: dict[str, object], check: str) -> None:
    assert any(check in c for c in _failed_checks(Runs, _runs(**overrides)))


def test_runs_needs_utc_timestamps() -> None:
    naive = _runs().with_columns(pl.col("started_at").dt.replace_time_zone(None))
    assert any("dtype" in c for c in _failed_checks(Runs, naive))


def test_runs_run_id_is_unique() -> None:
    frame = pl.concat([_runs(), _runs()])
    assert any("field_uniqueness" in c for c in _failed_checks(Runs, frame))


# --------------------------------------------------------------------------- documentation


def test_every_table_and_column_says_what_it_means() -> None:
    from schemas.tables import TABLE_MODELS

    for table, model in TABLE_MODELS.items():
        schema = model.to_schema()
        assert schema.description, table
        for name, column in schema.columns.items():
            assert column.description and len(column.description) > 8, f"{table}.{name}"


def test_keys_and_joins_name_real_columns(tables: dict[str, pl.DataFrame]) -> None:
    from schemas.tables import TABLE_MODELS, table_joins, table_key

    columns = {t: set(m.to_schema().columns) for t, m in TABLE_MODELS.items()}
    for table, model in TABLE_MODELS.items():
        assert set(table_key(model)) <= columns[table], table
        for join in table_joins(model):
            assert join.table in TABLE_MODELS, (table, join)
            for here, there in join.on:
                assert here in columns[table] and there in columns[join.table], (table, join)
    # The declared keys name one row each in the tables the pipeline builds.
    for table in ARTICLE_TABLES:
        key = list(table_key(TABLE_MODELS[table]))
        assert tables[table].select(key).is_unique().all(), table


def test_article_joins_find_their_rows(tables: dict[str, pl.DataFrame]) -> None:
    """Every join between article tables meets a row on the other side (no dangling keys)."""
    from schemas.tables import TABLE_MODELS, table_joins

    for table in ARTICLE_TABLES:
        for join in table_joins(TABLE_MODELS[table]):
            if join.table not in ARTICLE_TABLES:
                continue
            left = tables[table].select([here for here, _ in join.on]).drop_nulls()
            right = tables[join.table].select([there for _, there in join.on]).unique()
            right.columns = left.columns
            assert left.join(right, on=left.columns, how="anti").is_empty(), (table, join)
