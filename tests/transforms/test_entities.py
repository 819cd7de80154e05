"""Entities: pattern-based tickers, money, percentages and dates, tag-based names."""

from __future__ import annotations

from datetime import date

import pytest

from transforms.entities import ENTITY_TYPES, Entity, extract_entities
from transforms.pages import rebuild_page, split_lines
from transforms.patterns import exchange_for
from transforms.sentences import split_sentences
from transforms.tagging import Token, tokenize
from transforms.textclean import clean_text

PUB = date(2026, 6, 15)


def _extract(text: str, nlp, pub_date: date = PUB) -> list[Entity]:  # type: ignore[no-untyped-def]
    lines = text.split("\n")
    sentences = split_sentences(text, list(range(len(lines))))
    tokens = tokenize(text, sentences, tagger=nlp.tagger)
    return extract_entities(
        text, sentences, tokens, pub_date=pub_date, places=nlp.places, surnames=nlp.surnames
    )


def _pattern_entities(entities: list[Entity]) -> list[tuple[str, str, str, float | None]]:
    kinds = {"TICKER", "MONEY", "PERCENT", "PERCENT_POINT", "DATE"}
    return [
        (e.entity_type, e.text, e.normalized, e.number) for e in entities if e.entity_type in kinds
    ]


@pytest.mark.parametrize(
    ("code", "exchange"),
    [
        ("601328", "SH"),
        ("688981", "SH"),
        ("900901", "SH"),
        ("000001", "SZ"),
        ("300750", "SZ"),
        ("200002", "SZ"),
        ("830799", "BJ"),
        ("430047", "BJ"),
        ("920002", "BJ"),
        ("510300", "SH"),
        ("159915", "SZ"),
    ],
)
def test_exchange_for(code: str, exchange: str) -> None:
    assert exchange_for(code) == exchange


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("交通银行(601328.SH)消息。", ("TICKER", "601328.SH", "601328.SH", None)),
        ("贵阳银行（601997）公告。", ("TICKER", "601997", "601997.SH", None)),
        ("平安银行（000001.SZ）公告。", ("TICKER", "000001.SZ", "000001.SZ", None)),
        ("平安银行000001.SZ，涨停。", ("TICKER", "000001.SZ", "000001.SZ", None)),
        ("平安银行000001.SZ上涨。", ("TICKER", "000001.SZ", "000001.SZ", None)),
        ("腾讯控股00700.HK股价走高。", ("TICKER", "00700.HK", "00700.HK", None)),
        ("宁德时代（300750）公告。", ("TICKER", "300750", "300750.SZ", None)),
        ("腾讯控股(00700.HK)走高。", ("TICKER", "00700.HK", "00700.HK", None)),
        ("港交所（0388.HK）公告。", ("TICKER", "0388.HK", "00388.HK", None)),
        ("中芯国际(688981.sh)公告。", ("TICKER", "688981.sh", "688981.SH", None)),
        ("启动了1亿元规模的基金。", ("MONEY", "1亿元", "100000000 CNY", 1e8)),
        ("贷款额度50万元。", ("MONEY", "50万元", "500000 CNY", 5e5)),
        ("规模1.2万亿元。", ("MONEY", "1.2万亿元", "1200000000000 CNY", 1.2e12)),
        ("融资3000万美元。", ("MONEY", "3000万美元", "30000000 USD", 3e7)),
        ("直逼千亿元规模。", ("MONEY", "千亿元", "100000000000 CNY", 1e11)),
        ("已破百亿元。", ("MONEY", "百亿元", "10000000000 CNY", 1e10)),
        ("增长1,200万元。", ("MONEY", "1,200万元", "12000000 CNY", 1.2e7)),
        ("达1000亿元。", ("MONEY", "1000亿元", "100000000000 CNY", 1e11)),
        ("募资2.5亿港元。", ("MONEY", "2.5亿港元", "250000000 HKD", 2.5e8)),
        ("票价0.5元。", ("MONEY", "0.5元", "0.5 CNY", 0.5)),
        ("额度５０万元。", ("MONEY", "５０万元", "500000 CNY", 5e5)),
        ("同比下降5.8%。", ("PERCENT", "5.8%", "0.058", 0.058)),
        ("同比增长１．２９％。", ("PERCENT", "１．２９％", "0.0129", 0.0129)),
        ("不良率超10%。", ("PERCENT", "10%", "0.1", 0.1)),
        ("占比百分之12。", ("PERCENT", "百分之12", "0.12", 0.12)),
        ("占比百分之五十。", ("PERCENT", "百分之五十", "0.5", 0.5)),
        ("比上年同期提高0.3个百分点。", ("PERCENT_POINT", "0.3个百分点", "0.003 pp", 0.003)),
        ("快于城镇居民1.7个百分点。", ("PERCENT_POINT", "1.7个百分点", "0.017 pp", 0.017)),
        ("2026年6月4日落地。", ("DATE", "2026年6月4日", "2026-06-04", None)),
        ("6月9日举行。", ("DATE", "6月9日", "2026-06-09", None)),
        ("12月20日发布。", ("DATE", "12月20日", "2025-12-20", None)),
        ("１２月２０日发布。", ("DATE", "１２月２０日", "2025-12-20", None)),
        ("7月10日召开。", ("DATE", "7月10日", "2026-07-10", None)),
        ("7月20日召开。", ("DATE", "7月20日", "2025-07-20", None)),
        ("于2026年2月首推。", ("DATE", "2026年2月", "2026-02", None)),
        ("2026年一季度增长。", ("DATE", "2026年一季度", "2026-Q1", None)),
        ("一季度增长。", ("DATE", "一季度", "2026-Q1", None)),
        ("2025年3季度回落。", ("DATE", "2025年3季度", "2025-Q3", None)),
        ("2025年第四季度回落。", ("DATE", "2025年第四季度", "2025-Q4", None)),
        ("去年四季度回落。", ("DATE", "去年四季度", "2025-Q4", None)),
        ("第二季度回升。", ("DATE", "第二季度", "2026-Q2", None)),
        ("2025年全国有3.3万部微短剧。", ("DATE", "2025年", "2025", None)),
        ("今年以来增长。", ("DATE", "今年", "2026", None)),
        ("去年同期。", ("DATE", "去年", "2025", None)),
        ("明年落地。", ("DATE", "明年", "2027", None)),
    ],
)
def test_single_pattern_entity(text: str, expected: tuple, nlp) -> None:  # type: ignore[no-untyped-def]
    entities = _pattern_entities(_extract(text, nlp))
    assert len(entities) == 1, entities
    kind, ent_text, normalized, number = entities[0]
    assert (kind, ent_text, normalized) == expected[:3]
    if expected[3] is None:
        assert number is None
    else:
        assert number == pytest.approx(expected[3])


