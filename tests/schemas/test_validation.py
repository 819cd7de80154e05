"""validate_tables: one bad row rejects its whole article from every table, with a reason."""

from __future__ import annotations

import random

import polars as pl
import pytest

from schemas.validation import (
    ANALYSED_TABLES,
    SchemaStructureError,
    _span_failures,
    analysed_failures,
    validate_tables,
)
from tests.schemas.builders import ARTICLES, PUB, RAW_PATH, record_articles
from transforms.tables import ARTICLE_TABLES, build_tables


@pytest.fixture(scope="module")
def tables(nlp) -> dict[str, pl.DataFrame]:  # type: ignore[no-untyped-def]
    articles = record_articles(ARTICLES, raw_path=RAW_PATH, pub_date=PUB)
    built = build_tables(articles, run_id="run-0001", nlp=nlp)
    for table in ARTICLE_TABLES:
        ids = set(built[table]["article_id"])
        assert len(ids) == len(ARTICLES), f"every article needs rows in {table}"
    return built


@pytest.fixture(scope="module")
def victim(tables: dict[str, pl.DataFrame]) -> str:
    return tables["articles"]["article_id"][1]


def _in_victim(victim: str, **conditions: object) -> pl.Expr:
    expr = pl.col("article_id") == victim
    for column, value in conditions.items():
        expr = expr & (pl.col(column) == value)
    return expr


def _set(frame: pl.DataFrame, where: pl.Expr, **values: object) -> pl.DataFrame:
    return frame.with_columns(
        *(
            pl.when(where).then(pl.lit(v, dtype=frame.schema[c])).otherwise(pl.col(c)).alias(c)
            for c, v in values.items()
        )
    )


def _shift(frame: pl.DataFrame, where: pl.Expr, by: int) -> pl.DataFrame:
    return frame.with_columns(
        *(
            pl.when(where).then(pl.col(c) + by).otherwise(pl.col(c)).alias(c)
            for c in ("start", "end")
        )
    )


def _assert_only_victim_removed(
    tables: dict[str, pl.DataFrame], kept: dict[str, pl.DataFrame], victim: str
) -> None:
    assert set(kept) == set(tables)
    for table in ARTICLE_TABLES:
        expected = tables[table].filter(pl.col("article_id") != victim)
        assert kept[table].equals(expected), table
        assert victim not in kept[table]["article_id"].to_list(), table
        assert kept[table].height > 0, table


def test_clean_tables_pass_through_unchanged(tables: dict[str, pl.DataFrame]) -> None:
    kept, rejected = validate_tables(tables)
    assert rejected == {}
    for table in ARTICLE_TABLES:
        assert kept[table].equals(tables[table]), table


CORRUPTIONS = {
    # A token whose text no longer matches its span length.
    "token_length": (
        "tokens",
        lambda f, v: _set(f, _in_victim(v, token_idx=2), token="交通银行股份有限公司"),
        "tokens.*",
    ),
    # A POS tag that is not a jieba tag.
    "token_pos": (
        "tokens",
        lambda f, v: _set(f, _in_victim(v, token_idx=0), pos="N1"),
        "tokens.pos",
    ),
    "entity_type": (
        "entities",
        lambda f, v: _set(f, _in_victim(v, entity_idx=0), entity_type="EVENT"),
        "entities.entity_type",
    ),
    "entity_number": (
        "entities",
        lambda f, v: _set(f, _in_victim(v, entity_type="PERCENT"), number=None),
        "entities.*",
    ),
    "sentence_text": (
        "sentences",
        lambda f, v: _set(f, _in_victim(v, sentence_idx=0), text=""),
        "sentences.text",
    ),
    "sentence_duplicate_key": (
        "sentences",
        lambda f, v: pl.concat([f, f.filter(_in_victim(v, sentence_idx=0))]),
        "sentences.*",
    ),
    "paragraph_kind": (
        "paragraphs",
        lambda f, v: _set(f, _in_victim(v, paragraph_idx=0), kind="advert"),
        "paragraphs.kind",
    ),
    "article_n_chars": (
        "articles",
        lambda f, v: _set(f, _in_victim(v), n_chars=1),
        "articles.*",
    ),
    "keyword_rank": (
        "keywords",
        lambda f, v: _set(f, _in_victim(v, rank=1), rank=0),
        "keywords.rank",
    ),
}


