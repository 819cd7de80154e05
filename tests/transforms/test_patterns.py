"""Pattern entities and protected spans: the examples here are a contract with downstream users.

`pattern_matches` returns every match, overlapping ones included; `extract_entities` keeps
the longest non-overlapping ones, so where two patterns compete the tests go through it.
"""

from __future__ import annotations

import random
from datetime import date
from itertools import pairwise

import pytest

from transforms.entities import Entity, extract_entities
from transforms.patterns import (
    _HALF_WIDTH,
    Match,
    _half_width,
    _longest_first,
    pattern_matches,
    protected_spans,
)
from transforms.sentences import split_sentences

PUB = date(2026, 6, 15)

Expected = tuple[str, str, str, float | None]


def _resolved(text: str, pub_date: date = PUB) -> list[Entity]:
    """Pattern entities after overlap resolution (no tagger: tag-based types stay out)."""
    return extract_entities(text, split_sentences(text, [0]), [], pub_date=pub_date)


def _rows(entities: list[Entity]) -> list[Expected]:
    return [(e.entity_type, e.text, e.normalized, e.number) for e in entities]


def _assert_rows(got: list[Expected], expected: list[Expected]) -> None:
    assert [row[:3] for row in got] == [row[:3] for row in expected], got
    for (*_, number), (*_, want) in zip(got, expected, strict=True):
        if want is None:
            assert number is None
        else:
            assert number == pytest.approx(want)


def _of_type(text: str, kind: str, pub_date: date = PUB) -> list[Match]:
    return [m for m in pattern_matches(text, pub_date) if m.entity_type == kind]


# --- TICKER -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("交通银行(601328.SH)消息。", [("601328.SH", "601328.SH")]),
        ("平安银行000001.SZ上涨。", [("000001.SZ", "000001.SZ")]),
        ("腾讯控股00700.HK走高。", [("00700.HK", "00700.HK")]),
        ("港交所（0388.HK）公告。", [("0388.HK", "00388.HK")]),
        ("中芯国际(688981.sh)公告。", [("688981.sh", "688981.SH")]),
        ("北交所公司830799.BJ上市。", [("830799.BJ", "830799.BJ")]),
        ("贵阳银行（601997）公告。", [("601997", "601997.SH")]),
        ("*ST郑煤(600121)停牌。", [("600121", "600121.SH")]),
        ("中欧价值发现混合(166005)净值上涨。", [("166005", "166005.SZ")]),
        ("宁德时代（300750）公告。", [("300750", "300750.SZ")]),
        ("贝特瑞（835185）公告。", [("835185", "835185.BJ")]),
        ("小米集团（01810）公告。", [("01810", "01810.HK")]),
        ("证券代码：600121", [("600121", "600121.SH")]),
        ("行情SH600519走强。", [("SH600519", "600519.SH")]),
        ("全角（６０１３２８．ＳＨ）代码。", [("６０１３２８．ＳＨ", "601328.SH")]),
        # Six-digit codes run together in reader-comment pages.
        ("看好601128002682", [("601128", "601128.SH"), ("002682", "002682.SZ")]),
        (
            "300750920002430047，都好。",
            [("300750", "300750.SZ"), ("920002", "920002.BJ"), ("430047", "430047.BJ")],
        ),
        (
            "买了600000601398688981300750000001",
            [
                ("600000", "600000.SH"),
                ("601398", "601398.SH"),
                ("688981", "688981.SH"),
                ("300750", "300750.SZ"),
                ("000001", "000001.SZ"),
            ],
        ),
    ],
)
def test_ticker(text: str, expected: list[tuple[str, str]]) -> None:
    got = [(text[m.start : m.end], m.normalized, m.number) for m in _of_type(text, "TICKER")]
    assert got == [(span, normalized, None) for span, normalized in expected]


@pytest.mark.parametrize(
    "text",
    [
        "2026年营收增长。",
        "２０２６年营收增长。",
        "联系电话13800138000。",
        "转让价款600000元。",
        "公司年报(2018)显示。",
        "见附表：(601997)。",  # a bare bracket with no name before it
        "代码1234567.SH无效。",
        "腾讯控股(700.HK)走高。",
        "余额600000。",  # a lone six-digit number is not a code
        "编号601128123456。",  # 123456 has no A-share prefix: not a run of codes
        "编号6011280026821。",  # 13 digits: not a multiple of six
        "编号601128002682601398600000000001300750。",  # six codes: more than five
        "身份证110101199003071234。",
        "金额601128002682.5元。",
    ],
)
def test_not_a_ticker(text: str) -> None:
    assert _of_type(text, "TICKER") == []


