"""Page and article reconstruction: line classification, joins, repeats and article splits."""

from __future__ import annotations

import re

import polars as pl
import pytest

from transforms.normalize import normalize_line
from transforms.page_steps import (
    Lexicon,
    classify_units,
    is_repeat_of,
    join_fragments,
    mark_repeats,
    name_repeats,
    normalize_units,
    opens_mid_sentence,
    order_reading,
    reads_as_clause,
    resolve_titles,
    split_articles,
    split_units,
)
from transforms.pages import (
    PARAGRAPH_KINDS,
    ArticleDraft,
    Line,
    Paragraph,
    classify_line,
    drafts_from_units,
    is_terminated,
    is_title_like,
    page_units,
    parse_byline,
    rebuild_article,
    rebuild_page,
    split_lines,
)
from transforms.tables import NlpModels
from transforms.textclean import clean_text


def _lines(*texts: str) -> list[Line]:
    return split_lines("\n".join(texts))


def _kinds(draft: ArticleDraft) -> list[str]:
    return [p.kind for p in draft.paragraphs]


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


# --- split_lines -------------------------------------------------------------------------


def test_split_lines_skips_blank_lines_and_keeps_numbers() -> None:
    text = "\n\n微短剧产业“争艳”\n  \n  中经记者 杨井鑫 北京报道  \n正文。"
    assert split_lines(text) == [
        Line("微短剧产业“争艳”", 3),
        Line("中经记者 杨井鑫 北京报道", 5),
        Line("正文。", 6),
    ]


def test_split_lines_first_line_no_offsets_numbers() -> None:
    assert split_lines("甲。\n\n乙。", first_line_no=10) == [Line("甲。", 10), Line("乙。", 12)]


def test_split_lines_strips_ideographic_space() -> None:
    assert split_lines("\u3000\u3000据交通银行消息。") == [Line("据交通银行消息。", 1)]


# --- is_terminated / is_title_like -------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("微短剧产业能够有效带动地方经济。", True),
        ("为何这些地方政府如此看重微短剧产业发展？", True),
        ("真的吗！", True),
        ("是的……", True),
        ("增速比城镇快1个百分点；", True),
        ("某直辖市农商行人士告诉记者：", True),
        ("综合竞争力的长期战略体现。”", True),
        ("他说：“好。”）", True),
        ("其中提到了打", False),
        ("面对微短剧产业发展的“黄", False),
        ("年增长率超过20%", False),
        ("（完）", False),
        ("银行信贷精准赋能", False),
    ],
)
def test_is_terminated(text: str, expected: bool) -> None:
    assert is_terminated(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("银行信贷精准赋能", True),
        ("微短剧产业“蝶变”", True),
        ("分摊成本、提升效率", True),
        ("微短剧产业“争艳” 银行“追剧”加码信贷创新", True),
        ("截至6月10日,江西、广西等省份农商行暂未公布", False),
        ("对比来看，不同省份农商行信用卡活动涉及的电商平台", False),
        ("微短剧产业“蝶变", False),
        ("《推动辽宁省微短剧产业高质量发展", False),
        ("下沉市场挑战。", False),
        ("微" * 41, False),
        ("微" * 40, True),
    ],
)
def test_is_title_like(text: str, expected: bool) -> None:
    assert is_title_like(text) is expected


# --- parse_byline ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "authors", "dateline"),
    [
        ("中经记者 杨井鑫 北京报道", ("杨井鑫",), "北京"),
        ("中经记者 郭建航 北京报道", ("郭建航",), "北京"),
        ("每经记者 李娜 发自上海", ("李娜",), "上海"),
        ("新华社北京6月16日电（记者 王希）", ("王希",), "北京"),
        ("中新社北京6月16日电 (记者 李晓)", ("李晓",), "北京"),
        ("新华社北京6月16日电", (), "北京"),
        ("本报记者 张三、李四 北京报道", ("张三", "李四"), "北京"),
        ("本报记者 张三 李四", ("张三", "李四"), None),
        ("见习记者 王五 上海报道", ("王五",), "上海"),
        ("中经实习记者 陈七 深圳报道", ("陈七",), "深圳"),
        ("记者 赵六", ("赵六",), None),
        ("中经记者\u3000杨井鑫\u3000北京报道", ("杨井鑫",), "北京"),
    ],
)
def test_parse_byline_reads_authors_and_dateline(
    text: str, authors: tuple[str, ...], dateline: str | None
) -> None:
    assert parse_byline(text) == (authors, dateline)


@pytest.mark.parametrize(
    "text",
    [
        "记者在采访中了解到，对于微短剧产业的信贷投放",
        "本报评论员",
        "银行信贷精准赋能",
        "中经记者 杨井鑫 北京报道" + "，" * 30,
        "《中国经营报》记者注意到",
    ],
)
def test_parse_byline_rejects_non_bylines(text: str) -> None:
    assert parse_byline(text) is None