@pytest.mark.parametrize("case", list(CORRUPTIONS))
def test_bad_row_removes_its_article_from_every_table(
    tables: dict[str, pl.DataFrame], victim: str, case: str
) -> None:
    table, corrupt, where = CORRUPTIONS[case]
    broken = {**tables, table: corrupt(tables[table], victim)}
    assert not broken[table].equals(tables[table])
    kept, rejected = validate_tables(broken)
    assert list(rejected) == [victim]
    reason = rejected[victim]
    count, _, cases = reason.partition(" failed checks: ")
    assert int(count) == len(cases.split("; ")) >= 1
    assert where.rstrip("*") in reason
    _assert_only_victim_removed(tables, kept, victim)


@pytest.mark.parametrize(
    ("table", "column"), [("tokens", "token"), ("sentences", "text"), ("entities", "text")]
)
def test_offsets_that_do_not_index_article_text_are_caught(
    tables: dict[str, pl.DataFrame], victim: str, table: str, column: str
) -> None:
    idx = {"tokens": "token_idx", "sentences": "sentence_idx", "entities": "entity_idx"}[table]
    # Both ends move: each row is self-consistent, only the cross-table check can see it.
    broken = {**tables, table: _shift(tables[table], _in_victim(victim, **{idx: 0}), 1)}
    kept, rejected = validate_tables(broken)
    assert list(rejected) == [victim]
    assert f"{table}.{column}: offset 1 does not index text" in rejected[victim]
    _assert_only_victim_removed(tables, kept, victim)


def test_offset_past_the_end_of_text_is_caught(
    tables: dict[str, pl.DataFrame], victim: str
) -> None:
    n_chars = tables["articles"].filter(pl.col("article_id") == victim)["n_chars"][0]
    last = tables["entities"].filter(pl.col("article_id") == victim)["entity_idx"].max()
    entities = tables["entities"].with_columns(
        *(
            pl.when(_in_victim(victim, entity_idx=last))
            .then(pl.col(c) - pl.col("start") + n_chars)
            .otherwise(pl.col(c))
            .alias(c)
            for c in ("end", "start")
        )
    )
    kept, rejected = validate_tables({**tables, "entities": entities})
    assert list(rejected) == [victim]
    assert "does not index text" in rejected[victim]
    _assert_only_victim_removed(tables, kept, victim)


def test_rows_of_an_unknown_article_are_rejected(tables: dict[str, pl.DataFrame]) -> None:
    orphan = tables["tokens"].head(3).with_columns(article_id=pl.lit("f" * 20))
    kept, rejected = validate_tables({**tables, "tokens": pl.concat([tables["tokens"], orphan])})
    assert list(rejected) == ["f" * 20]
    assert rejected["f" * 20].startswith("3 failed checks: ")
    for table in ARTICLE_TABLES:
        assert kept[table].equals(tables[table]), table


def test_several_bad_articles_are_each_reported(tables: dict[str, pl.DataFrame]) -> None:
    first, _, third = tables["articles"]["article_id"].to_list()
    tokens = _set(tables["tokens"], _in_victim(first, token_idx=0), pos="BAD")
    entities = _set(tables["entities"], _in_victim(third, entity_idx=0), entity_type="EVENT")
    kept, rejected = validate_tables({**tables, "tokens": tokens, "entities": entities})
    assert set(rejected) == {first, third}
    assert "tokens.pos" in rejected[first]
    assert "entities.entity_type" in rejected[third]
    assert kept["articles"]["article_id"].to_list() == [tables["articles"]["article_id"][1]]