# --- MONEY --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("启动了1亿元规模的基金。", ("MONEY", "1亿元", "100000000 CNY", 1e8)),
        ("贷款额度50万元。", ("MONEY", "50万元", "500000 CNY", 5e5)),
        ("贷款额度300万元。", ("MONEY", "300万元", "3000000 CNY", 3e6)),
        ("直逼千亿元规模。", ("MONEY", "千亿元", "100000000000 CNY", 1e11)),
        ("已破百亿元。", ("MONEY", "百亿元", "10000000000 CNY", 1e10)),
        ("规模1.2万亿元。", ("MONEY", "1.2万亿元", "1200000000000 CNY", 1.2e12)),
        ("融资3000万美元。", ("MONEY", "3000万美元", "30000000 USD", 3e7)),
        ("社零总额２８２０亿，同比增长。", ("MONEY", "２８２０亿", "282000000000 CNY", 2.82e11)),
        ("市值达到5万亿。", ("MONEY", "5万亿", "5000000000000 CNY", 5e12)),
        ("用户消费规模达2820亿。", ("MONEY", "2820亿", "282000000000 CNY", 2.82e11)),
        ("贷款余额601,293.11元。", ("MONEY", "601,293.11元", "601293.11 CNY", 601293.11)),
        ("增长1,200万元。", ("MONEY", "1,200万元", "12000000 CNY", 1.2e7)),
        ("票价0.5元。", ("MONEY", "0.5元", "0.5 CNY", 0.5)),
        ("额度５０万元。", ("MONEY", "５０万元", "500000 CNY", 5e5)),
        ("投资三千万元。", ("MONEY", "三千万元", "30000000 CNY", 3e7)),
        ("投资五百亿元。", ("MONEY", "五百亿元", "50000000000 CNY", 5e10)),
        ("奖励一百二十万元。", ("MONEY", "一百二十万元", "1200000 CNY", 1.2e6)),
        ("投资两千万元。", ("MONEY", "两千万元", "20000000 CNY", 2e7)),
        ("投资三点五亿元。", ("MONEY", "三点五亿元", "350000000 CNY", 3.5e8)),
        ("投资一亿五千万元。", ("MONEY", "一亿五千万元", "150000000 CNY", 1.5e8)),
        ("投资1亿5000万元。", ("MONEY", "1亿5000万元", "150000000 CNY", 1.5e8)),
        ("直逼千亿规模。", ("MONEY", "千亿", "100000000000 CNY", 1e11)),
        ("募资2.5亿港元。", ("MONEY", "2.5亿港元", "250000000 HKD", 2.5e8)),
        ("募资2亿港币。", ("MONEY", "2亿港币", "200000000 HKD", 2e8)),
        ("投资5亿人民币。", ("MONEY", "5亿人民币", "500000000 CNY", 5e8)),
        ("罚款300万欧元。", ("MONEY", "300万欧元", "3000000 EUR", 3e6)),
        ("售价1000万日元。", ("MONEY", "1000万日元", "10000000 JPY", 1e7)),
        ("年薪20万英镑。", ("MONEY", "20万英镑", "200000 GBP", 2e5)),
        ("钢价3000元/吨。", ("MONEY", "3000元/吨", "3000 CNY/吨", 3000.0)),
        ("发行价10.5元/股。", ("MONEY", "10.5元/股", "10.5 CNY/股", 10.5)),
        # 余 / 多 ("more than"): the number is the stated base.
        ("补贴300余万元。", ("MONEY", "300余万元", "3000000 CNY", 3e6)),
        ("亏损1亿多元。", ("MONEY", "1亿多元", "100000000 CNY", 1e8)),
    ],
)
def test_money(text: str, expected: Expected) -> None:
    _assert_rows(_rows(_resolved(text)), [expected])