# --- classify_line -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("视觉中国/图", "credit"),
        ("本报记者 张三/摄", "credit"),
        ("图片来源：网络", "credit"),
        ("新华社供图", "credit"),
        ("图：视觉中国", "credit"),
        ("摄影：李四", "credit"),
        ("中经记者 杨井鑫 北京报道", "byline"),
        ("每经记者 李娜 发自上海", "byline"),
        ("新华社北京6月16日电（记者 王希）", "byline"),
        ("银行信贷精准赋能", "title"),
        ("下沉市场挑战", "title"),
        ("截至6月10日，江西、广西等省份农商行与电商的信用卡支付优惠活动暂未公布。", "body"),
        ("此外，江苏省苏州市、四川省", "body"),
    ],
)
def test_classify_line(text: str, kind: str) -> None:
    assert classify_line(text) == kind


# --- rebuild_page on the sample page -----------------------------------------------------


@pytest.fixture(scope="module")
def page_drafts(sample_page_text: str) -> list[ArticleDraft]:
    return rebuild_page(split_lines(clean_text(sample_page_text)))


def _paragraph_at(drafts: list[ArticleDraft], line_no: int) -> Paragraph:
    [para] = [p for d in drafts for p in d.paragraphs if line_no in p.raw_lines]
    return para


def test_sample_page_every_line_in_exactly_one_paragraph(
    sample_page_text: str, page_drafts: list[ArticleDraft]
) -> None:
    expected = [ln.line_no for ln in split_lines(clean_text(sample_page_text))]
    seen = [n for d in page_drafts for p in d.paragraphs for n in p.raw_lines]
    assert sorted(seen) == expected
    assert len(seen) == len(set(seen))


def test_sample_page_paragraph_text_is_its_lines_concatenated(
    sample_page_text: str, page_drafts: list[ArticleDraft]
) -> None:
    by_no = {ln.line_no: ln.text for ln in split_lines(clean_text(sample_page_text))}
    for draft in page_drafts:
        for para in draft.paragraphs:
            assert para.text == "".join(normalize_line(by_no[n]) for n in para.raw_lines)
            assert para.kind in PARAGRAPH_KINDS


def test_sample_page_splits_into_two_articles(page_drafts: list[ArticleDraft]) -> None:
    assert [d.headline for d in page_drafts] == [
        "微短剧产业“争艳” 银行“追剧”加码信贷创新",
        "助力释放县域消费潜力 农商行信用卡激战“6·18”",
    ]
    assert [(d.authors, d.dateline) for d in page_drafts] == [
        (("杨井鑫",), "北京"),
        (("郭建航",), "北京"),
    ]
    assert [d.paragraphs[0].kind for d in page_drafts] == ["headline", "headline"]


@pytest.mark.parametrize(
    ("line_no", "kind"),
    [
        (3, "headline"),
        (5, "byline"),
        (7, "body"),
        (11, "heading"),
        (13, "deck"),
        (29, "pullquote"),
        (35, "caption"),
        (37, "credit"),
        (51, "heading"),
        (81, "headline"),
        (83, "heading"),
        (109, "heading"),
        (137, "byline"),
        (143, "body"),
    ],
)
def test_sample_page_line_kinds(page_drafts: list[ArticleDraft], line_no: int, kind: str) -> None:
    assert _paragraph_at(page_drafts, line_no).kind == kind


@pytest.mark.parametrize("line_no", [13, 29, 35])
def test_sample_page_repeats_are_not_in_the_body(
    page_drafts: list[ArticleDraft], line_no: int
) -> None:
    repeat = _paragraph_at(page_drafts, line_no)
    body = page_drafts[0].body
    # The repeated words stay in the body once, in the paragraph they were lifted from.
    assert _squash(body).count(_squash(repeat.text)) == 1
    assert repeat.text not in body.split("\n")


@pytest.mark.parametrize(
    ("line_nos", "seam"),
    [
        ((29, 31), "“黄金时代”"),
        ((43, 45), "四川省成都市"),
        ((61, 63), "积极探索行业生态数据协同机制"),
        ((69, 71), "数据对接通道"),
        ((99, 101), "主导发起营销活动"),
        ((129, 131), "而农商行仍需划定"),
    ],
)
def test_sample_page_joins_fragments_across_lines(
    page_drafts: list[ArticleDraft], line_nos: tuple[int, int], seam: str
) -> None:
    para = _paragraph_at(page_drafts, line_nos[0])
    assert para.raw_lines == line_nos
    assert seam in para.text


def test_sample_page_body_paragraphs_end_sentences(page_drafts: list[ArticleDraft]) -> None:
    for draft in page_drafts:
        for para in draft.paragraphs:
            if para.kind == "body":
                assert is_terminated(para.text), para.raw_lines


def test_sample_page_body_excludes_furniture(page_drafts: list[ArticleDraft]) -> None:
    body = page_drafts[0].body
    for furniture in ("视觉中国/图", "中经记者 杨井鑫 北京报道", "银行信贷精准赋能"):
        assert furniture not in body
    assert body.startswith("作为中国互联网生态的新兴业态")


# --- rebuild_page on small pages ---------------------------------------------------------