def test_reason_lists_at_most_five_cases(tables: dict[str, pl.DataFrame], victim: str) -> None:
    tokens = _set(tables["tokens"], pl.col("article_id") == victim, pos="BAD")
    n_tokens = tables["tokens"].filter(pl.col("article_id") == victim).height
    assert n_tokens > 5
    _, rejected = validate_tables({**tables, "tokens": tokens})
    reason = rejected[victim]
    assert reason.startswith(f"{n_tokens} failed checks: ")
    assert reason.count("tokens.pos") == 5


@pytest.mark.parametrize(
    ("table", "column"),
    [
        ("tokens", "pos"),
        ("articles", "n_chars"),
        ("sentences", "end"),
        ("keywords", "rank"),
        # Nullable columns are still required columns.
        ("articles", "url"),
        ("articles", "headline"),
        ("articles", "raw_record"),
        ("entities", "number"),
        ("paragraphs", "raw_line_start"),
    ],
)
def test_missing_column_raises_structure_error(
    tables: dict[str, pl.DataFrame], table: str, column: str
) -> None:
    with pytest.raises(SchemaStructureError, match=table):
        validate_tables({**tables, table: tables[table].drop(column)})


@pytest.mark.parametrize(
    ("table", "column", "dtype"),
    [("tokens", "start", pl.Int32), ("articles", "pub_date", pl.String)],
)
def test_wrong_dtype_raises_structure_error(
    tables: dict[str, pl.DataFrame], table: str, column: str, dtype: pl.DataType
) -> None:
    frame = tables[table].with_columns(pl.col(column).cast(dtype))
    with pytest.raises(SchemaStructureError, match=f"{table}: .*dtype"):
        validate_tables({**tables, table: frame})


def test_offsets_count_characters_not_bytes(tables: dict[str, pl.DataFrame], victim: str) -> None:
    """A character outside the BMP before every span (4 bytes in UTF-8, one character in
    Python): offsets shifted by one still index the text, and one shifted by the byte
    count would not."""
    where = pl.col("article_id") == victim
    articles = tables["articles"].with_columns(
        pl.when(where).then("😀" + pl.col("text")).otherwise(pl.col("text")).alias("text"),
        pl.when(where).then(pl.col("n_chars") + 1).otherwise(pl.col("n_chars")).alias("n_chars"),
    )
    spans = ("sentences", "tokens", "entities")
    moved = {table: _shift(tables[table], where, 1) for table in spans}
    kept, rejected = validate_tables({**tables, "articles": articles, **moved})
    assert rejected == {}
    assert kept["tokens"].height == tables["tokens"].height
    by_bytes = {**moved, "tokens": _shift(moved["tokens"], _in_victim(victim, token_idx=0), 3)}
    _, rejected = validate_tables({**tables, "articles": articles, **by_bytes})
    assert list(rejected) == [victim]
    assert "tokens.token: offset 4 does not index text" in rejected[victim]


@pytest.mark.parametrize("case", list(CORRUPTIONS))
def test_a_bad_row_is_found_whether_checked_in_one_place_or_where_it_was_made(
    tables: dict[str, pl.DataFrame], victim: str, case: str
) -> None:
    """The analysed tables checked first (`analysed_failures`, as a worker checks its
    file), the rest at the finish: the same article leaves the same tables."""
    table, corrupt, where = CORRUPTIONS[case]
    broken = {**tables, table: corrupt(tables[table], victim)}
    prechecked = analysed_failures(broken)
    assert (victim in prechecked) == (table in ANALYSED_TABLES)
    kept, rejected = validate_tables(broken, prechecked=prechecked)
    assert list(rejected) == [victim]
    assert where.rstrip("*") in rejected[victim]
    _assert_only_victim_removed(tables, kept, victim)


def test_prechecked_tables_are_not_checked_again(
    tables: dict[str, pl.DataFrame], victim: str
) -> None:
    """What the workers found is taken as found: the finish checks only what it adds to."""
    table, corrupt, _ = CORRUPTIONS["token_pos"]
    broken = {**tables, table: corrupt(tables[table], victim)}
    kept, rejected = validate_tables(broken, prechecked={})
    assert rejected == {}
    assert kept["tokens"].equals(broken["tokens"])
    other = tables["articles"]["article_id"][0]
    kept, rejected = validate_tables(tables, prechecked={other: ["tokens.pos: found earlier"]})
    assert list(rejected) == [other]
    assert "found earlier" in rejected[other]


