"""JSONL records: one bad line rejects that record only, with a stable reason code."""

from __future__ import annotations

import json
from datetime import date

import pytest

from transforms.records import Record, RecordRejection, parse_jsonl, parse_record

FOLDER = date(2026, 6, 15)
TEXT = "中经记者 杨井鑫 北京报道\n据交通银行(601328.SH)消息，该行贷款额度50万元。"


def _line(**fields: object) -> str:
    return json.dumps(fields, ensure_ascii=False)


def test_valid_record_keeps_every_field() -> None:
    line = _line(
        id="cbn-0615-001",
        title="  微短剧产业“争艳” 银行“追剧”加码信贷创新 ",
        url="https://www.cb.com.cn/index/show/jr/cv/cv1",
        pub_date="2026-06-15",
        authors=[" 杨井鑫 ", "王希", "杨井鑫", "  "],
        text=TEXT,
    )
    assert parse_record(line, 3, FOLDER) == Record(
        line_no=3,
        text=TEXT,
        external_id="cbn-0615-001",
        title="微短剧产业“争艳” 银行“追剧”加码信贷创新",
        url="https://www.cb.com.cn/index/show/jr/cv/cv1",
        authors=("杨井鑫", "王希"),
    )


def test_minimal_record_has_empty_optional_fields() -> None:
    assert parse_record(_line(text=TEXT), 1, FOLDER) == Record(1, TEXT, None, None, None, ())


@pytest.mark.parametrize(
    ("fields", "title", "authors"),
    [
        ({"title": "   "}, None, ()),
        ({"title": None, "authors": None}, None, ()),
        ({"title": "标题\x00一\r\n二"}, "标题一\n二", ()),
        ({"authors": []}, None, ()),
    ],
)
def test_optional_fields_are_cleaned(
    fields: dict[str, object], title: str | None, authors: tuple[str, ...]
) -> None:
    parsed = parse_record(_line(text=TEXT, **fields), 1, FOLDER)
    assert isinstance(parsed, Record)
    assert (parsed.title, parsed.authors) == (title, authors)


def test_text_is_cleaned_but_not_stripped() -> None:
    parsed = parse_record(_line(text="\ufeff第一段。\r\n第二段\x00。\n"), 1, FOLDER)
    assert isinstance(parsed, Record)
    assert parsed.text == "第一段。\n第二段。\n"


@pytest.mark.parametrize(
    "pub_date", ["2026-06-15", "2026-06-15T08:30:00+08:00", "2026-06-15 08:30:00"]
)
def test_pub_date_matching_the_folder_is_accepted(pub_date: str) -> None:
    assert isinstance(parse_record(_line(text=TEXT, pub_date=pub_date), 1, FOLDER), Record)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ('{"text": "据交通银行消息。"', "bad_json"),
        ("not json at all", "bad_json"),
        ("[" * 100_000 + "]" * 100_000, "bad_json"),
        ('["据交通银行消息。"]', "bad_record"),
        ('"据交通银行消息。"', "bad_record"),
        ("null", "bad_record"),
        (_line(title="标题"), "no_text"),
        (_line(text=None), "no_text"),
        (_line(text=["据交通银行消息。"]), "no_text"),
        (_line(text=123), "no_text"),
        (_line(text="  \r\n\u3000 "), "no_text"),
        (_line(text="\x00\x00"), "no_text"),
        (_line(text=TEXT, id=123), "bad_field"),
        (_line(text=TEXT, title=["标题"]), "bad_field"),
        (_line(text=TEXT, url={"href": "x"}), "bad_field"),
        (_line(text=TEXT, pub_date=20260615), "bad_field"),
        (_line(text=TEXT, authors="杨井鑫"), "bad_field"),
        (_line(text=TEXT, authors=["杨井鑫", 7]), "bad_field"),
        (_line(text=TEXT, pub_date="2026/06/15"), "bad_date"),
        (_line(text=TEXT, pub_date="昨天"), "bad_date"),
        (_line(text=TEXT, pub_date="2026-02-30"), "bad_date"),
        (_line(text=TEXT, pub_date="2026-06-14"), "date_mismatch"),
        (_line(text=TEXT, pub_date="2025-06-15T00:00:00Z"), "date_mismatch"),
        # Hostile lines: an integer too long to convert, NaN, a key twice, huge fields.
        ('{"id": 1' + "0" * 5000 + ', "text": "据交通银行消息。"}', "bad_json"),
        ('{"id": NaN, "text": "据交通银行消息。"}', "bad_field"),
        ('{"text": "据交通银行消息。", "text": "另一段正文。"}', "bad_record"),
        ('{"text": "据交通银行消息。", "meta": {"a": 1, "a": 2}}', "bad_record"),
        (_line(text=TEXT, id="x" * 257), "bad_field"),
        (_line(text=TEXT, title="长" * 1001), "bad_field"),
        (_line(text=TEXT, url="https://" + "a" * 4096), "bad_field"),
        (_line(text=TEXT, authors=["名" * 101]), "bad_field"),
        (_line(text=TEXT, authors=["王希"] * 101), "bad_field"),
    ],
)
def test_rejection_reasons(line: str, reason: str) -> None:
    parsed = parse_record(line, 4, FOLDER)
    assert isinstance(parsed, RecordRejection)
    assert (parsed.line_no, parsed.reason) == (4, reason)
    assert parsed.detail
    assert len(parsed.detail) <= 200