HEADLINE = "央行宣布降准 释放长期资金"
BYLINE = "中经记者 杨井鑫 北京报道"
LONG_BODY = (
    "中国人民银行6月15日宣布下调存款准备金率0.5个百分点，此次降准共计释放长期资金约1万亿元。"
)
REPEAT = "此次降准共计释放长期资金约1万亿元。"


def test_fragment_cut_mid_sentence_is_joined() -> None:
    [draft] = rebuild_page(
        _lines(
            HEADLINE,
            BYLINE,
            "3月31日，辽宁省政府新闻办组织发布会，其中提到了打",
            "造新时代“辽派”精品微短剧。",
        )
    )
    assert draft.paragraphs[2] == Paragraph(
        "body",
        "3月31日，辽宁省政府新闻办组织发布会，其中提到了打造新时代“辽派”精品微短剧。",
        (3, 4),
    )
    assert len(draft.paragraphs) == 3


def test_terminated_paragraphs_are_not_joined() -> None:
    [draft] = rebuild_page(_lines(HEADLINE, BYLINE, "第一段结束。", "第二段开始，也结束了。"))
    assert [p.raw_lines for p in draft.paragraphs] == [(1,), (2,), (3,), (4,)]
    assert draft.body == "第一段结束。\n第二段开始，也结束了。"


def test_fragment_is_joined_across_a_credit() -> None:
    [draft] = rebuild_page(
        _lines(
            HEADLINE,
            BYLINE,
            "此外，江苏省苏州市、四川省",
            "视觉中国/图",
            "成都市等地也都陆续出台了相关政策。",
        )
    )
    assert _kinds(draft) == ["headline", "byline", "body", "credit"]
    assert draft.body == "此外，江苏省苏州市、四川省成都市等地也都陆续出台了相关政策。"
    assert draft.paragraphs[2].raw_lines == (3, 5)


@pytest.mark.parametrize(
    ("preceding", "following", "kind"),
    [
        ((), ("视觉中国/图",), "caption"),
        (("降准落地",), (), "deck"),
        ((), (), "pullquote"),
    ],
)
def test_verbatim_repeat_kind_depends_on_neighbours(
    preceding: tuple[str, ...], following: tuple[str, ...], kind: str
) -> None:
    lines = _lines(HEADLINE, BYLINE, LONG_BODY, "其他内容。", *preceding, REPEAT, *following)
    [draft] = rebuild_page(lines)
    [repeat] = [p for p in draft.paragraphs if p.text == REPEAT]
    assert repeat.kind == kind
    assert draft.body.split("\n") == [LONG_BODY, "其他内容。"]


def test_repeat_match_ignores_whitespace() -> None:
    spaced = "此次降准 共计释放 长期资金约1万亿元。"
    [draft] = rebuild_page(_lines(HEADLINE, BYLINE, LONG_BODY, spaced))
    assert _kinds(draft)[-1] == "pullquote"


def test_exact_copy_of_an_earlier_paragraph_is_a_repeat() -> None:
    copy = "财政部表示将加快地方政府专项债券发行使用进度。"
    [draft] = rebuild_page(_lines(HEADLINE, BYLINE, copy, LONG_BODY, copy, "视觉中国/图"))
    assert _kinds(draft)[2:] == ["body", "body", "caption", "credit"]
    assert draft.body.split("\n") == [copy, LONG_BODY]


def test_short_repeat_stays_body() -> None:
    short = "长期资金约1万亿元。"  # under the 12-character floor: too common to call a repeat
    [draft] = rebuild_page(_lines(HEADLINE, BYLINE, LONG_BODY, short))
    assert _kinds(draft)[-1] == "body"


def test_page_splits_at_each_headline() -> None:
    drafts = rebuild_page(
        _lines(
            HEADLINE,
            BYLINE,
            LONG_BODY,
            "助力释放县域消费潜力 农商行信用卡激战“6·18”",
            "每经记者 李娜 发自上海",
            "农商行密集推出“绑卡支付立减”等营销活动。",
        )
    )
    assert [d.headline for d in drafts] == [HEADLINE, "助力释放县域消费潜力 农商行信用卡激战“6·18”"]
    assert [(d.authors, d.dateline) for d in drafts] == [(("杨井鑫",), "北京"), (("李娜",), "上海")]
    assert drafts[1].paragraphs[0].raw_lines == (4,)


@pytest.mark.parametrize(
    ("title", "kind"),
    [
        ("下沉市场挑战", "heading"),
        ("银行信贷精准赋能", "heading"),
        ("县域农商行信用卡业务发展空间仍然广阔但挑战并存", "body"),
        ("县域消费潜力 农商行信用卡激战", "headline"),
    ],
)
def test_title_like_line_mid_page(title: str, kind: str) -> None:
    drafts = rebuild_page(_lines(HEADLINE, BYLINE, LONG_BODY, title, "随后是正文。"))
    [para] = [p for d in drafts for p in d.paragraphs if 4 in p.raw_lines]
    assert para.kind == kind


