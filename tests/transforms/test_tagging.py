"""Tokens with offsets: real jieba tagging, and the coverage fallback for a bad tagger."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from transforms.patterns import number_matches
from transforms.sentences import Sentence, split_sentences
from transforms.tagging import Token, _spans_by_sentence, tag_span, tokenize

SENTENCES = [
    "短剧数据平台DataEye 研究院的最新数据显示，2025年微短剧市场规模达1000亿元。",
    "据交通银行(601328.SH)消息，该行辽宁省分行贷款额度50万元。",
    "乡村消费品零售额同比增长１．２９％，比上年同期提高0.3个百分点。",
    "中经记者\u3000杨井鑫\u3000北京报道",
    "在AI  产业化   应用带动下，OPC+微短剧 产业专项贷款落地。",
]


class ScriptedTagger:
    """A deliberately misbehaving tagger: returns a fixed script whatever the input."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self.pairs = pairs
        self.seen: list[str] = []

    def tag(self, text: str) -> Iterable[tuple[str, str]]:
        self.seen.append(text)
        return list(self.pairs)


def _assert_covers(text: str, start: int, end: int, out: list[tuple[str, int, int]]) -> None:
    covered: list[int] = []
    for _, s, e in out:
        assert start <= s < e <= end
        piece = text[s:e]
        assert piece == piece.strip()
        covered.extend(range(s, e))
    assert covered == sorted(covered), "tokens overlap or are out of order"
    assert len(covered) == len(set(covered))
    non_blank = [i for i in range(start, end) if not text[i].isspace()]
    assert set(non_blank) <= set(covered)


@pytest.mark.parametrize("text", SENTENCES)
def test_real_tagger_tokens_cover_every_non_blank_char(text: str, nlp) -> None:  # type: ignore[no-untyped-def]
    out = tag_span(text, 0, len(text), tagger=nlp.tagger)
    _assert_covers(text, 0, len(text), out)
    assert all(pos and pos.isalpha() and pos.islower() for pos, _, _ in out)


def test_real_tagger_offsets_are_absolute(nlp) -> None:  # type: ignore[no-untyped-def]
    prefix = "第一句话。"
    sentence = "据交通银行(601328.SH)消息。"
    text = prefix + sentence
    out = tag_span(text, len(prefix), len(text), tagger=nlp.tagger)
    _assert_covers(text, len(prefix), len(text), out)
    words = [(text[s:e], pos) for pos, s, e in out]
    assert ("交通银行", "nt") in words
    assert out[0][1] == len(prefix)
    assert out[-1][2] == len(text)


def test_real_tagger_trims_blanks_between_latin_and_cjk(nlp) -> None:  # type: ignore[no-untyped-def]
    text = SENTENCES[0]
    words = [text[s:e] for _, s, e in tag_span(text, 0, len(text), tagger=nlp.tagger)]
    assert "DataEye" in words
    assert not any(w.isspace() for w in words)


def test_fallback_fills_characters_the_tagger_skipped() -> None:
    text = "湖北省广播电视局局长张世华表示"
    tagger = ScriptedTagger([("湖北省", "ns"), ("张世华", "nr"), ("表示", "v")])
    out = tag_span(text, 0, len(text), tagger=tagger)
    assert tagger.seen == [text]
    assert [(text[s:e], pos) for pos, s, e in out] == [
        ("湖北省", "ns"),
        *[(ch, "x") for ch in "广播电视局局长"],
        ("张世华", "nr"),
        ("表示", "v"),
    ]


def test_fallback_ignores_words_not_in_the_span() -> None:
    text = "贷款额度50万元"
    tagger = ScriptedTagger(
        [("贷款", "n"), ("利率", "n"), ("额度", "n"), ("", "x"), ("50万元", "m")]
    )
    out = tag_span(text, 0, len(text), tagger=tagger)
    assert [(text[s:e], pos) for pos, s, e in out] == [
        ("贷款", "n"),
        ("额度", "n"),
        ("50万元", "m"),
    ]


def test_fallback_never_moves_backwards() -> None:
    text = "银行支持银行"
    # "银行" again after "支持": found at the second occurrence, never re-using the first.
    tagger = ScriptedTagger([("支持", "v"), ("银行", "n"), ("银行", "n")])
    out = tag_span(text, 0, len(text), tagger=tagger)
    assert [(text[s:e], pos, s) for pos, s, e in out] == [
        ("银", "x", 0),
        ("行", "x", 1),
        ("支持", "v", 2),
        ("银行", "n", 4),
    ]


