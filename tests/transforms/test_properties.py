"""Properties of the transforms over arbitrary Unicode and over news-like Chinese text:
nothing raises, every offset indexes the text, normalisation is idempotent, tokens cover
each sentence, entities lie inside their sentence.

Examples that once broke a property stay as `@example`s. The real jieba models are
loaded once for the session (the `nlp` fixture); the budget is the `zhnews` profile of
tests/conftest.py.
"""

from __future__ import annotations

import json
import math
import re
from datetime import date

from hypothesis import example, given
from hypothesis import strategies as st

from flows.io.raw import DecodeRejection, decode_bytes
from schemas.validation import validate_tables
from tests.conftest import SAMPLE_PAGE
from transforms import patterns
from transforms.documents import RawDocument, document_articles
from transforms.entities import ENTITY_TYPES, _non_overlapping, extract_entities
from transforms.normalize import normalize_line, punctuation_to_full_width
from transforms.patterns import Match, pattern_matches, protected_spans
from transforms.records import Record, RecordRejection, parse_jsonl
from transforms.sentences import split_sentences
from transforms.tables import build_tables
from transforms.tagging import tokenize
from transforms.textclean import clean_text, control_ratio, normalize_newlines, strip_controls

PUB = date(2026, 6, 15)
SHA = "ab" * 32

# ------------------------------------------------------------------ strategies

# Every code point, lone surrogates included: what a JSON `\ud800` escape or a
# surrogate-escaped file name can carry before cleaning.
any_char = st.characters(codec=None, exclude_categories=())
any_text = st.text(any_char, max_size=120)
# What every transform sees: the text after decoding and cleaning.
clean_any_text = st.text(max_size=160).map(clean_text)

_SAMPLE_CHARS = sorted({ch for ch in SAMPLE_PAGE.read_text(encoding="utf-8") if ch > "\u3000"})
common_han = st.sampled_from([ch for ch in _SAMPLE_CHARS if "\u4e00" <= ch <= "\u9fff"])
any_han = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
han_run = st.text(st.one_of(common_han, common_han, any_han), min_size=1, max_size=12)
punctuation = st.sampled_from(list("。，、；：“”（）%！？…—《》「」·．,.:;!?()[]-/*＊"))
full_width = st.characters(min_codepoint=0xFF01, max_codepoint=0xFF5E)
spaces = st.sampled_from([" ", "\u3000", "\t", "\n", "\n\n", "  "])
ascii_word = st.from_regex(r"[A-Za-z]{1,8}", fullmatch=True)
digits = st.integers(0, 10**9).map(str)
decimal = st.builds(lambda a, b: f"{a}.{b}", st.integers(0, 9999), st.integers(0, 99))
to_full_width = str.maketrans("0123456789.%", "０１２３４５６７８９．％")
number = st.one_of(digits, decimal, decimal.map(lambda s: s.translate(to_full_width)))
chinese_number = st.sampled_from(["三千", "十五", "一百二十", "两", "三千万", "百分之十五"])
money = st.builds(
    lambda n, scale, unit: f"{n}{scale}{unit}",
    st.one_of(number, chinese_number),
    st.sampled_from(["", "万", "亿", "万亿", "千万"]),
    st.sampled_from(["元", "美元", "港元", "元/吨", "亿"]),
)
percent = st.one_of(
    number.map(lambda n: f"{n}%"),
    number.map(lambda n: f"{n}个百分点"),
    st.sampled_from(["百分之十五", "１．２９％"]),
)
quantity = st.builds(
    lambda n, unit: f"{n}{unit}", number, st.sampled_from(["万部", "亿人次", "家", "吨", "辆"])
)
ticker = st.one_of(
    st.builds(
        lambda code, ex: f"{code:06d}.{ex}", st.integers(0, 999999), st.sampled_from(["SH", "SZ"])
    ),
    st.builds(
        lambda name, code, o, c: f"{name}{o}{code:06d}{c}",
        st.sampled_from(["贵阳银行", "交通银行", "*ST郑煤", "昊志机电"]),
        st.integers(0, 999999),
        st.sampled_from(["（", "(", " "]),
        st.sampled_from(["）", ")", ""]),
    ),
)
day = st.one_of(
    st.builds(
        lambda y, m, d: f"{y}年{m}月{d}日",
        st.integers(1900, 2100),
        st.integers(0, 13),
        st.integers(0, 32),
    ),
    st.builds(lambda m, d: f"{m}月{d}日", st.integers(1, 12), st.integers(1, 31)),
    st.builds(lambda a, b: f"{a}—{b}年", st.integers(1990, 2030), st.integers(1990, 2040)),
    st.sampled_from(["一季度", "去年", "今年上半年", "2026年2月", "本月"]),
)
name = st.sampled_from(
    ["张世华", "中国人民银行", "交通银行辽宁省分行", "商务部消费促进司", "中美", "国家统计局"]
)
news_piece = st.one_of(
    han_run,
    han_run,
    han_run,
    punctuation,
    punctuation,
    spaces,
    full_width,
    ascii_word,
    number,
    money,
    percent,
    quantity,
    ticker,
    day,
    name,
)
news_text = st.lists(news_piece, max_size=60).map("".join)
text = st.one_of(news_text, news_text, clean_any_text)
# Lines of a printed page: body sentences, headlines, bylines, datelines, credits.
sentence = st.builds(
    lambda body, end: body + end, news_text, st.sampled_from(["。", "！", "？", ""])
)
page_line = st.one_of(
    sentence,
    sentence,
    han_run,
    st.builds(lambda a, b: f"{a} {b}", han_run, han_run),
    st.builds(lambda n, p: f"本报记者 {n} {p}报道", name, st.sampled_from(["北京", "上海"])),
    st.builds(
        lambda p, n: f"新华社{p}6月15日电（记者{n}）", st.sampled_from(["北京", "深圳"]), name
    ),
    st.builds(lambda n: f"{n}/摄", name),
    st.sampled_from(["视觉中国/图", "图片来源：新华社", "（完）", "——", "■"]),
)
page_text = st.lists(page_line, max_size=14).map("\n".join)