def test_title_above_a_byline_is_a_headline() -> None:
    drafts = rebuild_page(
        _lines(HEADLINE, BYLINE, LONG_BODY, "农商行信用卡激战", "每经记者 李娜 发自上海", "正文。")
    )
    assert [d.headline for d in drafts] == [HEADLINE, "农商行信用卡激战"]


def test_bodyless_lead_folds_into_first_article() -> None:
    [draft] = rebuild_page(_lines("视觉中国/图", HEADLINE, BYLINE, LONG_BODY))
    assert draft.headline == HEADLINE
    assert _kinds(draft) == ["other", "headline", "byline", "body"]
    assert draft.paragraphs[0] == Paragraph("other", "视觉中国/图", (1,))


def test_lead_with_body_stays_its_own_article() -> None:
    drafts = rebuild_page(_lines(BYLINE, LONG_BODY, HEADLINE, "正文第二篇。"))
    assert [d.headline for d in drafts] == [None, HEADLINE]
    assert drafts[0].body == LONG_BODY
    assert drafts[0].authors == ("杨井鑫",)


def test_authors_from_several_bylines_are_deduplicated() -> None:
    [draft] = rebuild_page(
        _lines(HEADLINE, BYLINE, LONG_BODY, "本报记者 张三、杨井鑫 上海报道", "正文。")
    )
    assert draft.authors == ("杨井鑫", "张三")
    assert draft.dateline == "北京"


def test_draft_body_joins_body_paragraphs_only() -> None:
    draft = ArticleDraft(
        "标题",
        (),
        None,
        (
            Paragraph("headline", "标题", (1,)),
            Paragraph("body", "第一段。", (2,)),
            Paragraph("credit", "视觉中国/图", (3,)),
            Paragraph("body", "第二段。", (4,)),
        ),
    )
    assert draft.body == "第一段。\n第二段。"


# --- rebuild_article ---------------------------------------------------------------------


def _units_by_frames(lines: list[Line], lexicon: Lexicon, *, page: bool) -> pl.DataFrame:
    """The steps of `rebuild_page` (or, not a `page`, of `rebuild_article`: no headline
    from the text, no article split) as the frame functions take them, a frame per step."""
    units = classify_units(normalize_units(split_units(lines)))
    units = resolve_titles(units, allow_headlines=page, lexicon=lexicon)
    if page:
        units = split_articles(units, lexicon=lexicon)
    units = join_fragments(mark_repeats(units, lexicon=lexicon), lexicon=lexicon)
    return order_reading(name_repeats(units))


def test_a_page_on_rows_equals_the_steps_on_frames(sample_page_text: str, nlp: NlpModels) -> None:
    """`page_units` and `rebuild_page` run the steps on one list of rows; the units and the
    articles are what the frame steps give, one frame per step."""
    lines = split_lines(clean_text(sample_page_text))
    units = _units_by_frames(lines, nlp.tagger, page=True)
    assert page_units(lines, lexicon=nlp.tagger).equals(units)
    drafts = rebuild_page(lines, lexicon=nlp.tagger)
    assert drafts == drafts_from_units(units)
    assert len(drafts) >= 2


def test_rebuild_article_on_rows_equals_the_steps_on_frames(
    sample_page_text: str, page_drafts: list[ArticleDraft], nlp: NlpModels
) -> None:
    """`rebuild_article` runs the steps on one list of rows; every paragraph, kind and
    line is what the frame steps give, for each article of the sample page and for the
    whole page taken as one record (cut lines, pull-quotes, credits, late bylines)."""
    lines = split_lines(clean_text(sample_page_text))
    articles = [
        [ln for ln in lines if any(ln.line_no in p.raw_lines for p in d.paragraphs)]
        for d in page_drafts
    ]
    kinds: set[str] = set()
    for record in [lines, *articles]:
        draft = rebuild_article(record, headline=None, lexicon=nlp.tagger)
        assert [draft] == drafts_from_units(_units_by_frames(record, nlp.tagger, page=False))
        kinds.update(_kinds(draft))
    assert {"body", "pullquote", "byline", "credit"} <= kinds


def test_rebuild_article_inserts_record_headline() -> None:
    draft = rebuild_article(
        [Line(BYLINE, 7), Line(LONG_BODY, 7)],
        headline=HEADLINE,
        authors=["王希"],
        headline_line=7,
    )
    assert draft.headline == HEADLINE
    assert draft.paragraphs[0] == Paragraph("headline", HEADLINE, (7,))
    assert draft.authors == ("王希", "杨井鑫")
    assert draft.dateline == "北京"
    assert draft.body == LONG_BODY


def test_rebuild_article_without_headline_line_has_no_raw_lines() -> None:
    draft = rebuild_article(_lines(LONG_BODY), headline=HEADLINE)
    assert draft.paragraphs[0] == Paragraph("headline", HEADLINE, ())