def test_fallback_covers_the_tail_when_the_tagger_stops_early() -> None:
    text = "  同比下降五成"
    tagger = ScriptedTagger([("同比", "d")])
    out = tag_span(text, 0, len(text), tagger=tagger)
    assert [(text[s:e], pos) for pos, s, e in out] == [
        ("同比", "d"),
        *[(ch, "x") for ch in "下降五成"],
    ]
    _assert_covers(text, 0, len(text), out)


def test_fallback_with_no_words_at_all() -> None:
    text = "中经 记者"
    out = tag_span(text, 0, len(text), tagger=ScriptedTagger([]))
    assert out == [("x", 0, 1), ("x", 1, 2), ("x", 3, 4), ("x", 4, 5)]


def test_words_carrying_blanks_are_trimmed_and_blank_words_dropped() -> None:
    text = "短剧 DataEye 研究院"
    tagger = ScriptedTagger([("短剧", "n"), (" DataEye ", "eng"), ("\u3000", "x"), ("研究院", "n")])
    out = tag_span(text, 0, len(text), tagger=tagger)
    assert [(text[s:e], pos, s, e) for pos, s, e in out] == [
        ("短剧", "n", 0, 2),
        ("DataEye", "eng", 3, 10),
        ("研究院", "n", 11, 14),
    ]


def test_words_that_tile_the_span_keep_their_places_and_empty_words_are_dropped() -> None:
    text = "第一句。交通银行表态。"
    tagger = ScriptedTagger([("", "x"), ("交通银行", "nt"), ("表态", "v"), ("", "x"), ("。", "x")])
    out = tag_span(text, 4, len(text), tagger=tagger)
    assert out == [("nt", 4, 8), ("v", 8, 10), ("x", 10, 11)]


def test_words_that_do_not_spell_the_span_are_placed_one_by_one() -> None:
    # As many characters as the span, but not its characters: nothing may be placed by
    # length alone.
    text = "交通银行表态"
    tagger = ScriptedTagger([("表态", "v"), ("交通银行", "nt")])
    out = tag_span(text, 0, len(text), tagger=tagger)
    assert out == [("x", 0, 1), ("x", 1, 2), ("x", 2, 3), ("x", 3, 4), ("v", 4, 6)]


def test_fallback_offsets_are_absolute_inside_a_larger_text() -> None:
    text = "第一句。交通银行表态。"
    tagger = ScriptedTagger([("交通银行", "nt")])
    out = tag_span(text, 4, len(text), tagger=tagger)
    assert tagger.seen == ["交通银行表态。"]
    assert out == [("nt", 4, 8), ("x", 8, 9), ("x", 9, 10), ("x", 10, 11)]


def test_tokenize_indexes_tokens_by_sentence(nlp) -> None:  # type: ignore[no-untyped-def]
    text = (
        "据交通银行(601328.SH)消息，贷款额度50万元。该行辽宁省分行表示。\n"
        "交通银行河南省分行也创新推出了服务模式。"
    )
    sentences = split_sentences(text, [0, 1])
    tokens = tokenize(text, sentences, tagger=nlp.tagger)
    assert {t.sentence_idx for t in tokens} == {0, 1, 2}
    for tok in tokens:
        sentence = sentences[tok.sentence_idx]
        assert sentence.start <= tok.start < tok.end <= sentence.end
        assert text[tok.start : tok.end] == tok.token
    assert [t.start for t in tokens] == sorted(t.start for t in tokens)
    non_blank = {i for i, ch in enumerate(text) if not ch.isspace()}
    assert non_blank == {i for t in tokens for i in range(t.start, t.end)}
    assert Token(0, "交通银行", "nt", 1, 5) in tokens


def test_tokenize_with_no_sentences_is_empty(nlp) -> None:  # type: ignore[no-untyped-def]
    assert tokenize("", [], tagger=nlp.tagger) == []


