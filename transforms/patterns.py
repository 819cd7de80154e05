"""Entities found by pattern, with normalised values: tickers, money, quantities, percentages,
percentage points and dates (resolved against the publication date), and the spans the
tokenizer must keep whole.

Patterns run on the text with full-width ASCII mapped to ASCII, one character for one,
so offsets index the original text. Amounts are computed with `Decimal`, so 3.3万 is
33000 and not 32999.999999999996.
"""

from __future__ import annotations

import calendar
import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache

import cn2an

from transforms.normalize import run_translator

# Full-width ASCII maps one-to-one onto ASCII, so matching on the mapped text keeps offsets.
# The full-width comma stays: in Chinese text it separates clauses, never thousands.
_HALF_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F) if code != 0xFF0C} | {
    0x3000: 0x20
}
_full_width_to_ascii = run_translator(_HALF_WIDTH)


def _half_width(text: str) -> str:
    """`text.translate(_HALF_WIDTH)`: the same length, so offsets stay valid."""
    return _full_width_to_ascii(text)


_NUM = r"\d+(?:,\d{3})*(?:\.\d+)?"
_CN_DIGITS = "零〇○一二两三四五六七八九"
_CN_PLACES = "十百千万亿"
_CN_NUMERAL = rf"[{_CN_DIGITS}{_CN_PLACES}]+(?:点[{_CN_DIGITS}]+)?"
# Two non-zero digits in a row (四五万, 两三个) give a rough range, not a number.
_CN_DIGIT_PAIR = re.compile("[一二两三四五六七八九]{2}")
_SP = r"[ \t]*"
_DASH = r"(?:[-~–—〜]{1,2}|至|到)"

_SCALE = {
    "": 1,
    "十": 10,
    "百": 100,
    "千": 1_000,
    "万": 10_000,
    "十万": 100_000,
    "百万": 1_000_000,
    "千万": 10_000_000,
    "亿": 100_000_000,
    "十亿": 1_000_000_000,
    "百亿": 10_000_000_000,
    "千亿": 100_000_000_000,
    "万亿": 1_000_000_000_000,
}
_SCALES_LONGEST_FIRST = sorted((s for s in _SCALE if s), key=len, reverse=True)
_CURRENCY = {
    "元": "CNY",
    "人民币": "CNY",
    "美元": "USD",
    "港元": "HKD",
    "港币": "HKD",
    "欧元": "EUR",
    "日元": "JPY",
    "英镑": "GBP",
}
_MEASURE_WORDS = (
    "人次", "人", "户", "家", "部", "件", "台", "辆", "套", "吨", "股", "手", "只", "个",
    "项", "条", "笔", "张", "次", "场", "所", "座", "架", "艘", "亩", "平方米", "平米",
    "平方公里", "公顷", "公里", "立方米", "千瓦时", "千瓦", "公斤", "千克",
)  # fmt: skip
# Words that start with a measure word but are not one: 人工智能, 人民币, 3部门, 3个月,
# 5000万手机用户.
_MEASURE_NOT_BEFORE = {
    "人": "工|民|大",
    "部": "门|委|长",
    "股": "东|价|市",
    "手": "机|续|段|术",
    "只": "有|是|能|要",
    "个": "月|季度|百分点|小时|工作日|交易日|星期",
    "条": "件|例",
    "所": "有|得|属|以",
}
# Next to an amount in 亿 with no currency, these show it counts something other than money:
# after it (46亿年, 10亿用户) or shortly before it in the clause (国内用户近7亿).
_NON_MONEY_NOUNS = ("年", "岁", "光年", "像素", "参数", "用户", "网民", "字")
_COUNT_NOUNS = (
    "用户", "网民", "人口", "受众", "观众", "粉丝", "游客", "旅客", "人数", "数量", "次数",
    "销量", "参数",
)  # fmt: skip
_COUNT_LOOKBACK = 10


