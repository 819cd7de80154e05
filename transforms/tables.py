"""Assemble the curated tables of one partition from rebuilt articles.

Rows are collected as column lists and turned into frames once per table: cheaper than
row tuples, and the column dtypes are fixed here so every partition has the same schema.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

import polars as pl

from transforms.dedupe import signature
from transforms.entities import extract_entities
from transforms.keywords import (
    Cooccurrence,
    Keyword,
    candidate_tokens,
    cooccurrence,
    corpus_idf,
    term_counts,
    textrank_many,
)
from transforms.pages import ArticleDraft
from transforms.patterns import number_matches
from transforms.repair import text_quality
from transforms.script import detect_script
from transforms.sentences import split_sentences
from transforms.tagging import Tagger, Token, tokenize

TABLE_DTYPES: dict[str, dict[str, pl.DataType]] = {
    "articles": {
        "article_id": pl.String(),
        "source": pl.String(),
        "pub_date": pl.Date(),
        "external_id": pl.String(),
        "headline": pl.String(),
        "authors": pl.List(pl.String()),
        "dateline": pl.String(),
        "url": pl.String(),
        "text": pl.String(),
        "script": pl.String(),
        "text_quality": pl.String(),
        "n_chars": pl.Int64(),
        "n_paragraphs": pl.Int64(),
        "n_sentences": pl.Int64(),
        "n_tokens": pl.Int64(),
        "raw_path": pl.String(),
        "raw_article_idx": pl.Int64(),
        "raw_record": pl.Int64(),
        "raw_encoding": pl.String(),
        "raw_sha256": pl.String(),
        "content_sha256": pl.String(),
        "minhash": pl.List(pl.Int64()),
        "duplicate_of": pl.String(),
        "run_id": pl.String(),
    },
    "paragraphs": {
        "article_id": pl.String(),
        "pub_date": pl.Date(),
        "paragraph_idx": pl.Int64(),
        "kind": pl.String(),
        "text": pl.String(),
        "raw_line_start": pl.Int64(),
        "raw_line_end": pl.Int64(),
        "raw_lines": pl.List(pl.Int64()),
    },
    "sentences": {
        "article_id": pl.String(),
        "pub_date": pl.Date(),
        "sentence_idx": pl.Int64(),
        "paragraph_idx": pl.Int64(),
        "text": pl.String(),
        "start": pl.Int64(),
        "end": pl.Int64(),
    },
    "tokens": {
        "article_id": pl.String(),
        "pub_date": pl.Date(),
        "sentence_idx": pl.Int64(),
        "token_idx": pl.Int64(),
        "token": pl.String(),
        "pos": pl.String(),
        "start": pl.Int64(),
        "end": pl.Int64(),
    },
    "entities": {
        "article_id": pl.String(),
        "pub_date": pl.Date(),
        "entity_idx": pl.Int64(),
        "sentence_idx": pl.Int64(),
        "entity_type": pl.String(),
        "text": pl.String(),
        "normalized": pl.String(),
        "number": pl.Float64(),
        "start": pl.Int64(),
        "end": pl.Int64(),
        "linked_idx": pl.Int64(),
    },
    "keywords": {
        "article_id": pl.String(),
        "pub_date": pl.Date(),
        "keyword": pl.String(),
        "method": pl.String(),
        "rank": pl.Int64(),
        "weight": pl.Float64(),
    },
}
ARTICLE_TABLES = tuple(TABLE_DTYPES)
QUARANTINE_DTYPES: dict[str, pl.DataType] = {
    "run_id": pl.String(),
    "source": pl.String(),
    "pub_date": pl.Date(),
    "raw_path": pl.String(),
    "record": pl.Int64(),
    "reason": pl.String(),
    "detail": pl.String(),
}


@dataclass(frozen=True)
class NlpModels:
    """Everything the language steps read, loaded once per process and passed in."""

    tagger: Tagger
    idf: Mapping[str, float]
    default_idf: float
    stopwords: frozenset[str]
    places: frozenset[str] = frozenset()
    surnames: frozenset[str] | None = None
    common_chars: frozenset[str] = frozenset()
    gazetteer: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SourceArticle:
    """A rebuilt article plus the lineage that ties it to its raw file."""

    draft: ArticleDraft
    article_id: str
    source: str
    pub_date: date
    raw_path: str
    raw_sha256: str
    raw_encoding: str
    raw_article_idx: int = 0
    raw_record: int | None = None
    external_id: str | None = None
    url: str | None = None


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def make_article_id(raw_path: str, locator: str) -> str:
    """Stable id from where the article sits in the raw tree: same input, same id."""
    return hashlib.sha256(f"{raw_path}\x00{locator}".encode()).hexdigest()[:20]


_EPOCH = date(1970, 1, 1)


def _day(value: date) -> int:
    """A date as `_Columns` holds it: days since 1970-01-01, as polars stores dates."""
    return (value - _EPOCH).days


@dataclass
class _Columns:
    """Rows of every table as column lists; dates as `_day`s, since polars reads a column
    of ints and casts it in a fraction of the time it takes to read date objects (a tenth
    of a second for a day's tokens)."""

    data: dict[str, dict[str, list[object]]] = field(
        default_factory=lambda: {t: {c: [] for c in cols} for t, cols in TABLE_DTYPES.items()}
    )

    def add(self, table: str, **row: object) -> None:
        columns = self.data[table]
        for name, values in columns.items():
            values.append(row[name])

    def extend(self, table: str, **columns: list[object]) -> None:
        """Many rows at once, column by column (the tokens of an article)."""
        if set(columns) != set(self.data[table]):
            raise KeyError(f"{table}: columns {sorted(columns)} != {sorted(self.data[table])}")
        for name, values in self.data[table].items():
            values.extend(columns[name])

    def frames(self) -> dict[str, pl.DataFrame]:
        return {table: _frame(cols, TABLE_DTYPES[table]) for table, cols in self.data.items()}


def _frame(columns: dict[str, list[object]], schema: dict[str, pl.DataType]) -> pl.DataFrame:
    dates = [name for name, dtype in schema.items() if dtype == pl.Date()]
    as_read = {name: pl.Int32() if name in dates else dtype for name, dtype in schema.items()}
    frame = pl.DataFrame(columns, schema=as_read)
    return frame.with_columns(pl.col(dates).cast(pl.Date)) if dates else frame


def _add_article(cols: _Columns, art: SourceArticle, *, run_id: str, nlp: NlpModels) -> list[Token]:
    draft = art.draft
    day = _day(art.pub_date)
    key = {"article_id": art.article_id, "pub_date": day}
    body_ids = []
    for idx, para in enumerate(draft.paragraphs):
        lines = list(para.raw_lines)
        cols.add(
            "paragraphs",
            **key,
            paragraph_idx=idx,
            kind=para.kind,
            text=para.text,
            raw_line_start=min(lines) if lines else None,
            raw_line_end=max(lines) if lines else None,
            raw_lines=lines,
        )
        if para.kind == "body":
            body_ids.append(idx)

    text = draft.body
    sentences = split_sentences(text, body_ids)
    for idx, s in enumerate(sentences):
        cols.add(
            "sentences",
            **key,
            sentence_idx=idx,
            paragraph_idx=s.paragraph_idx,
            text=text[s.start : s.end],
            start=s.start,
            end=s.end,
        )

    numbers = number_matches(text)
    tokens = tokenize(text, sentences, tagger=nlp.tagger, numbers=numbers)
    cols.extend(
        "tokens",
        article_id=[art.article_id] * len(tokens),
        pub_date=[day] * len(tokens),
        sentence_idx=[t.sentence_idx for t in tokens],
        token_idx=list(range(len(tokens))),
        token=[t.token for t in tokens],
        pos=[t.pos for t in tokens],
        start=[t.start for t in tokens],
        end=[t.end for t in tokens],
    )

    for idx, e in enumerate(
        extract_entities(
            text,
            sentences,
            tokens,
            pub_date=art.pub_date,
            places=nlp.places,
            surnames=nlp.surnames,
            gazetteer=nlp.gazetteer,
            numbers=numbers,
        )
    ):
        cols.add(
            "entities",
            **key,
            entity_idx=idx,
            sentence_idx=e.sentence_idx,
            entity_type=e.entity_type,
            text=e.text,
            normalized=e.normalized,
            number=e.number,
            start=e.start,
            end=e.end,
            linked_idx=e.linked_idx,
        )

    cols.add(
        "articles",
        **key,
        source=art.source,
        external_id=art.external_id,
        headline=draft.headline,
        authors=list(draft.authors),
        dateline=draft.dateline,
        url=art.url,
        text=text,
        script=detect_script(text),
        text_quality=text_quality(text, nlp.common_chars) if nlp.common_chars else "clean",
        n_chars=len(text),
        n_paragraphs=len(draft.paragraphs),
        n_sentences=len(sentences),
        n_tokens=len(tokens),
        raw_path=art.raw_path,
        raw_article_idx=art.raw_article_idx,
        raw_record=art.raw_record,
        raw_encoding=art.raw_encoding,
        raw_sha256=art.raw_sha256,
        content_sha256=sha256_text(text),
        minhash=signature(text),
        duplicate_of=None,
        run_id=run_id,
    )
    return tokens


def _add_keywords(cols: _Columns, article_id: str, pub_day: int, keywords: list[Keyword]) -> None:
    for k in keywords:
        cols.add(
            "keywords",
            article_id=article_id,
            pub_date=pub_day,
            keyword=k.keyword,
            method=k.method,
            rank=k.rank,
            weight=k.weight,
        )


# Keywords kept per article and method.
TFIDF_TOP_K = 10

# Edges of the TextRank graphs ranked together (some tens of MB of arrays meanwhile).
TEXTRANK_BATCH_EDGES = 250_000

# Frames that `analyse_articles` adds for `finish_tables`; they are never curated.
TERMS = "_terms"
TEXTRANK = "_textrank"
TERMS_DTYPES: dict[str, pl.DataType] = {
    "article_id": pl.String(),
    "word": pl.String(),
    "count": pl.Int64(),
}


def analyse_articles(
    articles: Sequence[SourceArticle], *, run_id: str, nlp: NlpModels
) -> dict[str, pl.DataFrame]:
    """The part of `build_tables` that looks at each article alone: every table but the
    TF-IDF keywords, plus each article's candidate-word counts (`TERMS`) and TextRank
    keywords (`TEXTRANK`).

    No article depends on another here, so batches can run in any process, in any order;
    `finish_tables` puts their frames together, in article order, with the corpus's IDF.
    """
    cols = _Columns()
    textrank = _Columns()
    terms: dict[str, list[object]] = {name: [] for name in TERMS_DTYPES}
    graphs: list[tuple[SourceArticle, Cooccurrence]] = []
    edges = 0
    for i, art in enumerate(articles):
        tokens = _add_article(cols, art, run_id=run_id, nlp=nlp)
        # The content words once; TextRank's candidates are among them.
        candidates = candidate_tokens(tokens, nlp.stopwords)
        for word, count in term_counts(candidates, nlp.stopwords).items():
            terms["article_id"].append(art.article_id)
            terms["word"].append(word)
            terms["count"].append(count)
        graph = cooccurrence(candidates, stopwords=nlp.stopwords)
        graphs.append((art, graph))
        edges += len(graph.keys)
        # Ranked many at a time (faster), in bounded memory.
        if edges >= TEXTRANK_BATCH_EDGES or i == len(articles) - 1:
            ranked = textrank_many([g for _, g in graphs])
            for (done, _), keywords in zip(graphs, ranked, strict=True):
                _add_keywords(textrank, done.article_id, _day(done.pub_date), keywords)
            graphs, edges = [], 0
    frames = cols.frames()
    frames[TEXTRANK] = textrank.frames()["keywords"]
    frames[TERMS] = pl.DataFrame(terms, schema=TERMS_DTYPES)
    return frames


def finish_tables(
    analysed: Sequence[Mapping[str, pl.DataFrame]],
    *,
    nlp: NlpModels,
    corpus_df: Mapping[str, int] | None = None,
    corpus_docs: int = 0,
) -> dict[str, pl.DataFrame]:
    """Every article-derived table from `analyse_articles` batches, in batch order.

    Keyword IDF counts these articles together with `corpus_df` over `corpus_docs`
    earlier curated articles, jieba's IDF standing in for what the corpus has not seen.
    """

    def joined(name: str, schema: Mapping[str, pl.DataType]) -> pl.DataFrame:
        frames = [batch[name] for batch in analysed]
        return pl.concat(frames) if frames else pl.DataFrame(schema=schema)

    tables = {t: joined(t, TABLE_DTYPES[t]) for t in ARTICLE_TABLES if t != "keywords"}
    # One row per article and word (the last, should an article come twice).
    terms = joined(TERMS, TERMS_DTYPES).unique(
        ["article_id", "word"], keep="last", maintain_order=True
    )
    textrank = joined(TEXTRANK, TABLE_DTYPES["keywords"])
    articles = tables["articles"]
    batch = terms.group_by("word").len()
    earlier = corpus_df or {}
    idf = corpus_idf(
        {w: n + earlier.get(w, 0) for w, n in batch.iter_rows()},
        corpus_docs + articles.height,
        prior=nlp.idf,
        default_idf=nlp.default_idf,
    )
    tables["keywords"] = _keyword_rows(articles, terms, textrank, idf, nlp.default_idf)
    return {t: tables[t] for t in ARTICLE_TABLES}


def _keyword_rows(
    articles: pl.DataFrame,
    terms: pl.DataFrame,
    textrank: pl.DataFrame,
    idf: Mapping[str, float],
    default_idf: float,
    top_k: int = TFIDF_TOP_K,
) -> pl.DataFrame:
    """The keywords table: each article's `tfidf_from_counts` (the same arithmetic, as
    columns: count over the article's total, times the word's IDF; ties to the word),
    then its TextRank keywords, articles in table order."""
    order = articles.select("article_id", "pub_date").with_row_index("position")
    words = pl.DataFrame(
        {"word": list(idf), "idf": list(idf.values())},
        schema={"word": pl.String(), "idf": pl.Float64()},
    )
    tfidf = (
        terms.join(words, on="word", how="left")
        .with_columns(
            weight=pl.col("count")
            / pl.col("count").sum().over("article_id")
            * pl.col("idf").fill_null(default_idf)
        )
        .join(order, on="article_id")
        .sort(["position", "weight", "word"], descending=[False, True, False])
        .with_columns(rank=pl.int_range(1, pl.len() + 1).over("article_id"), method=pl.lit("tfidf"))
        .filter(pl.col("rank") <= top_k)
        .select(
            "position",
            "article_id",
            "pub_date",
            keyword="word",
            method="method",
            rank="rank",
            weight="weight",
        )
    )
    ranked = textrank.drop("pub_date").join(order, on="article_id").select(tfidf.columns)
    schema = TABLE_DTYPES["keywords"]
    return (
        pl.concat([tfidf.cast({"rank": pl.Int64()}), ranked.cast({"rank": pl.Int64()})])
        # Ranks are unique within an article and method: the order is total, whatever
        # order the joins gave.
        .with_columns(second=pl.col("method") != "tfidf")
        .sort(["position", "second", "rank"])
        .select(list(schema))
        .cast(pl.Schema(schema))
    )


def build_tables(
    articles: Sequence[SourceArticle],
    *,
    run_id: str,
    nlp: NlpModels,
    corpus_df: Mapping[str, int] | None = None,
    corpus_docs: int = 0,
) -> dict[str, pl.DataFrame]:
    """Every article-derived table for a batch of articles, one frame per table (see
    `analyse_articles` and `finish_tables`, which split this work in two)."""
    analysed = analyse_articles(articles, run_id=run_id, nlp=nlp)
    return finish_tables([analysed], nlp=nlp, corpus_df=corpus_df, corpus_docs=corpus_docs)
