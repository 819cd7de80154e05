"""Keywords from tagged tokens: TF-IDF and TextRank, content words only, stable ranks."""

from __future__ import annotations

import math
import random
from collections import Counter
from datetime import date

import polars as pl
import pytest

from transforms.keywords import (
    CONTENT_POS,
    DOC_FREQ_DTYPES,
    TEXTRANK_POS,
    Cooccurrence,
    Keyword,
    candidate_tokens,
    cooccurrence,
    corpus_counts,
    corpus_idf,
    document_frequencies,
    is_candidate_word,
    term_counts,
    textrank_keywords,
    textrank_many,
    tfidf_keywords,
)
from transforms.pages import rebuild_page, split_lines
from transforms.sentences import split_sentences
from transforms.tagging import Token, tokenize
from transforms.textclean import clean_text

ARTICLE = (
    "据交通银行(601328.SH)消息，该行辽宁省分行近日成功投放东北地区首笔小微企业微短剧产业专项贷款。"
    "该笔贷款额度50万元，定向支持企业微短剧摄制。\n"
    "交通银行河南省分行也创新推出了金融服务模式，破解短剧制作企业融资难题。"
)


def _tokens(text: str, nlp) -> list[Token]:  # type: ignore[no-untyped-def]
    lines = text.split("\n")
    return tokenize(text, split_sentences(text, list(range(len(lines)))), tagger=nlp.tagger)


def _toks(*words: tuple[str, str, int]) -> list[Token]:
    """Tokens from (word, pos, sentence_idx); offsets are consecutive."""
    out, pos = [], 0
    for word, tag, sentence_idx in words:
        out.append(Token(sentence_idx, word, tag, pos, pos + len(word)))
        pos += len(word)
    return out


@pytest.fixture(scope="module")
def article_tokens(nlp) -> list[Token]:  # type: ignore[no-untyped-def]
    return _tokens(ARTICLE, nlp)


def _both(tokens: list[Token], nlp) -> dict[str, list[Keyword]]:  # type: ignore[no-untyped-def]
    return {
        "tfidf": tfidf_keywords(
            tokens, idf=nlp.idf, default_idf=nlp.default_idf, stopwords=nlp.stopwords
        ),
        "textrank": textrank_keywords(tokens, stopwords=nlp.stopwords),
    }


@pytest.mark.parametrize("allowed", [CONTENT_POS, TEXTRANK_POS])
def test_candidate_tokens_are_those_is_candidate_word_accepts(
    sample_page_text: str, allowed: frozenset[str], nlp
) -> None:  # type: ignore[no-untyped-def]
    """The inline filter and the word test agree on every token of the sample page and on
    the edge cases: one character, digits, a stopword, a tag outside the set."""
    edges = _toks(("一", "n", 0), ("2026", "n", 0), ("我们", "n", 0), ("银行", "p", 0))
    tokens = _tokens(sample_page_text, nlp) + edges + _toks(("银行", "n", 1), ("贷款", "vn", 1))
    expected = [t for t in tokens if is_candidate_word(t.token, t.pos, allowed, nlp.stopwords)]
    assert candidate_tokens(tokens, nlp.stopwords, allowed) == expected
    assert 100 < len(expected) < len(tokens)


@pytest.mark.parametrize(
    ("method", "allowed"), [("tfidf", CONTENT_POS), ("textrank", TEXTRANK_POS)]
)
def test_keywords_are_content_words_only(
    article_tokens: list[Token],
    nlp,
    method: str,
    allowed: frozenset[str],  # type: ignore[no-untyped-def]
) -> None:
    keywords = _both(article_tokens, nlp)[method]
    assert keywords
    tags = {}
    for tok in article_tokens:
        tags.setdefault(tok.token, set()).add(tok.pos)
    for kw in keywords:
        assert kw.method == method
        assert len(kw.keyword) >= 2
        assert kw.keyword not in nlp.stopwords
        assert not kw.keyword.isdigit()
        assert tags[kw.keyword] & allowed, (kw.keyword, tags[kw.keyword])
    words = {kw.keyword for kw in keywords}
    # Punctuation, numbers, pronouns and particles never rank.
    assert not words & {"，", "。", "50", "万元", "该行", "该笔", "了", "也", "据"}


