"""A small curated dataset for the readers' tests: the pipeline run on a raw tree of the
sample page and a wire feed over two days, with something to quarantine on each side."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

from tests.conftest import SAMPLE_PAGE, jsonl_text

JUNE_15 = date(2026, 6, 15)
JUNE_16 = date(2026, 6, 16)
WIRE = {
    "2026-06-15": [
        {
            "id": "w-101",
            "title": "央行开展1000亿元逆回购操作",
            "authors": ["王希"],
            "text": "新华社北京6月15日电 中国人民银行今日开展1000亿元7天期逆回购操作，"
            "中标利率为1.4%，与此前持平。\n中国人民银行行长潘功胜表示，将保持流动性合理充裕。"
            "交通银行(601328.SH)首席经济学家连平认为，二季度降准仍有空间。",
        },
        {
            "id": "w-102",
            "title": "工商银行推出“短剧贷”",
            "authors": ["李娜"],
            "text": "工商银行(601398.SH)郑州分行近日推出“短剧贷”，单户最高额度300万元。\n"
            "工商银行行长刘珺表示，今年将向文化产业投放贷款500亿元。"
            "招商银行（600036）也在深圳推出类似产品。",
        },
    ],
    "2026-06-16": [
        {
            "id": "w-201",
            "title": "招商银行拟发行二级资本债",
            "authors": ["张伟"],
            "text": "招商银行（600036）6月16日晚间发布公告称，拟发行不超过300亿元二级资本债券。\n"
            "招商银行行长王良表示，发行所得将用于补充资本。"
            "交通银行(601328.SH)同日公告，一季度净利润为255亿元，同比增长1.2%。",
        },
        {
            "id": "w-202",
            "title": "贵州茅台股价创新高",
            "authors": ["陈静"],
            "text": "受消费回暖带动，贵州茅台(600519.SH)6月16日股价上涨2.3%，报收1850元，"
            "成交额达82亿元。\n贵州茅台董事长张德芹在股东大会上表示，"
            "公司全年营业收入目标为1800亿元。",
        },
    ],
}


def write_raw_tree(raw: Path) -> Path:
    """cbn/2026-06-15 (the sample page), wire/2026-06-15 and wire/2026-06-16 (two JSONL
    articles each, plus a line that is not JSON), and wire/latest (no date: quarantined)."""
    page = raw / "cbn" / "2026-06-15"
    page.mkdir(parents=True)
    shutil.copy(SAMPLE_PAGE, page / SAMPLE_PAGE.name)
    for day, records in WIRE.items():
        folder = raw / "wire" / day
        folder.mkdir(parents=True)
        broken = ["{not json"] if day == "2026-06-16" else []
        (folder / "feed.jsonl").write_text(jsonl_text(*records, *broken), encoding="utf-8")
    undated = raw / "wire" / "latest"
    undated.mkdir()
    (undated / "x.txt").write_text("没有日期的目录里的稿件。", encoding="utf-8")
    return raw


def build_curated(raw: Path, curated: Path) -> dict[str, object]:
    """Run the real pipeline (under the caller's Prefect test harness) over the raw tree."""
    from flows import pipeline

    write_raw_tree(raw)
    return pipeline.call(pipeline.run_pipeline, raw_root=str(raw), curated_root=str(curated))