def test_rebuild_article_never_makes_headlines_from_text() -> None:
    draft = rebuild_article(
        _lines("央行宣布降准 释放资金", LONG_BODY, "下沉市场挑战", "正文。"), headline=None
    )
    assert draft.headline is None
    assert "headline" not in _kinds(draft)
    assert _kinds(draft) == ["heading", "body", "heading", "body"]


def test_rebuild_article_authors_deduplicated_record_first() -> None:
    draft = rebuild_article(
        _lines("每经记者 李娜 发自上海", LONG_BODY), headline=None, authors=["李娜", "王希"]
    )
    assert draft.authors == ("李娜", "王希")
    assert draft.dateline == "上海"


def test_rebuild_article_joins_fragments_and_marks_pullquote() -> None:
    draft = rebuild_article(
        _lines(
            "中国人民银行6月15日宣布下调存款准备金率0.5个百分点，",
            "此次降准共计释放长期资金约1万亿元。",
            REPEAT,
        ),
        headline=HEADLINE,
    )
    assert _kinds(draft) == ["headline", "body", "pullquote"]
    assert draft.body == LONG_BODY


def test_sentence_above_a_credit_is_a_caption_even_when_not_repeated() -> None:
    caption = "图为杭州银行营业网点。"
    [draft] = rebuild_page(
        _lines(HEADLINE, BYLINE, LONG_BODY, "其他内容。", caption, "视觉中国/图")
    )
    assert _kinds(draft)[-2:] == ["caption", "credit"]
    assert caption not in draft.body


def test_an_articles_only_paragraph_stays_body_above_a_credit() -> None:
    draft = rebuild_article(_lines(LONG_BODY, "视觉中国/图"), headline="央行宣布降准")
    assert [p.kind for p in draft.paragraphs] == ["headline", "body", "credit"]
    assert draft.body == LONG_BODY


def test_only_the_line_right_above_a_byline_heads_it() -> None:
    drafts = rebuild_page(
        _lines(
            HEADLINE,
            BYLINE,
            LONG_BODY,
            "祝朋友们身体健康，新年快乐！",
            "农商行信用卡激战“6·18”",
            "每经记者 李娜 发自上海",
            "正文第二篇。",
        )
    )
    assert [d.headline for d in drafts] == [HEADLINE, "农商行信用卡激战“6·18”"]
    assert drafts[0].paragraphs[-1].text == "祝朋友们身体健康，新年快乐！"


def test_late_byline_goes_with_the_article_above_when_the_line_reads_as_a_sentence() -> None:
    # The article's later paragraphs come first; its byline and lead are printed after.
    ending = "投资者应该怎样看待茅台的万亿市值？"
    lead = "近期市场的一大新闻就是基金热卖。"
    [draft] = rebuild_page(_lines(HEADLINE, LONG_BODY, ending, BYLINE, lead))
    assert draft.headline == HEADLINE
    assert draft.authors == ("杨井鑫",)
    assert draft.paragraphs[0].kind == "headline"
    assert draft.paragraphs[1].kind == "byline"


def test_a_line_above_a_byline_still_heads_it_after_an_article_with_its_byline() -> None:
    question = "投资者应该怎样看待茅台的万亿市值？"
    drafts = rebuild_page(_lines(HEADLINE, BYLINE, LONG_BODY, question, "记者 李娜", "正文。"))
    assert [d.headline for d in drafts] == [HEADLINE, question]


def test_missed_headline_is_never_the_rest_of_a_cut_line() -> None:
    # Two bylines in one article: a headline was missed between them, but the line that
    # completes "…情况下，" is body; the unpunctuated title is the headline.
    drafts = rebuild_page(
        _lines(
            HEADLINE,
            BYLINE,
            LONG_BODY,
            "在下游化肥市场不景气的情况下，",
            "富邦股份如何独善其身的呢？",
            "首先，主营收入的增长来自销量的增加。",
            "县域消费潜力释放农商行信用卡激战",
            "其次，海外业务的收入大幅增加。",
            "再次，成本控制得当。",
            "每经记者 李娜 发自上海",
            "正文第二篇。",
        )
    )
    assert [d.headline for d in drafts] == [HEADLINE, "县域消费潜力释放农商行信用卡激战"]


def test_cut_line_joins_the_next_line_even_when_a_later_one_forms_a_word_with_it(nlp) -> None:  # type: ignore[no-untyped-def]
    head = "该行表示，下一步将继续加大对"
    tail = "小微企业和个体工商户的信贷支持力度。"
    between = "业内人士认为，这将有效缓解企业融资难题。"
    later = "外开放的力度，业内人士表示仍有空间。"  # 对 + 外开放 reads as 对外开放
    lines = _lines(HEADLINE, BYLINE, LONG_BODY, head, tail, between, later)
    [draft] = rebuild_page(lines, lexicon=nlp.tagger)
    body = [p.text for p in draft.paragraphs if p.kind == "body"]
    assert body[-3:] == [head + tail, between, later]


