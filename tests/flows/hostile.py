"""A raw tree of hostile inputs, each with the one outcome the pipeline must give it.

`build` writes every case under a raw root (and a folder beside it that nothing may
read); `Expected` says, for each file and each JSONL record, whether it is curated (and
with which text) or quarantined (and why), or ignored. The hostile-input tests run the
pipeline over the tree and compare.
"""

from __future__ import annotations

import codecs
import json
import os
import pickle
import random
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

DAY = "2026-06-15"
PAGES = f"cbn/{DAY}"
WIRE = f"wire/{DAY}"
# The reason of a JSONL file none of whose records is curated: its records say why.
RECORDS = "records"
SECRET = "机密：这份文件在原始数据目录之外，任何运行都不得读取。\n"
HUGE_BYTES = 100 * 1024 * 1024
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01" + bytes(range(256)) * 4
GZIP = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + bytes(range(256)) * 4
PWNED = "PWNED"
PYTHON = f"__import__('os').system('touch {PWNED}')"


class _Exploit:
    """Unpickling this runs a shell command: what a hostile archive could hold."""

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return os.system, (f"touch {PWNED}",)


PICKLE_BINARY = pickle.dumps(_Exploit(), protocol=4)
PICKLE_TEXT = pickle.dumps(_Exploit(), protocol=0).decode("ascii")
# A GBK-encoded file name, as an archive from a Chinese Windows machine unpacks on Linux.
GBK_NAME = "新闻稿.txt".encode("gbk")

# Two body paragraphs per page, in the normalised form (full-width Chinese punctuation,
# half-width digits), so that a curated article's text is exactly the page's text.
TEXTS = {
    "utf-8": "国家统计局6月15日发布数据，5月份全国规模以上工业增加值同比增长5.6%，"
    "社会消费品零售总额增长6.4%。\n国家统计局新闻发言人表示，5月份国民经济延续恢复向好"
    "态势，生产需求稳步扩大，就业物价总体稳定。",
    "utf-8-bom": "中国人民银行6月15日开展1000亿元逆回购操作，中标利率为1.4%，与此前持平。\n"
    "央行有关负责人表示，将保持流动性合理充裕，引导金融机构加大对实体经济的支持力度。",
    "gb18030": "商务部6月15日表示，前5个月全国网上零售额同比增长8.2%，其中实物商品网上零售额"
    "增长7.6%。\n商务部消费促进司负责人介绍，各地将继续开展汽车、家电以旧换新活动。",
    "gbk": "交通银行6月15日公告，该行拟发行不超过300亿元二级资本债券，募集资金用于补充资本。\n"
    "公告显示，交通银行一季度实现净利润235亿元，同比增长1.2%，资产质量保持稳定。",
    "gb2312": "财政部6月15日发布数据，1至5月全国一般公共预算收入96623亿元，同比下降2.8%。\n"
    "财政部有关负责人表示，扣除特殊因素影响后，财政收入保持平稳增长。",
    "big5": "行政院會今日通過數位發展部組織法修正草案，將在各縣市設立數位服務據點。\n"
    "發言人表示，政府將持續推動數位轉型，協助中小企業導入雲端服務，並強化資訊安全防護。",
    "utf-16-le": "工业和信息化部6月15日召开新闻发布会，介绍前5个月工业通信业发展情况。\n"
    "发言人表示，5月份制造业采购经理指数为49.5%，比上月下降0.9个百分点。",
    "utf-16-be": "国家能源局6月15日发布数据，5月份全社会用电量7751亿千瓦时，同比增长7.2%。\n"
    "其中，第一产业用电量103亿千瓦时，同比增长6.5%，农村用电需求持续释放。",
}
MIXED_UTF8 = "海关总署6月15日公布，前5个月我国货物贸易进出口总值17.5万亿元，同比增长6.3%。"
MIXED_GBK = "其中，出口10.03万亿元，增长10%；进口7.47万亿元，增长1.1%，贸易结构持续优化。"
CONTROLS_CLEAN = (
    "证监会6月15日发布消息，核准两家企业首次公开发行股票注册，募集资金合计约30亿元。\n"
    "证监会有关部门负责人表示，将继续加强对中介机构的监管，压实发行人主体责任。"
)
CONTROLS_DIRTY = (
    "证监会6月15日发布消息，\x00核准两家企业首次公开发行股票注册，\x07募集资金合计约30亿元。\r\n"
    "\x1b证监会有关部门负责人表示，将继续加强对中介机构的监管，\x7f压实发行人主体责任。\r\n"
)
LONG_SENTENCE = (
    "国家统计局今天发布数据，5月份全国规模以上工业增加值同比增长5.6%，社会消费品零售总额增长6.4%。"
)
RECORD_TEXT = "新华社北京6月15日电 中国人民银行今日开展1000亿元逆回购操作，中标利率为1.4%。"