# Clause ends no pattern here matches, looks at or looks past: a match, its lookbehind and
# its lookahead lie within one clause, and the end of a clause reads as the end of the text
# to every lookahead (none of them accepts these characters, or the end).
_CLAUSE_ENDS = re.compile("[，。]")


@lru_cache(maxsize=8)
def _clause_ends(text: str) -> tuple[int, ...]:
    """Where the clauses of `text` end (the same text is scanned by a dozen patterns)."""
    return tuple(m.start() for m in _CLAUSE_ENDS.finditer(text))


class _Needing:
    """A pattern each of whose matches needs one of a few strings (a `%`, a bracket, `年`,
    a digit) inside the match or its lookarounds, which never cross a clause end: only the
    clauses holding one are scanned. Most clauses hold no `%`, and a scan of the whole text
    costs far more than looking for a character.

    The clauses are scanned in place (`finditer` with `pos` and `endpos`), so lookbehinds
    see the text before them; a test holds every pattern to a scan of the whole text.
    """

    __slots__ = ("finder", "needs", "pattern")

    def __init__(self, pattern: str, needs: tuple[str, ...], flags: int = 0) -> None:
        self.pattern = re.compile(pattern, flags)
        self.needs = needs
        self.finder = re.compile("|".join(re.escape(n) for n in sorted(needs, key=len)[::-1]))

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        found = self.finder.search(text)
        if found is None:
            return
        ends = _clause_ends(text)
        last = len(ends)
        while found is not None:
            # The clause holding the needle, and the following ones while they hold one.
            at = bisect_right(ends, found.start())
            start = ends[at - 1] + 1 if at else 0
            while True:
                end = ends[at] if at < last else len(text)
                found = self.finder.search(text, end)
                if found is None or found.start() > (ends[at + 1] if at + 1 < last else len(text)):
                    break
                at += 1
            yield from self.pattern.finditer(text, start, end)


def _alternation(words: Iterable[str]) -> str:
    return "|".join(sorted(words, key=len, reverse=True))


def _measure_alternation() -> str:
    words = sorted(_MEASURE_WORDS, key=len, reverse=True)
    return "|".join(
        f"{w}(?!{_MEASURE_NOT_BEFORE[w]})" if w in _MEASURE_NOT_BEFORE else w for w in words
    )


_MEASURE = _measure_alternation()
_DIGITS = tuple("0123456789")
_SCALE_ALT = _alternation(_SCALES_LONGEST_FIRST)
_CURRENCY_ALT = _alternation(_CURRENCY)

# An amount: Arabic (with an optional 亿 part, 1亿5000万) or Chinese numerals, an optional
# scale, and 余/多 ("more than") around the scale. It never starts inside another number
# or after 数/几 (数千万: a vague amount).
_AMOUNT = (
    rf"(?<![\d.,{_CN_DIGITS}{_CN_PLACES}数几])"
    rf"(?:(?P<arabic>{_NUM})(?:{_SP}亿{_SP}(?P<rest>\d+(?:\.\d+)?))?|(?P<chinese>{_CN_NUMERAL}))"
    rf"{_SP}[余多]?(?P<scale>{_SCALE_ALT})?[余多]?"
)

_TICKER_SUFFIXED = _Needing(
    r"(?<![\d.])(?:(?P<code>\d{6})\.(?P<exchange>SH|SZ|BJ)|(?P<hk>\d{4,5})\.HK)(?![A-Za-z0-9])",
    (".",),
    re.I,
)
_TICKER_PREFIXED = _Needing(
    r"(?<![A-Za-z0-9])(?P<exchange>SH|SZ|BJ)(?P<code>\d{6})(?![\d.])", ("SH", "SZ", "BJ")
)
# A bare bracketed code needs a name (or the * of *ST) right before the bracket: (2018) is not.
_TICKER_BRACKETED = _Needing(r"(?<=[\u4e00-\u9fffA-Za-z*]\()(\d{6}|0\d{4})(?=\))", ("(",))
_TICKER_LABELLED = _Needing(r"代码:[ \t]*(\d{6})(?![\d.])", ("代码:",))
_TICKER_RUN = _Needing(r"(?<![\dA-Za-z.,])\d{12,30}(?![\dA-Za-z.,%元万亿])", _DIGITS)
_A_SHARE_CODE = re.compile(r"(?:60[0135]|68[89]|00[0-3]|30[01]|4\d\d|8\d\d|920)\d{3}")
_CODE_LEN = 6