@pytest.mark.parametrize("method", ["tfidf", "textrank"])
def test_keywords_ranked_one_to_n_by_weight(article_tokens: list[Token], nlp, method: str) -> None:  # type: ignore[no-untyped-def]
    keywords = _both(article_tokens, nlp)[method]
    assert [k.rank for k in keywords] == list(range(1, len(keywords) + 1))
    assert len(keywords) == 10
    weights = [k.weight for k in keywords]
    assert weights == sorted(weights, reverse=True)
    assert all(w > 0 for w in weights)
    assert len({k.keyword for k in keywords}) == len(keywords)


def test_keywords_are_deterministic(nlp) -> None:  # type: ignore[no-untyped-def]
    first = _both(_tokens(ARTICLE, nlp), nlp)
    second = _both(_tokens(ARTICLE, nlp), nlp)
    assert first == second


def test_topic_words_rank_high(article_tokens: list[Token], nlp) -> None:  # type: ignore[no-untyped-def]
    keywords = _both(article_tokens, nlp)
    assert keywords["tfidf"][0].keyword == "微短剧"
    assert "企业" in [k.keyword for k in keywords["textrank"][:3]]


def test_stopwords_are_excluded(article_tokens: list[Token], nlp) -> None:  # type: ignore[no-untyped-def]
    stop = nlp.stopwords | {"微短剧", "企业"}
    tfidf = tfidf_keywords(article_tokens, idf=nlp.idf, default_idf=nlp.default_idf, stopwords=stop)
    textrank = textrank_keywords(article_tokens, stopwords=stop)
    for keywords in (tfidf, textrank):
        assert {"微短剧", "企业"}.isdisjoint(k.keyword for k in keywords)


def test_tfidf_weight_is_frequency_times_idf() -> None:
    tokens = _toks(
        ("银行", "n", 0),
        ("的", "uj", 0),
        ("银行", "n", 0),
        ("信贷", "n", 0),
        ("2026", "m", 0),
        ("2025", "nz", 0),
        ("投放", "v", 0),
        ("表示", "v", 0),
        ("行", "n", 0),
    )
    keywords = tfidf_keywords(
        tokens, idf={"银行": 4.0, "信贷": 9.0}, default_idf=6.0, stopwords=frozenset({"表示"})
    )
    # Candidates: 银行 x2, 信贷, 投放 (表示 is a stopword, 行 is one character, 2025 a number).
    assert [(k.keyword, k.rank) for k in keywords] == [("信贷", 1), ("银行", 2), ("投放", 3)]
    assert [k.weight for k in keywords] == pytest.approx([9 / 4, 2 / 4 * 4, 6 / 4])


def test_tfidf_ties_are_broken_by_the_word() -> None:
    tokens = _toks(("贷款", "n", 0), ("银行", "n", 0), ("信贷", "n", 0))
    keywords = tfidf_keywords(tokens, idf={}, default_idf=5.0, stopwords=frozenset())
    assert [k.keyword for k in keywords] == sorted(["贷款", "银行", "信贷"])
    assert [k.rank for k in keywords] == [1, 2, 3]


def test_tfidf_top_k_truncates() -> None:
    words = ["银行", "信贷", "贷款", "企业", "短剧"]
    tokens = _toks(*[(w, "n", 0) for w in words])
    keywords = tfidf_keywords(tokens, idf={}, default_idf=1.0, stopwords=frozenset(), top_k=2)
    assert [k.rank for k in keywords] == [1, 2]


def test_tfidf_without_candidates_is_empty() -> None:
    tokens = _toks(("的", "uj", 0), ("2026", "m", 0), ("。", "x", 0))
    assert tfidf_keywords(tokens, idf={}, default_idf=1.0, stopwords=frozenset()) == []


def test_textrank_needs_cooccurrence_within_a_sentence() -> None:
    # One candidate per sentence: no edge, so no ranking at all.
    tokens = _toks(("银行", "n", 0), ("。", "x", 0), ("信贷", "n", 1), ("。", "x", 1))
    assert textrank_keywords(tokens, stopwords=frozenset()) == []


def test_textrank_window_limits_edges() -> None:
    words = [("银行", "n", 0), ("信贷", "n", 0), ("贷款", "n", 0), ("企业", "n", 0)]
    tokens = _toks(*words)
    wide = textrank_keywords(tokens, stopwords=frozenset(), window=5)
    assert {k.keyword for k in wide} == {"银行", "信贷", "贷款", "企业"}
    # window=2: each word links to its neighbour only; the ends rank lowest.
    chain = textrank_keywords(tokens, stopwords=frozenset(), window=2)
    assert {k.keyword for k in chain[:2]} == {"信贷", "贷款"}
    assert chain[0].weight == pytest.approx(1.0)