@dataclass
class Expected:
    """Per raw path: ("curated", its article's text, or None when not checked) or
    ("quarantined", reason) or ("ignored", None); per (raw path, JSONL line): ("curated",
    text that every line of must be in the article's paragraphs) or ("quarantined",
    reason)."""

    files: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    # Curated files of which a part is quarantined too (a page fragment without a body).
    partly: dict[str, str] = field(default_factory=dict)
    records: dict[tuple[str, int], tuple[str, str]] = field(default_factory=dict)
    encodings: dict[str, str] = field(default_factory=dict)
    external_ids: dict[tuple[str, int], str] = field(default_factory=dict)

    def curated(self, path: str, text: str | None = None, encoding: str | None = None) -> None:
        self.files[path] = ("curated", text)
        if encoding is not None:
            self.encodings[path] = encoding

    def quarantined(self, path: str, reason: str) -> None:
        self.files[path] = ("quarantined", reason)

    def ignored(self, path: str) -> None:
        self.files[path] = ("ignored", None)

    def count(self, outcome: str) -> int:
        return sum(1 for kind, _ in self.files.values() if kind == outcome)


def permissions_bind() -> bool:
    """Whether this process is refused a file without read permission (root is not)."""
    with tempfile.TemporaryDirectory() as folder:
        probe = Path(folder) / "probe"
        probe.write_bytes(b"x")
        probe.chmod(0)
        try:
            probe.read_bytes()
        except PermissionError:
            return True
        finally:
            probe.chmod(0o600)
    return False