@pytest.mark.parametrize(
    "text",
    [
        "2025年度报告发布。",
        "6月31日无此日期。",
        "13月2日无此月份。",
        "2026年13月无此月份。",
        "2026年2月30日无此日期。",
        "腾讯控股(700.HK)走高。",
        "代码1234567.SH无效。",
        "全国有3.3万部微短剧。",
    ],
)
def test_no_pattern_entity(text: str, nlp) -> None:  # type: ignore[no-untyped-def]
    assert _pattern_entities(_extract(text, nlp)) == []


def test_feb_29_resolves_to_a_leap_year() -> None:
    text = "2月29日公告。"
    sentences = split_sentences(text, [0])
    leap = extract_entities(text, sentences, [], pub_date=date(2028, 3, 10))
    assert [(e.text, e.normalized) for e in leap] == [("2月29日", "2028-02-29")]
    assert extract_entities(text, sentences, [], pub_date=PUB) == []


def test_longer_pattern_wins_over_overlapping_ones(nlp) -> None:  # type: ignore[no-untyped-def]
    text = "2026年6月4日，规模1.2万亿元，提高0.3个百分点。"
    assert _pattern_entities(_extract(text, nlp)) == [
        ("DATE", "2026年6月4日", "2026-06-04", None),
        ("MONEY", "1.2万亿元", "1200000000000 CNY", 1.2e12),
        ("PERCENT_POINT", "0.3个百分点", "0.003 pp", 0.003),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "湖北省广播电视局局长张世华表示。",
            [("ORG", "湖北省广播电视局"), ("PERSON", "张世华")],
        ),
        ("中经记者 杨井鑫 北京报道", [("PERSON", "杨井鑫"), ("LOC", "北京")]),
        ("据交通银行(601328.SH)消息。", [("ORG", "交通银行"), ("TICKER", "601328.SH")]),
        ("商务部消费促进司公布的数据显示。", [("ORG", "商务部消费促进司")]),
    ],
)
def test_tag_based_entities(text: str, expected: list[tuple[str, str]], nlp) -> None:  # type: ignore[no-untyped-def]
    assert [(e.entity_type, e.text) for e in _extract(text, nlp)] == expected