# Amounts with or without a currency; `_money_matches` keeps those with one, or with 亿
# (`_is_bare_money`), so only clauses holding either are scanned.
_MONEY = _Needing(
    rf"{_AMOUNT}(?:(?P<currency>{_CURRENCY_ALT})(?![旦宵])(?:/(?P<per>{_MEASURE}))?)?",
    (*_CURRENCY, "亿"),
)
_NOT_MONEY_AFTER = re.compile(rf"{_alternation(_MEASURE_WORDS + _NON_MONEY_NOUNS)}|\d")
_COUNT_BEFORE = re.compile(rf"(?:{_alternation(_COUNT_NOUNS)})[^，。；！？,;!?\s]{{0,4}}$")
_QUANTITY = _Needing(rf"(?<!第){_AMOUNT}(?P<measure>{_MEASURE})", _MEASURE_WORDS)

_PERCENT = _Needing(rf"(?P<sign>(?<![\d%.])[-−])?(?P<num>{_NUM}){_SP}%", ("%",))
# The lower end of 5-8%: a percentage whose sign is written once, after the upper end.
_PERCENT_RANGE_LOW = _Needing(
    rf"(?<![\d.,])(?P<num>{_NUM}){_SP}{_DASH}{_SP}(?={_NUM}{_SP}%)", ("%",)
)
_PERCENT_WORDS = _Needing(
    rf"百分之(?:(?P<num>{_NUM})|(?P<chinese>[{_CN_DIGITS}十百千]+(?:点[{_CN_DIGITS}]+)?))",
    ("百分之",),
)
_PERCENT_POINT = _Needing(
    rf"(?<![\d.,{_CN_DIGITS}十百千])"
    rf"(?:(?P<num>{_NUM})|(?P<chinese>[{_CN_DIGITS}十百]+(?:点[{_CN_DIGITS}]+)?))"
    rf"{_SP}个?百分点",
    ("百分点",),
)

