"""Keywords per article from the tokens already tagged: TF-IDF and TextRank.

Both rank content words only (nouns, verbs and proper names of two or more characters,
not stopwords), so the ranking is built from tags the pipeline already has instead of
re-running jieba's own extractors, which would segment the text a second time.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
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


def candidate_tokens(
    tokens: Iterable[Token], stopwords: frozenset[str], allowed: frozenset[str] = CONTENT_POS
) -> list[Token]:
    """The tokens `is_candidate_word` accepts, judged inline: a call per token cost as much
    as all the counting after it."""
    return [
        t
        for t in tokens
        if t.pos in allowed and len(t.token) >= 2 and t.token not in stopwords
        if not t.token.isdigit()
    ]


def _ranked(scores: Mapping[str, float], method: str, top_k: int) -> list[Keyword]:
    # Ties broken by the word itself so that reruns give identical ranks.
    ordered = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:top_k]
    return [Keyword(w, method, rank, float(s)) for rank, (w, s) in enumerate(ordered, start=1)]


DOC_FREQ_DTYPES: dict[str, pl.DataType] = {
    "source": pl.String(),
    "pub_date": pl.Date(),
    "word": pl.String(),
    "df": pl.Int64(),
    "n_docs": pl.Int64(),
}


def document_frequencies(
    terms: pl.DataFrame, *, n_docs: int, source: str, pub_date: date
) -> pl.DataFrame:
    """One partition's `doc_freq` rows from the term counts of its curated articles
    (`term_counts`, one row per article and word: `analyse_articles`' `TERMS`), and
    `n_docs`, how many articles it has. The words each article holds were counted where
    it was tagged; counting them again from the tokens table took a join over all of them."""
    counted = terms.group_by("word").agg(pl.col("article_id").n_unique().alias("df"))
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
    return Counter([t.token for t in candidate_tokens(tokens, stopwords)])


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


@dataclass(frozen=True)
class Cooccurrence:
    """One article's TextRank graph: its candidate words in sorted order, and its edges
    (a, b) between word numbers, each numbered a * len(vocabulary) + b, in ascending
    order (`keys`), with their weights."""

    vocabulary: list[str]
    keys: np.ndarray
    weights: np.ndarray

    @property
    def edges(self) -> Counter[int]:
        """{edge number: weight}."""
        return Counter(dict(zip(self.keys.tolist(), self.weights.tolist(), strict=True)))

    @classmethod
    def of(cls, vocabulary: list[str], edges: Mapping[int, int]) -> Cooccurrence:
        keys = np.array(sorted(edges), dtype=np.int64)
        return cls(vocabulary, keys, np.array([edges[k] for k in keys.tolist()], np.int64))


_NO_EDGES = np.zeros(0, np.int64)


def cooccurrence(
    tokens: Iterable[Token], *, stopwords: frozenset[str], window: int = TEXTRANK_WINDOW
) -> Cooccurrence:
    """Edges between candidate words within `window` of each other, sentence by sentence.

    Counted as arrays: the candidates of the article in sentence order, each paired with
    the one k places on for k below `window`, where both lie in one sentence; a Counter
    updated pair by pair took as long as ranking the graph.
    """
    candidates = candidate_tokens(tokens, stopwords, TEXTRANK_POS)
    words = [t.token for t in candidates]
    vocabulary = sorted(set(words))
    if len(vocabulary) < 2:
        return Cooccurrence(vocabulary, _NO_EDGES, _NO_EDGES)
    ids = {word: i for i, word in enumerate(vocabulary)}
    size = len(vocabulary)
    sentences = np.array([t.sentence_idx for t in candidates], np.int64)
    # Each sentence's candidates together, in text order within it.
    order = np.argsort(sentences, kind="stable")
    seq = np.array([ids[word] for word in words], np.int64)[order]
    sentences = sentences[order]
    pairs = []
    for k in range(1, min(window, len(seq))):
        first, second = seq[:-k], seq[k:]
        keep = (sentences[:-k] == sentences[k:]) & (first != second)
        pairs.append(first[keep] * size + second[keep])
    keys, weights = np.unique(np.concatenate(pairs), return_counts=True)
    return Cooccurrence(vocabulary, keys.astype(np.int64), weights.astype(np.int64))


def textrank_keywords(
    tokens: Sequence[Token],
    *,
    stopwords: frozenset[str],
    top_k: int = 10,
    window: int = TEXTRANK_WINDOW,
) -> list[Keyword]:
    """PageRank over co-occurrence of candidate words within a window, sentence by sentence."""
    [ranked] = textrank_many([cooccurrence(tokens, stopwords=stopwords, window=window)], top_k)
    return ranked


def textrank_many(graphs: Sequence[Cooccurrence], top_k: int = 10) -> list[list[Keyword]]:
    """`textrank_keywords` of each graph's article, the graphs ranked together."""
    scores = iter(_rank_many([g for g in graphs if len(g.keys)]))
    return [_ranked(next(scores), "textrank", top_k) if len(g.keys) else [] for g in graphs]


DAMPING = 0.85
ITERATIONS = 10


def textrank_scores(edges: Mapping[tuple[str, str], int]) -> dict[str, float]:
    """jieba's `UndirectWeightedGraph.rank` on these edges, with the same arithmetic in the
    same order (so the same floats)."""
    vocabulary = sorted({word for pair in edges for word in pair})
    ids = {word: i for i, word in enumerate(vocabulary)}
    size = len(vocabulary)
    numbered = {ids[a] * size + ids[b]: w for (a, b), w in edges.items()}
    return _rank_many([Cooccurrence.of(vocabulary, numbered)])[0] if edges else {}


def _rank_many(graphs: Sequence[Cooccurrence]) -> list[dict[str, float]]:
    """`textrank_scores` of each graph (every one with an edge), all graphs at once.

    jieba sweeps the nodes in sorted order ten times, each node taking at once the new
    scores of the neighbours before it and the old ones of those after it (Gauss-Seidel),
    adding its neighbours' shares one after another. The graphs' edges are laid out here
    as arrays, each node's neighbours in the order jieba adds them up; the sweeps are
    jieba's loops, compiled (`transforms.textrank_kernel`). The floats are jieba's, bit
    for bit.
    """
    if not graphs:
        return []
    sizes = [len(g.vocabulary) for g in graphs]
    offsets = np.cumsum([0, *sizes])
    total = int(offsets[-1])
    # Edges in sorted order, numbered across graphs; jieba adds each edge to both ends.
    ends = []
    for graph, offset in zip(graphs, offsets[:-1].tolist(), strict=True):
        first, second = np.divmod(graph.keys, len(graph.vocabulary))
        ends.append((first + offset, second + offset, graph.weights.astype(np.float64)))
    first = np.concatenate([e[0] for e in ends])
    second = np.concatenate([e[1] for e in ends])
    weights = np.concatenate([e[2] for e in ends])
    node = np.empty(2 * len(first), np.int64)
    node[0::2], node[1::2] = first, second
    neighbour = np.empty_like(node)
    neighbour[0::2], neighbour[1::2] = second, first
    weight = np.repeat(weights, 2)
    # Each node's neighbours, in the order jieba adds them up.
    by_node = np.argsort(node, kind="stable")
    node, neighbour, weight = node[by_node], neighbour[by_node], weight[by_node]
    degree = np.bincount(node, minlength=total)
    row_start = np.zeros(total + 1, np.int64)
    np.cumsum(degree, out=row_start[1:])
    # Weights are small integers: their float sums are exact in any order.
    share = weight / np.bincount(node, weights=weight, minlength=total)[neighbour]

    in_graph = degree > 0
    graph_of = np.repeat(np.arange(len(graphs)), sizes)
    ws = (1.0 / np.bincount(graph_of, weights=in_graph, minlength=len(graphs)))[graph_of]
    # Each graph's nodes, ascending (sorted words), one graph after another.
    nodes = np.flatnonzero(in_graph)
    bounds = np.searchsorted(nodes, offsets)
    # Imported here: only a process that ranks loads numba (0.4 s, 120 MB).
    from transforms.textrank_kernel import sweep

    sweep(ws, nodes, bounds, row_start, neighbour, share, ITERATIONS, 1 - DAMPING, DAMPING)

    out = []
    for graph, low_id, high_id in zip(
        graphs, offsets[:-1].tolist(), offsets[1:].tolist(), strict=True
    ):
        members = np.flatnonzero(in_graph[low_id:high_id])
        values = ws[low_id + members]
        low, high = values.min(), values.max()
        scores = ((values - low / 10.0) / (high - low / 10.0)).tolist()
        out.append({graph.vocabulary[n]: w for n, w in zip(members.tolist(), scores, strict=True)})
    return out