def test_checks_run_on_the_in_memory_engine_and_leave_the_default_alone(
    tables: dict[str, pl.DataFrame], victim: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pandera's per-check queries skip the streaming engine's set-up; the caller's own
    default is as it was, after a pass and after a failure."""
    engines: list[str | None] = []
    collect = pl.LazyFrame.collect

    def spy(self: pl.LazyFrame, *args: object, **kwargs: object) -> pl.DataFrame:
        engines.append(pl.Config.state(if_set=True).get("POLARS_ENGINE_AFFINITY"))
        return collect(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pl.LazyFrame, "collect", spy)
    before = pl.Config.state(if_set=True).get("POLARS_ENGINE_AFFINITY")
    broken = {**tables, "keywords": _set(tables["keywords"], _in_victim(victim, rank=1), rank=0)}
    for case in (tables, broken):
        engines.clear()
        validate_tables(case)
        assert len(engines) > 10
        assert set(engines) == {"in-memory"}
        assert pl.Config.state(if_set=True).get("POLARS_ENGINE_AFFINITY") == before


def _slice_by_slice(tables: dict[str, pl.DataFrame]) -> dict[str, list[str]]:
    """The offset check row by row, as Python slices read it."""
    texts = dict(zip(tables["articles"]["article_id"], tables["articles"]["text"], strict=True))
    found: dict[str, list[str]] = {}
    for table, column in {"sentences": "text", "tokens": "token", "entities": "text"}.items():
        for article_id, value, start, end in (
            tables[table].select("article_id", column, "start", "end").iter_rows()
        ):
            if start is None or end is None:
                continue
            text = texts.get(article_id)
            if text is None or end > len(text) or text[start:end] != value:
                found.setdefault(article_id, []).append(
                    f"{table}.{column}: offset {start} does not index text ({value!r})"
                )
    return found


@pytest.mark.parametrize("seed", range(6))
def test_offsets_are_judged_as_python_slices_judge_them(
    tables: dict[str, pl.DataFrame], seed: int
) -> None:
    """Every way a row can go wrong (moved, widened, reversed, negative, past the end,
    another value, an empty or null value, an unknown article), at random rows: the same
    rows fail, in the same order, as slice by slice."""
    rng = random.Random(seed)
    spans = {"sentences": "text", "tokens": "token", "entities": "text"}
    broken = dict(tables)
    for table, column in spans.items():
        frame = broken[table]
        starts, ends = frame["start"].to_list(), frame["end"].to_list()
        values, ids = frame[column].to_list(), frame["article_id"].to_list()
        for i in rng.sample(range(frame.height), k=min(12, frame.height)):
            how = rng.randrange(9)
            if how == 0:
                starts[i], ends[i] = starts[i] + 1, ends[i] + 1
            elif how == 1:
                ends[i] += 1
            elif how == 2:
                starts[i], ends[i] = ends[i], starts[i]
            elif how == 3:
                starts[i] = -1
            elif how == 4:
                ends[i] += 10_000
            elif how == 5:
                values[i] = values[i][::-1] + "X"
            elif how == 6:
                values[i] = ""
                ends[i] = starts[i]
            elif how == 7:
                values[i] = None
            else:
                ids[i] = "no-such-article"
        broken[table] = frame.with_columns(
            pl.Series("start", starts, dtype=frame.schema["start"]),
            pl.Series("end", ends, dtype=frame.schema["end"]),
            pl.Series(column, values, dtype=pl.String),
            pl.Series("article_id", ids, dtype=pl.String),
        )
    expected = _slice_by_slice(broken)
    assert expected, "the corruptions must be seen"
    assert _span_failures(broken) == expected
    assert _span_failures(tables) == {}