@pytest.mark.parametrize(
    "text",
    [
        # jieba tags 城市 / 上市 as places and 支付宝 / 银行卡 as names: none is an entity.
        "一、二线城市的消费者对信用卡权益缩水“吐槽”不断。",
        "杭州银行已上市多年。",
        "通过支付宝付款时，使用该银行卡完成在线支付。",
    ],
)
def test_noisy_tags_are_not_entities(text: str, nlp) -> None:  # type: ignore[no-untyped-def]
    got = [(e.entity_type, e.text) for e in _extract(text, nlp)]
    for noise in ("城市", "上市", "支付宝", "银行卡"):
        assert all(noise != ent_text for _, ent_text in got), got


SURNAMES = frozenset({"王", "杨", "张", "欧阳"})
PLACES = frozenset({"北京", "横店"})


@pytest.mark.parametrize(
    ("token", "pos", "surnames", "expected"),
    [
        ("北京", "ns", SURNAMES, "LOC"),
        ("横店", "nr", SURNAMES, "LOC"),
        ("北京", "nt", SURNAMES, "LOC"),
        ("北京", "v", SURNAMES, None),
        ("湖北省", "ns", SURNAMES, "LOC"),
        ("苏州市", "ns", SURNAMES, "LOC"),
        ("江苏", "ns", SURNAMES, None),
        ("城市", "ns", SURNAMES, None),
        ("省", "ns", SURNAMES, None),
        ("杨井鑫", "nr", SURNAMES, "PERSON"),
        ("王希", "nrfg", SURNAMES, "PERSON"),
        ("欧阳娜娜", "nrt", SURNAMES, "PERSON"),
        ("支付宝", "nr", SURNAMES, None),
        ("支付宝", "nr", None, "PERSON"),
        ("王", "nr", SURNAMES, None),
        ("王某某某某", "nr", SURNAMES, None),
        ("广播电视局", "nt", SURNAMES, "ORG"),
        ("增长", "v", SURNAMES, None),
    ],
)
def test_tag_filters(
    token: str, pos: str, surnames: frozenset[str] | None, expected: str | None
) -> None:
    text = f"据悉{token}。"
    tokens = [Token(0, token, pos, 2, 2 + len(token))]
    entities = extract_entities(
        text, split_sentences(text, [0]), tokens, pub_date=PUB, places=PLACES, surnames=surnames
    )
    got = [(e.entity_type, e.text, e.normalized, e.number, e.start) for e in entities]
    assert got == ([] if expected is None else [(expected, token, token, None, 2)])


def test_pattern_wins_over_overlapping_shorter_tag() -> None:
    text = "交通银行601328.SH，公告。"
    tokens = [Token(0, "601328", "nt", 4, 10)]
    entities = extract_entities(text, split_sentences(text, [0]), tokens, pub_date=PUB)
    assert [(e.entity_type, e.text) for e in entities] == [("TICKER", "601328.SH")]


def test_longest_match_wins_even_when_it_starts_later() -> None:
    text = "交通银行601328.SH，公告。"
    # A tagged mention that swallowed part of the code overlaps the longer ticker match.
    tokens = [Token(0, "银行601328", "nt", 2, 10)]
    entities = extract_entities(text, split_sentences(text, [0]), tokens, pub_date=PUB)
    assert [(e.entity_type, e.text, e.start) for e in entities] == [("TICKER", "601328.SH", 4)]


