"""The faster posseg must tag exactly as jieba.posseg does."""

from __future__ import annotations

import random
import re
from pathlib import Path

import jieba
import jieba.posseg
import pytest
from jieba.posseg import char_state_tab_P, emit_P, start_P, trans_P
from jieba.posseg.viterbi import viterbi as jieba_viterbi

from flows.io.nlp import USER_DICT
from flows.io.posseg import FastPOSTokenizer, unknown_words, viterbi

SAMPLE = Path(__file__).resolve().parents[2] / "data/raw/cbn/2026-06-15/cbn-page-2026-06-15.txt"


def _sample_text() -> str:
    return SAMPLE.read_text(encoding="utf-8")


def _runs(text: str) -> list[str]:
    """Han runs of every length from 1 to 12, cut from the text at random places."""
    rng = random.Random(7)
    runs = []
    for block in re.findall(r"[\u4e00-\u9fd5]+", text):
        start = rng.randrange(len(block))
        runs.append(block[start : start + rng.randint(1, 12)])
    return runs


def test_viterbi_matches_jieba_on_real_text() -> None:
    runs = _runs(_sample_text())
    assert len(runs) > 300
    for run in runs:
        assert viterbi(run) == jieba_viterbi(run, char_state_tab_P, start_P, trans_P, emit_P), run


@pytest.mark.parametrize(
    "run",
    [
        "杨井鑫",  # a name jieba does not know
        "龘靐齉",  # characters outside jieba's character table
        "的的的的的的的的的的",  # one character over and over
        "李华说",
        "他們來了",  # traditional characters: emitted, but not in jieba's state table
        "們",
        "這個來說",
    ],
)
def test_viterbi_matches_jieba_on_edge_cases(run: str) -> None:
    assert viterbi(run) == jieba_viterbi(run, char_state_tab_P, start_P, trans_P, emit_P)


def test_viterbi_of_an_empty_run_fails_as_jiebas_does() -> None:
    with pytest.raises(IndexError):
        jieba_viterbi("", char_state_tab_P, start_P, trans_P, emit_P)
    with pytest.raises(IndexError):
        viterbi("")


def test_unknown_words_cover_the_run() -> None:
    assert "".join(w for w, _ in unknown_words("李华说")) == "李华说"
    assert unknown_words("李华说") == (("李华", "nr"), ("说", "v"))


def test_tag_table_of_the_default_dictionary_is_jiebas() -> None:
    fresh = jieba.posseg.POSTokenizer(jieba.Tokenizer())
    fast = FastPOSTokenizer(jieba.Tokenizer())
    assert fast.word_tag_tab == fresh.word_tag_tab
    assert len(fast.word_tag_tab) > 300_000
    # A copy: user words merged into one tokenizer's table stay out of the others'.
    fast.word_tag_tab["杨井鑫"] = "nr"
    assert "杨井鑫" not in FastPOSTokenizer(jieba.Tokenizer()).word_tag_tab


def test_tag_table_of_another_dictionary_is_read_from_it(tmp_path: Path) -> None:
    path = tmp_path / "dict.txt"
    path.write_text("新世纪 10 t\n江泽民 5 nr\n", encoding="utf-8")
    fast = FastPOSTokenizer(jieba.Tokenizer(str(path)))
    assert fast.word_tag_tab == {"新世纪": "t", "江泽民": "nr"}


def _pairs(tokenizer: jieba.posseg.POSTokenizer, text: str) -> list[tuple[str, str]]:
    return [(p.word, p.flag) for p in tokenizer.cut(text)]


def _fast(tokenizer: jieba.Tokenizer, frozen: bool) -> FastPOSTokenizer:
    fast = FastPOSTokenizer(tokenizer)
    if frozen:
        fast.freeze()
    return fast


@pytest.mark.parametrize("frozen", [False, True], ids=["python-route", "compiled-route"])
def test_tag_gives_what_posseg_cut_gives(frozen: bool) -> None:
    """Every branch of jieba's cut: Han runs with dictionary words and unknown ones, Latin
    words, digits, decimals, blanks and line ends, symbols, characters jieba has no
    entry for."""
    text = (
        _sample_text()
        + "\n浦发银行601328.SH涨23.4%，王小明和李华说了。日漫很火。\r\n"
        + "AI芯片 GPU  H100 v2.0_beta C++ C# R&D 3.14 0.5元 1,234 龘靐齉 ＡＢＣ１２３\t末尾 "
    )

    def tokenizer() -> jieba.Tokenizer:
        # One each: the first to tag takes the user words' tags out of the tokenizer.
        made = jieba.Tokenizer()
        made.load_userdict(str(USER_DICT))
        return made

    expected = _pairs(jieba.posseg.POSTokenizer(tokenizer()), text)
    assert _fast(tokenizer(), frozen).tag(text) == expected
    assert len(expected) > 1000
    assert ("微短剧", "n") in expected
    assert {flag for _, flag in expected} >= {"nr", "ns", "eng", "m", "x"}


