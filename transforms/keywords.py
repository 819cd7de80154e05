"""Keywords per article from the tokens already tagged: TF-IDF and TextRank.

Both rank content words only (nouns, verbs and proper names of two or more characters,
not stopwords), so the ranking is built from tags the pipeline already has instead of
re-running jieba's own extractors, which would segment the text a second time.
"""

from __future__ import annotations

import math
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import polars as pl

from transforms.tagging import Token

CONTENT_POS = frozenset({"n", "nr", "nrfg", "nrt", "ns", "nt", "nz", "nw", "vn", "v", "an", "l"})
TEXTRANK_POS = frozenset({"n", "nr", "nrfg", "nrt", "ns", "nt", "nz", "vn", "v"})
TEXTRANK_WINDOW = 5
# How many documents jieba's IDF table counts for against the curated corpus: a word the
# corpus has not seen keeps about its jieba IDF; the corpus's own counts take over as it
# grows past this size.
PRIOR_DOCS = 1000.0


@dataclass(frozen=True)
class Keyword:
    keyword: str
    method: str
    rank: int
    weight: float


def is_candidate_word(
    word: str, pos: str, allowed: frozenset[str], stopwords: frozenset[str]
) -> bool:
    """May rank as a keyword: a content word of two or more characters, not a number."""
    return pos in allowed and len(word) >= 2 and word not in stopwords and not word.isdigit()


def _ranked(scores: Mapping[str, float], method: str, top_k: int) -> list[Keyword]:
    # Ties broken by the word itself so that reruns give identical ranks.
    ordered = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:top_k]
    return [Keyword(w, method, rank, float(s)) for rank, (w, s) in enumerate(ordered, start=1)]


def candidate_words(tokens: Iterable[Token], stopwords: frozenset[str]) -> set[str]:
    """The words of one article that may become keywords (what document frequency counts)."""
    return {t.token for t in tokens if is_candidate_word(t.token, t.pos, CONTENT_POS, stopwords)}


DOC_FREQ_DTYPES: dict[str, pl.DataType] = {
    "source": pl.String(),
    "pub_date": pl.Date(),
    "word": pl.String(),
    "df": pl.Int64(),
    "n_docs": pl.Int64(),
}


def document_frequencies(
    tokens: pl.DataFrame, *, source: str, pub_date: date, stopwords: frozenset[str]
) -> pl.DataFrame:
    """One partition's `doc_freq` rows from its curated `tokens` table."""
    n_docs = tokens["article_id"].n_unique()
    # The words `candidate_words` counts, judged once per distinct (word, tag).
    pairs = tokens.select("token", "pos").unique()
    keep = pairs.filter(
        pl.Series(
            [is_candidate_word(w, p, CONTENT_POS, stopwords) for w, p in pairs.iter_rows()],
            dtype=pl.Boolean,
        )
    )
    counted = (
        tokens.join(keep, on=["token", "pos"])
        .group_by("token")
        .agg(pl.col("article_id").n_unique().alias("df"))
        .rename({"token": "word"})
    )
    return (
        counted.with_columns(
            pl.lit(source).alias("source"),
            pl.lit(pub_date).alias("pub_date"),
            pl.lit(n_docs).cast(pl.Int64).alias("n_docs"),
            pl.col("df").cast(pl.Int64),
        )
        .select(list(DOC_FREQ_DTYPES))
        .cast(pl.Schema(DOC_FREQ_DTYPES))
        .sort("word")
    )


def corpus_counts(doc_freq: pl.DataFrame) -> tuple[dict[str, int], int]:
    """Summed document frequencies and article count of several partitions' `doc_freq`."""
    if doc_freq.is_empty():
        return {}, 0
    n_docs = doc_freq.unique(["source", "pub_date"]).get_column("n_docs").sum()
    summed = doc_freq.group_by("word").agg(pl.col("df").sum())
    return dict(zip(summed["word"].to_list(), summed["df"].to_list(), strict=True)), int(n_docs)


def corpus_idf(
    df: Mapping[str, int],
    n_docs: int,
    *,
    prior: Mapping[str, float],
    default_idf: float,
    prior_docs: float = PRIOR_DOCS,
) -> dict[str, float]:
    """IDF of each word of `df` learned from the corpus, with jieba's IDF as the prior.

    `df` and `n_docs` count the scored articles themselves; each article's own occurrence
    is left out (df - 1 of n_docs - 1), so that a word is not made rare by the very
    article it is ranked in. jieba's IDF stands for `prior_docs` documents of pseudo-counts.
    """
    others = max(n_docs - 1, 0)
    idf = {}
    for word, count in df.items():
        prior_df = prior_docs * math.exp(-prior.get(word, default_idf))
        idf[word] = math.log((others + prior_docs) / (max(count - 1, 0) + prior_df))
    return idf