def test_textrank_ignores_non_textrank_pos() -> None:
    # "an" and "l" are TF-IDF content tags but not TextRank ones.
    tokens = _toks(("银行", "n", 0), ("困难", "an", 0), ("一站式", "l", 0), ("信贷", "n", 0))
    keywords = textrank_keywords(tokens, stopwords=frozenset())
    assert {k.keyword for k in keywords} == {"银行", "信贷"}
    tfidf = tfidf_keywords(tokens, idf={}, default_idf=1.0, stopwords=frozenset())
    assert {k.keyword for k in tfidf} == {"银行", "困难", "一站式", "信贷"}


def test_sample_page_keywords(sample_page_text: str, nlp) -> None:  # type: ignore[no-untyped-def]
    drafts = rebuild_page(split_lines(clean_text(sample_page_text)))
    first = drafts[0]
    ids = [i for i, p in enumerate(first.paragraphs) if p.kind == "body"]
    tokens = tokenize(first.body, split_sentences(first.body, ids), tagger=nlp.tagger)
    keywords = _both(tokens, nlp)
    assert keywords["tfidf"][0].keyword == "微短剧"
    assert "微短剧" in [k.keyword for k in keywords["textrank"][:3]]


def test_corpus_idf_keeps_the_prior_for_words_the_corpus_has_not_seen_elsewhere() -> None:
    # One article: its own occurrence is left out, so nothing is learned yet.
    idf = corpus_idf({"短剧": 1}, 1, prior={"短剧": 9.0}, default_idf=11.0)
    assert idf["短剧"] == pytest.approx(9.0)
    unknown = corpus_idf({"竖店": 1}, 1, prior={}, default_idf=11.0)
    assert unknown["竖店"] == pytest.approx(11.0)


def test_corpus_idf_learns_that_a_word_in_every_article_is_common() -> None:
    # 5000 articles all name the word: its IDF falls far below the prior's 9.
    idf = corpus_idf(
        {"短剧": 5000, "竖店": 1}, 5000, prior={"短剧": 9.0, "竖店": 9.0}, default_idf=11.0
    )
    assert idf["短剧"] < 1.0
    assert idf["竖店"] == pytest.approx(9.0 + math.log((4999 + 1000) / 1000), rel=1e-6)


def test_document_frequencies_count_articles_not_occurrences() -> None:
    """From each article's term counts, as `analyse_articles` keeps them: a word counts
    once per article that holds it as a candidate word."""
    articles = {
        "a": _toks(("短剧", "n", 0), ("短剧", "n", 0), ("表示", "v", 0), ("的", "uj", 0)),
        "b": _toks(("短剧", "n", 0), ("2026", "m", 0), ("贷款", "n", 1)),
        "c": _toks(("的", "uj", 0)),  # no candidate word, still an article
    }
    stopwords = frozenset({"表示"})
    counts = {a: term_counts(tokens, stopwords) for a, tokens in articles.items()}
    terms = pl.DataFrame(
        [(a, word, n) for a, words in counts.items() for word, n in words.items()],
        schema={"article_id": pl.String, "word": pl.String, "count": pl.Int64},
        orient="row",
    )
    got = document_frequencies(terms, n_docs=3, source="cbn", pub_date=date(2026, 6, 15))
    assert got.schema == pl.Schema(DOC_FREQ_DTYPES)
    assert got.select("word", "df", "n_docs").rows() == [("短剧", 2, 3), ("贷款", 1, 3)]


def test_corpus_counts_sum_partitions() -> None:
    frame = pl.DataFrame(
        {
            "source": ["cbn", "cbn", "wire"],
            "pub_date": [date(2026, 6, 14), date(2026, 6, 14), date(2026, 6, 14)],
            "word": ["短剧", "贷款", "短剧"],
            "df": [2, 1, 3],
            "n_docs": [5, 5, 5],
        },
        schema=DOC_FREQ_DTYPES,
    )
    assert corpus_counts(frame) == ({"短剧": 5, "贷款": 1}, 10)
    assert corpus_counts(frame.clear()) == ({}, 0)