def test_pullquote_in_two_lines_inside_a_cut_paragraph_is_a_repeat() -> None:
    # The quote's lines run on from the cut-off line above, and it quotes the paragraph
    # it interrupts.
    first = "业内人士认为，微短剧产业能够有效带动地方经济，缓解地方就业"
    rest = "压力，因此各地纷纷出台扶持政策。"
    lines = _lines(
        HEADLINE,
        BYLINE,
        LONG_BODY,
        first,
        "微短剧产业能够有效带动",
        "地方经济，缓解地方就业压力。",
        rest,
    )
    [draft] = rebuild_page(lines)
    assert [(p.kind, p.raw_lines) for p in draft.paragraphs][3:] == [
        ("body", (4, 7)),
        ("pullquote", (5, 6)),
    ]
    assert draft.body.endswith(first + rest)


@pytest.mark.parametrize(
    ("text", "clause"),
    [
        ("很多人对中国经济的悲观", True),
        ("港交所对于这些互联网", True),
        ("董宝珍则是价值投资的坚决", True),
        ("资金动向", False),
        ("银行信贷精准赋能", False),
        ("微短剧产业“蝶变”", False),
        ("机遇和挑战", False),
        ("长期向好", False),
        ("市场间轮动性将愈演愈", True),
    ],
)
def test_reads_as_clause(nlp, text: str, clause: bool) -> None:  # type: ignore[no-untyped-def]
    assert reads_as_clause(text, nlp.tagger) is clause


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("资金动向", "heading"),  # ends on 向, but in the noun 动向
        ("很多人对中国经济的悲观", "body"),  # a sentence's first piece, built like a clause
        ("而风险平价策略实在太", "body"),  # an adverb that needs its verb
        ("看来可行性方案也不", "body"),  # a negation likewise
        ("既然失业率拐点还没", "body"),
        ("事实上结构化证券投资类", "body"),  # a sentence connective opens no heading
        ("另外还有一些公司大股东", "body"),
        ("昨日A股市场低开主要由于", "body"),  # a conjunction needs its clause
        ("机遇和挑战", "heading"),  # 和 inside, not at the end
    ],
)
def test_short_line_mid_article_with_the_lexicon(nlp, line: str, kind: str) -> None:  # type: ignore[no-untyped-def]
    lines = _lines(HEADLINE, BYLINE, LONG_BODY, line, "情绪正在逐步修复，市场人士表示。")
    [draft] = rebuild_page(lines, lexicon=nlp.tagger)
    [para] = [p for p in draft.paragraphs if 4 in p.raw_lines]
    assert para.kind == kind


def test_cut_off_piece_inside_a_longer_sentence_is_not_a_repeat() -> None:
    # The first piece stops mid-word ("上|周五"), so the caption that quotes its whole
    # sentence does not make it a pull-quote: a repeat stops where a clause stops.
    piece = "2月5日，道指低开约300点，上"
    middle = "周五收跌666点后追随全球股市跌势。道琼斯工业平均指数收跌1175.28点，创201"
    caption = "2月5日，道指低开约300点，上周五收跌666点后追随全球股市跌势。"
    end = "1年以来最大单日跌幅。"
    credit = "本报记者 白博彬/摄"
    [draft] = rebuild_page(_lines(HEADLINE, BYLINE, LONG_BODY, piece, middle, caption, credit, end))
    assert [(p.kind, p.raw_lines) for p in draft.paragraphs][3:] == [
        ("body", (4, 5, 8)),
        ("caption", (6,)),
        ("credit", (7,)),
    ]


def test_is_repeat_of_a_cut_piece_needs_a_clause_boundary() -> None:
    source = "中国人民银行宣布下调金融机构存款准备金率0.5个百分点，释放长期资金约1万亿元。"
    assert is_repeat_of("中国人民银行宣布下调金融机构存款准备金率0.5个百分点", [source])
    assert not is_repeat_of("中国人民银行宣布下调金融机构存款准", [source])


def test_line_completing_a_cut_word_continues_the_paragraph(nlp) -> None:  # type: ignore[no-untyped-def]
    head = "小盘题材股周四联手大涨，航天军工等板"
    tail = "块，已经成为市场反弹的主角。"
    earlier = "由此可见，中小创板块，已经成为市场反弹的主角。"
    lines = _lines(HEADLINE, BYLINE, LONG_BODY, earlier, head, tail)
    [draft] = rebuild_page(lines, lexicon=nlp.tagger)
    assert draft.body.endswith(head + tail)


@pytest.mark.parametrize(
    ("lines", "paragraphs"),
    [
        # A colon that runs on into the next line: one paragraph.
        (
            ["合宜基金并不是近期唯一的爆款：", "新年伊始，华夏稳盛灵活配置混合基金同样受到追捧。"],
            ["合宜基金并不是近期唯一的爆款：新年伊始，华夏稳盛灵活配置混合基金同样受到追捧。"],
        ),
        # A quotation after a colon runs on too: 称：“…” is one paragraph in news prose.
        (
            ["该人士回复记者称：", "“监管目前还没有明确的规定。”"],
            ["该人士回复记者称：“监管目前还没有明确的规定。”"],
        ),
        # A colon introducing a list: the items are paragraphs of their own.
        (
            ["主要措施包括：", "一是加大信贷投放力度；", "二是降低企业融资成本。"],
            ["主要措施包括：", "一是加大信贷投放力度；", "二是降低企业融资成本。"],
        ),
    ],
)
def test_a_line_ending_on_a_colon_runs_on_unless_a_list_follows(
    lines: list[str], paragraphs: list[str]
) -> None:
    [draft] = rebuild_page(_lines(HEADLINE, BYLINE, LONG_BODY, *lines))
    assert [p.text for p in draft.paragraphs if p.kind == "body"][1:] == paragraphs