@pytest.mark.parametrize(
    "text",
    [
        "（单位：万元）",  # a unit with no amount
        "单位：亿元。",
        "三元锂电池装机量。",  # 三元 without a place value is not an amount
        "2026元旦假期。",
        "融资数千万元。",  # vague amounts
        "几百万元的投入。",
        "四五万元的投入。",  # 40 to 50 thousand: a range, not an amount
        "千万不要大意。",
        "全国有3.3万部微短剧。",
        "旅客达7亿人次。",
        "地球已有46亿年历史。",
        "国内用户近7亿。",  # an amount in 亿 that counts users
        "用户规模达10亿。",
        "覆盖10亿用户。",
        "发行1000万股。",
        "万人空巷。",
        "亿亿五元。",  # malformed numerals are skipped, not raised
    ],
)
def test_not_money(text: str) -> None:
    assert _of_type(text, "MONEY") == []


# --- QUANTITY -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("全国有3.3万部微短剧。", ("QUANTITY", "3.3万部", "33000 部", 33000.0)),
        ("旅客达7亿人次。", ("QUANTITY", "7亿人次", "700000000 人次", 7e8)),
        ("发行1000万股。", ("QUANTITY", "1000万股", "10000000 股", 1e7)),
        ("服务300万户。", ("QUANTITY", "300万户", "3000000 户", 3e6)),
        ("全国14亿人。", ("QUANTITY", "14亿人", "1400000000 人", 1.4e9)),
        ("共有120家银行。", ("QUANTITY", "120家", "120 家", 120.0)),
        ("销售两万辆。", ("QUANTITY", "两万辆", "20000 辆", 2e4)),
        ("培训三百人。", ("QUANTITY", "三百人", "300 人", 300.0)),
        ("招聘5000余人。", ("QUANTITY", "5000余人", "5000 人", 5000.0)),
        ("装机1200万千瓦。", ("QUANTITY", "1200万千瓦", "12000000 千瓦", 1.2e7)),
        ("产量10万吨。", ("QUANTITY", "10万吨", "100000 吨", 1e5)),
        ("面积30平方米。", ("QUANTITY", "30平方米", "30 平方米", 30.0)),
        ("全长1,200公里。", ("QUANTITY", "1,200公里", "1200 公里", 1200.0)),
        ("共5.5万套。", ("QUANTITY", "5.5万套", "55000 套", 5.5e4)),
        ("成交3万笔。", ("QUANTITY", "3万笔", "30000 笔", 3e4)),
        ("签约10个项目。", ("QUANTITY", "10个", "10 个", 10.0)),
        ("卖出100手。", ("QUANTITY", "100手", "100 手", 100.0)),
        ("发放2万张。", ("QUANTITY", "2万张", "20000 张", 2e4)),
        ("举办50场。", ("QUANTITY", "50场", "50 场", 50.0)),
        ("流转土地5000亩。", ("QUANTITY", "5000亩", "5000 亩", 5000.0)),
        ("交付3艘。", ("QUANTITY", "3艘", "3 艘", 3.0)),
    ],
)
def test_quantity(text: str, expected: Expected) -> None:
    _assert_rows(_rows(_resolved(text)), [expected])


MEASURE_WORDS = (
    "人次", "人", "户", "家", "部", "件", "台", "辆", "套", "吨", "股", "手", "只", "个",
    "项", "条", "笔", "张", "次", "场", "所", "座", "架", "艘", "亩", "平方米", "公里", "千瓦",
)  # fmt: skip


@pytest.mark.parametrize("measure", MEASURE_WORDS)
def test_every_measure_word_makes_a_quantity(measure: str) -> None:
    text = f"共计3万{measure}。"
    expected = ("QUANTITY", f"3万{measure}", f"30000 {measure}", 30000.0)
    _assert_rows(_rows(_resolved(text)), [expected])


@pytest.mark.parametrize(
    "text",
    [
        "第3次会议。",  # ordinal
        "3个月以来。",  # a duration
        "一个项目。",  # 一 with no place value
        "2026人工智能大会。",
        "5人民币。",
        "万人空巷。",
        "百家争鸣。",
        "提高0.3个百分点。",
    ],
)
def test_not_quantity(text: str) -> None:
    assert _of_type(text, "QUANTITY") == []