def test_entities_carry_their_sentence_and_drop_those_outside() -> None:
    text = "6月9日举行。\n贷款额度50万元。"
    sentences = split_sentences(text, [0, 1])
    entities = extract_entities(text, sentences, [], pub_date=PUB)
    assert [(e.text, e.sentence_idx, e.start, e.end) for e in entities] == [
        ("6月9日", 0, 0, 4),
        ("50万元", 1, 12, 16),
    ]
    only_first = extract_entities(text, sentences[:1], [], pub_date=PUB)
    assert [e.text for e in only_first] == ["6月9日"]


def test_full_width_entity_keeps_original_text_and_offsets() -> None:
    text = "增长１．２９％，代码（６０１３２８．ＳＨ）。"
    entities = extract_entities(text, split_sentences(text, [0]), [], pub_date=PUB)
    assert [(e.entity_type, e.text, e.normalized) for e in entities] == [
        ("PERCENT", "１．２９％", "0.0129"),
        ("TICKER", "６０１３２８．ＳＨ", "601328.SH"),
    ]
    for e in entities:
        assert text[e.start : e.end] == e.text


def test_sample_page_entities_index_text_and_do_not_overlap(sample_page_text: str, nlp) -> None:  # type: ignore[no-untyped-def]
    drafts = rebuild_page(split_lines(clean_text(sample_page_text)))
    found: list[set[tuple[str, str]]] = []
    for draft in drafts:
        text = draft.body
        ids = [i for i, p in enumerate(draft.paragraphs) if p.kind == "body"]
        sentences = split_sentences(text, ids)
        tokens = tokenize(text, sentences, tagger=nlp.tagger)
        entities = extract_entities(
            text, sentences, tokens, pub_date=PUB, places=nlp.places, surnames=nlp.surnames
        )
        assert entities
        prev_end = 0
        for e in entities:
            assert e.entity_type in ENTITY_TYPES
            assert text[e.start : e.end] == e.text
            s = sentences[e.sentence_idx]
            assert s.start <= e.start < e.end <= s.end
            assert e.start >= prev_end
            prev_end = e.end
            if e.entity_type in ("MONEY", "PERCENT", "PERCENT_POINT"):
                assert e.number is not None
        found.append({(e.entity_type, e.normalized) for e in entities})
    assert {
        ("TICKER", "601328.SH"),
        ("TICKER", "601398.SH"),
        ("TICKER", "600926.SH"),
        ("MONEY", "100000000 CNY"),
        ("MONEY", "500000 CNY"),
        ("MONEY", "100000000000 CNY"),
        ("DATE", "2026-06-09"),
        ("DATE", "2026-06-04"),
        ("DATE", "2026-02"),
        ("PERSON", "张世华"),
        ("ORG", "交通银行"),
    } <= found[0]
    assert {
        ("PERCENT", "0.028"),
        ("PERCENT_POINT", "0.003 pp"),
        ("PERCENT", "0.058"),
        ("DATE", "2026-Q1"),
        ("DATE", "2026-06-10"),
        ("PERSON", "薛洪言"),
    } <= found[1]


@pytest.mark.parametrize(
    ("text", "pairs"),
    [
        ("据交通银行(601328.SH)消息。", [("交通银行", "601328.SH")]),
        ("贵阳银行（601997）发布公告。", [("贵阳银行", "601997.SH")]),
        ("腾讯控股(00700.HK)股价上涨。", [("腾讯控股", "00700.HK")]),
        (
            "*ST郑煤(600121)和昊志机电(300503)公告增持。",
            [("*ST郑煤", "600121.SH"), ("昊志机电", "300503.SZ")],
        ),
    ],
)
def test_ticker_links_the_company_named_before_it(text: str, pairs, nlp) -> None:  # type: ignore[no-untyped-def]
    entities = _extract(text, nlp)
    linked = [
        (entities[e.linked_idx].text, e.normalized)
        for e in entities
        if e.entity_type == "TICKER" and e.linked_idx is not None
    ]
    assert linked == pairs
    for e in entities:
        if e.linked_idx is not None:
            assert entities[e.linked_idx].entity_type == "ORG"


def test_ticker_without_a_name_before_it_links_nothing(nlp) -> None:  # type: ignore[no-untyped-def]
    [ticker] = [e for e in _extract("代码为601328.SH。", nlp) if e.entity_type == "TICKER"]
    assert ticker.linked_idx is None