@pytest.mark.parametrize("text", ["记者了解到，昔日新三板", "据记者了解，在江苏扬州"])
def test_a_sentence_about_reporters_is_not_a_byline(text: str) -> None:
    assert parse_byline(text) is None


def test_a_piece_quoted_across_its_seam_continues_the_line_above() -> None:
    # The pull-quote prints the sentence across the layout's cut (营收同比|增长…), so
    # the second piece is the paragraph's own continuation, not a copy of the quote.
    head = "2010年全球电子产业步入全面复苏，整个行业的景气状况超出预期。营收同比"
    piece = "增长92.51%，归母净利润同比增长389.68%。"
    quote = "营收同比增长92.51%，归母净利润同比增长389.68%，双双创下了上市以来的新高。"
    lines = _lines(HEADLINE, BYLINE, LONG_BODY, head, piece, "多方角力", LONG_BODY, quote)
    [draft] = rebuild_page(lines)
    assert (head + piece) in draft.body.split("\n")


def test_missed_headline_is_never_a_paragraphs_first_piece(nlp) -> None:  # type: ignore[no-untyped-def]
    # Two bylines in one article: a headline was missed between them. `PP：…成本支`
    # has a headline's colon, but the next line completes its word (支|撑).
    drafts = rebuild_page(
        _lines(
            HEADLINE,
            BYLINE,
            LONG_BODY,
            "PP：扩能放缓成本支",
            "撑，价格重心有望上移。",
            "县域消费潜力释放农商行信用卡激战",
            "其次，海外业务的收入大幅增加。",
            "再次，成本控制得当。",
            "每经记者 李娜 发自上海",
            "正文第二篇。",
        ),
        lexicon=nlp.tagger,
    )
    assert [d.headline for d in drafts] == [HEADLINE, "县域消费潜力释放农商行信用卡激战"]


@pytest.mark.parametrize(
    ("head", "box", "tail"),
    [
        # A complete paragraph set in the cut, the line after it completing the cut word.
        (
            "黄金的表现远胜于股票和债券市",
            "本年度预期单产为3.09吨每公顷，同比增长两成。",
            "场。即使是白银，也跑赢了大盘。",
        ),
        # A number cut before its unit.
        (
            "非农就业人口增加20万，超过预期的18",
            "本年度预期单产为3.09吨每公顷，同比增长两成。",
            "万，大幅高于前值。",
        ),
        # A box opening a paragraph of its own (目前…), the word completed further on.
        (
            "该行表示，下一步将继续加大对",
            "目前国内微短剧产业直逼千亿元规模。",
            "外开放的力度，业内人士表示仍有空间。",
        ),
        # A box opening a sentence of its own with a connective set off by a comma,
        # after a clause cut mid-phrase: the line after the box goes on.
        (
            "美股创下四年来新高。果然，道指",
            "实际上，2017年以来A股总体呈现底部逐步抬高的格局。",
            "在周五狂泻666点，创2016年6月来最大单日点数跌幅。",
        ),
        # ... or with a point in time.
        (
            "该行业已经进入成熟期，周期股的钢铁、煤炭",
            "今日，两市双双低开，盘中跌破3400点后快速拉升。",
            "正在逐步接棒一线白马股。",
        ),
        # No word spans the cut, but the line after the box opens mid-sentence: a
        # sentence of two characters no paragraph starts with.
        (
            "分析人士认为，市场正面临一个全新的",
            "创业板指数已由2015年5月末的3542.84点跌至1700点附近。",
            "局面。",
        ),
        # ... or a particle standing as a word of its own.
        (
            "为何这只基金",
            "当天，道琼斯指数下跌4.6%，报收于24345.75点。",
            "的投资经理来自展恒理财？这是因为其大股东正是展恒理财。",
        ),
    ],
)
def test_cut_line_jumps_a_box_for_the_line_that_completes_it(
    nlp, head: str, box: str, tail: str
) -> None:  # type: ignore[no-untyped-def]
    lines = _lines(HEADLINE, BYLINE, LONG_BODY, head, box, tail)
    [draft] = rebuild_page(lines, lexicon=nlp.tagger)
    assert [(p.kind, p.text) for p in draft.paragraphs][-2:] == [
        ("body", head + tail),
        ("sidebar", box),
    ]


