"""pandera models of every curated table: the one place their columns are defined.

Nullable columns are annotated with the plain type and `nullable=True`: an `X | None`
annotation would make pandera treat the column as optional, and a missing column must fail.

`pub_date` is validated here but stored in the Hive path (`pub_date=YYYY-MM-DD/`), not
inside the files, so every Parquet reader sees it once and with one type.
"""

from __future__ import annotations

import datetime as dt

import pandera.polars as pa
import polars as pl
from pandera.engines.polars_engine import DateTime, PolarsData

from transforms.dedupe import NUM_PERM
from transforms.entities import ENTITY_TYPES
from transforms.pages import PARAGRAPH_KINDS
from transforms.repair import TEXT_QUALITIES
from transforms.script import SCRIPTS

KEYWORD_METHODS = ("tfidf", "textrank")
RUN_STATUSES = ("completed", "partial", "failed")
HEX64 = r"^[0-9a-f]{64}$"


class Articles(pa.DataFrameModel):
    """One row per article: the clean body text and where it came from."""

    article_id: str = pa.Field(unique=True, str_length={"min_value": 8})
    source: str = pa.Field(str_matches=r"^[a-z0-9][a-z0-9_-]*$")
    pub_date: dt.date
    external_id: str = pa.Field(nullable=True)
    headline: str = pa.Field(nullable=True)
    authors: list[str]
    dateline: str = pa.Field(nullable=True)
    url: str = pa.Field(nullable=True)
    text: str = pa.Field(str_length={"min_value": 1})
    script: str = pa.Field(isin=SCRIPTS)
    text_quality: str = pa.Field(isin=TEXT_QUALITIES)
    n_chars: int = pa.Field(gt=0)
    n_paragraphs: int = pa.Field(gt=0)
    n_sentences: int = pa.Field(gt=0)
    n_tokens: int = pa.Field(gt=0)
    raw_path: str = pa.Field(str_matches=r"^[^/].*")
    raw_article_idx: int = pa.Field(ge=0)
    raw_record: int = pa.Field(nullable=True, ge=1)
    raw_encoding: str
    raw_sha256: str = pa.Field(str_matches=HEX64)
    content_sha256: str = pa.Field(str_matches=HEX64)
    minhash: list[int]
    duplicate_of: str = pa.Field(nullable=True)
    run_id: str

    @pa.dataframe_check(error="minhash holds NUM_PERM values")
    @classmethod
    def minhash_complete(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("minhash").list.len() == NUM_PERM)

    @pa.dataframe_check(error="an article is not a duplicate of itself")
    @classmethod
    def not_own_duplicate(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(
            pl.col("duplicate_of").is_null() | (pl.col("duplicate_of") != pl.col("article_id"))
        )

    @pa.dataframe_check(error="n_chars must equal the length of text")
    @classmethod
    def n_chars_matches_text(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("n_chars") == pl.col("text").str.len_chars())

    class Config:
        strict = True


class Paragraphs(pa.DataFrameModel):
    """Every paragraph of every article, whatever its kind, traced to its raw lines."""

    article_id: str
    pub_date: dt.date
    paragraph_idx: int = pa.Field(ge=0)
    kind: str = pa.Field(isin=PARAGRAPH_KINDS)
    text: str = pa.Field(str_length={"min_value": 1})
    raw_line_start: int = pa.Field(nullable=True, ge=1)
    raw_line_end: int = pa.Field(nullable=True, ge=1)
    raw_lines: list[int]

    @pa.dataframe_check(error="raw_line_start must not exceed raw_line_end")
    @classmethod
    def line_range_ordered(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(
            pl.col("raw_line_start").is_null()
            | (pl.col("raw_line_start") <= pl.col("raw_line_end"))
        )

    class Config:
        strict = True
        unique = ("article_id", "paragraph_idx")


class Sentences(pa.DataFrameModel):
    article_id: str
    pub_date: dt.date
    sentence_idx: int = pa.Field(ge=0)
    paragraph_idx: int = pa.Field(ge=0)
    text: str = pa.Field(str_length={"min_value": 1})
    start: int = pa.Field(ge=0)
    end: int = pa.Field(gt=0)

    @pa.dataframe_check(error="a sentence spans end - start characters of text")
    @classmethod
    def span_matches_text(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(
            (pl.col("end") - pl.col("start")) == pl.col("text").str.len_chars()
        )

    class Config:
        strict = True
        unique = ("article_id", "sentence_idx")


class Tokens(pa.DataFrameModel):
    article_id: str
    pub_date: dt.date
    sentence_idx: int = pa.Field(ge=0)
    token_idx: int = pa.Field(ge=0)
    token: str = pa.Field(str_length={"min_value": 1})
    pos: str = pa.Field(str_matches=r"^[a-z]+$")
    start: int = pa.Field(ge=0)
    end: int = pa.Field(gt=0)

    @pa.dataframe_check(error="a token spans end - start characters of token")
    @classmethod
    def span_matches_token(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(
            (pl.col("end") - pl.col("start")) == pl.col("token").str.len_chars()
        )

    class Config:
        strict = True
        unique = ("article_id", "token_idx")


class Entities(pa.DataFrameModel):
    article_id: str
    pub_date: dt.date
    entity_idx: int = pa.Field(ge=0)
    sentence_idx: int = pa.Field(ge=0)
    entity_type: str = pa.Field(isin=ENTITY_TYPES)
    text: str = pa.Field(str_length={"min_value": 1})
    normalized: str = pa.Field(str_length={"min_value": 1})
    number: float = pa.Field(nullable=True)
    start: int = pa.Field(ge=0)
    end: int = pa.Field(gt=0)
    # A TICKER's company: the entity_idx of the ORG named right before the code.
    linked_idx: int = pa.Field(nullable=True, ge=0)

    @pa.dataframe_check(error="an entity spans end - start characters of text")
    @classmethod
    def span_matches_text(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(
            (pl.col("end") - pl.col("start")) == pl.col("text").str.len_chars()
        )

    @pa.dataframe_check(error="numeric entity types carry a number")
    @classmethod
    def numbers_where_numeric(cls, data: PolarsData) -> pl.LazyFrame:
        numeric = pl.col("entity_type").is_in(["MONEY", "QUANTITY", "PERCENT", "PERCENT_POINT"])
        return data.lazyframe.select(~numeric | pl.col("number").is_not_null())

    class Config:
        strict = True
        unique = ("article_id", "entity_idx")


class Keywords(pa.DataFrameModel):
    article_id: str
    pub_date: dt.date
    keyword: str = pa.Field(str_length={"min_value": 1})
    method: str = pa.Field(isin=KEYWORD_METHODS)
    rank: int = pa.Field(ge=1)
    weight: float = pa.Field(ge=0)

    class Config:
        strict = True
        unique = ("article_id", "method", "rank")


class DocFreq(pa.DataFrameModel):
    """Per partition, in how many of its curated articles each keyword candidate occurs.

    Keyword IDF for a later date sums these over the year before it: the corpus learns
    its own vocabulary as it grows.
    """

    source: str = pa.Field(str_matches=r"^[a-z0-9][a-z0-9_-]*$")
    pub_date: dt.date
    word: str = pa.Field(unique=True, str_length={"min_value": 1})
    df: int = pa.Field(ge=1)
    n_docs: int = pa.Field(ge=1)

    @pa.dataframe_check(error="a word occurs in at most n_docs articles")
    @classmethod
    def df_within_n_docs(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("df") <= pl.col("n_docs"))

    class Config:
        strict = True


class Quarantine(pa.DataFrameModel):
    """What did not make it into the curated tables, with a stable reason code."""

    run_id: str
    source: str = pa.Field(nullable=True)
    pub_date: dt.date = pa.Field(nullable=True)
    raw_path: str
    record: int = pa.Field(nullable=True, ge=1)
    reason: str = pa.Field(str_matches=r"^[a-z_]+$")
    detail: str

    class Config:
        strict = True


class Runs(pa.DataFrameModel):
    """One row per run: what it was asked, what it saw and what it wrote."""

    run_id: str = pa.Field(unique=True)
    flow_name: str
    parameters: str
    started_at: DateTime = pa.Field(dtype_kwargs={"time_unit": "us", "time_zone": "UTC"})
    ended_at: DateTime = pa.Field(dtype_kwargs={"time_unit": "us", "time_zone": "UTC"})
    status: str = pa.Field(isin=RUN_STATUSES)
    partitions: int = pa.Field(ge=0)
    partitions_skipped: int = pa.Field(ge=0)
    partitions_failed: int = pa.Field(ge=0)
    partitions_removed: int = pa.Field(ge=0)
    files_seen: int = pa.Field(ge=0)
    files_curated: int = pa.Field(ge=0)
    files_quarantined: int = pa.Field(ge=0)
    files_ignored: int = pa.Field(ge=0)
    files_failed: int = pa.Field(ge=0)
    files_unchanged: int = pa.Field(ge=0)
    records_seen: int = pa.Field(ge=0)
    records_curated: int = pa.Field(ge=0)
    records_quarantined: int = pa.Field(ge=0)
    articles: int = pa.Field(ge=0)
    rows_articles: int = pa.Field(ge=0)
    rows_paragraphs: int = pa.Field(ge=0)
    rows_sentences: int = pa.Field(ge=0)
    rows_tokens: int = pa.Field(ge=0)
    rows_entities: int = pa.Field(ge=0)
    rows_keywords: int = pa.Field(ge=0)
    rows_quarantine: int = pa.Field(ge=0)
    rows_doc_freq: int = pa.Field(ge=0)
    quarantine_reasons: str
    partition_report: str
    report: str
    error: str = pa.Field(nullable=True)
    versions: str

    # A failed run may have stopped anywhere (or failed because the counts did not add
    # up): its row records what it got to, so these hold for the others only.
    @pa.dataframe_check(error="files seen = curated + quarantined + ignored + failed + unchanged")
    @classmethod
    def files_accounted(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(
            (pl.col("status") == "failed")
            | (
                pl.col("files_seen")
                == pl.col("files_curated")
                + pl.col("files_quarantined")
                + pl.col("files_ignored")
                + pl.col("files_failed")
                + pl.col("files_unchanged")
            )
        )

    @pa.dataframe_check(error="records seen = curated + quarantined")
    @classmethod
    def records_accounted(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(
            (pl.col("status") == "failed")
            | (pl.col("records_seen") == pl.col("records_curated") + pl.col("records_quarantined"))
        )

    class Config:
        strict = True


ARTICLE_MODELS: dict[str, type[pa.DataFrameModel]] = {
    "articles": Articles,
    "paragraphs": Paragraphs,
    "sentences": Sentences,
    "tokens": Tokens,
    "entities": Entities,
    "keywords": Keywords,
}
