"""HTML delivered as .txt: markup and scripts gone, text kept on its raw lines."""

from __future__ import annotations

from datetime import date

from transforms.documents import RawDocument, document_articles
from transforms.html import html_lines, looks_like_html
from transforms.lines import Line

PAGE = """<!DOCTYPE html>
<html><head><title>央行开展1000亿元逆回购操作</title>
<script>var tpl = "<p>广告：不要收录</p>";</script><style>p { color: red }</style></head>
<body><div class="byline">本报记者 张三 北京报道</div>
<p>中国人民银行今日开展1000亿元逆回购操作&nbsp;，中标利率为1.4%。</p><p>业内人士认为，此举
旨在维护流动性合理充裕。</p><!-- 编辑备注：待审 -->
<p>R&amp;D投入&lt;同比&gt;增长5.8%。</p>
</body></html>"""


def test_detects_markup_but_not_prose_with_angle_brackets():
    assert looks_like_html(PAGE)
    assert not looks_like_html("增速<5%的行业与增速>10%的行业形成对比。")


def test_text_pieces_keep_their_raw_line_numbers():
    assert html_lines(PAGE) == [
        Line("央行开展1000亿元逆回购操作", 2),
        Line("本报记者 张三 北京报道", 4),
        Line("中国人民银行今日开展1000亿元逆回购操作 ，中标利率为1.4%。", 5),
        Line("业内人士认为，此举", 5),
        Line("旨在维护流动性合理充裕。", 6),
        Line("R&D投入<同比>增长5.8%。", 7),
    ]


def test_html_page_becomes_a_clean_article():
    doc = RawDocument("web/2026-06-15/a.txt", "web", date(2026, 6, 15), PAGE, "utf-8", "0" * 64)
    [article], rejections = document_articles(doc)
    assert rejections == []
    draft = article.draft
    assert draft.headline == "央行开展1000亿元逆回购操作"
    assert draft.authors == ("张三",)
    assert "广告" not in draft.body and "<" not in draft.body.replace("<同比>", "")
    assert "编辑备注" not in draft.body
    assert "业内人士认为，此举旨在维护流动性合理充裕。" in draft.body
    joined = [p for p in draft.paragraphs if p.text.startswith("业内人士")]
    assert joined[0].raw_lines == (5, 6)