def test_rejection_detail_is_truncated() -> None:
    parsed = parse_record(_line(text=TEXT, pub_date="错" * 500), 1, FOLDER)
    assert isinstance(parsed, RecordRejection)
    assert parsed.reason == "bad_date"
    assert len(parsed.detail) == 200


def test_date_mismatch_names_both_dates() -> None:
    parsed = parse_record(_line(text=TEXT, pub_date="2026-06-14"), 1, FOLDER)
    assert isinstance(parsed, RecordRejection)
    assert "2026-06-14" in parsed.detail and "2026-06-15" in parsed.detail


def test_parse_jsonl_skips_blank_lines_and_keeps_line_numbers() -> None:
    text = "\n".join(
        [
            _line(id="a", text="第一篇。"),
            "",
            "   ",
            _line(id="b", text="第二篇。"),
            "\t",
            _line(text="第三篇。"),
            "",
        ]
    )
    parsed = parse_jsonl(text, FOLDER)
    assert [(p.line_no, type(p).__name__) for p in parsed] == [
        (1, "Record"),
        (4, "Record"),
        (6, "Record"),
    ]
    assert [p.text for p in parsed if isinstance(p, Record)] == ["第一篇。", "第二篇。", "第三篇。"]


def test_parse_jsonl_tolerates_crlf_line_ends() -> None:
    text = _line(id="a", text="第一篇。") + "\r\n" + _line(id="b", text="第二篇。") + "\r\n"
    parsed = parse_jsonl(text, FOLDER)
    assert [(p.line_no, p.external_id) for p in parsed if isinstance(p, Record)] == [
        (1, "a"),
        (2, "b"),
    ]


def test_parse_jsonl_rejects_only_the_bad_lines() -> None:
    lines = [
        _line(id="a", text="第一篇。"),
        "{broken",
        _line(id="b", text="第二篇。", pub_date="2026-06-14"),
        _line(id="c", title="只有标题"),
        _line(id="d", text="第四篇。", pub_date="2026-06-15"),
    ]
    parsed = parse_jsonl("\n".join(lines), FOLDER)
    assert [(p.line_no, getattr(p, "reason", "ok")) for p in parsed] == [
        (1, "ok"),
        (2, "bad_json"),
        (3, "date_mismatch"),
        (4, "no_text"),
        (5, "ok"),
    ]


def test_parse_jsonl_duplicate_id_rejects_later_lines() -> None:
    lines = [
        _line(id="cbn-001", text="第一篇。"),
        _line(id="cbn-002", text="第二篇。"),
        _line(id="cbn-001", text="重复的第一篇。"),
        _line(text="没有编号的一篇。"),
        _line(text="没有编号的一篇。"),
        _line(id=" cbn-002 ", text="编号带空格。"),
    ]
    parsed = parse_jsonl("\n".join(lines), FOLDER)
    assert [type(p).__name__ for p in parsed] == [
        "Record",
        "Record",
        "RecordRejection",
        "Record",
        "Record",
        "RecordRejection",
    ]
    dup = parsed[2]
    assert isinstance(dup, RecordRejection)
    assert (dup.line_no, dup.reason) == (3, "duplicate_id")
    assert "cbn-001" in dup.detail and "line 1" in dup.detail
    last = parsed[5]
    assert isinstance(last, RecordRejection)
    assert last.reason == "duplicate_id" and "line 2" in last.detail


def test_parse_jsonl_empty_text_has_no_records() -> None:
    assert parse_jsonl("", FOLDER) == []
    assert parse_jsonl("\n \n\t\n", FOLDER) == []


def test_fields_at_their_limits_and_huge_unknown_fields_are_accepted() -> None:
    line = _line(
        id="x" * 256,
        title="长" * 1000,
        url="https://" + "a" * 4088,
        authors=["名" * 100] * 100,
        text=TEXT,
        raw_html="<p>" + "正文" * 200_000 + "</p>",
    )
    parsed = parse_record(line, 1, FOLDER)
    assert isinstance(parsed, Record)
    assert (len(parsed.external_id or ""), len(parsed.title or "")) == (256, 1000)
    assert parsed.authors == ("名" * 100,)


def test_a_duplicate_key_is_named() -> None:
    parsed = parse_record('{"text": "据交通银行消息。", "text": "另一段。"}', 2, FOLDER)
    assert isinstance(parsed, RecordRejection)
    assert parsed.detail == "key 'text' appears twice in one object"


def test_payloads_that_look_like_code_are_kept_as_text() -> None:
    payload = "__import__('os').system('touch PWNED')\ncposix\nsystem\n(Vtouch PWNED\ntR."
    parsed = parse_record(_line(id="../../etc/passwd", text=payload), 1, FOLDER)
    assert parsed == Record(1, payload, "../../etc/passwd", None, None, ())