# --- PERCENT and PERCENT_POINT ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("同比下降5.8%。", [("PERCENT", "5.8%", "0.058", 0.058)]),
        ("占比百分之十五。", [("PERCENT", "百分之十五", "0.15", 0.15)]),
        ("占比百分之五十。", [("PERCENT", "百分之五十", "0.5", 0.5)]),
        ("占比百分之12。", [("PERCENT", "百分之12", "0.12", 0.12)]),
        ("占比百分之零点五。", [("PERCENT", "百分之零点五", "0.005", 0.005)]),
        ("占比百分之百。", [("PERCENT", "百分之百", "1", 1.0)]),
        ("同比增长１．２９％。", [("PERCENT", "１．２９％", "0.0129", 0.0129)]),
        ("增速为-3.2%。", [("PERCENT", "-3.2%", "-0.032", -0.032)]),
        ("增速为－3.2％。", [("PERCENT", "－3.2％", "-0.032", -0.032)]),
        ("不良率超10%。", [("PERCENT", "10%", "0.1", 0.1)]),
        ("利率23.4 %。", [("PERCENT", "23.4 %", "0.234", 0.234)]),
        (
            "预计增长5%-8%。",
            [("PERCENT", "5%", "0.05", 0.05), ("PERCENT", "8%", "0.08", 0.08)],
        ),
        (
            "预计增长5%～8%。",
            [("PERCENT", "5%", "0.05", 0.05), ("PERCENT", "8%", "0.08", 0.08)],
        ),
        (
            "预计增长5-8%。",
            [("PERCENT", "5", "0.05", 0.05), ("PERCENT", "8%", "0.08", 0.08)],
        ),
        (
            "预计增长2.5%至3%。",
            [("PERCENT", "2.5%", "0.025", 0.025), ("PERCENT", "3%", "0.03", 0.03)],
        ),
        ("比上年同期提高0.3个百分点。", [("PERCENT_POINT", "0.3个百分点", "0.003 pp", 0.003)]),
        ("快于城镇居民1.7个百分点。", [("PERCENT_POINT", "1.7个百分点", "0.017 pp", 0.017)]),
        ("提高两个百分点。", [("PERCENT_POINT", "两个百分点", "0.02 pp", 0.02)]),
        ("下降三个百分点。", [("PERCENT_POINT", "三个百分点", "0.03 pp", 0.03)]),
        ("下降十二个百分点。", [("PERCENT_POINT", "十二个百分点", "0.12 pp", 0.12)]),
        ("下降零点五个百分点。", [("PERCENT_POINT", "零点五个百分点", "0.005 pp", 0.005)]),
        ("下降0.5百分点。", [("PERCENT_POINT", "0.5百分点", "0.005 pp", 0.005)]),
    ],
)
def test_percent_and_points(text: str, expected: list[Expected]) -> None:
    _assert_rows(_rows(_resolved(text)), expected)


@pytest.mark.parametrize(
    "text",
    ["占比百分之几。", "提高几个百分点。", "提高多个百分点。", "百分点。", "百分比上升。"],
)
def test_not_percent(text: str) -> None:
    assert [m for m in pattern_matches(text, PUB) if m.entity_type.startswith("PERCENT")] == []


def test_range_dash_is_not_a_sign() -> None:
    matches = _of_type("增长5%-8%。", "PERCENT")
    assert [m.number for m in matches] == pytest.approx([0.05, 0.08])


