"""The raw tree adapter: listing `<raw>/<source>/<YYYY-MM-DD>/<file>` and decoding files."""

from __future__ import annotations

import codecs
import hashlib
import os
import random
import threading
import tracemalloc
from datetime import date
from pathlib import Path

import pytest

from flows.io import raw as raw_io
from flows.io.raw import (
    DecodeRejection,
    Partition,
    RawText,
    Rejected,
    decode_bytes,
    list_raw,
    read_raw_file,
)
from flows.io.state import FileStamp, stamp_files, unread_stamp
from transforms.textclean import normalize_newlines

JUNE_15 = date(2026, 6, 15)

WIRE_LINE = (
    '{"id": "xh-0615-001", "title": "国务院常务会议部署稳就业工作", '
    '"text": "国务院总理6月15日主持召开国务院常务会议,部署进一步稳定和扩大就业的政策措施。"}\n'
)
BRIEF = "新华社北京6月15日电 国家统计局今天发布数据,5月份全国规模以上工业增加值同比增长5.6%。\n"
BIG5_PASSAGE = (
    "行政院會今日通過「數位發展部組織法」修正草案,將在臺灣各縣市設立數位服務據點。\n"
    "發言人表示,政府將持續推動數位轉型,協助中小企業導入雲端服務,並強化資訊安全防護。\n"
    "經濟部同時宣布,明年度將編列新臺幣五十億元預算,補助產業升級與人才培育計畫。\n"
    "立法院預計於下週審議相關法案,朝野黨團對於預算規模仍有不同意見。\n"
)


def put(root: Path, rel: str, data: str | bytes = BRIEF) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    return path