def tfidf_keywords(
    tokens: Sequence[Token],
    *,
    idf: Mapping[str, float],
    default_idf: float,
    stopwords: frozenset[str],
    top_k: int = 10,
) -> list[Keyword]:
    """Term frequency in the article times inverse document frequency from `idf`."""
    return tfidf_from_counts(
        term_counts(tokens, stopwords), idf=idf, default_idf=default_idf, top_k=top_k
    )


def term_counts(tokens: Iterable[Token], stopwords: frozenset[str]) -> Counter[str]:
    """How often each candidate word occurs in one article (what TF-IDF weighs)."""
    return Counter(
        t.token for t in tokens if is_candidate_word(t.token, t.pos, CONTENT_POS, stopwords)
    )


def tfidf_from_counts(
    counts: Mapping[str, int],
    *,
    idf: Mapping[str, float],
    default_idf: float,
    top_k: int = 10,
) -> list[Keyword]:
    total = sum(counts.values())
    if not total:
        return []
    scores = {w: c / total * idf.get(w, default_idf) for w, c in counts.items()}
    return _ranked(scores, "tfidf", top_k)


def textrank_keywords(
    tokens: Sequence[Token],
    *,
    stopwords: frozenset[str],
    top_k: int = 10,
    window: int = TEXTRANK_WINDOW,
) -> list[Keyword]:
    """PageRank over co-occurrence of candidate words within a window, sentence by sentence."""
    by_sentence: defaultdict[int, list[str]] = defaultdict(list)
    for tok in tokens:
        if is_candidate_word(tok.token, tok.pos, TEXTRANK_POS, stopwords):
            by_sentence[tok.sentence_idx].append(tok.token)
    vocabulary = sorted({word for words in by_sentence.values() for word in words})
    ids = {word: i for i, word in enumerate(vocabulary)}
    size = len(vocabulary)
    # An edge (a, b) is the number a * size + b: numbers sort as the word pairs do.
    edges: Counter[int] = Counter()
    for words in by_sentence.values():
        seq = [ids[word] for word in words]
        for i, word_id in enumerate(seq):
            for other in seq[i + 1 : i + window]:
                if other != word_id:
                    edges[word_id * size + other] += 1
    if not edges:
        return []
    return _ranked(_rank(vocabulary, edges), "textrank", top_k)


DAMPING = 0.85
ITERATIONS = 10


def textrank_scores(edges: Mapping[tuple[str, str], int]) -> dict[str, float]:
    """jieba's `UndirectWeightedGraph.rank` on these edges, with the same arithmetic in the
    same order (so the same floats)."""
    vocabulary = sorted({word for pair in edges for word in pair})
    ids = {word: i for i, word in enumerate(vocabulary)}
    size = len(vocabulary)
    return _rank(vocabulary, {ids[a] * size + ids[b]: w for (a, b), w in edges.items()})


def _rank(vocabulary: Sequence[str], edges: Mapping[int, int]) -> dict[str, float]:
    """`textrank_scores` on words numbered in sorted order, each edge (a, b) numbered
    a * len(vocabulary) + b; each neighbour's share of its weight is computed once instead
    of in all ten iterations, and the sweeps index lists instead of dicts."""
    size = len(vocabulary)
    graph: defaultdict[int, list[tuple[int, int]]] = defaultdict(list)
    for key, weight in sorted(edges.items()):
        a, b = divmod(key, size)
        graph[a].append((b, weight))
        graph[b].append((a, weight))
    out_sum = {n: sum((w for _, w in out), 0.0) for n, out in graph.items()}
    # Nodes in jieba's update order (sorted words); each node's neighbours stay in the
    # order jieba adds their shares up.
    order = sorted(graph)
    position = {n: i for i, n in enumerate(order)}
    shares = [[(position[m], w / out_sum[m]) for m, w in graph[n]] for n in order]
    ws = [1.0 / (len(graph) or 1.0)] * len(order)
    base = 1 - DAMPING
    for _ in range(ITERATIONS):
        for i, neighbours in enumerate(shares):
            s: float = 0
            for m, share in neighbours:
                s += share * ws[m]
            ws[i] = base + DAMPING * s
    low, high = sys.float_info.max, sys.float_info.min
    for w in ws:
        low = min(low, w)
        high = max(high, w)
    return {
        vocabulary[n]: (w - low / 10.0) / (high - low / 10.0)
        for n, w in zip(order, ws, strict=True)
    }
