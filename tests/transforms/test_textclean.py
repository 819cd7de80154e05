"""Character-level cleaning: newline normalisation and control stripping."""

from __future__ import annotations

import pytest

from transforms.textclean import clean_text, control_ratio, normalize_newlines, strip_controls


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("中经记者 杨井鑫 北京报道\r\n正文第一段。", "中经记者 杨井鑫 北京报道\n正文第一段。"),
        ("第一段。\r第二段。", "第一段。\n第二段。"),
        ("第一段。\u0085第二段。", "第一段。\n第二段。"),
        ("第一段。\u2028第二段。", "第一段。\n第二段。"),
        ("第一段。\u2029第二段。", "第一段。\n第二段。"),
        # CRLF is one break, not two; a blank line stays exactly one blank line.
        ("标题\r\n\r\n正文。", "标题\n\n正文。"),
        ("标题\n\n正文。", "标题\n\n正文。"),
    ],
)
def test_normalize_newlines_maps_every_break_to_lf(raw: str, expected: str) -> None:
    assert normalize_newlines(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("贷款额度\x0050万元。", "贷款额度50万元。"),
        ("\ufeff微短剧产业", "微短剧产业"),
        ("微短剧\ufeff产业", "微短剧产业"),
        ("同比\x07下降\x1b5.8%。", "同比下降5.8%。"),
        ("C1控制\x9b字符", "C1控制字符"),
        ("孤立\ud800代理", "孤立代理"),
    ],
)
def test_strip_controls_drops_stray_controls(raw: str, expected: str) -> None:
    assert strip_controls(raw) == expected


@pytest.mark.parametrize(
    "text",
    [
        "第一段。\n第二段。",
        "名称\t数值",
        "同比增长１．２９％",
        "中经记者\u3000杨井鑫",
        "交通银行(601328.SH)",
    ],
)
def test_strip_controls_keeps_layout_and_full_width(text: str) -> None:
    assert strip_controls(text) == text


def test_control_ratio_empty_text_is_zero() -> None:
    assert control_ratio("") == 0.0


@pytest.mark.parametrize(
    ("text", "ratio"),
    [
        ("微短剧产业能够带动地方经济。", 0.0),
        ("第一段\n\t第二段", 0.0),
        ("银行\x00\x00", 0.5),
        ("\ufffd\ufffd信贷", 0.5),
        ("\ufeff银行", 1 / 3),
        ("\x00\x01\x02\x03", 1.0),
    ],
)
def test_control_ratio_counts_invisible_and_replacement_chars(text: str, ratio: float) -> None:
    assert control_ratio(text) == pytest.approx(ratio)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("第一段。\r\n\x00第二段。\u2028第三段。", "第一段。\n第二段。\n第三段。"),
        # NEL is a C1 control, but it is a line break first: it must become LF, not vanish.
        ("甲\x85乙", "甲\n乙"),
        ("\ufeff标题\r\n正文", "标题\n正文"),
    ],
)
def test_clean_text_normalises_before_stripping(raw: str, expected: str) -> None:
    assert clean_text(raw) == expected


def test_stray_controls_are_unicodes_controls_surrogates_and_bom() -> None:
    """The character class is spelled as ranges; it must say what Unicode says."""
    import unicodedata

    kept = "\n\t"
    for code in range(0x110000):
        ch = chr(code)
        stray = ch not in kept and (unicodedata.category(ch) in ("Cc", "Cs") or ch == "\ufeff")
        assert (strip_controls(f"a{ch}b") == "ab") is stray, hex(code)