def test_textrank_scores_equal_jiebas_graph_rank() -> None:
    from collections import Counter

    from jieba.analyse.textrank import UndirectWeightedGraph

    from transforms.keywords import textrank_scores

    words = [
        "银行",
        "贷款",
        "利率",
        "央行",
        "政策",
        "市场",
        "银行",
        "利率",
        "企业",
        "融资",
        "贷款",
        "政策",
        "银行",
    ]
    edges: Counter[tuple[str, str]] = Counter()
    for i, word in enumerate(words):
        for other in words[i + 1 : i + 5]:
            if other != word:
                edges[(word, other)] += 1
    graph = UndirectWeightedGraph()
    for (a, b), weight in sorted(edges.items()):
        graph.addEdge(a, b, weight)
    assert textrank_scores(edges) == dict(graph.rank())


def _jieba_rank(graph: Cooccurrence) -> dict[str, float]:
    from jieba.analyse.textrank import UndirectWeightedGraph

    size = len(graph.vocabulary)
    ranked = UndirectWeightedGraph()
    for key, weight in sorted(graph.edges.items()):
        a, b = divmod(key, size)
        ranked.addEdge(graph.vocabulary[a], graph.vocabulary[b], weight)
    return dict(ranked.rank())


def test_many_graphs_ranked_together_get_jiebas_floats_each() -> None:
    """Articles of every size, some with hub words of a hundred neighbours and more,
    ranked in one call: each graph's scores are the floats jieba's own `rank` gives it
    alone, and an article without an edge gets no keyword."""
    rng = random.Random(20260615)
    words = [f"词{i:03d}" for i in range(400)]
    graphs = []
    for _ in range(60):
        length = rng.choice([3, 12, 80, 400, 1500])
        tokens = _toks(
            *(
                (words[min(int(rng.paretovariate(0.8)) - 1, len(words) - 1)], "n", i // 17)
                for i in range(length)
            )
        )
        graphs.append(cooccurrence(tokens, stopwords=frozenset()))
    graphs.insert(7, cooccurrence(_toks(("银行", "n", 0), ("贷款", "n", 1)), stopwords=frozenset()))
    hub = max(
        max(Counter(end for key in g.edges for end in divmod(key, len(g.vocabulary))).values())
        for g in graphs
        if g.edges
    )
    assert hub > 150
    ranked = textrank_many(graphs, top_k=len(words))
    assert ranked[7] == []
    for graph, keywords in zip(graphs, ranked, strict=True):
        if graph.edges:
            expected = _jieba_rank(graph)
            assert {k.keyword: k.weight for k in keywords} == expected
            assert [k.keyword for k in keywords] == sorted(
                expected, key=lambda w: (-expected[w], w)
            )


def _pairwise_edges(tokens: list[Token], window: int) -> dict[tuple[str, str], int]:
    """jieba's TextRank counting, pair by pair: each candidate with the next ones of its
    sentence within the window."""
    by_sentence: dict[int, list[str]] = {}
    for tok in tokens:
        if tok.pos in TEXTRANK_POS and len(tok.token) >= 2:
            by_sentence.setdefault(tok.sentence_idx, []).append(tok.token)
    edges: Counter[tuple[str, str]] = Counter()
    for words in by_sentence.values():
        for i, word in enumerate(words):
            for other in words[i + 1 : i + window]:
                if other != word:
                    edges[(word, other)] += 1
    return dict(edges)


@pytest.mark.parametrize("window", [2, 5])
def test_cooccurrence_counts_the_pairs_jieba_counts(window: int) -> None:
    """Repeated words, words next to themselves, non-candidates between candidates,
    one-word sentences, and a sentence whose tokens come back after another's."""
    rng = random.Random(window)
    words = [
        ("银行", "n"),
        ("贷款", "vn"),
        ("发放", "v"),
        ("的", "uj"),
        ("企业", "n"),
        ("了", "ul"),
    ]
    tokens = []
    for i in range(600):
        word, tag = rng.choice(words)
        sentence = (i // 9) if i < 500 else rng.choice([3, 70])
        tokens.append(Token(sentence, word, tag, i * 2, i * 2 + 2))
    graph = cooccurrence(tokens, stopwords=frozenset(), window=window)
    named = {
        (graph.vocabulary[a], graph.vocabulary[b]): weight
        for (a, b), weight in (
            (divmod(key, len(graph.vocabulary)), weight) for key, weight in graph.edges.items()
        )
    }
    assert named == _pairwise_edges(tokens, window)
    assert graph.keys.tolist() == sorted(graph.keys.tolist())
    assert cooccurrence(tokens[:1], stopwords=frozenset()).edges == Counter()
