"""pandera models of every curated table: the one place their columns are defined.

Nullable columns are annotated with the plain type and `nullable=True`: an `X | None`
annotation would make pandera treat the column as optional, and a missing column must fail.

`pub_date` is validated here but stored in the Hive path (`pub_date=YYYY-MM-DD/`), not
inside the files, so every Parquet reader sees it once and with one type.

Every column carries its meaning (`description`), and every model its key and the joins
to other tables (`Config.metadata`): `docs/DATASETS.md` is generated from them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

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
SOURCE = r"^[a-z0-9][a-z0-9_-]*$"


@dataclass(frozen=True)
class Join:
    """Rows of a model's table meet rows of `table` where each (here, there) column pair
    is equal."""

    table: str
    on: tuple[tuple[str, str], ...]
    note: str = ""


def _same(table: str, *columns: str, note: str = "") -> Join:
    return Join(table, tuple((c, c) for c in columns), note)


def _about(key: tuple[str, ...], *joins: Join) -> dict[str, object]:
    """A model's `Config.metadata`: the columns that name one row, and its joins to the
    tables its rows point at (each join is named once, on the side that holds the
    reference)."""
    return {"key": key, "joins": joins}


ARTICLE_ID = "the article (`articles.article_id`)"
PUB_DATE = "publication date; the partition folder `pub_date=YYYY-MM-DD`, not stored in the file"
START = "offset in `articles.text` where it begins (a Python string index: characters, not bytes)"
END = "offset in `articles.text` just past its end"


class Articles(pa.DataFrameModel):
    """One row per article: the clean body text and where it came from."""

    article_id: str = pa.Field(
        unique=True,
        str_length={"min_value": 8},
        description="stable id: a hash of the raw file's path and the article's place in it "
        "(same input, same id, run after run)",
    )
    source: str = pa.Field(
        str_matches=SOURCE, description="the publisher: the raw root folder it came from"
    )
    pub_date: dt.date = pa.Field(description=PUB_DATE)
    external_id: str = pa.Field(
        nullable=True, description="the publisher's own id (a JSONL record's `id`)"
    )
    headline: str = pa.Field(nullable=True, description="the headline, when the article has one")
    authors: list[str] = pa.Field(
        description="reporters named in the byline or the record, in order; empty when none"
    )
    dateline: str = pa.Field(
        nullable=True, description="the place the byline reports from (`北京报道` gives `北京`)"
    )
    url: str = pa.Field(nullable=True, description="where the publisher put it online")
    text: str = pa.Field(
        str_length={"min_value": 1},
        description="the clean body: body paragraphs joined by newlines, without headline, "
        "byline, captions or credits; every `start`/`end` of other tables indexes it",
    )
    script: str = pa.Field(
        isin=SCRIPTS,
        description="Hans (Simplified), Hant (Traditional), Hani (either), mixed or none; the "
        "text is never converted",
    )
    text_quality: str = pa.Field(
        isin=TEXT_QUALITIES,
        description="clean; repaired (damaged characters marked U+FFFD); suspect (still reads "
        "as mojibake)",
    )
    n_chars: int = pa.Field(gt=0, description="characters in `text`")
    n_paragraphs: int = pa.Field(gt=0, description="its rows in `paragraphs`, of every kind")
    n_sentences: int = pa.Field(gt=0, description="its rows in `sentences`")
    n_tokens: int = pa.Field(gt=0, description="its rows in `tokens`")
    raw_path: str = pa.Field(
        str_matches=r"^[^/].*",
        description="the raw file, relative to the raw root: `<source>/<YYYY-MM-DD>/<file>`",
    )
    raw_article_idx: int = pa.Field(
        ge=0,
        description="its place in the raw file: the article's number on a page (from 0), or "
        "a JSONL record's line number",
    )
    raw_record: int = pa.Field(
        nullable=True, ge=1, description="the JSONL line it came from; null for a text page"
    )
    raw_encoding: str = pa.Field(
        description="how the raw bytes were decoded (`utf-8`, `gb18030`, `gb18030+realigned`, …)"
    )
    raw_sha256: str = pa.Field(str_matches=HEX64, description="SHA-256 of the raw file's bytes")
    content_sha256: str = pa.Field(
        str_matches=HEX64, description="SHA-256 of `text`: equal bodies, equal hashes"
    )
    minhash: list[int] = pa.Field(
        description="MinHash signature of the body's character 5-grams (near-duplicate search)"
    )
    duplicate_of: str = pa.Field(
        nullable=True,
        description="the earlier article (up to 30 days back) this one repeats exactly or "
        "nearly (estimated Jaccard >= 0.7)",
    )
    run_id: str = pa.Field(description="the run that curated it (`runs.run_id`)")

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
        metadata = _about(
            ("article_id",),
            Join("articles", (("duplicate_of", "article_id"),), "the original it repeats"),
            _same("runs", "run_id"),
            _same("doc_freq", "source", "pub_date", note="the partition's word counts"),
        )


class Paragraphs(pa.DataFrameModel):
    """Every paragraph of every article, whatever its kind, traced to its raw lines."""

    article_id: str = pa.Field(description=ARTICLE_ID)
    pub_date: dt.date = pa.Field(description=PUB_DATE)
    paragraph_idx: int = pa.Field(ge=0, description="its place in the article, from 0")
    kind: str = pa.Field(
        isin=PARAGRAPH_KINDS,
        description="headline, byline, heading, deck, body, pullquote, caption, credit, "
        "sidebar or other; only body paragraphs make `articles.text`",
    )
    text: str = pa.Field(str_length={"min_value": 1}, description="the paragraph's text")
    raw_line_start: int = pa.Field(
        nullable=True, ge=1, description="first raw line it was rebuilt from (1-based)"
    )
    raw_line_end: int = pa.Field(nullable=True, ge=1, description="last raw line")
    raw_lines: list[int] = pa.Field(
        description="every raw line it was rebuilt from, in reading order (a paragraph the "
        "layout cut may jump over other lines)"
    )

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
        metadata = _about(("article_id", "paragraph_idx"), _same("articles", "article_id"))


class Sentences(pa.DataFrameModel):
    """Every sentence of every article's body, with its place in `articles.text`."""

    article_id: str = pa.Field(description=ARTICLE_ID)
    pub_date: dt.date = pa.Field(description=PUB_DATE)
    sentence_idx: int = pa.Field(ge=0, description="its place in the article, from 0")
    paragraph_idx: int = pa.Field(ge=0, description="the body paragraph it belongs to")
    text: str = pa.Field(str_length={"min_value": 1}, description="the sentence")
    start: int = pa.Field(ge=0, description=START)
    end: int = pa.Field(gt=0, description=END)

    @pa.dataframe_check(error="a sentence spans end - start characters of text")
    @classmethod
    def span_matches_text(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(
            (pl.col("end") - pl.col("start")) == pl.col("text").str.len_chars()
        )

    class Config:
        strict = True
        unique = ("article_id", "sentence_idx")
        metadata = _about(
            ("article_id", "sentence_idx"),
            _same("articles", "article_id"),
            _same("paragraphs", "article_id", "paragraph_idx"),
        )


class Tokens(pa.DataFrameModel):
    """Every word of every article's body as jieba cut and tagged it."""

    article_id: str = pa.Field(description=ARTICLE_ID)
    pub_date: dt.date = pa.Field(description=PUB_DATE)
    sentence_idx: int = pa.Field(ge=0, description="the sentence it belongs to")
    token_idx: int = pa.Field(ge=0, description="its place in the article, from 0")
    token: str = pa.Field(str_length={"min_value": 1}, description="the word as written")
    pos: str = pa.Field(
        str_matches=r"^[a-z]+$",
        description="jieba's part-of-speech tag (ICTCLAS set: n noun, nr person, ns place, "
        "nt organisation, nz other proper noun, v verb, m number, t time, x punctuation, …)",
    )
    start: int = pa.Field(ge=0, description=START)
    end: int = pa.Field(gt=0, description=END)

    @pa.dataframe_check(error="a token spans end - start characters of token")
    @classmethod
    def span_matches_token(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(
            (pl.col("end") - pl.col("start")) == pl.col("token").str.len_chars()
        )

    class Config:
        strict = True
        unique = ("article_id", "token_idx")
        metadata = _about(
            ("article_id", "token_idx"),
            _same("articles", "article_id"),
            _same("sentences", "article_id", "sentence_idx"),
        )


class Entities(pa.DataFrameModel):
    """Names, tickers, amounts, percentages and dates found in every article's body."""

    article_id: str = pa.Field(description=ARTICLE_ID)
    pub_date: dt.date = pa.Field(description=PUB_DATE)
    entity_idx: int = pa.Field(ge=0, description="its place in the article, in text order")
    sentence_idx: int = pa.Field(ge=0, description="the sentence it is in")
    entity_type: str = pa.Field(
        isin=ENTITY_TYPES,
        description="PERSON, ORG, LOC, TICKER, MONEY, QUANTITY, PERCENT, PERCENT_POINT or DATE",
    )
    text: str = pa.Field(str_length={"min_value": 1}, description="the mention as written")
    normalized: str = pa.Field(
        str_length={"min_value": 1},
        description="one spelling per thing: `601328.SH` (ticker), `100000000 CNY` (money), "
        "`0.058` (percent), `2026-06-04` (date), the full name of a country (`美` gives `美国`)",
    )
    number: float = pa.Field(
        nullable=True,
        description="the value of MONEY (in units of its currency), QUANTITY, PERCENT and "
        "PERCENT_POINT (fractions: 5.8% is 0.058); null for other types",
    )
    start: int = pa.Field(ge=0, description=START)
    end: int = pa.Field(gt=0, description=END)
    # A TICKER's company: the entity_idx of the ORG named right before the code.
    linked_idx: int = pa.Field(
        nullable=True,
        ge=0,
        description="for a TICKER, the `entity_idx` of the ORG named right before the code",
    )

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
        metadata = _about(
            ("article_id", "entity_idx"),
            _same("articles", "article_id"),
            _same("sentences", "article_id", "sentence_idx"),
            Join(
                "entities",
                (("article_id", "article_id"), ("linked_idx", "entity_idx")),
                "a ticker's company",
            ),
        )


class Keywords(pa.DataFrameModel):
    """Each article's ten best keywords by TF-IDF and by TextRank."""

    article_id: str = pa.Field(description=ARTICLE_ID)
    pub_date: dt.date = pa.Field(description=PUB_DATE)
    keyword: str = pa.Field(
        str_length={"min_value": 1},
        description="a content word of the article (noun, verb or name; no stopwords, no numbers)",
    )
    method: str = pa.Field(
        isin=KEYWORD_METHODS,
        description="tfidf (IDF learnt from the 365 days before, see `doc_freq`) or textrank "
        "(co-occurrence within the article)",
    )
    rank: int = pa.Field(ge=1, description="1 is the best keyword of its method")
    weight: float = pa.Field(
        ge=0, description="the method's score; comparable within a method only"
    )

    class Config:
        strict = True
        unique = ("article_id", "method", "rank")
        metadata = _about(
            ("article_id", "method", "rank"),
            _same("articles", "article_id"),
            Join("doc_freq", (("keyword", "word"), ("pub_date", "pub_date")), "same day"),
        )


class DocFreq(pa.DataFrameModel):
    """Per partition, in how many of its curated articles each keyword candidate occurs.

    Keyword IDF for a later date sums these over the year before it: the corpus learns
    its own vocabulary as it grows.
    """

    source: str = pa.Field(str_matches=SOURCE, description="the publisher")
    pub_date: dt.date = pa.Field(description=PUB_DATE)
    word: str = pa.Field(
        unique=True,
        str_length={"min_value": 1},
        description="a keyword candidate (unique within a partition)",
    )
    df: int = pa.Field(ge=1, description="how many of the partition's articles contain it")
    n_docs: int = pa.Field(ge=1, description="how many articles the partition has")

    @pa.dataframe_check(error="a word occurs in at most n_docs articles")
    @classmethod
    def df_within_n_docs(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("df") <= pl.col("n_docs"))

    class Config:
        strict = True
        metadata = _about(("source", "pub_date", "word"))


class Quarantine(pa.DataFrameModel):
    """What did not make it into the curated tables, with a stable reason code."""

    run_id: str = pa.Field(description="the run that set it aside (`runs.run_id`)")
    source: str = pa.Field(
        nullable=True, description="the source folder; null when it is not a valid name"
    )
    pub_date: dt.date = pa.Field(
        nullable=True,
        description="the date folder; null (partition `__HIVE_DEFAULT_PARTITION__`) when the "
        "folder is not a valid date",
    )
    raw_path: str = pa.Field(description="the raw file, relative to the raw root")
    record: int = pa.Field(
        nullable=True, ge=1, description="the JSONL line; null when the whole file was rejected"
    )
    reason: str = pa.Field(
        str_matches=r"^[a-z_]+$",
        description="a stable code: not_text, decode_error, bad_json, no_body, schema, … (the "
        "README lists them all)",
    )
    detail: str = pa.Field(description="what exactly was wrong, for a person to read")

    class Config:
        strict = True
        metadata = _about((), _same("runs", "run_id"), _same("articles", "raw_path"))


class Runs(pa.DataFrameModel):
    """One row per run: what it was asked, what it saw and what it wrote."""

    run_id: str = pa.Field(unique=True, description="the Prefect flow run's id")
    flow_name: str = pa.Field(description="zhnews-run (the command), nightly or backfill")
    parameters: str = pa.Field(description="JSON: the roots, dates, source and flags it ran with")
    started_at: DateTime = pa.Field(
        dtype_kwargs={"time_unit": "us", "time_zone": "UTC"}, description="when it started"
    )
    ended_at: DateTime = pa.Field(
        dtype_kwargs={"time_unit": "us", "time_zone": "UTC"}, description="when it ended"
    )
    status: str = pa.Field(
        isin=RUN_STATUSES,
        description="completed; partial (some partitions failed and kept their old data); failed",
    )
    partitions: int = pa.Field(ge=0, description="partitions curated")
    partitions_skipped: int = pa.Field(ge=0, description="partitions already up to date")
    partitions_failed: int = pa.Field(ge=0, description="partitions that failed after retries")
    partitions_removed: int = pa.Field(ge=0, description="partitions whose raw folder had gone")
    files_seen: int = pa.Field(ge=0, description="raw files listed")
    files_curated: int = pa.Field(ge=0, description="files with at least one curated article")
    files_quarantined: int = pa.Field(ge=0, description="files rejected whole")
    files_ignored: int = pa.Field(ge=0, description="hidden and system files skipped")
    files_failed: int = pa.Field(ge=0, description="files of failed partitions")
    files_unchanged: int = pa.Field(ge=0, description="files of partitions already up to date")
    records_seen: int = pa.Field(
        ge=0,
        nullable=True,
        description="JSONL records (lines) read: curated + quarantined (null in rows written "
        "before this column existed)",
    )
    records_curated: int = pa.Field(ge=0, description="JSONL records curated")
    records_quarantined: int = pa.Field(ge=0, description="JSONL records set aside")
    articles: int = pa.Field(ge=0, description="articles written")
    rows_articles: int = pa.Field(ge=0, description="rows written to `articles`")
    rows_paragraphs: int = pa.Field(ge=0, description="rows written to `paragraphs`")
    rows_sentences: int = pa.Field(ge=0, description="rows written to `sentences`")
    rows_tokens: int = pa.Field(ge=0, description="rows written to `tokens`")
    rows_entities: int = pa.Field(ge=0, description="rows written to `entities`")
    rows_keywords: int = pa.Field(ge=0, description="rows written to `keywords`")
    rows_quarantine: int = pa.Field(ge=0, description="rows written to `quarantine`")
    rows_doc_freq: int = pa.Field(ge=0, description="rows written to `doc_freq`")
    quarantine_reasons: str = pa.Field(description="JSON: quarantined files and records by reason")
    partition_report: str = pa.Field(
        description="JSON: one object per partition (status, reason, rows, seconds, message)"
    )
    report: str = pa.Field(description="the run report in markdown, as Prefect shows it")
    error: str = pa.Field(nullable=True, description="why the run failed, when it did")
    versions: str = pa.Field(description="JSON: Python's and the main packages' versions")

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
        metadata = _about(("run_id",))


ARTICLE_MODELS: dict[str, type[pa.DataFrameModel]] = {
    "articles": Articles,
    "paragraphs": Paragraphs,
    "sentences": Sentences,
    "tokens": Tokens,
    "entities": Entities,
    "keywords": Keywords,
}
# Every curated table, in the order a reader meets them.
TABLE_MODELS: dict[str, type[pa.DataFrameModel]] = {
    **ARTICLE_MODELS,
    "doc_freq": DocFreq,
    "quarantine": Quarantine,
    "runs": Runs,
}


def _metadata(model: type[pa.DataFrameModel]) -> dict[str, object]:
    config = model.__config__
    if config is None or config.metadata is None:
        raise ValueError(f"{model.__name__} has no key and joins in its Config.metadata")
    return dict(config.metadata)


def table_key(model: type[pa.DataFrameModel]) -> tuple[str, ...]:
    """The columns that name one row (empty for quarantine, whose rows are a log)."""
    key = _metadata(model)["key"]
    assert isinstance(key, tuple)
    return key


def table_joins(model: type[pa.DataFrameModel]) -> tuple[Join, ...]:
    joins = _metadata(model)["joins"]
    assert isinstance(joins, tuple)
    return joins