# --- DATE ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "span", "normalized"),
    [
        ("2026年6月4日落地。", "2026年6月4日", "2026-06-04"),
        ("２０２６年６月４日落地。", "２０２６年６月４日", "2026-06-04"),
        ("6月9日举行。", "6月9日", "2026-06-09"),
        ("3月31日截止。", "3月31日", "2026-03-31"),
        ("6月9号举行。", "6月9号", "2026-06-09"),
        ("7月10日召开。", "7月10日", "2026-07-10"),
        ("7月20日召开。", "7月20日", "2025-07-20"),
        ("12月20日发布。", "12月20日", "2025-12-20"),
        ("于2026年2月首推。", "2026年2月", "2026-02"),
        ("今年6月落地。", "今年6月", "2026-06"),
        ("去年12月20日发布。", "去年12月20日", "2025-12-20"),
        ("一季度增长。", "一季度", "2026-Q1"),
        ("第二季度回升。", "第二季度", "2026-Q2"),
        ("去年四季度回落。", "去年四季度", "2025-Q4"),
        ("2025年第三季度回落。", "2025年第三季度", "2025-Q3"),
        ("2025年3季度回落。", "2025年3季度", "2025-Q3"),
        ("2026年一季度增长。", "2026年一季度", "2026-Q1"),
        ("今年以来增长。", "今年", "2026"),
        ("去年同期。", "去年", "2025"),
        ("明年落地。", "明年", "2027"),
        ("前年同期。", "前年", "2024"),
        ("2025年全国增长。", "2025年", "2025"),
        ("2025年十大新闻。", "2025年", "2025"),
        ("规划2025—2027年。", "2025—2027年", "2025/2027"),
        ("规划2025-2027年。", "2025-2027年", "2025/2027"),
        ("规划2025–2027年。", "2025–2027年", "2025/2027"),
        ("规划2025~2027年。", "2025~2027年", "2025/2027"),
        ("规划2025至2027年。", "2025至2027年", "2025/2027"),
        ("规划2025年至2027年。", "2025年至2027年", "2025/2027"),
        ("规划２０２５－２０２７年。", "２０２５－２０２７年", "2025/2027"),
        ("二〇二五年工作报告。", "二〇二五年", "2025"),
        ("二○○一年加入世贸组织。", "二○○一年", "2001"),
        ("二零二五年工作报告。", "二零二五年", "2025"),
        ("二〇二五年六月。", "二〇二五年六月", "2025-06"),
        ("二〇二五年十二月三十一日。", "二〇二五年十二月三十一日", "2025-12-31"),
        ("十二月三十一日。", "十二月三十一日", "2025-12-31"),
        ("2026年六月四日。", "2026年六月四日", "2026-06-04"),
    ],
)
def test_date(text: str, span: str, normalized: str) -> None:
    _assert_rows(_rows(_resolved(text)), [("DATE", span, normalized, None)])


def test_month_day_resolves_against_the_publication_date() -> None:
    text = "6月9日和3月31日。"
    got = [(text[m.start : m.end], m.normalized) for m in _of_type(text, "DATE")]
    assert got == [("6月9日", "2026-06-09"), ("3月31日", "2026-03-31")]


@pytest.mark.parametrize(
    "text",
    [
        "2025年度报告发布。",
        "6月31日无此日期。",
        "13月2日无此月份。",
        "2026年13月无此月份。",
        "2026年2月30日无此日期。",
        "已有5000年历史。",
        "一二三四年。",
        "第13季度。",
        "二〇二五年十三月。",
        "十二月三十二日。",
    ],
)
def test_not_a_date(text: str) -> None:
    assert _of_type(text, "DATE") == []


def test_reversed_year_range_is_not_a_range() -> None:
    text = "2027—2025年。"
    assert [m.normalized for m in _of_type(text, "DATE")] == ["2025"]


# --- Overlaps, offsets and the tagger -----------------------------------------------------


def test_longest_pattern_wins() -> None:
    text = "2026年6月4日，规模1.2万亿元，3.3万部，提高0.3个百分点，2025—2027年。"
    _assert_rows(
        _rows(_resolved(text)),
        [
            ("DATE", "2026年6月4日", "2026-06-04", None),
            ("MONEY", "1.2万亿元", "1200000000000 CNY", 1.2e12),
            ("QUANTITY", "3.3万部", "33000 部", 33000.0),
            ("PERCENT_POINT", "0.3个百分点", "0.003 pp", 0.003),
            ("DATE", "2025—2027年", "2025/2027", None),
        ],
    )


def test_offsets_index_the_original_text() -> None:
    text = "额度５０万元，增长－１．２％，代码（６０１３２８．ＳＨ），２０２６年６月４日。"
    entities = _resolved(text)
    assert [e.text for e in entities] == [
        "５０万元",
        "－１．２％",
        "６０１３２８．ＳＨ",
        "２０２６年６月４日",
    ]
    for e in entities:
        assert text[e.start : e.end] == e.text


def test_tagged_names_and_pattern_entities_together(nlp) -> None:  # type: ignore[no-untyped-def]
    from transforms.tagging import tokenize

    text = "贵阳银行（601997）去年净利润50亿元，增长5.8%。"
    sentences = split_sentences(text, [0])
    tokens = tokenize(text, sentences, tagger=nlp.tagger)
    entities = extract_entities(
        text, sentences, tokens, pub_date=PUB, places=nlp.places, surnames=nlp.surnames
    )
    tagged = {"PERSON", "ORG", "LOC"}
    got = [(e.entity_type, e.text) for e in entities if e.entity_type not in tagged]
    assert got == [
        ("TICKER", "601997"),
        ("DATE", "去年"),
        ("MONEY", "50亿元"),
        ("PERCENT", "5.8%"),
    ]


