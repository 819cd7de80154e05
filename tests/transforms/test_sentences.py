"""Sentence splitting: boundaries, closers, trimming and paragraph tracing."""

from __future__ import annotations

import pytest

from transforms.pages import rebuild_page, split_lines
from transforms.sentences import Sentence, split_sentences
from transforms.textclean import clean_text


def _texts(text: str, sentences: list[Sentence]) -> list[str]:
    return [text[s.start : s.end] for s in sentences]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "6月9日，活动在湖北武汉举行。湖北省政府启动了1亿元规模的基金。",
            ["6月9日，活动在湖北武汉举行。", "湖北省政府启动了1亿元规模的基金。"],
        ),
        (
            "为何这些地方政府如此看重微短剧产业发展？浙江一家文化公司负责人表示，增长很快！",
            ["为何这些地方政府如此看重微短剧产业发展？", "浙江一家文化公司负责人表示，增长很快！"],
        ),
        # Closing quotes and brackets stay with the sentence they close.
        (
            "他说：“目前来看，还需要配套政策支持。”一家银行负责人表示。",
            ["他说：“目前来看，还需要配套政策支持。”", "一家银行负责人表示。"],
        ),
        ("还有（注）。随后离开。", ["还有（注）。", "随后离开。"]),
        # Runs of enders are one boundary.
        ("真的吗？！是的……后来呢?!", ["真的吗？！", "是的……", "后来呢?!"]),
        # Semicolons and colons do not end a sentence.
        (
            "在企业端，优先支持本土企业；在项目端，须完成备案。",
            ["在企业端，优先支持本土企业；在项目端，须完成备案。"],
        ),
        # Text after the last ender is still a sentence.
        ("第一句。没有句号的结尾", ["第一句。", "没有句号的结尾"]),
        ("第一句。没有句号的结尾 \u3000", ["第一句。", "没有句号的结尾"]),
        # Blanks between sentences are trimmed; blank-only pieces are dropped.
        ("第一句。  第二句。   ", ["第一句。", "第二句。"]),
        ("  前导空格。", ["前导空格。"]),
        ("。", ["。"]),
    ],
)
def test_split_sentences_boundaries(text: str, expected: list[str]) -> None:
    assert _texts(text, split_sentences(text, [0])) == expected


def test_split_sentences_offsets_across_lines_are_absolute() -> None:
    text = "第一段第一句。第一段第二句。\n第二段唯一一句。"
    sentences = split_sentences(text, [2, 5])
    assert sentences == [
        Sentence(2, 0, 7),
        Sentence(2, 7, 14),
        Sentence(5, 15, 23),
    ]
    assert _texts(text, sentences) == ["第一段第一句。", "第一段第二句。", "第二段唯一一句。"]


def test_unterminated_line_does_not_run_into_the_next() -> None:
    text = "此外，江苏省苏州市、四川省\n成都市等地也都陆续出台了相关政策。"
    sentences = split_sentences(text, [0, 1])
    assert [(s.paragraph_idx, text[s.start : s.end]) for s in sentences] == [
        (0, "此外，江苏省苏州市、四川省"),
        (1, "成都市等地也都陆续出台了相关政策。"),
    ]


def test_blank_line_gives_no_sentence_but_keeps_offsets() -> None:
    text = "第一段。\n \n第三段。"
    sentences = split_sentences(text, [0, 1, 2])
    assert [(s.paragraph_idx, text[s.start : s.end]) for s in sentences] == [
        (0, "第一段。"),
        (2, "第三段。"),
    ]


def test_empty_text_has_no_sentences() -> None:
    assert split_sentences("", []) == []


@pytest.mark.parametrize(
    ("text", "ids"),
    [("第一段。\n第二段。", [0]), ("第一段。", [0, 1]), ("", [0])],
)
def test_line_and_paragraph_count_must_match(text: str, ids: list[int]) -> None:
    with pytest.raises(ValueError, match="paragraph ids"):
        split_sentences(text, ids)


def test_sample_page_sentences_index_body_and_never_cross_lines(sample_page_text: str) -> None:
    drafts = rebuild_page(split_lines(clean_text(sample_page_text)))
    for draft in drafts:
        body = draft.body
        body_ids = [i for i, p in enumerate(draft.paragraphs) if p.kind == "body"]
        sentences = split_sentences(body, body_ids)
        assert sentences
        covered = set()
        line_start = {}
        offset = 0
        for idx, line in zip(body_ids, body.split("\n"), strict=True):
            line_start[idx] = (offset, offset + len(line))
            offset += len(line) + 1
        prev_end = 0
        for s in sentences:
            piece = body[s.start : s.end]
            assert piece and "\n" not in piece
            assert piece == piece.strip()
            lo, hi = line_start[s.paragraph_idx]
            assert lo <= s.start < s.end <= hi
            assert draft.paragraphs[s.paragraph_idx].kind == "body"
            assert s.start >= prev_end
            prev_end = s.end
            covered.update(range(s.start, s.end))
        non_blank = {i for i, ch in enumerate(body) if not ch.isspace()}
        assert non_blank <= covered