def test_cut_line_runs_into_a_next_line_opening_mid_sentence_not_past_it(nlp) -> None:  # type: ignore[no-untyped-def]
    # `国通` + `不过` reads as the word 通不过, but the next line opens on a particle
    # (`的十大股东…`): it is the cut line's rest, not a box to jump.
    head = "有235.99万股进入到獐子岛和*ST国通"
    tail = "的十大股东和十大流通股东的名单。"
    later = "不过，与此前的短线投资不同，獐子岛的情况更为复杂。"
    lines = _lines(HEADLINE, BYLINE, LONG_BODY, head, tail, later)
    [draft] = rebuild_page(lines, lexicon=nlp.tagger)
    body = [p.text for p in draft.paragraphs if p.kind == "body"]
    assert body[-2:] == [head + tail, later]


def test_a_date_after_a_word_that_takes_it_continues_the_cut_line(nlp) -> None:  # type: ignore[no-untyped-def]
    head = "全球股市跟跌，美股下跌开始于"
    tail = "1月29日，除中国外的全球股市普遍跟随下跌。"
    later = "第二，美国经济之所以能够从2009年复苏，靠的是宽松货币。"
    lines = _lines(HEADLINE, BYLINE, LONG_BODY, head, tail, later)
    [draft] = rebuild_page(lines, lexicon=nlp.tagger)
    body = [p.text for p in draft.paragraphs if p.kind == "body"]
    assert body[-2:] == [head + tail, later]


def test_a_title_line_right_below_the_byline_is_the_leads_first_piece() -> None:
    # A section heading divides body text; right under the byline, a short line is the
    # first piece of the lead, cut by the layout.
    head, tail = "大类资产配置进入新", "周期，实践中更加注重主动管理。"
    [draft] = rebuild_page(_lines(HEADLINE, BYLINE, head, tail, LONG_BODY))
    assert [(p.kind, p.text) for p in draft.paragraphs][2:] == [
        ("body", head + tail),
        ("body", LONG_BODY),
    ]


@pytest.mark.parametrize(
    ("head", "tail"),
    [
        # An enumeration comma never ends a heading.
        ("美债收益率陡峭攀升、", "近乎充分就业、贸易摩擦、弱势美元等因素叠加。"),
        # A number cut before the rest of its digits.
        ("北京首都机场股份于20", "18年1月4日对上述补充协议进行了披露。"),
    ],
)
def test_a_short_line_cut_in_an_enumeration_or_a_number_is_body(head: str, tail: str) -> None:
    [draft] = rebuild_page(_lines(HEADLINE, BYLINE, LONG_BODY, head, tail))
    assert [(p.kind, p.text) for p in draft.paragraphs][-1] == ("body", head + tail)


@pytest.mark.parametrize(
    ("text", "inside"),
    [
        ("亿。受此影响，股指大幅下挫。", True),  # a one-word sentence ends first
        ("局面。", True),
        ("大家好。我是星汉系列的投资经理。", False),  # a greeting is a sentence of its own
        ("潮，风险情绪被严重挫伤。", True),  # a clause of one character
        ("对，你没看错，高管可以直接入股。", False),  # a reply opens a paragraph
        ("一、市场回顾", False),
        ("股灾”的风险，这可能传导至美国经济。", True),  # a quotation closed before opened
        ("“股灾”的风险仍在。", False),
        ("的投资经理来自展恒理财。", True),
        ("的确，以往股票型基金热卖。", False),  # 的 inside the word 的确
        ("过去十年间，中国财富管理快速发展。", False),
    ],
)
def test_opens_mid_sentence(nlp, text: str, inside: bool) -> None:  # type: ignore[no-untyped-def]
    assert opens_mid_sentence(text, nlp.tagger) is inside


def test_a_short_line_before_a_line_opening_mid_sentence_is_body(nlp) -> None:  # type: ignore[no-untyped-def]
    head, tail = "除了投资者积极参与", "外，本次评选活动邀请的专家评委也纷纷建言献策。"
    [draft] = rebuild_page(_lines(HEADLINE, BYLINE, LONG_BODY, head, tail), lexicon=nlp.tagger)
    assert [(p.kind, p.text) for p in draft.paragraphs][-1] == ("body", head + tail)


def _numbered_paragraph(i: int) -> str:
    return f"据统计，编号为{i}的样本企业今年前三季度营业收入同比增长{i % 7 + 1}个百分点。"


@pytest.mark.parametrize(("distance", "kind"), [(50, "pullquote"), (150, "body")])
def test_a_repeat_is_looked_for_within_a_hundred_paragraphs(distance: int, kind: str) -> None:
    """A document of hundreds of paragraphs stays linear: a copy of a paragraph 50 away is
    still a repeat, a copy 150 away is left as body text."""
    paragraphs = [_numbered_paragraph(i) for i in range(300)]
    copy = paragraphs[200 - distance]
    body = [*paragraphs[:200], copy, *paragraphs[200:]]
    [draft] = rebuild_page(_lines(HEADLINE, BYLINE, *body))
    [*_, repeat] = [p for p in draft.paragraphs if p.text == copy]
    assert repeat.kind == kind
    assert draft.body.count(copy) == (1 if kind == "pullquote" else 2)