# --- Protected spans ----------------------------------------------------------------------


def _protected(text: str) -> list[tuple[str, str]]:
    spans = protected_spans(text)
    assert spans == sorted(spans)
    for (_, end, _), (start, _, _) in pairwise(spans):
        assert end <= start
    return [(text[s:e], pos) for s, e, pos in spans]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("据交通银行(601328.SH)消息。", [("601328.SH", "nz")]),
        ("腾讯控股00700.HK走高。", [("00700.HK", "nz")]),
        ("贵阳银行（601997）公告。", [("601997", "nz")]),
        ("看好601128002682", [("601128", "nz"), ("002682", "nz")]),
        ("启动了1亿元规模的基金。", [("1亿元", "m")]),
        ("规模1.2万亿元。", [("1.2万亿元", "m")]),
        ("余额601,293.11元。", [("601,293.11元", "m")]),
        ("投资三千万元。", [("三千万元", "m")]),
        ("全国有3.3万部微短剧。", [("3.3万部", "m")]),
        ("占比23.4%。", [("23.4%", "m")]),
        ("增速为-3.2%。", [("-3.2%", "m")]),
        ("提高0.3个百分点。", [("0.3个百分点", "m")]),
        ("指数收于3.09点。", [("3.09", "m")]),
        ("报1,175.28点。", [("1,175.28", "m")]),
        ("规划2025—2027年。", [("2025—2027年", "t")]),
        # Each part of a date is one word, as both SIGHAN standards write years.
        ("2026年6月4日落地。", [("2026年", "t"), ("6月", "t"), ("4日", "t")]),
        ("6月9日举行。", [("6月", "t"), ("9日", "t")]),
        ("13月和32日不是日期。", []),
        ("今年一季度增长。", []),
        ("版本192.168.1.1无关。", []),
        # A bare count is numeral and classifier, two words; a scaled one stays whole.
        ("共有2026家。", []),
        ("共有3万家。", [("3万家", "m")]),
    ],
)
def test_protected_spans(text: str, expected: list[tuple[str, str]]) -> None:
    assert _protected(text) == expected


def test_protected_spans_in_a_sentence_keep_offsets_and_do_not_overlap() -> None:
    text = (
        "２０２６年６月４日，交通银行（６０１３２８．ＳＨ）贷款１．２万亿元，"
        "增长２３．４％，指数３．０９。"
    )
    assert _protected(text) == [
        ("２０２６年", "t"),
        ("６月", "t"),
        ("４日", "t"),
        ("６０１３２８．ＳＨ", "nz"),
        ("１．２万亿元", "m"),
        ("２３．４％", "m"),
        ("３．０９", "m"),
    ]
    start = text.index("６０１３２８")
    assert protected_spans(text)[3] == (start, start + 9, "nz")


def _pairwise_longest_first(spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Each span, longest first, against every span kept before it."""
    kept: list[tuple[int, int, str]] = []
    for span in sorted(spans, key=lambda s: (s[0] - s[1], s[0])):
        if all(span[1] <= s or span[0] >= e for s, e, _ in kept):
            kept.append(span)
    return sorted(kept)


def test_overlapping_spans_keep_the_longest_as_a_pairwise_check_would() -> None:
    """Nested, touching, equal-length and empty spans, in any order."""
    rng = random.Random(20260615)
    for _ in range(3000):
        spans = []
        for _ in range(rng.randint(0, 40)):
            start = rng.randint(0, 80)
            spans.append((start, start + rng.randint(0, 9), rng.choice("mtx")))
        assert _longest_first(spans) == _pairwise_longest_first(spans)


def test_full_width_runs_become_half_width_as_translate_would() -> None:
    full = "".join(chr(c) for c in range(0xFF01, 0xFF5F)) + "\u3000"
    text = f"招商银行（６０００３６．ＳＨ）净利润增长１２．５％，{full}同比，　来源：新华社"
    half = _half_width(text)
    assert half == text.translate(_HALF_WIDTH)
    assert len(half) == len(text)
    assert "(600036.SH)" in half and "12.5%" in half and "，" in half
    assert _half_width("没有全角字符的句子。") == "没有全角字符的句子。"