_CN_YEAR_DIGITS = "〇○零一二三四五六七八九"
_YEAR_DIGIT_MAP = str.maketrans(_CN_YEAR_DIGITS, "000123456789")
_YEAR_RANGE_OK = (1900, 2099)
_Y4 = rf"(?:(?:19|20)\d\d|[{_CN_YEAR_DIGITS}]{{4}})"
_DATE_START = rf"(?<![\d{_CN_YEAR_DIGITS}])"
_YEAR_PART = rf"(?:(?P<year>{_Y4})年|(?P<rel>今年|去年|明年|前年))"
_CN_SMALL = "一二三四五六七八九十"
_MONTH = rf"(?P<month>\d{{1,2}}|[{_CN_SMALL}]{{1,2}})月"
_DAY_NUMBER = rf"(?:\d{{1,2}}|[{_CN_SMALL}]{{1,3}})"
_DAY = rf"(?P<day>{_DAY_NUMBER})[日号]"
_FULL_DATE = _Needing(rf"{_DATE_START}{_YEAR_PART}{_MONTH}{_DAY}", ("月",))
_YEAR_MONTH = _Needing(rf"{_DATE_START}{_YEAR_PART}{_MONTH}(?!{_DAY_NUMBER}[日号])", ("月",))
_MONTH_DAY = _Needing(rf"(?<![\d年{_CN_SMALL}]){_MONTH}{_DAY}", ("月",))
_YEAR_QUARTER = _Needing(rf"{_DATE_START}{_YEAR_PART}?第?(?P<quarter>[一二三四1-4])季度", ("季度",))
# A year directly followed by a month is a month, valid or not (2026年13月 is no date).
_YEAR = _Needing(rf"{_DATE_START}(?P<year>{_Y4})年(?!\d|度|[{_CN_SMALL}]{{1,2}}月)", ("年",))
_RELATIVE_YEAR = re.compile(r"今年|去年|明年|前年")
_YEAR_RANGE = _Needing(
    rf"{_DATE_START}(?P<first>{_Y4})年?{_SP}{_DASH}{_SP}(?P<last>{_Y4})年", ("年",)
)
_QUARTERS = {"一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4}
_YEAR_SHIFT = {"今年": 0, "去年": -1, "明年": 1, "前年": -2}
# A month-day without a year is read as the nearest such date not far after publication.
_MAX_DAYS_AHEAD = 31

# Numbers with a point or thousands separators: jieba cuts 1,175.28 at the comma.
_DECIMAL = _Needing(
    r"(?<![\dA-Za-z.,])\d+(?:(?:,\d{3})+(?:\.\d+)?|\.\d+)(?![.,]?\d|[A-Za-z])", (".", ",")
)
_PROTECTED_POS = {
    "TICKER": "nz",
    "MONEY": "m",
    "QUANTITY": "m",
    "PERCENT": "m",
    "PERCENT_POINT": "m",
    "DATE": "t",
}


@dataclass(frozen=True)
class Match:
    """A pattern match: its type, span, normalised value and number (if numeric)."""

    entity_type: str
    start: int
    end: int
    normalized: str
    number: float | None


def exchange_for(code: str) -> str:
    """Exchange of a mainland A/B-share code by its leading digits."""
    if code.startswith(("60", "68", "90")):
        return "SH"
    if code.startswith(("00", "30", "20")):
        return "SZ"
    if code.startswith(("4", "8", "92")):
        return "BJ"
    return "SH" if code.startswith("5") else "SZ"


# --- Numbers ------------------------------------------------------------------------------


def _format_number(value: Decimal) -> str:
    """Plain decimal text: integers without a point, others without trailing zeros."""
    if value == value.to_integral_value():
        return f"{value:.0f}"
    return format(value.normalize(), "f")


def _chinese_number(numeral: str) -> Decimal | None:
    """Value of a Chinese numeral (三千万, 零点五, 千亿), or None if cn2an cannot read it.

    cn2an wants a leading digit (百, 千亿 fail) and a point only at the end (三点五亿
    fails), so bare units come from the scale table and a trailing unit is split off.
    """
    numeral = numeral.replace("○", "〇")
    if numeral in _SCALE:
        return Decimal(_SCALE[numeral])
    try:
        return Decimal(str(cn2an.cn2an(numeral, "normal")))
    except (ValueError, KeyError, IndexError):  # KeyError: malformed input such as 亿亿五
        pass
    for unit in _SCALES_LONGEST_FIRST:
        if numeral.endswith(unit) and len(numeral) > len(unit):
            head = _chinese_number(numeral[: -len(unit)])
            return None if head is None else head * _SCALE[unit]
    return None


def _chinese_amount(numeral: str, scaled: bool) -> Decimal | None:
    """A Chinese-numeral amount, refusing what is a word rather than a number.

    An amount needs a place value (三元锂电池 and 一元化 are not money, 三百元 is), a
    lone unit is no amount (单位：万元), and 四五万 is a range.
    """
    integer = numeral.split("点")[0]
    if not scaled and not any(c in _CN_PLACES for c in integer):
        return None
    if all(c in _CN_PLACES for c in numeral) and len(numeral) < 2 and not scaled:
        return None
    if _CN_DIGIT_PAIR.search(integer):
        return None
    return _chinese_number(numeral)


def _amount(m: re.Match[str]) -> Decimal | None:
    """Value of an `_AMOUNT` match: base times scale, plus the part after 亿 (1亿5000万)."""
    scale = _SCALE[m["scale"] or ""]
    if m["arabic"] is None:
        base = _chinese_amount(m["chinese"], scaled=bool(m["scale"]))
        return None if base is None else base * scale
    value = Decimal(m["arabic"].replace(",", ""))
    if m["rest"] is None:
        return value * scale
    return value * _SCALE["亿"] + Decimal(m["rest"]) * scale


def _arabic_or_chinese(m: re.Match[str]) -> Decimal | None:
    """The number of a percentage (百分之十五) or points (两个百分点): any numeral counts."""
    if m["num"] is not None:
        return Decimal(m["num"].replace(",", ""))
    if _CN_DIGIT_PAIR.search(m["chinese"].split("点")[0]):
        return None
    return _chinese_number(m["chinese"])


# --- Entity types -------------------------------------------------------------------------


def _ticker(start: int, end: int, normalized: str) -> Match:
    return Match("TICKER", start, end, normalized, None)


def _split_code_run(run: str) -> list[str] | None:
    """Six-digit codes run together (reader comments), if every piece is an A-share code."""
    if len(run) % _CODE_LEN:
        return None
    codes = [run[i : i + _CODE_LEN] for i in range(0, len(run), _CODE_LEN)]
    return codes if all(_A_SHARE_CODE.fullmatch(c) for c in codes) else None


def _ticker_matches(text: str) -> Iterator[Match]:
    for m in _TICKER_SUFFIXED.finditer(text):
        if m["code"]:
            yield _ticker(m.start(), m.end(), f"{m['code']}.{m['exchange'].upper()}")
        else:
            yield _ticker(m.start(), m.end(), f"{m['hk'].zfill(5)}.HK")
    for m in _TICKER_PREFIXED.finditer(text):
        yield _ticker(m.start(), m.end(), f"{m['code']}.{m['exchange']}")
    for m in _TICKER_BRACKETED.finditer(text):
        code = m[1]
        exchange = "HK" if len(code) < _CODE_LEN else exchange_for(code)
        yield _ticker(m.start(), m.end(), f"{code}.{exchange}")
    for m in _TICKER_LABELLED.finditer(text):
        yield _ticker(m.start(1), m.end(1), f"{m[1]}.{exchange_for(m[1])}")
    for m in _TICKER_RUN.finditer(text):
        for i, code in enumerate(_split_code_run(m[0]) or []):
            start = m.start() + i * _CODE_LEN
            yield _ticker(start, start + _CODE_LEN, f"{code}.{exchange_for(code)}")


def _is_bare_money(m: re.Match[str], text: str) -> bool:
    """An amount in 亿 with no unit after it is CNY (２８２０亿), unless it counts things."""
    if "亿" not in m[0] or _NOT_MONEY_AFTER.match(text, m.end()):
        return False
    return not _COUNT_BEFORE.search(text, max(0, m.start() - _COUNT_LOOKBACK), m.start())


def _money_matches(text: str) -> Iterator[Match]:
    for m in _MONEY.finditer(text):
        if m["currency"] is None and not _is_bare_money(m, text):
            continue
        value = _amount(m)
        if value is None:
            continue
        code = _CURRENCY[m["currency"]] if m["currency"] else "CNY"
        per = f"/{m['per']}" if m["per"] else ""
        normalized = f"{_format_number(value)} {code}{per}"
        yield Match("MONEY", m.start(), m.end(), normalized, float(value))


def _quantity_matches(text: str) -> Iterator[Match]:
    """Counts and measures (3.3万部, 7亿人次): a measure word after an amount makes it no money."""
    for m in _QUANTITY.finditer(text):
        value = _amount(m)
        if value is not None:
            normalized = f"{_format_number(value)} {m['measure']}"
            yield Match("QUANTITY", m.start(), m.end(), normalized, float(value))


def _percent(start: int, end: int, percent: Decimal) -> Match:
    fraction = percent / 100
    return Match("PERCENT", start, end, _format_number(fraction), float(fraction))


def _percent_matches(text: str) -> Iterator[Match]:
    for m in _PERCENT.finditer(text):
        value = Decimal(m["num"].replace(",", ""))
        yield _percent(m.start(), m.end(), -value if m["sign"] else value)
    for m in _PERCENT_RANGE_LOW.finditer(text):
        yield _percent(m.start(), m.end("num"), Decimal(m["num"].replace(",", "")))
    for m in _PERCENT_WORDS.finditer(text):
        spelled = _arabic_or_chinese(m)
        if spelled is not None:
            yield _percent(m.start(), m.end(), spelled)


def _percent_point_matches(text: str) -> Iterator[Match]:
    for m in _PERCENT_POINT.finditer(text):
        value = _arabic_or_chinese(m)
        if value is not None:
            fraction = value / 100
            normalized = f"{_format_number(fraction)} pp"
            yield Match("PERCENT_POINT", m.start(), m.end(), normalized, float(fraction))


def _number_matches(text: str) -> Iterator[Match]:
    yield from _ticker_matches(text)
    yield from _money_matches(text)
    yield from _quantity_matches(text)
    yield from _percent_matches(text)
    yield from _percent_point_matches(text)


# --- Dates --------------------------------------------------------------------------------


def _year(digits: str) -> int | None:
    """A written year (2025, 二〇二五, 二○○一) if it is a plausible one."""
    year = int(digits.translate(_YEAR_DIGIT_MAP))
    low, high = _YEAR_RANGE_OK
    return year if low <= year <= high else None


def _year_of(m: re.Match[str], pub_date: date) -> int | None:
    """The year of a `_YEAR_PART` match; the publication year when it has none."""
    if m["year"]:
        return _year(m["year"])
    return pub_date.year + _YEAR_SHIFT[m["rel"] or "今年"]


def _day_number(text: str) -> int:
    """A month or day number, Arabic (6) or Chinese (十二, 三十一); 0 if unreadable."""
    if text.isdigit():
        return int(text)
    value = _chinese_number(text)
    return int(value) if value is not None and value == int(value) else 0


def _resolve_month_day(month: int, day: int, pub_date: date) -> date | None:
    candidates = []
    for year in (pub_date.year - 1, pub_date.year, pub_date.year + 1):
        if day <= calendar.monthrange(year, month)[1]:
            candidates.append(date(year, month, day))
    eligible = [d for d in candidates if (d - pub_date).days <= _MAX_DAYS_AHEAD]
    return max(eligible) if eligible else None


def _valid_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _date(m: re.Match[str], normalized: str) -> Match:
    return Match("DATE", m.start(), m.end(), normalized, None)


def _year_range_matches(text: str) -> Iterator[Match]:
    """2025—2027年 as one period, normalised as an ISO 8601 interval of years."""
    for m in _YEAR_RANGE.finditer(text):
        first, last = _year(m["first"]), _year(m["last"])
        if first and last and first < last:
            yield _date(m, f"{first}/{last}")


def _day_matches(text: str, pub_date: date) -> Iterator[Match]:
    for m in _FULL_DATE.finditer(text):
        year = _year_of(m, pub_date)
        d = _valid_date(year, _day_number(m["month"]), _day_number(m["day"])) if year else None
        if d:
            yield _date(m, d.isoformat())
    for m in _MONTH_DAY.finditer(text):
        month, day = _day_number(m["month"]), _day_number(m["day"])
        d = _resolve_month_day(month, day, pub_date) if 1 <= month <= 12 else None
        if d:
            yield _date(m, d.isoformat())


def _period_matches(text: str, pub_date: date) -> Iterator[Match]:
    for m in _YEAR_MONTH.finditer(text):
        year, month = _year_of(m, pub_date), _day_number(m["month"])
        if year and 1 <= month <= 12:
            yield _date(m, f"{year:04d}-{month:02d}")
    for m in _YEAR_QUARTER.finditer(text):
        year = _year_of(m, pub_date)
        if year:
            yield _date(m, f"{year:04d}-Q{_QUARTERS[m['quarter']]}")
    for m in _YEAR.finditer(text):
        year = _year(m["year"])
        if year:
            yield _date(m, str(year))
    for m in _RELATIVE_YEAR.finditer(text):
        yield _date(m, str(pub_date.year + _YEAR_SHIFT[m[0]]))


def _date_matches(text: str, pub_date: date) -> Iterator[Match]:
    yield from _day_matches(text, pub_date)
    yield from _period_matches(text, pub_date)
    yield from _year_range_matches(text)


# --- Public API ---------------------------------------------------------------------------


def number_matches(text: str) -> list[Match]:
    """Tickers, money, quantities, percentages and percentage points in `text`: what both
    `pattern_matches` and `protected_spans` start from, found once for the two."""
    return list(_number_matches(_half_width(text)))


def pattern_matches(
    text: str, pub_date: date, *, numbers: Sequence[Match] | None = None
) -> list[Match]:
    """Every pattern match in `text`, overlapping ones included (the caller picks);
    `numbers`, when given, are `number_matches(text)`."""
    half_width = _half_width(text)
    found = list(_number_matches(half_width)) if numbers is None else list(numbers)
    return [*found, *_date_matches(half_width, pub_date)]


def _longest_first(spans: Iterable[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Longest span first; later spans that overlap a kept one are dropped.

    The kept spans never overlap, so in start order their ends ascend too: of those that
    start before a span ends, only the last can reach into it (one bisection, where
    comparing with every kept span made long articles quadratic)."""
    starts: list[int] = []
    ends: list[int] = []
    kept: list[tuple[int, int, str]] = []
    for span in sorted(spans, key=lambda s: (s[0] - s[1], s[0])):
        start, end = span[0], span[1]
        at = bisect_left(starts, end)
        if at and ends[at - 1] > start:
            continue
        starts.insert(at, start)
        ends.insert(at, end)
        kept.append(span)
    return sorted(kept)


def protected_spans(
    text: str, *, numbers: Sequence[Match] | None = None
) -> list[tuple[int, int, str]]:
    """Non-overlapping (start, end, pos) spans that must each stay one token.

    jieba cuts them where entities and numbers must stay whole (601328. | SH,
    1.2 | 万亿元, 23.4 | %, 1 | , | 175.28, 2025 | — | 2027 | 年); these spans are tagged
    nz (tickers, bracketed codes included), m (amounts, scaled counts, percentages,
    decimals) or t (year ranges, and each part of a date: 2026年 | 6月 | 4日). `numbers`,
    when given, are `number_matches(text)`.
    """
    half_width = _half_width(text)
    found = _number_matches(half_width) if numbers is None else numbers
    matches = [
        m
        for m in (*found, *_year_range_matches(half_width))
        # A bare count (`3张`) is left to jieba: numeral and classifier are two words.
        if m.entity_type != "QUANTITY" or _SCALED.search(half_width, m.start, m.end)
    ]
    spans = [(m.start, m.end, _PROTECTED_POS[m.entity_type]) for m in matches]
    spans += [(m.start(), m.end(), "m") for m in _DECIMAL.finditer(half_width)]
    spans += [(m.start(), m.end(), "t") for m in _DATE_PARTS.finditer(half_width)]
    spans += [(m.start(), m.end(), "x") for m in _DASHES.finditer(text)]
    return _longest_first(spans)


# A dash printed as several characters (———) is one punctuation mark.
_DASHES = _Needing(r"—{2,}", ("——",))


# A number with a scale character: 3.3万部, 7亿人次.
_SCALED = re.compile(r"\d[十百千万亿]")
# Parts of a date, each one word (1996年 | 12月 | 31日), where jieba splits number and unit.
_DATE_PARTS = _Needing(
    r"(?<![\d.])(?:\d{4}年|[〇○零一二三四五六七八九]{4}年|(?:1[0-2]|0?[1-9])月"
    r"|(?:3[01]|[12]\d|0?[1-9])[日号])",
    ("年", "月", "日", "号"),
)
