"""The synthetic page generator and the page evaluation, on the shared corpus.

Skipped when the corpus (`<repo>/../shared/corpus` or `$ZHNEWS_CORPUS`) is absent.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Callable

import pytest

from benchmarks import page_eval
from benchmarks.page_eval import evaluate
from benchmarks.synthetic_pages import (
    KINDS,
    SourceArticle,
    SyntheticPage,
    break_text,
    corpus_available,
    generate_page,
    generate_pages,
    load_articles,
)
from transforms.normalize import normalize_line
from transforms.pages import ArticleDraft, Paragraph

SEED = 20260615


@pytest.fixture(scope="module")
def articles() -> list[SourceArticle]:
    if not corpus_available():
        pytest.skip("shared corpus not found (set ZHNEWS_CORPUS)")
    return load_articles()


@pytest.fixture(scope="module")
def pages(articles: list[SourceArticle]) -> list[SyntheticPage]:
    return generate_pages(articles, 60, SEED)


# --- corpus ------------------------------------------------------------------------------


def test_corpus_articles_are_clean_real_articles(articles: list[SourceArticle]) -> None:
    assert len(articles) > 100
    assert len({a.paragraphs for a in articles}) == len(articles)
    for article in articles:
        assert article.title
        assert len(article.paragraphs) >= 3
        assert sum(map(len, article.paragraphs)) >= 400
        for paragraph in article.paragraphs:
            assert paragraph == paragraph.strip()
            assert not re.search(r"[\u00a0\u3000\t\n]|  ", paragraph)
            assert "点击查看全文" not in paragraph


# --- generator ---------------------------------------------------------------------------


def test_truth_covers_every_nonempty_line_exactly_once(pages: list[SyntheticPage]) -> None:
    for page in pages:
        nonempty = {n: line for n, line in enumerate(page.text.split("\n"), 1) if line.strip()}
        numbers = [t.line_no for t in page.lines]
        assert len(numbers) == len(set(numbers))
        assert set(numbers) == set(nonempty)
        for truth in page.lines:
            assert truth.text == nonempty[truth.line_no]
            assert truth.kind in KINDS
            assert 0 <= truth.article < len(page.articles)


def test_page_shape(pages: list[SyntheticPage]) -> None:
    kinds: Counter[str] = Counter()
    for page in pages:
        assert 2 <= len(page.articles) <= 4
        # Articles occupy consecutive regions of the page.
        order = [t.article for t in page.lines]
        assert order == sorted(order)
        for a in range(len(page.articles)):
            lines = page.article_lines(a)
            assert lines[0].kind == "headline"
            assert sum(t.kind == "byline" for t in lines) == 1
            assert sum(t.kind == "headline" for t in lines) == 1
        kinds.update(t.kind for t in page.lines)
    # Every kind occurs in a few dozen pages.
    assert set(kinds) == set(KINDS)


def test_body_fragments_spell_the_true_paragraphs(pages: list[SyntheticPage]) -> None:
    broken = 0
    for page in pages:
        for a, article in enumerate(page.articles):
            fragments = page.body_fragments(a)
            assert len(fragments) == len(article.body)
            for paragraph, lines in zip(article.body, fragments, strict=True):
                assert [t.fragment for t in lines] == list(range(len(lines)))
                assert "".join(t.text for t in lines) == paragraph
                broken += len(lines) > 1
    assert broken > 50


def test_late_lead_prints_byline_and_lead_after_the_rest(pages: list[SyntheticPage]) -> None:
    late = [(page, a) for page in pages for a, art in enumerate(page.articles) if art.late_lead]
    assert late
    for page, a in late:
        lines = page.article_lines(a)
        byline = next(i for i, t in enumerate(lines) if t.kind == "byline")
        after = {t.paragraph for t in lines[byline + 1 :]}
        assert 0 in after and all(p is not None for p in after)
        assert byline > 1 and any(t.kind == "body" for t in lines[1:byline])


def test_repeats_repeat_the_body_and_sidebars_do_not(pages: list[SyntheticPage]) -> None:
    for page in pages:
        for a, article in enumerate(page.articles):
            body = "".join(article.body)
            clauses = {c for p in article.body for c in re.split(r"[，,。！？!?；;]", p) if c}
            for item in {t.item for t in page.article_lines(a) if t.kind in {"deck", "caption"}}:
                text = "".join(t.text for t in page.article_lines(a) if t.item == item)
                parts = [c for c in re.split(r"[，,。！？!?；;]", text) if c]
                assert all(c in clauses or c in body for c in parts), text
            for sidebar in (t for t in page.article_lines(a) if t.kind == "sidebar"):
                assert sidebar.text not in body


def test_same_seed_same_pages(articles: list[SourceArticle]) -> None:
    assert generate_pages(articles, 5, 7) == generate_pages(articles, 5, 7)


def test_different_seeds_differ(articles: list[SourceArticle]) -> None:
    first = [p.text for p in generate_pages(articles, 5, 7)]
    second = [p.text for p in generate_pages(articles, 5, 8)]
    assert first != second


def test_breaks_fall_at_printed_line_ends() -> None:
    text = (
        "据《中国经营报》记者了解，面对微短剧产业发展的“黄金时代”，浙江、河南等地纷纷出台扶持政策。"
    )
    rng = random.Random(0)
    for _ in range(20):
        head, tail = break_text(text, 15, 2, 2, rng)
        assert head + tail == text
        assert tail[0] not in "，。、”"  # 避头尾: no line starts with a closer
        assert not head.endswith(("“", "《"))


# --- evaluation --------------------------------------------------------------------------


def _oracle(pages: list[SyntheticPage]) -> Callable[[str], list[ArticleDraft]]:
    """A rebuild that knows the truth: every metric must be perfect on it."""
    by_text = {page.text: page for page in pages}

    def rebuild(text: str) -> list[ArticleDraft]:
        page = by_text[text]
        drafts = []
        for a, truth in enumerate(page.articles):
            lines = page.article_lines(a)
            body = [
                Paragraph(
                    "body",
                    "".join(normalize_line(t.text) for t in fragments),
                    tuple(t.line_no for t in fragments),
                )
                for fragments in page.body_fragments(a)
            ]
            items: dict[int, list] = {}
            for t in lines:
                if t.kind != "body":
                    items.setdefault(t.item, []).append(t)
            others = [
                Paragraph(
                    group[0].kind, "".join(t.text for t in group), tuple(t.line_no for t in group)
                )
                for group in items.values()
            ]
            drafts.append(
                ArticleDraft(
                    normalize_line(truth.headline),
                    truth.authors,
                    truth.dateline,
                    tuple(others + body),
                )
            )
        return drafts

    return rebuild


def test_evaluate_scores_a_perfect_rebuild_perfectly(pages: list[SyntheticPage]) -> None:
    result = evaluate(pages, _oracle(pages))
    assert all(value == 1.0 for value in result["metrics"].values()), result["metrics"]
    assert result["counts"]["lost_lines"] == result["counts"]["duplicated_lines"] == 0
    assert not result["failures"]


def test_evaluate_counts_what_a_bad_rebuild_gets_wrong(pages: list[SyntheticPage]) -> None:
    oracle = _oracle(pages)

    def one_line_per_paragraph(text: str) -> list[ArticleDraft]:
        drafts = oracle(text)
        first = drafts[0]
        # Every body line alone, the first body line dropped, the articles merged.
        paragraphs = [
            Paragraph(p.kind, p.text, (n,))
            for d in drafts
            for p in d.paragraphs
            for n in p.raw_lines
        ]
        return [ArticleDraft(first.headline, first.authors, first.dateline, tuple(paragraphs[1:]))]

    result = evaluate(pages, one_line_per_paragraph)
    metrics, counts = result["metrics"], result["counts"]
    assert metrics["article_split_accuracy"] == 0.0
    assert metrics["join_recall"] == 0.0
    assert metrics["exact_body_rate"] < 0.2
    assert counts["lost_lines"] == len(pages)
    assert result["failures"]["lost_or_duplicated_lines"]


def test_cli_without_corpus_says_so_and_succeeds(
    monkeypatch: pytest.MonkeyPatch, tmp_path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ZHNEWS_CORPUS", str(tmp_path / "nowhere"))
    assert page_eval.main(["--pages", "3"]) == 0
    assert "corpus not found" in capsys.readouterr().out


def test_generate_page_uses_the_rng_only(articles: list[SourceArticle]) -> None:
    page = generate_page(articles, random.Random(3))
    assert page == generate_page(articles, random.Random(3))


# --- the rules, measured -----------------------------------------------------------------

# What the page rules reach on 200 pages of seed 1 (split 0.97, joins 0.97/0.95, repeats
# 0.98/0.96, captions 1.00/1.00, headings 0.98/0.98), less a small margin, and never
# below the 0.95 target: a guard against regressions. Seeds 2 to 5 give the same within
# about 0.01.
FLOORS = {
    "article_split_accuracy": 0.96,
    "join_precision": 0.96,
    "join_recall": 0.95,
    "repeat_precision": 0.95,
    "repeat_recall": 0.95,
    "caption_precision": 0.97,
    "caption_recall": 0.97,
    "heading_precision": 0.96,
    "heading_recall": 0.96,
}


def test_rules_hold_their_level_on_200_synthetic_pages(articles: list[SourceArticle], nlp) -> None:  # type: ignore[no-untyped-def]
    result = evaluate(generate_pages(articles, 200, 1), page_eval.make_rebuild(nlp.tagger))
    metrics, counts = result["metrics"], result["counts"]
    for name, floor in FLOORS.items():
        assert metrics[name] >= floor, (name, metrics[name])
    assert counts["lost_lines"] == 0
    assert counts["duplicated_lines"] == 0
