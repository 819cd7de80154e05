"""Keywords per article from the tokens already tagged: TF-IDF and TextRank.

Both rank content words only (nouns, verbs and proper names of two or more characters,
not stopwords), so the ranking is built from tags the pipeline already has instead of
re-running jieba's own extractors, which would segment the text a second time.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from jieba.analyse.textrank import UndirectWeightedGraph

from transforms.tagging import Token

CONTENT_POS = frozenset({"n", "nr", "nrfg", "nrt", "ns", "nt", "nz", "nw", "vn", "v", "an", "l"})
TEXTRANK_POS = frozenset({"n", "nr", "nrfg", "nrt", "ns", "nt", "nz", "vn", "v"})
TEXTRANK_WINDOW = 5


@dataclass(frozen=True)
class Keyword:
    keyword: str
    method: str
    rank: int
    weight: float


def _is_candidate(tok: Token, allowed: frozenset[str], stopwords: frozenset[str]) -> bool:
    return (
        tok.pos in allowed
        and len(tok.token) >= 2
        and tok.token not in stopwords
        and not tok.token.isdigit()
    )


def _ranked(scores: Mapping[str, float], method: str, top_k: int) -> list[Keyword]:
    # Ties broken by the word itself so that reruns give identical ranks.
    ordered = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:top_k]
    return [Keyword(w, method, rank, float(s)) for rank, (w, s) in enumerate(ordered, start=1)]


def tfidf_keywords(
    tokens: Sequence[Token],
    *,
    idf: Mapping[str, float],
    default_idf: float,
    stopwords: frozenset[str],
    top_k: int = 10,
) -> list[Keyword]:
    """Term frequency in the article times inverse document frequency from `idf`."""
    counts = Counter(t.token for t in tokens if _is_candidate(t, CONTENT_POS, stopwords))
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
        if _is_candidate(tok, TEXTRANK_POS, stopwords):
            by_sentence[tok.sentence_idx].append(tok.token)
    edges: Counter[tuple[str, str]] = Counter()
    for words in by_sentence.values():
        for i, word in enumerate(words):
            for other in words[i + 1 : i + window]:
                if other != word:
                    edges[(word, other)] += 1
    if not edges:
        return []
    graph = UndirectWeightedGraph()
    for (a, b), weight in sorted(edges.items()):
        graph.addEdge(a, b, weight)
    return _ranked(graph.rank(), "textrank", top_k)