def reasons(rejected: list[Rejected]) -> dict[str, str]:
    return {r.raw_path: r.reason for r in rejected}


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    root = tmp_path / "raw"
    root.mkdir()
    return root


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder next to the raw root, holding a perfectly good file and directory."""
    folder = tmp_path / "elsewhere"
    put(folder, "leak.txt", BRIEF)
    put(folder, "2026-06-15/leak.txt", BRIEF)
    return folder


# --------------------------------------------------------------------------- listing


def test_layout_lists_one_partition_per_source_and_date(raw: Path) -> None:
    put(raw, "cbn/2026-06-15/page-2.txt")
    put(raw, "cbn/2026-06-15/page-1.txt")
    put(raw, "cbn/2026-06-16/page-1.txt")
    put(raw, "xinhua/2026-06-15/feed.jsonl", WIRE_LINE)
    put(raw, "xinhua/2026-06-15/brief.txt")

    listing = list_raw(raw)

    # Oldest date first, then source: a backfill runs in date order.
    assert listing.partitions == [
        Partition("cbn", JUNE_15, ("cbn/2026-06-15/page-1.txt", "cbn/2026-06-15/page-2.txt")),
        Partition(
            "xinhua", JUNE_15, ("xinhua/2026-06-15/brief.txt", "xinhua/2026-06-15/feed.jsonl")
        ),
        Partition("cbn", date(2026, 6, 16), ("cbn/2026-06-16/page-1.txt",)),
    ]
    assert listing.rejected == []
    assert listing.ignored == []


def test_relative_raw_root_gives_the_same_paths(raw: Path, monkeypatch) -> None:
    put(raw, "cbn/2026-06-15/page-1.txt")
    monkeypatch.chdir(raw.parent)
    listing = list_raw(Path("raw"))
    assert listing.partitions == [Partition("cbn", JUNE_15, ("cbn/2026-06-15/page-1.txt",))]


def test_missing_raw_root_raises(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        list_raw(tmp_path / "no-such-raw")
    put(tmp_path, "a-file", "不是目录")
    with pytest.raises(FileNotFoundError):
        list_raw(tmp_path / "a-file")


def test_empty_date_folder_is_no_partition(raw: Path) -> None:
    (raw / "cbn" / "2026-06-15").mkdir(parents=True)
    put(raw, "cbn/2026-06-16/page-1.txt")
    listing = list_raw(raw)
    assert [(p.source, p.pub_date) for p in listing.partitions] == [("cbn", date(2026, 6, 16))]
    assert listing.rejected == []


@pytest.mark.parametrize(
    ("since", "until", "expected"),
    [
        (None, None, ["2026-06-13", "2026-06-14", "2026-06-15", "2026-06-16", "2026-06-17"]),
        (date(2026, 6, 15), None, ["2026-06-15", "2026-06-16", "2026-06-17"]),
        (None, date(2026, 6, 14), ["2026-06-13", "2026-06-14"]),
        (date(2026, 6, 14), date(2026, 6, 16), ["2026-06-14", "2026-06-15", "2026-06-16"]),
        (JUNE_15, JUNE_15, ["2026-06-15"]),
        (date(2026, 6, 18), None, []),
    ],
)
def test_since_and_until_are_inclusive_bounds(
    raw: Path, since: date | None, until: date | None, expected: list[str]
) -> None:
    for day in range(13, 18):
        put(raw, f"cbn/2026-06-{day}/page-1.txt")
    listing = list_raw(raw, since=since, until=until)
    assert [p.pub_date.isoformat() for p in listing.partitions] == expected
    assert listing.rejected == []


def test_date_filter_does_not_hide_layout_problems(raw: Path) -> None:
    put(raw, "cbn/2026-06-01/page-1.txt")
    put(raw, "cbn/latest/page-1.txt")
    listing = list_raw(raw, since=JUNE_15)
    assert listing.partitions == []
    assert reasons(listing.rejected) == {"cbn/latest/page-1.txt": "bad_date"}


def test_dotfiles_and_dot_dirs_are_ignored_not_rejected(raw: Path) -> None:
    put(raw, ".DS_Store", b"\x00\x00\x00\x01Bud1")
    put(raw, ".git/HEAD", "ref: refs/heads/main\n")
    put(raw, "cbn/.cache/2026-06-15/page-1.txt")
    put(raw, "cbn/2026-06-15/.~lock.page-1.txt#", "锁文件")
    put(raw, "cbn/2026-06-15/.thumbs/page-1.txt")
    put(raw, "cbn/2026-06-15/page-1.txt")

    listing = list_raw(raw)

    assert listing.partitions == [Partition("cbn", JUNE_15, ("cbn/2026-06-15/page-1.txt",))]
    assert listing.rejected == []
    assert sorted(listing.ignored) == [
        ".DS_Store",
        ".git",
        "cbn/.cache",
        "cbn/2026-06-15/.thumbs",
        "cbn/2026-06-15/.~lock.page-1.txt#",
    ]


@pytest.mark.parametrize("folder", ["2026-13-45", "latest", "2026-02-30", "2026-6-15", "20260615"])
def test_bad_date_folder_rejects_every_file_under_it(raw: Path, folder: str) -> None:
    put(raw, f"cbn/{folder}/page-1.txt")
    put(raw, f"cbn/{folder}/feed.jsonl", WIRE_LINE)
    put(raw, f"cbn/{folder}/scans/page-1.pdf", b"%PDF-1.7\n")
    put(raw, "cbn/2026-06-15/page-1.txt")

    listing = list_raw(raw)

    assert listing.partitions == [Partition("cbn", JUNE_15, ("cbn/2026-06-15/page-1.txt",))]
    assert reasons(listing.rejected) == {
        f"cbn/{folder}/feed.jsonl": "bad_date",
        f"cbn/{folder}/page-1.txt": "bad_date",
        f"cbn/{folder}/scans/page-1.pdf": "bad_date",
    }
    for rejection in listing.rejected:
        assert rejection.source == "cbn"
        assert rejection.pub_date is None
        assert folder in rejection.detail


@pytest.mark.parametrize("source", ["CBN News", "Xinhua", "新华社", "-cbn"])
def test_bad_source_slug_rejects_every_file_under_it(raw: Path, source: str) -> None:
    put(raw, f"{source}/2026-06-15/page-1.txt")
    put(raw, f"{source}/2026-06-16/feed.jsonl", WIRE_LINE)
    put(raw, "cbn/2026-06-15/page-1.txt")

    listing = list_raw(raw)

    assert [p.source for p in listing.partitions] == ["cbn"]
    assert reasons(listing.rejected) == {
        f"{source}/2026-06-15/page-1.txt": "bad_source",
        f"{source}/2026-06-16/feed.jsonl": "bad_source",
    }


def test_good_slugs_are_accepted(raw: Path) -> None:
    for source in ("cbn", "people-daily", "nfdaily_2", "21cbh"):
        put(raw, f"{source}/2026-06-15/page-1.txt")
    listing = list_raw(raw)
    assert sorted(p.source for p in listing.partitions) == [
        "21cbh",
        "cbn",
        "nfdaily_2",
        "people-daily",
    ]
    assert listing.rejected == []


def test_files_above_date_level_are_bad_layout(raw: Path) -> None:
    put(raw, "README.txt", "原始数据说明")
    put(raw, "cbn/notes.txt", "编辑备注")
    put(raw, "cbn/2026-06-15/page-1.txt")

    listing = list_raw(raw)

    assert [p.pub_date for p in listing.partitions] == [JUNE_15]
    by_path = {r.raw_path: r for r in listing.rejected}
    assert set(by_path) == {"README.txt", "cbn/notes.txt"}
    assert {r.reason for r in by_path.values()} == {"bad_layout"}
    assert by_path["README.txt"].source is None
    assert by_path["cbn/notes.txt"].source == "cbn"


def test_file_nested_below_a_date_folder_is_listed_then_bad_layout(raw: Path) -> None:
    put(raw, "cbn/2026-06-15/page-1.txt")
    put(raw, "cbn/2026-06-15/extra/page-2.txt")
    put(raw, "cbn/2026-06-15/extra/deeper/page-3.txt")

    listing = list_raw(raw)
    (partition,) = listing.partitions
    assert partition.files == (
        "cbn/2026-06-15/extra/deeper/page-3.txt",
        "cbn/2026-06-15/extra/page-2.txt",
        "cbn/2026-06-15/page-1.txt",
    )

    assert isinstance(read_raw_file(raw, "cbn/2026-06-15/page-1.txt"), RawText)
    for rel in partition.files[:2]:
        result = read_raw_file(raw, rel)
        assert isinstance(result, Rejected)
        assert result.reason == "bad_layout"
        assert result.raw_path == rel
        assert result.source == "cbn"
        assert result.pub_date == JUNE_15


def test_read_raw_file_rejects_a_root_level_path(raw: Path) -> None:
    put(raw, "README.txt", "原始数据说明")
    result = read_raw_file(raw, "README.txt")
    assert isinstance(result, Rejected)
    assert result.reason == "bad_layout"


# --------------------------------------------------------------------------- symlinks


def test_symlinked_file_outside_the_root_is_rejected(raw: Path, outside: Path) -> None:
    put(raw, "cbn/2026-06-15/page-1.txt")
    (raw / "cbn/2026-06-15/leak.txt").symlink_to(outside / "leak.txt")

    (partition,) = list_raw(raw).partitions
    assert "cbn/2026-06-15/leak.txt" in partition.files

    result = read_raw_file(raw, "cbn/2026-06-15/leak.txt")
    assert isinstance(result, Rejected)
    assert result.reason == "symlink_outside_root"
    assert (result.source, result.pub_date) == ("cbn", JUNE_15)


def test_relative_symlink_escaping_the_root_is_rejected(raw: Path, outside: Path) -> None:
    put(raw, "cbn/2026-06-15/page-1.txt")
    (raw / "cbn/2026-06-15/leak.txt").symlink_to(Path("../../../elsewhere/leak.txt"))
    assert (raw / "cbn/2026-06-15/leak.txt").read_text(encoding="utf-8") == BRIEF

    result = read_raw_file(raw, "cbn/2026-06-15/leak.txt")
    assert isinstance(result, Rejected)
    assert result.reason == "symlink_outside_root"


def test_symlinked_directories_outside_the_root_are_rejected(raw: Path, outside: Path) -> None:
    put(raw, "cbn/2026-06-15/page-1.txt")
    (raw / "mirror").symlink_to(outside, target_is_directory=True)
    (raw / "cbn/2026-06-16").symlink_to(outside / "2026-06-15", target_is_directory=True)
    (raw / "cbn/2026-06-15/archive").symlink_to(outside, target_is_directory=True)

    listing = list_raw(raw)

    assert reasons(listing.rejected) == {
        "mirror": "symlink_outside_root",
        "cbn/2026-06-16": "symlink_outside_root",
    }
    (partition,) = listing.partitions
    assert partition.files == ("cbn/2026-06-15/archive", "cbn/2026-06-15/page-1.txt")
    result = read_raw_file(raw, "cbn/2026-06-15/archive")
    assert isinstance(result, Rejected)
    assert result.reason == "symlink_outside_root"
    assert not any("leak.txt" in f for p in listing.partitions for f in p.files)


def test_symlinks_inside_the_root_are_followed(raw: Path) -> None:
    original = put(raw, "cbn/2026-06-15/page-1.txt", BRIEF)
    (raw / "cbn/2026-06-16").mkdir()
    (raw / "cbn/2026-06-16/reprint.txt").symlink_to(Path("../2026-06-15/page-1.txt"))
    (raw / "cbn/2026-06-17").symlink_to(raw / "cbn/2026-06-15", target_is_directory=True)

    listing = list_raw(raw)

    assert listing.rejected == []
    assert listing.partitions == [
        Partition("cbn", JUNE_15, ("cbn/2026-06-15/page-1.txt",)),
        Partition("cbn", date(2026, 6, 16), ("cbn/2026-06-16/reprint.txt",)),
        Partition("cbn", date(2026, 6, 17), ("cbn/2026-06-17/page-1.txt",)),
    ]
    digest = hashlib.sha256(original.read_bytes()).hexdigest()
    for rel in ("cbn/2026-06-16/reprint.txt", "cbn/2026-06-17/page-1.txt"):
        result = read_raw_file(raw, rel)
        assert isinstance(result, RawText), result
        assert result.text == BRIEF
        assert result.sha256 == digest


def test_symlink_to_a_directory_inside_the_root_is_not_a_regular_file(raw: Path) -> None:
    put(raw, "cbn/2026-06-14/page-1.txt")
    put(raw, "cbn/2026-06-15/page-1.txt")
    (raw / "cbn/2026-06-15/yesterday").symlink_to(raw / "cbn/2026-06-14")

    (_, partition) = list_raw(raw).partitions
    assert "cbn/2026-06-15/yesterday" in partition.files
    result = read_raw_file(raw, "cbn/2026-06-15/yesterday")
    assert isinstance(result, Rejected)
    assert result.reason == "not_regular_file"


def test_broken_symlink_is_unreadable(raw: Path) -> None:
    put(raw, "cbn/2026-06-15/page-1.txt")
    (raw / "cbn/2026-06-15/page-2.txt").symlink_to(raw / "cbn/2026-06-15/deleted.txt")

    (partition,) = list_raw(raw).partitions
    assert "cbn/2026-06-15/page-2.txt" in partition.files
    result = read_raw_file(raw, "cbn/2026-06-15/page-2.txt")
    assert isinstance(result, Rejected)
    assert result.reason == "unreadable"
    assert (result.source, result.pub_date) == ("cbn", JUNE_15)


# --------------------------------------------------------------------------- reading


def test_file_gone_after_listing_is_unreadable(raw: Path) -> None:
    path = put(raw, "cbn/2026-06-15/page-1.txt")
    (partition,) = list_raw(raw).partitions
    path.unlink()
    result = read_raw_file(raw, partition.files[0])
    assert isinstance(result, Rejected)
    assert result.reason == "unreadable"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a chmod 000 file anyway")
def test_file_without_read_permission_is_unreadable(raw: Path) -> None:
    path = put(raw, "cbn/2026-06-15/page-1.txt")
    path.chmod(0)
    try:
        result = read_raw_file(raw, "cbn/2026-06-15/page-1.txt")
    finally:
        path.chmod(0o644)
    assert isinstance(result, Rejected)
    assert result.reason == "unreadable"


@pytest.mark.parametrize("name", ["page-1.pdf", "page-1.docx", "README", "page-1.txt.bak"])
def test_unsupported_suffix_is_rejected(raw: Path, name: str) -> None:
    put(raw, f"cbn/2026-06-15/{name}", BRIEF)
    (partition,) = list_raw(raw).partitions
    assert partition.files == (f"cbn/2026-06-15/{name}",)
    result = read_raw_file(raw, partition.files[0])
    assert isinstance(result, Rejected)
    assert result.reason == "unsupported_type"
    assert (result.source, result.pub_date) == ("cbn", JUNE_15)


@pytest.mark.parametrize("name", ["PAGE-1.TXT", "feed.JSONL"])
def test_suffix_check_ignores_case(raw: Path, name: str) -> None:
    put(raw, f"cbn/2026-06-15/{name}", WIRE_LINE)
    result = read_raw_file(raw, f"cbn/2026-06-15/{name}")
    assert isinstance(result, RawText)
    assert result.text == WIRE_LINE


def test_max_bytes_is_an_inclusive_limit(raw: Path) -> None:
    size = put(raw, "cbn/2026-06-15/page-1.txt", BRIEF).stat().st_size

    assert isinstance(read_raw_file(raw, "cbn/2026-06-15/page-1.txt", max_bytes=size), RawText)
    result = read_raw_file(raw, "cbn/2026-06-15/page-1.txt", max_bytes=size - 1)
    assert isinstance(result, Rejected)
    assert result.reason == "too_large"
    assert str(size) in result.detail


def test_sha256_is_of_the_file_bytes_not_the_text(raw: Path, sample_page_text: str) -> None:
    data = sample_page_text.replace("\n", "\r\n").encode("gb18030")
    put(raw, "cbn/2026-06-15/page-1.txt", data)

    result = read_raw_file(raw, "cbn/2026-06-15/page-1.txt")

    assert isinstance(result, RawText)
    assert result.raw_path == "cbn/2026-06-15/page-1.txt"
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    assert result.sha256 != hashlib.sha256(result.text.encode("utf-8")).hexdigest()
    assert result.encoding == "gb18030"
    assert result.text == sample_page_text


# --------------------------------------------------------------------------- decoding


@pytest.mark.parametrize(
    ("encode", "encoding"),
    [
        pytest.param(lambda t: t.encode("utf-8"), "utf-8", id="utf-8"),
        pytest.param(lambda t: codecs.BOM_UTF8 + t.encode("utf-8"), "utf-8-sig", id="utf-8-bom"),
        pytest.param(lambda t: t.encode("gb18030"), "gb18030", id="gb18030"),
        pytest.param(lambda t: t.encode("gbk"), "gb18030", id="gbk"),
        pytest.param(
            lambda t: codecs.BOM_UTF16_LE + t.encode("utf-16-le"), "utf-16", id="utf-16-le-bom"
        ),
        pytest.param(
            lambda t: codecs.BOM_UTF16_BE + t.encode("utf-16-be"), "utf-16", id="utf-16-be-bom"
        ),
        pytest.param(
            lambda t: codecs.BOM_UTF32_LE + t.encode("utf-32-le"), "utf-32", id="utf-32-le-bom"
        ),
        pytest.param(lambda t: t.encode("utf-16-le"), "utf_16_le", id="utf-16-le-no-bom"),
    ],
)
def test_sample_page_decodes_identically_from_every_encoding(
    raw: Path, sample_page_text: str, encode, encoding: str
) -> None:
    data = encode(sample_page_text)
    put(raw, "cbn/2026-06-15/page-1.txt", data)

    result = read_raw_file(raw, "cbn/2026-06-15/page-1.txt")

    assert isinstance(result, RawText), result
    assert result.text == normalize_newlines(sample_page_text)
    assert result.encoding == encoding
    assert result.sha256 == hashlib.sha256(data).hexdigest()


def test_traditional_chinese_in_big5_decodes_exactly() -> None:
    data = BIG5_PASSAGE.encode("big5")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    text, encoding = decode_bytes(data)
    assert text == BIG5_PASSAGE
    assert encoding == "big5"


@pytest.mark.parametrize("newline", ["\r\n", "\r", "\u2028", "\u0085"])
def test_line_endings_are_normalised_to_lf(sample_page_text: str, newline: str) -> None:
    data = sample_page_text.replace("\n", newline).encode("utf-8")
    text, _ = decode_bytes(data)
    assert text == sample_page_text
    assert "\r" not in text
    assert text.count("\n") == sample_page_text.count("\n")


def test_mixed_line_endings_are_normalised() -> None:
    data = "第一段:央行宣布降准。\r\n第二段:市场反应积极。\r第三段:专家解读。\n".encode()
    text, _ = decode_bytes(data)
    assert text == "第一段:央行宣布降准。\n第二段:市场反应积极。\n第三段:专家解读。\n"


def test_stray_control_characters_are_stripped(sample_page_text: str) -> None:
    dirty = (
        sample_page_text.replace("微短剧", "微\x00短剧", 3)
        .replace("。", "。\x07", 2)
        .replace("银行", "银\x1b行", 1)
        .replace("报道", "报道\x7f\x0b\x0c", 1)
        .replace("北京", "北\ufeff京", 1)
    )
    assert dirty != sample_page_text

    text, encoding = decode_bytes(dirty.encode("utf-8"))

    assert text == sample_page_text
    assert encoding == "utf-8"


def test_tabs_and_newlines_survive_control_stripping() -> None:
    data = "表1\t2026年5月主要经济指标\n工业增加值\t5.6%\x00\n社会消费品零售总额\t6.4%\n".encode()
    text, _ = decode_bytes(data)
    assert text == "表1\t2026年5月主要经济指标\n工业增加值\t5.6%\n社会消费品零售总额\t6.4%\n"


def test_controls_in_gb18030_text_are_stripped(sample_page_text: str) -> None:
    dirty = sample_page_text.replace("记者", "记\x00者", 1)
    text, encoding = decode_bytes(dirty.encode("gb18030"))
    assert text == sample_page_text
    assert encoding == "gb18030"


@pytest.mark.parametrize(
    ("magic", "mime"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image/png"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "image/jpeg"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "application/pdf"),
        (b"PK\x03\x04\x14\x00\x06\x00", "application/zip"),
    ],
)
def test_magic_bytes_are_not_text(raw: Path, magic: bytes, mime: str) -> None:
    # The payload after the signature is plain Chinese: the signature alone decides.
    data = magic + ("正文内容" * 64).encode("utf-8")
    with pytest.raises(DecodeRejection) as err:
        decode_bytes(data)
    assert err.value.reason == "not_text"
    assert mime in err.value.detail

    put(raw, "cbn/2026-06-15/scan.txt", data)
    result = read_raw_file(raw, "cbn/2026-06-15/scan.txt")
    assert isinstance(result, Rejected)
    assert result.reason == "not_text"


@pytest.mark.parametrize("seed", [1234, 20260615])
def test_random_binary_is_not_text(raw: Path, seed: int) -> None:
    data = random.Random(seed).randbytes(4096)
    with pytest.raises(DecodeRejection) as err:
        decode_bytes(data)
    assert err.value.reason == "not_text"

    put(raw, "cbn/2026-06-15/blob.txt", data)
    result = read_raw_file(raw, "cbn/2026-06-15/blob.txt")
    assert isinstance(result, Rejected)
    assert result.reason == "not_text"


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"   \n\t\r\n  ",
        "\u3000\u3000\n\u3000".encode(),
        codecs.BOM_UTF8,
        codecs.BOM_UTF8 + b" \r\n",
        codecs.BOM_UTF16_LE + " \n".encode("utf-16-le"),
        b"\x00\n\n" + b" " * 200,
    ],
    ids=[
        "no-bytes",
        "ascii-blanks",
        "ideographic-spaces",
        "bom-only",
        "bom-blank",
        "utf16-blank",
        "nul-blank",
    ],
)
def test_empty_and_whitespace_only_files_are_empty(raw: Path, data: bytes) -> None:
    with pytest.raises(DecodeRejection) as err:
        decode_bytes(data)
    assert err.value.reason == "empty"

    put(raw, "cbn/2026-06-15/page-1.txt", data)
    result = read_raw_file(raw, "cbn/2026-06-15/page-1.txt")
    assert isinstance(result, Rejected)
    assert result.reason == "empty"


# --------------------------------------------------------------------------- hostile paths


@pytest.mark.parametrize("links", [{"loop.txt": "loop.txt"}, {"x.txt": "y.txt", "y.txt": "x.txt"}])
def test_symlink_loop_is_unreadable_not_outside(raw: Path, links: dict[str, str]) -> None:
    folder = raw / "cbn" / "2026-06-15"
    folder.mkdir(parents=True)
    for name, target in links.items():
        (folder / name).symlink_to(target)

    (partition,) = list_raw(raw).partitions
    for rel in partition.files:
        result = read_raw_file(raw, rel)
        assert isinstance(result, Rejected)
        assert result.reason == "unreadable"
        assert "symlink" in result.detail


@pytest.mark.parametrize(
    "rel", ["../elsewhere/leak.txt", "cbn/../../elsewhere/leak.txt", "cbn/2026-06-15/../leak.txt"]
)
def test_paths_that_climb_out_are_never_read(raw: Path, outside: Path, rel: str) -> None:
    result = read_raw_file(raw, rel)
    assert isinstance(result, Rejected)
    assert result.reason == "bad_layout"


def test_stray_nul_in_short_crlf_lines_is_stripped_not_binary() -> None:
    data = "国务院常务会议召开\r\n研究部署稳就业工作\r\n会议\x00强调\r\n要多措并举\r\n".encode()
    assert decode_bytes(data) == (
        "国务院常务会议召开\n研究部署稳就业工作\n会议强调\n要多措并举\n",
        "utf-8",
    )


# --------------------------------------------------------------------------- hostile files


def _stamp_in_time(raw: Path, rel: str) -> dict[str, FileStamp]:
    """`stamp_files` in a thread: a FIFO opened for reading would block it for ever."""
    stamps: dict[str, FileStamp] = {}
    worker = threading.Thread(target=lambda: stamps.update(stamp_files(raw, [rel])), daemon=True)
    worker.start()
    worker.join(timeout=60)
    assert not worker.is_alive(), f"stamping {rel} blocked"
    return stamps


def test_a_fifo_is_neither_opened_to_be_hashed_nor_read(raw: Path) -> None:
    folder = raw / "cbn" / "2026-06-15"
    folder.mkdir(parents=True)
    os.mkfifo(folder / "pipe.txt")

    stamps = _stamp_in_time(raw, "cbn/2026-06-15/pipe.txt")

    assert stamps["cbn/2026-06-15/pipe.txt"] == unread_stamp("not_regular_file")
    result = read_raw_file(raw, "cbn/2026-06-15/pipe.txt")
    assert isinstance(result, Rejected)
    assert result.reason == "not_regular_file"


def test_a_link_out_of_the_root_is_never_opened_even_to_be_hashed(raw: Path, outside: Path) -> None:
    put(raw, "cbn/2026-06-15/page-1.txt")
    (raw / "cbn/2026-06-15/leak.txt").symlink_to(outside / "leak.txt")

    stamps = stamp_files(raw, ["cbn/2026-06-15/page-1.txt", "cbn/2026-06-15/leak.txt"])

    leak = stamps["cbn/2026-06-15/leak.txt"]
    assert leak == unread_stamp("symlink_outside_root")
    assert leak.sha256 != hashlib.sha256((outside / "leak.txt").read_bytes()).hexdigest()
    assert stamps["cbn/2026-06-15/page-1.txt"].sha256 == hashlib.sha256(BRIEF.encode()).hexdigest()


def test_a_file_far_over_the_limit_is_neither_read_nor_held_in_memory(raw: Path) -> None:
    path = raw / "cbn/2026-06-15/archive.txt"
    path.parent.mkdir(parents=True)
    with path.open("wb") as fh:
        fh.truncate(100 * 1024 * 1024)  # sparse: no time to write

    tracemalloc.start()
    try:
        result = read_raw_file(raw, "cbn/2026-06-15/archive.txt")
        after_read = tracemalloc.get_traced_memory()[1]
        stamps = stamp_files(raw, ["cbn/2026-06-15/archive.txt"])
        after_stamp = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert isinstance(result, Rejected)
    assert result.reason == "too_large"
    assert result.detail == f"{100 * 1024 * 1024} bytes exceeds the {64 * 1024 * 1024}-byte limit"
    assert after_read < 1024 * 1024  # the size decided: nothing was read
    assert after_stamp < 8 * 1024 * 1024  # hashed in blocks, never whole
    assert stamps["cbn/2026-06-15/archive.txt"].size == 100 * 1024 * 1024


def test_a_file_that_grows_or_changes_while_read_is_not_curated(
    raw: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = put(raw, "cbn/2026-06-15/page-1.txt", BRIEF)
    real = raw_io.read_fd

    def append_first(fd: int, limit: int) -> bytes:
        with path.open("a", encoding="utf-8") as fh:
            fh.write("记者补充报道。\n")  # a writer appends while the file is read
        return real(fd, limit)

    monkeypatch.setattr(raw_io, "read_fd", append_first)
    result = read_raw_file(raw, "cbn/2026-06-15/page-1.txt")

    assert isinstance(result, Rejected)
    assert result.reason == "changed_during_read"
    size = len(BRIEF.encode())
    assert result.detail.startswith(f"{size} bytes when opened, {size + 1} read")


def test_what_was_read_comes_with_the_stat_it_was_read_at(raw: Path) -> None:
    path = put(raw, "cbn/2026-06-15/page-1.txt", BRIEF)
    result = read_raw_file(raw, "cbn/2026-06-15/page-1.txt")
    assert isinstance(result, RawText)
    info = path.stat()
    assert (result.size, result.mtime_ns) == (info.st_size, info.st_mtime_ns)


def test_a_file_name_that_is_not_utf8_is_rejected_with_a_printable_path(raw: Path) -> None:
    put(raw, "cbn/2026-06-15/page-1.txt")
    name = "新闻稿.txt".encode("gbk")
    with open(os.fsencode(raw / "cbn/2026-06-15") + b"/" + name, "wb") as fh:
        fh.write(BRIEF.encode())

    (partition,) = list_raw(raw).partitions

    assert partition.files == ("cbn/2026-06-15/page-1.txt",)
    (rejected,) = partition.rejected
    # Bytes that are not UTF-8 as escapes (`\\xd0\\xc2`); C5 B8 happens to be UTF-8 for Ÿ.
    assert rejected.raw_path == "cbn/2026-06-15/\\xd0\\xc2\\xceŸ\\xe5.txt"
    assert rejected.raw_path.encode("utf-8")  # storable
    assert (rejected.reason, rejected.source, rejected.pub_date) == ("bad_name", "cbn", JUNE_15)
    assert partition.entries == 2


@pytest.mark.parametrize(
    "links",
    [{"2026-06-16": "2026-06-16"}, {"2026-06-16": "2026-06-17", "2026-06-17": "2026-06-16"}],
)
def test_a_looping_folder_link_is_unreadable_not_outside(raw: Path, links: dict[str, str]) -> None:
    put(raw, "cbn/2026-06-15/page-1.txt")
    for name, target in links.items():
        (raw / "cbn" / name).symlink_to(target)
    (raw / "cbn" / "2026-06-18").symlink_to("2026-06-30")  # dangling

    listing = list_raw(raw)

    assert [p.pub_date for p in listing.partitions] == [JUNE_15]
    assert reasons(listing.rejected) == dict.fromkeys(
        [f"cbn/{name}" for name in links] + ["cbn/2026-06-18"], "unreadable"
    )
    assert all(r.detail.startswith("broken or looping symlink") for r in listing.rejected)


def test_a_folder_that_cannot_be_listed_is_rejected_and_its_partition_kept(
    raw: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    put(raw, "cbn/2026-06-15/page-1.txt")
    put(raw, "cbn/2026-06-16/page-1.txt")
    put(raw, "cbn/2026-06-16/extra/page-2.txt")
    put(raw, "xinhua/2026-06-15/feed.jsonl", WIRE_LINE)
    refused = {raw / "cbn/2026-06-15", raw / "cbn/2026-06-16/extra", raw / "xinhua"}
    real_scandir, real_iterdir = os.scandir, Path.iterdir

    def scandir(path: object = ".") -> object:
        if isinstance(path, str | os.PathLike) and Path(path) in refused:
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)  # type: ignore[arg-type]

    def iterdir(self: Path) -> object:
        if self in refused:
            raise PermissionError(13, "Permission denied", str(self))
        return real_iterdir(self)

    monkeypatch.setattr(os, "scandir", scandir)
    monkeypatch.setattr(Path, "iterdir", iterdir)
    listing = list_raw(raw)

    (partition,) = listing.partitions
    assert (partition.pub_date, partition.files) == (
        date(2026, 6, 16),
        ("cbn/2026-06-16/page-1.txt",),
    )
    assert reasons(list(partition.rejected)) == {"cbn/2026-06-16/extra": "unreadable"}
    assert reasons(listing.rejected) == {"cbn/2026-06-15": "unreadable", "xinhua": "unreadable"}
    assert listing.keeps("cbn", JUNE_15) and listing.keeps("xinhua", date(2026, 1, 1))
    assert not listing.keeps("cbn", date(2026, 6, 16))
    assert listing.files_seen == 4


@pytest.mark.parametrize("codec", ["gbk", "big5"])
def test_lines_in_utf8_and_one_legacy_encoding_are_decoded_line_by_line(codec: str) -> None:
    legacy = (
        "經濟部同時宣布明年度將編列預算。" if codec == "big5" else "商务部同时宣布明年将安排预算。"
    )
    data = "国家统计局今天发布数据。\n".encode() + legacy.encode(codec) + b"\r\n"

    text, encoding = decode_bytes(data)

    assert text == f"国家统计局今天发布数据。\n{legacy}\n"
    assert encoding == f"utf-8+{'gb18030' if codec == 'gbk' else 'big5'}"


def test_a_legacy_file_with_ascii_lines_is_not_a_mixture() -> None:
    data = b"2026-06-15\n" + "商务部同时宣布明年将安排预算。\n".encode("gbk")
    assert decode_bytes(data) == ("2026-06-15\n商务部同时宣布明年将安排预算。\n", "gb18030")


def test_jsonl_keeps_the_line_breaks_a_json_string_may_hold() -> None:
    record = (
        '{"text": "第一段。\u2028第二段。\u2029第三段。\x85第四段。"}\r\n{"text": "下一条。"}\r\n'
    )

    text, _ = decode_bytes(record.encode("utf-8"), jsonl=True)

    assert (
        text
        == '{"text": "第一段。\u2028第二段。\u2029第三段。\u2028第四段。"}\n{"text": "下一条。"}\n'
    )
    # As a page, every one of them is a line break.
    assert decode_bytes(record.encode("utf-8"))[0].count("\n") == 5