# ------------------------------------------------------------------ cleaning and normalising


@given(any_text)
@example("\r\r\n\u2028\x85")
def test_cleaning_is_idempotent_and_leaves_no_control(raw: str) -> None:
    cleaned = clean_text(raw)
    assert clean_text(cleaned) == cleaned
    assert normalize_newlines(normalize_newlines(raw)) == normalize_newlines(raw)
    assert strip_controls(strip_controls(raw)) == strip_controls(raw)
    assert not any(ch in "\r\x00\x85\u2028\u2029" or "\ud800" <= ch <= "\udfff" for ch in cleaned)


@given(st.one_of(news_text, any_text))
@example("一,,")  # the second comma touched Chinese only once the first was converted
@example("（a),(b),(c)")  # each pair finished converts what touches it, and so on
def test_normalising_a_line_keeps_its_length_and_is_idempotent(line: str) -> None:
    once = normalize_line(line)
    assert len(once) == len(line)
    assert normalize_line(once) == once


_CJK = r"\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef“”‘’《》"
_FULL = {",": "，", ":": "：", ";": "；", "?": "？", "!": "！", "(": "（", ")": "）"}


def _one_pass(text: str) -> str:
    """The rules applied once, left to right, as regular expressions: the reference."""
    converted = re.sub(
        rf"(?<=[{_CJK}])\s*[,:;?!()]|[,:;?!()]\s*(?=[{_CJK}])",
        lambda m: "".join(_FULL.get(ch, ch) for ch in m.group()),
        text,
    )
    converted = re.sub(r"（([^（）()\n]{0,60})\)", r"（\1）", converted)
    return re.sub(r"\(([^（）()\n]{0,60})）", r"（\1）", converted)


@given(st.one_of(news_text, any_text))
@example("a\u3000,b")  # the ideographic space is Chinese as well as blank
def test_punctuation_agrees_with_the_rules_applied_once_where_that_is_stable(line: str) -> None:
    once = _one_pass(line)
    if _one_pass(once) == once:
        assert punctuation_to_full_width(line) == once


@given(st.binary(max_size=400))
@example(b"\xff\xfe")
@example(b"\x00" * 3)
def test_decoding_arbitrary_bytes_gives_clean_text_or_a_reason(data: bytes) -> None:
    for jsonl in (False, True):
        try:
            decoded, encoding = decode_bytes(data, jsonl=jsonl)
        except DecodeRejection as err:
            assert err.reason in ("empty", "not_text", "decode_error")
            continue
        assert decoded.strip() and encoding
        assert strip_controls(decoded) == decoded
        assert "\r" not in decoded


@given(st.text(max_size=200))
@example("4\x00")  # also UTF-16 for 㐀: with that many NULs, UTF-16 it is
def test_utf8_text_decodes_to_its_cleaned_self(source: str) -> None:
    if "\x00" in source and control_ratio(normalize_newlines(source)) > 0.05:
        return  # UTF-16 without a BOM looks like this; the decoder takes it for that
    try:
        decoded, _ = decode_bytes(source.encode("utf-8"))
    except DecodeRejection as err:
        assert err.reason in ("empty", "not_text")
        return
    assert decoded == clean_text(source)


