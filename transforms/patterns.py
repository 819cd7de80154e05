"""Entities found by pattern, with normalised values: tickers, money, percentages,
percentage points and dates (resolved against the publication date).

Patterns run on the text with full-width ASCII mapped to ASCII, one character for one,
so offsets index the original text.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

# Full-width ASCII maps one-to-one onto ASCII, so matching on the mapped text keeps offsets.
_HALF_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}

_NUM = r"\d+(?:,\d{3})*(?:\.\d+)?"
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
_SCALE_ALT = "|".join(sorted((s for s in _SCALE if s), key=len, reverse=True))
_CURRENCY_ALT = "|".join(sorted(_CURRENCY, key=len, reverse=True))

_TICKER_SUFFIXED = re.compile(
    r"(?<![\d.])(\d{6})\.(SH|SZ|BJ)(?![A-Za-z0-9])|(?<![\d.])(\d{4,5})\.HK(?![A-Za-z0-9])", re.I
)
_TICKER_BRACKETED = re.compile(r"(?<=[\u4e00-\u9fffA-Za-z*][(（])(\d{6})(?=[)）])")
_MONEY = re.compile(rf"({_NUM})\s*({_SCALE_ALT})?({_CURRENCY_ALT})")
_MONEY_WORDS = re.compile(rf"(?<![\d.])(千|百|十)?(万亿|亿|万)({_CURRENCY_ALT})")
_PERCENT = re.compile(rf"({_NUM})\s*[%％]|百分之({_NUM})")
_PERCENT_POINT = re.compile(rf"({_NUM})\s*个百分点")
_FULL_DATE = re.compile(r"(?<!\d)(\d{4})年(\d{1,2})月(\d{1,2})日")
_YEAR_MONTH = re.compile(r"(?<!\d)(\d{4})年(\d{1,2})月(?!\d{1,2}日)")
_MONTH_DAY = re.compile(r"(?<![\d年])(\d{1,2})月(\d{1,2})日")
_YEAR_QUARTER = re.compile(r"(?<!\d)(?:(\d{4})年|(今年|去年|明年|前年))?第?([一二三四1-4])季度")
_YEAR = re.compile(r"(?<!\d)(\d{4})年(?![\d一二三四第]|度)")
_RELATIVE_YEAR = re.compile(r"(今年|去年|明年|前年)")
_QUARTERS = {"一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4}
_YEAR_SHIFT = {"今年": 0, "去年": -1, "明年": 1, "前年": -2}
# A month-day without a year is read as the nearest such date not far after publication.
_MAX_DAYS_AHEAD = 31


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


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def _format_amount(value: float) -> str:
    if value == int(value):
        return f"{value:.0f}"
    return f"{value:.12f}".rstrip("0").rstrip(".")


def _money(value: float, currency: str) -> tuple[str, float]:
    code = _CURRENCY[currency]
    return f"{_format_amount(value)} {code}", value


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


def _matches(text: str, pub_date: date) -> Iterator[Match]:
    for m in _TICKER_SUFFIXED.finditer(text):
        if m[1]:
            yield Match("TICKER", m.start(), m.end(), f"{m[1]}.{m[2].upper()}", None)
        else:
            yield Match("TICKER", m.start(), m.end(), f"{m[3].zfill(5)}.HK", None)
    for m in _TICKER_BRACKETED.finditer(text):
        yield Match("TICKER", m.start(), m.end(), f"{m[1]}.{exchange_for(m[1])}", None)
    for m in _MONEY.finditer(text):
        normalized, value = _money(_number(m[1]) * _SCALE[m[2] or ""], m[3])
        yield Match("MONEY", m.start(), m.end(), normalized, value)
    for m in _MONEY_WORDS.finditer(text):
        normalized, value = _money(float(_SCALE[(m[1] or "") + m[2]]), m[3])
        yield Match("MONEY", m.start(), m.end(), normalized, value)
    for m in _PERCENT_POINT.finditer(text):
        value = _number(m[1]) / 100
        yield Match("PERCENT_POINT", m.start(), m.end(), f"{_format_amount(value)} pp", value)
    for m in _PERCENT.finditer(text):
        value = _number(m[1] or m[2]) / 100
        yield Match("PERCENT", m.start(), m.end(), _format_amount(value), value)
    yield from _date_matches(text, pub_date)


def _date_matches(text: str, pub_date: date) -> Iterator[Match]:
    for m in _FULL_DATE.finditer(text):
        d = _valid_date(int(m[1]), int(m[2]), int(m[3]))
        if d:
            yield Match("DATE", m.start(), m.end(), d.isoformat(), None)
    for m in _YEAR_MONTH.finditer(text):
        if 1 <= int(m[2]) <= 12:
            yield Match("DATE", m.start(), m.end(), f"{int(m[1]):04d}-{int(m[2]):02d}", None)
    for m in _MONTH_DAY.finditer(text):
        month, day = int(m[1]), int(m[2])
        d = _resolve_month_day(month, day, pub_date) if 1 <= month <= 12 else None
        if d:
            yield Match("DATE", m.start(), m.end(), d.isoformat(), None)
    for m in _YEAR_QUARTER.finditer(text):
        year = int(m[1]) if m[1] else pub_date.year + _YEAR_SHIFT.get(m[2] or "今年", 0)
        yield Match("DATE", m.start(), m.end(), f"{year:04d}-Q{_QUARTERS[m[3]]}", None)
    for m in _YEAR.finditer(text):
        yield Match("DATE", m.start(), m.end(), m[1], None)
    for m in _RELATIVE_YEAR.finditer(text):
        yield Match("DATE", m.start(), m.end(), str(pub_date.year + _YEAR_SHIFT[m[1]]), None)


def pattern_matches(text: str, pub_date: date) -> list[Match]:
    """Every pattern match in `text`, overlapping ones included (the caller picks)."""
    return list(_matches(text.translate(_HALF_WIDTH), pub_date))