@pytest.mark.parametrize(
    ("text", "span", "pos"),
    [
        ("据交通银行(601328.SH)消息。", "601328.SH", "nz"),
        ("平安银行(000001.SZ)公告。", "000001.SZ", "nz"),
        ("营收同比增长23.4%。", "23.4%", "m"),
        ("增长１．２９％。", "１．２９％", "m"),
        ("设立1亿元专项基金。", "1亿元", "m"),
        ("释放资金1.2万亿元。", "1.2万亿元", "m"),
        ("营业收入601,293.11元。", "601,293.11元", "m"),
        ("提高0.3个百分点。", "0.3个百分点", "m"),
        ("上线3.3万部微短剧。", "3.3万部", "m"),
        ("《2025—2027年行动计划》发布。", "2025—2027年", "t"),
        ("收报1,175.28点。", "1,175.28", "m"),
    ],
)
def test_spans_jieba_splits_badly_stay_one_token(nlp, text: str, span: str, pos: str) -> None:  # type: ignore[no-untyped-def]
    tokens = tag_span(text, 0, len(text), tagger=nlp.tagger)
    start = text.index(span)
    assert (pos, start, start + len(span)) in tokens
    covered = "".join(text[s:e] for _, s, e in tokens)
    assert covered == text.replace(" ", "")


def test_protected_spans_keep_offsets_inside_a_larger_text(nlp) -> None:  # type: ignore[no-untyped-def]
    text = "前文。据交通银行(601328.SH)消息，贷款1.2万亿元。"
    start = text.index("据")
    tokens = tag_span(text, start, len(text), tagger=nlp.tagger)
    assert [text[s:e] for _, s, e in tokens][:6] == [
        "据",
        "交通银行",
        "(",
        "601328.SH",
        ")",
        "消息",
    ]
    assert ("m", text.index("1.2"), text.index("。", start)) in tokens


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("国有企业加快改革。", ["国有", "企业"]),
        ("信息技术发展迅速。", ["信息", "技术"]),
        ("交通银行发布公告。", ["交通银行"]),  # a name is never split
        ("微短剧产业发展。", ["微短剧"]),
    ],
)
def test_compounds_of_two_common_words_are_two_tokens(nlp, text: str, words: list[str]) -> None:  # type: ignore[no-untyped-def]
    got = [text[s:e] for _, s, e in tag_span(text, 0, len(text), tagger=nlp.tagger)]
    assert got[: len(words)] == words


def test_a_dash_of_several_characters_is_one_token(nlp) -> None:  # type: ignore[no-untyped-def]
    text = "共同创造美好的新世纪———二○○一年新年贺词"
    got = [text[s:e] for _, s, e in tag_span(text, 0, len(text), tagger=nlp.tagger)]
    assert "———" in got
    assert "二○○一年" in got


def test_tokenize_finds_the_spans_once_and_tags_as_sentence_by_sentence(nlp) -> None:  # type: ignore[no-untyped-def]
    """Protected spans come from the whole article, each handed to its sentence; the
    tokens are those of tagging each sentence alone, numbers at sentence edges included."""
    lines = [
        "2025年营收1.2万亿元。同比增长23.4%！601328.SH收涨3.5%",
        "2025—2027年规划出台。(000001)平安银行称，4月1日起执行。",
        *SENTENCES,
    ]
    text = "\n".join(lines)
    sentences = split_sentences(text, list(range(len(lines))))
    numbers = number_matches(text)
    tokens = tokenize(text, sentences, tagger=nlp.tagger, numbers=numbers)
    one_by_one = [
        (idx, pos, s, e)
        for idx, sentence in enumerate(sentences)
        for pos, s, e in tag_span(text, sentence.start, sentence.end, tagger=nlp.tagger)
    ]
    assert [(t.sentence_idx, t.pos, t.start, t.end) for t in tokens] == one_by_one
    assert tokenize(text, sentences, tagger=nlp.tagger) == tokens
    words = {t.token for t in tokens}
    assert {"1.2万亿元", "23.4%", "601328.SH", "3.5%", "2025—2027年"} <= words


def test_a_span_across_a_sentence_end_is_left_to_the_tagger() -> None:
    sentences = [Sentence(0, 0, 5), Sentence(0, 6, 12)]
    spans = [(1, 3, "m"), (4, 8, "m"), (7, 9, "t"), (11, 13, "m")]
    assert _spans_by_sentence(spans, sentences) == [[(1, 3, "m")], [(7, 9, "t")]]