# ------------------------------------------------------------------ JSONL


@given(
    st.lists(
        st.one_of(
            any_text,
            st.builds(
                json.dumps,
                st.dictionaries(
                    st.text(max_size=5),
                    st.one_of(st.none(), st.integers(), any_text, st.lists(any_text, max_size=3)),
                    max_size=5,
                ),
            ),
        ),
        max_size=8,
    ).map("\n".join)
)
def test_every_jsonl_line_gives_one_record_or_one_rejection(content: str) -> None:
    results = parse_jsonl(content, PUB)
    lines = [n for n, line in enumerate(content.split("\n"), start=1) if line.strip()]
    assert [r.line_no for r in results] == lines
    for r in results:
        assert isinstance(r, Record | RecordRejection)
        if isinstance(r, Record):
            assert r.text.strip() and clean_text(r.text) == r.text


@given(any_text, st.one_of(st.none(), any_text))
def test_a_record_keeps_its_text_cleaned(body: str, title: str | None) -> None:
    (parsed,) = parse_jsonl(json.dumps({"text": body, "title": title}), PUB)
    if isinstance(parsed, Record):
        assert parsed.text == clean_text(body)
    else:
        assert parsed.reason in ("no_text", "bad_field")


# ------------------------------------------------------------------ sentences and tokens


def _body(raw: str) -> tuple[str, list[int]]:
    """A body as articles hold it: non-blank lines (paragraphs) joined by newlines."""
    lines = [line.strip() for line in clean_text(raw).split("\n") if line.strip()]
    return "\n".join(lines), list(range(len(lines)))


@given(text)
def test_sentences_index_the_text_and_cover_every_visible_character(raw: str) -> None:
    body, ids = _body(raw)
    sentences = split_sentences(body, ids)
    covered = set()
    previous = 0
    for s in sentences:
        assert previous <= s.start < s.end <= len(body)
        span = body[s.start : s.end]
        assert "\n" not in span and span == span.strip()
        covered.update(range(s.start, s.end))
        previous = s.end
    assert all(body[i].isspace() for i in range(len(body)) if i not in covered)


@given(text)
@example("交通银行 601328.SH\u3000涨 2.3%")
def test_tokens_index_the_text_and_cover_each_sentence(nlp, raw: str) -> None:  # type: ignore[no-untyped-def]
    body, ids = _body(raw)
    sentences = split_sentences(body, ids)
    tokens = tokenize(body, sentences, tagger=nlp.tagger)
    by_sentence: dict[int, list[tuple[int, int]]] = {}
    for tok in tokens:
        assert body[tok.start : tok.end] == tok.token
        assert tok.token and tok.token == tok.token.strip()
        by_sentence.setdefault(tok.sentence_idx, []).append((tok.start, tok.end))
    for idx, s in enumerate(sentences):
        spans = by_sentence.get(idx, [])
        cursor = s.start
        for start, end in spans:  # in order, without overlap, inside the sentence
            assert cursor <= start < end <= s.end
            assert body[cursor:start].isspace() or cursor == start  # only blanks between
            cursor = end
        assert body[cursor : s.end].strip() == ""


@given(text)
def test_protected_spans_and_patterns_index_the_text(raw: str) -> None:
    body, _ = _body(raw)
    previous = 0
    for start, end, _pos in protected_spans(body):
        assert previous <= start < end <= len(body)
        previous = end
    for m in pattern_matches(body, PUB):
        assert 0 <= m.start < m.end <= len(body)
        assert m.entity_type in ENTITY_TYPES
        assert m.number is None or math.isfinite(m.number)


_NEEDING = [value for value in vars(patterns).values() if isinstance(value, patterns._Needing)]


@given(text)
@example("贵阳银行(601997)和交通银行(601328.sh)、SZ000001分别上涨5.8%和0.3个百分点，代码:600000")
@example("2025—2027年一季度，6月4日，1,175.28元，百分之十五，2-3%——")
@example("会议定于15号召开")
@example("营收3亿，其中2亿元。5人，3家12个，2018年3月。")
def test_a_pattern_scans_only_text_that_holds_what_its_matches_need(raw: str) -> None:
    """Scanning only the clauses that hold a `%` (or a bracket, or `年`) finds what a scan
    of the whole text finds, match for match and group for group. Money keeps the amounts
    `_money_matches` keeps (with a currency, or in 亿): all it needs to find."""
    assert len(_NEEDING) >= 18
    half_width = raw.translate(patterns._HALF_WIDTH)
    for needing in _NEEDING:
        for body in (raw, half_width):
            found = [(m.span(), m.groups()) for m in needing.finditer(body)]
            whole = [(m.span(), m.groups()) for m in needing.pattern.finditer(body)]
            if needing is patterns._MONEY:
                found, whole = _kept_money(found, body), _kept_money(whole, body)
            assert found == whole