@pytest.mark.parametrize("frozen", [False, True], ids=["python-route", "compiled-route"])
def test_tag_matches_posseg_on_random_mixtures(frozen: bool) -> None:
    """Pieces of real text glued to Latin letters, digits and blanks at random."""
    rng = random.Random(11)
    source = _sample_text()
    extras = ["", " ", "  ", "\n", "\r\n", "A", "abc", "12", "3.5", "x_y", "#", "，", "龘"]
    extras += ["A股", "3D", "B2B", "CEO", "iPhone", "5G", "%", "-", "\u3000", "\U0002a700"]
    reference = jieba.posseg.POSTokenizer(jieba.Tokenizer())
    fast = _fast(jieba.Tokenizer(), frozen)
    for _ in range(300):
        pieces = []
        for _ in range(rng.randint(1, 6)):
            start = rng.randrange(len(source))
            pieces.append(source[start : start + rng.randint(0, 30)])
            pieces.append(rng.choice(extras))
        text = "".join(pieces)
        assert fast.tag(text) == _pairs(reference, text), text


def test_tag_sees_words_added_after_it_was_used() -> None:
    """A word added later changes the dictionary's total, hence every word's probability;
    a probability remembered from before would take other routes."""
    text = _sample_text()[:3000]
    fast = FastPOSTokenizer(jieba.Tokenizer())
    reference = jieba.posseg.POSTokenizer(jieba.Tokenizer())
    before = fast.tag(text)
    assert before == _pairs(reference, text)
    for tagger in (fast, reference):
        # Big enough to shift every word's log probability well past rounding.
        tagger.tokenizer.add_word("阿尔法贝塔", 10**15, "nz")
    after = _pairs(reference, text)
    assert after != before
    assert fast.tag(text) == after


def test_tag_sees_words_deleted_after_it_was_used() -> None:
    """Deleting a word sets its frequency to 0 and leaves the total as it was, so only
    reading the dictionary again finds that the word is gone."""
    text = "中国人民银行今天发布了报告，人民银行的报告说明了情况。"
    fast = FastPOSTokenizer(jieba.Tokenizer())
    reference = jieba.posseg.POSTokenizer(jieba.Tokenizer())
    before = fast.tag(text)
    assert ("中国人民银行", "nt") in before
    for tagger in (fast, reference):
        tagger.tokenizer.del_word("中国人民银行")
        tagger.tokenizer.del_word("人民银行")
    after = fast.tag(text)
    assert after == _pairs(reference, text)
    assert ("中国人民银行", "nt") not in after


def test_compiled_route_takes_the_dictionary_as_it_was_frozen() -> None:
    """Words added before `freeze`, with frequencies that move the total, route as jieba
    routes them; a word added afterwards is refused rather than silently ignored."""
    text = _sample_text()[:3000] + "阿尔法贝塔和ABC股份"
    fast = FastPOSTokenizer(jieba.Tokenizer())
    reference = jieba.posseg.POSTokenizer(jieba.Tokenizer())
    for tagger in (fast, reference):
        tagger.tokenizer.add_word("阿尔法贝塔", 10**15, "nz")
        tagger.tokenizer.add_word("ABC股份", 5, "nt")
        tagger.tokenizer.del_word("中国人民银行")
    fast.freeze()
    assert fast.tag(text) == _pairs(reference, text)
    assert ("阿尔法贝塔", "nz") in fast.tag(text)
    fast.tokenizer.add_word("新词汇", 10, "n")
    with pytest.raises(RuntimeError, match="changed after"):
        fast.tag(text)


def test_a_block_seen_before_is_tagged_from_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    """Once the dictionary is final, a repeated block gives its tags again without a
    route search: the same pairs as the first time, and as jieba's."""
    text = _sample_text()[:2000]
    fast = _fast(jieba.Tokenizer(), frozen=True)
    first = fast.tag(text)
    assert first == _pairs(jieba.posseg.POSTokenizer(jieba.Tokenizer()), text)

    def no_search(self: object, block: str) -> list[int]:
        raise AssertionError(f"searched again: {block}")

    monkeypatch.setattr("flows.io.posseg.CompiledRoute.lengths", no_search)
    assert fast.tag(text) == first


def test_a_refinement_changes_each_han_block_once() -> None:
    """`refine` sees the words of each block (a run of Han characters, Latin letters and
    digits; never the punctuation between blocks), and a remembered block comes back
    refined, unasked."""
    seen: list[str] = []

    def merge_pairs(words: list[tuple[str, str]]) -> list[tuple[str, str]]:
        seen.append("".join(w for w, _ in words))
        return [("".join(w for w, _ in words), "block")]

    text = "中国人民银行今日开展1000亿元逆回购操作，中国人民银行表示。"
    fast = FastPOSTokenizer(jieba.Tokenizer(), refine=merge_pairs)
    fast.freeze()
    tagged = fast.tag(text)
    assert "".join(w for w, _ in tagged) == text
    first = "中国人民银行今日开展1000亿元逆回购操作"
    assert tagged == [(first, "block"), ("，", "x"), ("中国人民银行表示", "block"), ("。", "x")]
    assert seen == [first, "中国人民银行表示"]
    assert fast.tag(text) == tagged
    assert len(seen) == 2