def _put(root: Path, rel: str, data: bytes | str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def _link(root: Path, rel: str, target: str | Path) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to(target)


def long_line(size: int) -> bytes:
    """One line of news text of exactly `size` bytes (UTF-8), no line break anywhere."""
    unit = LONG_SENTENCE.encode("utf-8")
    data = unit * (size // len(unit))
    return data + b"0" * (size - len(data))


def _pages(raw: Path, outside: Path, expect: Expected, *, limit: int, at_limit: bool) -> None:
    """One folder of `.txt` files: every encoding, binaries, blanks, controls, sizes, links."""
    encoders = {
        "utf-8": lambda t: t.encode("utf-8"),
        "utf-8-bom": lambda t: codecs.BOM_UTF8 + t.encode("utf-8"),
        "gb18030": lambda t: t.encode("gb18030"),
        "gbk": lambda t: t.encode("gbk"),
        "gb2312": lambda t: t.encode("gb2312"),
        "big5": lambda t: t.encode("big5"),
        "utf-16-le": lambda t: codecs.BOM_UTF16_LE + t.encode("utf-16-le"),
        "utf-16-be": lambda t: codecs.BOM_UTF16_BE + t.encode("utf-16-be"),
    }
    decoded_as = {
        "utf-8": "utf-8",
        "utf-8-bom": "utf-8-sig",
        "gb18030": "gb18030",
        "gbk": "gb18030",
        "gb2312": "gb18030",
        "big5": "big5",
        "utf-16-le": "utf-16",
        "utf-16-be": "utf-16",
    }
    for name, encode in encoders.items():
        text = TEXTS[name]
        # CRLF in the legacy encodings, as Windows tools write them.
        crlf = name.startswith(("gb", "big5"))
        _put(raw, f"{PAGES}/{name}.txt", encode(text.replace("\n", "\r\n") if crlf else text))
        expect.curated(f"{PAGES}/{name}.txt", text, decoded_as[name])
    mixed = (MIXED_UTF8 + "\n").encode("utf-8") + MIXED_GBK.encode("gbk") + b"\n"
    _put(raw, f"{PAGES}/mixed-utf8-gbk.txt", mixed)
    expect.curated(f"{PAGES}/mixed-utf8-gbk.txt", f"{MIXED_UTF8}\n{MIXED_GBK}", "utf-8+gb18030")
    _put(raw, f"{PAGES}/controls.txt", CONTROLS_DIRTY.encode("utf-8"))
    expect.curated(f"{PAGES}/controls.txt", CONTROLS_CLEAN, "utf-8")
    payload = f"{PICKLE_TEXT}\n{PYTHON}\n"  # code-like text is text, stored as such
    _put(raw, f"{PAGES}/payload.txt", payload)
    expect.curated(f"{PAGES}/payload.txt", PYTHON, "utf-8")
    expect.partly[f"{PAGES}/payload.txt"] = "no_body"  # the pickle's short lines
    _link(raw, f"{PAGES}/reprint.txt", "utf-8.txt")  # a link inside the root is followed
    expect.curated(f"{PAGES}/reprint.txt", TEXTS["utf-8"], "utf-8")

    quarantined = {
        "photo.txt": (PNG, "not_text"),
        "scan.txt": (JPEG, "not_text"),
        "backup.txt": (GZIP, "not_text"),
        "noise.txt": (random.Random(20260615).randbytes(4096), "not_text"),
        "nul-filled.txt": (b"\x00" * 2048, "not_text"),
        "pickle.txt": (PICKLE_BINARY, "not_text"),
        "empty.txt": (b"", "empty"),
        "blank.txt": ("  \r\n\t\n\u3000\u3000\n".encode(), "empty"),
        "bom-only.txt": (codecs.BOM_UTF8, "empty"),
        "controls-only.txt": (b"\n\x00\n" + b" " * 100, "empty"),
        "markup-only.txt": (b"<html><head><script>var x = 1;</script></head></html>", "empty"),
        "broken-gbk.txt": (TEXTS["gbk"].encode("gbk")[::2] * 3, "decode_error"),
        "page-1.pdf": (b"%PDF-1.7\n" + TEXTS["utf-8"].encode(), "unsupported_type"),
        "notes.docx": (b"PK\x03\x04" + bytes(64), "unsupported_type"),
    }
    for name, (data, reason) in quarantined.items():
        _put(raw, f"{PAGES}/{name}", data)
        expect.quarantined(f"{PAGES}/{name}", reason)

    # Sizes: a 100 MB file (sparse: written in no time) over the limit, one byte over it,
    # and, when asked, a single line of exactly the limit, which is curated.
    with (raw / PAGES / "archive-dump.txt").open("wb") as fh:
        fh.truncate(HUGE_BYTES)
    expect.quarantined(f"{PAGES}/archive-dump.txt", "too_large")
    _put(raw, f"{PAGES}/over-limit.txt", long_line(limit + 1))
    expect.quarantined(f"{PAGES}/over-limit.txt", "too_large")
    if at_limit:
        _put(raw, f"{PAGES}/one-line.txt", long_line(limit))
        expect.curated(f"{PAGES}/one-line.txt", None, "utf-8")

    # Links and special files: never followed out of the root, never waited on.
    _link(raw, f"{PAGES}/leak.txt", outside / "secret.txt")
    expect.quarantined(f"{PAGES}/leak.txt", "symlink_outside_root")
    _link(raw, f"{PAGES}/relative-leak.txt", Path("../../../outside/secret.txt"))
    expect.quarantined(f"{PAGES}/relative-leak.txt", "symlink_outside_root")
    _link(raw, f"{PAGES}/loop-a.txt", "loop-b.txt")
    _link(raw, f"{PAGES}/loop-b.txt", "loop-a.txt")
    _link(raw, f"{PAGES}/self.txt", "self.txt")
    _link(raw, f"{PAGES}/dangling.txt", "deleted.txt")
    for name in ("loop-a.txt", "loop-b.txt", "self.txt", "dangling.txt"):
        expect.quarantined(f"{PAGES}/{name}", "unreadable")
    _link(raw, f"{PAGES}/here", ".")  # a folder linking to itself
    expect.quarantined(f"{PAGES}/here", "not_regular_file")
    os.mkfifo(raw / PAGES / "pipe.txt")
    expect.quarantined(f"{PAGES}/pipe.txt", "not_regular_file")
    _put(raw, f"{PAGES}/extra/nested.txt", TEXTS["utf-8"])
    expect.quarantined(f"{PAGES}/extra/nested.txt", "bad_layout")
    bad_name = os.fsencode(raw / PAGES) + b"/" + GBK_NAME
    with open(bad_name, "wb") as fh:
        fh.write(TEXTS["utf-8"].encode("utf-8"))
    expect.quarantined(f"{PAGES}/" + GBK_NAME.decode("utf-8", "backslashreplace"), "bad_name")
    if permissions_bind():  # not for root (with its usual capabilities)
        _put(raw, f"{PAGES}/locked.txt", TEXTS["utf-8"]).chmod(0)
        expect.quarantined(f"{PAGES}/locked.txt", "unreadable")

    _put(raw, f"{PAGES}/.DS_Store", b"\x00\x00\x00\x01Bud1")
    expect.ignored(f"{PAGES}/.DS_Store")
    _put(raw, f"{PAGES}/.cache/page.txt", TEXTS["utf-8"])
    expect.ignored(f"{PAGES}/.cache")


def _line(**fields: object) -> str:
    return json.dumps(fields, ensure_ascii=False)


def _records(expect: Expected) -> str:
    """One JSONL file holding every kind of record, good and malformed."""
    feed = f"{WIRE}/feed.jsonl"
    deep = '{"text": "' + RECORD_TEXT + '", "meta": ' + "[" * 100_000 + "]" * 100_000 + "}"
    lines: list[tuple[str, tuple[str, str] | None]] = [
        (
            _line(
                id="xh-001",
                title="央行开展逆回购操作",
                text=RECORD_TEXT,
                authors=["王希"],
                url="https://www.news.cn/fortune/20260615/a.html",
                pub_date=DAY,
            ),
            ("curated", RECORD_TEXT),
        ),
        ("", None),
        ("   ", None),
        (
            _line(
                id="../../etc/passwd",
                url="file:///etc/passwd",
                title="../../../root/.ssh/id_rsa",
                authors=["../../tmp/x"],
                text="国家外汇管理局6月15日公布，5月末我国外汇储备规模为32422亿美元，较4月末上升0.3%。",
            ),
            ("curated", "国家外汇管理局6月15日公布"),
        ),
        (
            _line(
                id="xh-code",
                text="网络安全专家提醒，切勿运行来历不明的代码，例如：\n" + PYTHON + "\n"
                "此类代码可能危害系统安全。",
            ),
            ("curated", PYTHON),
        ),
        (
            _line(
                id="xh-pickle",
                text="一段被误存为正文的序列化数据如下，它只是文本：\n" + PICKLE_TEXT + "\n完。",
            ),
            ("curated", PICKLE_TEXT),
        ),
        (_line(id=5, text=RECORD_TEXT), ("quarantined", "bad_field")),
        (_line(id="xh-t", text=123), ("quarantined", "no_text")),
        (_line(id="xh-a", text=RECORD_TEXT, authors="新华社记者"), ("quarantined", "bad_field")),
        (_line(id="xh-h", text=RECORD_TEXT, title=["央行"]), ("quarantined", "bad_field")),
        ("[1, 2, 3]", ("quarantined", "bad_record")),
        ("null", ("quarantined", "bad_record")),
        ('"只是一个字符串"', ("quarantined", "bad_record")),
        (_line(id="xh-long", title="长" * 5000, text=RECORD_TEXT), ("quarantined", "bad_field")),
        (
            _line(id="xh-blob", text=RECORD_TEXT, raw_html="<p>" + "正文" * 100_000 + "</p>"),
            ("curated", RECORD_TEXT),
        ),
        ('{"id": 1' + "0" * 5000 + ', "text": "' + RECORD_TEXT + '"}', ("quarantined", "bad_json")),
        (_line(id="xh-dup", text=RECORD_TEXT + "第一次。"), ("curated", "第一次")),
        (_line(id="xh-dup", text=RECORD_TEXT + "第二次。"), ("quarantined", "duplicate_id")),
        (
            '{"id": "xh-twice", "text": "' + RECORD_TEXT + '", "text": "另一段正文。"}',
            ("quarantined", "bad_record"),
        ),
        ('{"id": NaN, "text": "' + RECORD_TEXT + '"}', ("quarantined", "bad_field")),
        (deep, ("quarantined", "bad_json")),
        (
            _line(id="xh-ls", text="第一段：央行公告。\u2028第二段：市场平稳。"),
            ("curated", "第一段：央行公告。\n第二段：市场平稳。"),
        ),
        (
            '{"id": "xh-sur", "text": "\\ud800' + RECORD_TEXT + '\\u0000"}',
            ("curated", RECORD_TEXT),
        ),
        (
            _line(id="xh-d", text=RECORD_TEXT, pub_date="2026-06-01"),
            ("quarantined", "date_mismatch"),
        ),
        (_line(id="xh-b", text=RECORD_TEXT, pub_date="2026-13-45"), ("quarantined", "bad_date")),
        (_line(id="xh-w", text=" \u3000 "), ("quarantined", "no_text")),
        ('{"id": "xh-cut", "text": "央行今日开展', ("quarantined", "bad_json")),  # truncated
    ]
    for line_no, (_, outcome) in enumerate(lines, start=1):
        if outcome is not None:
            expect.records[(feed, line_no)] = outcome
    expect.external_ids[(feed, 4)] = "../../etc/passwd"
    expect.curated(feed, None, "utf-8")
    return "\n".join(line for line, _ in lines)  # the last line has no line break either


def _wire(raw: Path, expect: Expected) -> None:
    _put(raw, f"{WIRE}/feed.jsonl", _records(expect))
    gbk = "\n".join(
        [
            _line(id="g-1", text=TEXTS["gbk"]),
            _line(id="g-2", text=TEXTS["gb2312"]),
        ]
    )
    _put(raw, f"{WIRE}/feed-gbk.jsonl", gbk.encode("gb18030"))
    expect.curated(f"{WIRE}/feed-gbk.jsonl", None, "gb18030")
    for line_no, key in ((1, "gbk"), (2, "gb2312")):
        expect.records[(f"{WIRE}/feed-gbk.jsonl", line_no)] = ("curated", TEXTS[key])
    utf16 = _line(id="u-1", text=TEXTS["utf-16-le"]) + "\r\n"
    _put(raw, f"{WIRE}/feed-utf16.jsonl", codecs.BOM_UTF16_LE + utf16.encode("utf-16-le"))
    expect.curated(f"{WIRE}/feed-utf16.jsonl", None, "utf-16")
    expect.records[(f"{WIRE}/feed-utf16.jsonl", 1)] = ("curated", TEXTS["utf-16-le"])
    _put(raw, f"{WIRE}/blank.jsonl", "\n\n   \n")
    expect.quarantined(f"{WIRE}/blank.jsonl", "empty")
    _put(raw, f"{WIRE}/all-bad.jsonl", '{"text": 1}\n{"id": "x"')
    expect.quarantined(f"{WIRE}/all-bad.jsonl", RECORDS)
    expect.records[(f"{WIRE}/all-bad.jsonl", 1)] = ("quarantined", "no_text")
    expect.records[(f"{WIRE}/all-bad.jsonl", 2)] = ("quarantined", "bad_json")


def _layout(raw: Path, outside: Path, expect: Expected) -> None:
    """Files and folders the layout rules out, links out of the root and looping folders."""
    _put(raw, "README.txt", TEXTS["utf-8"])
    expect.quarantined("README.txt", "bad_layout")
    _put(raw, f"Bad_Source/{DAY}/page.txt", TEXTS["utf-8"])
    expect.quarantined(f"Bad_Source/{DAY}/page.txt", "bad_source")
    _put(raw, "cbn/latest/page.txt", TEXTS["utf-8"])
    expect.quarantined("cbn/latest/page.txt", "bad_date")
    _put(raw, "cbn/2026-02-30/page.txt", TEXTS["utf-8"])
    expect.quarantined("cbn/2026-02-30/page.txt", "bad_date")
    _link(raw, "mirror", outside)
    expect.quarantined("mirror", "symlink_outside_root")
    _link(raw, "cbn/2026-06-16", outside / "2026-06-16")
    expect.quarantined("cbn/2026-06-16", "symlink_outside_root")
    _link(raw, "cbn/2026-06-17", "2026-06-17")
    expect.quarantined("cbn/2026-06-17", "unreadable")
    _link(raw, "cbn/2026-06-18", "2026-06-19")
    expect.quarantined("cbn/2026-06-18", "unreadable")
    _put(raw, ".trash/cbn/2026-06-15/page.txt", TEXTS["utf-8"])
    expect.ignored(".trash")


def build(tmp: Path, *, limit: int, at_limit: bool = True) -> tuple[Path, Path, Expected]:
    """The raw root, the folder beside it that holds what nothing may read, and what to
    expect of a run with `limit` as its file size limit."""
    raw, outside = tmp / "raw", tmp / "outside"
    _put(outside, "secret.txt", SECRET)
    _put(outside, "2026-06-16/page.txt", SECRET)
    expect = Expected()
    _pages(raw, outside, expect, limit=limit, at_limit=at_limit)
    _wire(raw, expect)
    _layout(raw, outside, expect)
    return raw, outside, expect