def _kept_money(found: list[tuple[tuple[int, int], tuple[str | None, ...]]], body: str) -> list:
    """The amounts `_money_matches` goes on with: a currency, or a bare amount in 亿."""
    kept = []
    for span, groups in found:
        m = patterns._MONEY.pattern.match(body, span[0])
        assert m is not None and m.span() == span
        if m["currency"] or patterns._is_bare_money(m, body):
            kept.append((span, groups))
    return kept


# ------------------------------------------------------------------ entities


@given(text)
@example("贵阳银行（601997）和交通银行(601328.SH)分别上涨5.8%和0.3个百分点。")
def test_entities_lie_inside_their_sentence(nlp, raw: str) -> None:  # type: ignore[no-untyped-def]
    body, ids = _body(raw)
    sentences = split_sentences(body, ids)
    tokens = tokenize(body, sentences, tagger=nlp.tagger)
    entities = extract_entities(
        body,
        sentences,
        tokens,
        pub_date=PUB,
        places=nlp.places,
        surnames=nlp.surnames,
        gazetteer=nlp.gazetteer,
    )
    previous = 0
    for i, e in enumerate(entities):
        sentence = sentences[e.sentence_idx]
        assert sentence.start <= e.start < e.end <= sentence.end
        assert body[e.start : e.end] == e.text
        assert previous <= e.start  # in text order, never overlapping
        previous = e.end
        assert e.entity_type in ENTITY_TYPES
        assert e.number is None or math.isfinite(e.number)
        if e.linked_idx is not None:
            assert e.entity_type == "TICKER" and entities[e.linked_idx].entity_type == "ORG"
            assert e.linked_idx < i


def _overlap_free_by_brute_force(matches: list[Match]) -> list[Match]:
    kept: list[Match] = []
    for m in sorted(matches, key=lambda m: (-(m.end - m.start), m.start)):
        if all(m.end <= k.start or m.start >= k.end for k in kept):
            kept.append(m)
    return sorted(kept, key=lambda m: (m.start, m.end))


spans = st.builds(
    lambda start, length: Match("ORG", start, start + length, "x", None),
    st.integers(0, 60),
    st.integers(0, 12),
)


@given(st.lists(spans, max_size=40))
@example([Match("ORG", 5, 5, "x", None), Match("ORG", 3, 8, "x", None)])
def test_keeping_the_longest_matches_agrees_with_comparing_every_pair(
    matches: list[Match],
) -> None:
    assert _non_overlapping(matches) == _overlap_free_by_brute_force(matches)


# ------------------------------------------------------------------ whole articles


@given(st.one_of(page_text, page_text, news_text, clean_any_text), st.booleans())
def test_any_text_becomes_valid_tables_whose_offsets_index_the_article(
    nlp, raw: str, as_record: bool
) -> None:  # type: ignore[no-untyped-def]
    text = clean_text(raw)
    if not text.strip():
        return
    if as_record:
        doc = RawDocument(
            "wire/2026-06-15/feed.jsonl", "wire", PUB, json.dumps({"text": text}), "utf-8", SHA
        )
    else:
        doc = RawDocument("cbn/2026-06-15/page.txt", "cbn", PUB, text, "utf-8", SHA)
    articles, rejections = document_articles(doc, lexicon=nlp.tagger)
    assert articles or rejections
    tables = build_tables(articles, run_id="r", nlp=nlp)
    kept, rejected = validate_tables(tables)
    assert rejected == {}
    bodies = dict(zip(kept["articles"]["article_id"], kept["articles"]["text"], strict=True))
    for table in ("sentences", "tokens", "entities"):
        column = "token" if table == "tokens" else "text"
        for article_id, start, end, surface in (
            kept[table].select("article_id", "start", "end", column).iter_rows()
        ):
            assert bodies[article_id][start:end] == surface, table
    paragraphs = kept["paragraphs"].filter(kept["paragraphs"]["kind"] == "body")
    for article_id, body in bodies.items():
        mine = paragraphs.filter(paragraphs["article_id"] == article_id)["text"]
        assert "\n".join(mine) == body
