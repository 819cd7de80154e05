"""The NLP evaluation: its readers and scorers on tiny files, and one run on the corpus.

Only the last test needs the shared corpus (`<repo>/../shared/corpus` or `$ZHNEWS_CORPUS`);
it is skipped when the corpus is absent.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from benchmarks import nlp_eval
from benchmarks.nlp_eval import (
    BdciRow,
    Counts,
    read_bdci,
    read_gold_words,
    read_lines,
    read_msra,
    read_peoples_daily,
    read_training_words,
    score_bdci,
    score_entities,
    score_segmentation,
    zhnews_entities,
    zhnews_segmenter,
)
from benchmarks.synthetic_pages import corpus_root
from transforms.tables import NlpModels


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


# --- segmentation scorer -------------------------------------------------------------------

GOLD = [["我们", "喜欢", "北京大学"]]
VOCABULARY = frozenset({"我们", "喜欢"})


def test_perfect_segmentation_scores_one() -> None:
    score = score_segmentation(GOLD, GOLD, VOCABULARY)
    assert score.words == Counts(gold=3, predicted=3, correct=3)
    assert score.words.f1 == 1.0
    assert score.oov.recall == 1.0
    assert score.iv.recall == 1.0


def test_a_split_word_costs_precision_and_recall() -> None:
    score = score_segmentation(GOLD, [["我们", "喜欢", "北京", "大学"]], VOCABULARY)
    assert score.words == Counts(gold=3, predicted=4, correct=2)
    assert score.words.precision == pytest.approx(0.5)
    assert score.words.recall == pytest.approx(2 / 3)
    assert score.words.f1 == pytest.approx(4 / 7)


def test_a_merged_word_loses_both_of_its_words() -> None:
    score = score_segmentation(GOLD, [["我们喜欢", "北京大学"]], VOCABULARY)
    assert score.words == Counts(gold=3, predicted=2, correct=1)
    assert score.iv.recall == 0.0
    assert score.oov.recall == 1.0


def test_oov_words_are_the_gold_words_missing_from_the_vocabulary() -> None:
    score = score_segmentation(GOLD, [["我们", "喜欢", "北京", "大学"]], VOCABULARY)
    assert (score.oov.gold, score.oov.correct) == (1, 0)
    assert (score.iv.gold, score.iv.correct) == (2, 2)
    assert score.as_dict()["oov_rate"] == pytest.approx(1 / 3)
    # Without a vocabulary every gold word is OOV.
    assert score_segmentation(GOLD, GOLD).oov.gold == 3


def test_spans_run_over_the_file_so_a_quote_moved_up_a_line_still_aligns() -> None:
    gold = [["他", "说", "“"], ["好", "”"]]  # the MSR gold's habit
    predicted = [["他", "说"], ["“", "好", "”"]]
    assert score_segmentation(gold, predicted).words.f1 == 1.0
    # A cut file may end with the moved quote: that tail is left out, not an error.
    cut = score_segmentation(gold[:1], predicted[:1])
    assert cut.words == Counts(gold=2, predicted=2, correct=2)
    assert cut.unaligned_chars == 1


def test_different_text_is_an_error_not_a_score() -> None:
    with pytest.raises(ValueError, match="differ"):
        score_segmentation([["一二三四五六七八九十"]], [["壹二三四五六七八九十"]])


# --- readers -----------------------------------------------------------------------------


def test_sighan_gold_splits_on_any_whitespace_and_drops_crlf(tmp_path: Path) -> None:
    gold = _write(tmp_path / "gold.utf8", "共同  创造  ２０世纪  \r\n\r\n新  世纪  \r\n")
    raw = _write(tmp_path / "raw.utf8", "共同创造２０世纪\r\n\r\n新世纪\r\n")
    assert read_gold_words(gold) == [["共同", "创造", "２０世纪"], [], ["新", "世纪"]]
    assert read_gold_words(gold, limit=1) == [["共同", "创造", "２０世纪"]]
    assert read_lines(raw) == ["共同创造２０世纪", "", "新世纪"]  # no NFKC


def test_training_words_one_a_line(tmp_path: Path) -> None:
    path = _write(tmp_path / "words.utf8", "迈向\n充满\n\n１９９８年\n")
    assert read_training_words(path) == {"迈向", "充满", "１９９８年"}


def test_msra_chunks_become_typed_spans(tmp_path: Path) -> None:
    raw = _write(tmp_path / "test1.txt", "中共中央致中国致公党十一大的贺词\r\n江泽民在北京\r\n")
    gold = _write(
        tmp_path / "testright1.txt",
        "中共中央/nt 致/o 中国致公党十一大/nt 的贺词/o \r\n江泽民/nr 在/o 北京/ns \r\n",
    )
    examples = read_msra(raw, gold)
    assert [e.text for e in examples] == ["中共中央致中国致公党十一大的贺词", "江泽民在北京"]
    assert examples[0].entities == (("ORG", 0, 4), ("ORG", 5, 13))
    assert examples[1].entities == (("PERSON", 0, 3), ("LOC", 4, 6))
    assert len(read_msra(raw, gold, limit=1)) == 1


def test_msra_gold_that_does_not_spell_the_raw_line_is_refused(tmp_path: Path) -> None:
    raw = _write(tmp_path / "test1.txt", "江泽民在北京\r\n")
    gold = _write(tmp_path / "testright1.txt", "江泽民/nr 在/o 上海/ns \r\n")
    with pytest.raises(ValueError, match="line 1"):
        read_msra(raw, gold)


def test_peoples_daily_bio_sentences(tmp_path: Path) -> None:
    text = (
        "在 O\n欧 B-LOC\n洲 I-LOC\n， O\n李 B-PER\n鹏 I-PER\n\n"
        "新 B-ORG\n华 I-ORG\n社 I-ORG\n北 B-LOC\n京 I-LOC\n电 O\n\n"
    )
    path = _write(tmp_path / "example.dev", text)
    examples = read_peoples_daily(path)
    assert [e.text for e in examples] == ["在欧洲，李鹏", "新华社北京电"]
    assert examples[0].entities == (("LOC", 1, 3), ("PERSON", 4, 6))
    assert examples[1].entities == (("ORG", 0, 3), ("LOC", 3, 5))
    assert [e.text for e in read_peoples_daily(path, limit=1)] == ["在欧洲，李鹏"]


def test_peoples_daily_stray_inside_tag_starts_a_mention(tmp_path: Path) -> None:
    path = _write(tmp_path / "example.dev", "北 I-LOC\n京 I-LOC\n人 I-PER\n")
    assert read_peoples_daily(path)[0].entities == (("LOC", 0, 2), ("PERSON", 2, 3))


def test_bdci_csv_with_bom_and_an_empty_entity(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "Test_Data.dev.csv",
        "id,title,text,entity\n"
        "a1,,嘉石榴副总经理表示,嘉石榴\n"
        "a2,小资钱包,资易贷(小资钱包)诈骗,小资钱包;资易贷;小资钱包\n"
        "a3,同一句,同一句,\n",
        encoding="utf-8-sig",
    )
    rows = read_bdci(path)
    assert rows == [
        BdciRow("嘉石榴副总经理表示", ("嘉石榴",)),
        BdciRow("小资钱包。资易贷(小资钱包)诈骗", ("小资钱包", "资易贷")),
        BdciRow("同一句", ()),
    ]
    assert read_bdci(path, limit=2) == rows[:2]


# --- entity scorers ----------------------------------------------------------------------


def test_entity_type_mismatch_and_partial_span_are_errors() -> None:
    gold = [[("PERSON", 0, 3), ("LOC", 4, 6)], [("ORG", 0, 4)]]
    predicted = [[("PERSON", 0, 3), ("ORG", 4, 6)], [("ORG", 0, 3), ("TICKER", 5, 11)]]
    counts = score_entities(gold, predicted)
    assert counts["PERSON"] == Counts(gold=1, predicted=1, correct=1)
    assert counts["LOC"] == Counts(gold=1, predicted=0, correct=0)
    assert counts["ORG"] == Counts(gold=1, predicted=2, correct=0)
    assert counts["overall"] == Counts(gold=3, predicted=3, correct=1)  # TICKER ignored
    assert counts["overall"].f1 == pytest.approx(1 / 3)
    assert counts["LOC"].precision is None


def test_bdci_strict_needs_an_equal_org_lenient_takes_containment() -> None:
    rows = [BdciRow("", ("小资钱包", "资易贷", "恒丰银行")), BdciRow("", ("京东白条",))]
    mentions = [
        [("ORG", "小资钱包"), ("LOC", "资易贷公司"), ("ORG", "恒丰")],
        [("PERSON", "京东白条"), ("TICKER", "京东白条")],
    ]
    score = score_bdci(rows, mentions)
    assert (score.entities, score.found_strict, score.found_lenient) == (4, 1, 4)
    assert score.org_mentions == 2
    assert score.as_dict()["strict_recall"] == pytest.approx(0.25)


# --- the run -----------------------------------------------------------------------------


def test_a_text_a_system_raises_on_is_counted_not_fatal() -> None:
    def system(text: str) -> list[str]:
        if text == "坏":
            raise KeyError(10000000)
        return [text]

    outputs, speed = nlp_eval.timed(system, ["好", "坏"], lambda text: [])
    assert outputs == [["好"], []]
    assert (speed["errors"], speed["first_error"]) == (1, "KeyError on text 1")
    notes = nlp_eval._error_notes({"msra": {"systems": {"zhnews": speed}}})
    assert len(notes) == 1
    assert "msra zhnews: failed on 1 texts" in notes[0]


def test_absent_corpus_is_skipped_cleanly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The recorded figures of an earlier run stay: nothing measured, nothing written.
    out = tmp_path / "results" / "nlp.json"
    out.parent.mkdir()
    out.write_text('{"recorded": true}\n', encoding="utf-8")
    assert nlp_eval.main(["--corpus", str(tmp_path / "none"), "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    skipped = [line for line in printed.splitlines() if line.endswith("/ not found")]
    assert len(skipped) == 5  # PKU, MSR, MSRA, People's Daily, BDCI
    assert all("skipped" in line for line in skipped)
    assert json.loads(out.read_text(encoding="utf-8")) == {"recorded": True}
    assert not out.with_suffix(".md").exists()
    assert "left as it was" in printed


def test_zhnews_adapters_keep_raw_offsets(nlp: NlpModels) -> None:
    line = "ＶＩＰ客户３月增加２０％，江泽民在北京。"
    words = zhnews_segmenter(nlp.tagger)(line)
    assert "".join(words) == line
    # Tagged in half-width, so letters and digits stay together; cut from the raw line.
    assert "ＶＩＰ" in words
    assert any("２０" in word for word in words)
    entities = zhnews_entities(line, nlp)
    assert ("PERSON", 13, 16) in entities
    for entity_type, start, end in entities:
        assert entity_type in ("PERSON", "LOC", "ORG")
        assert 0 <= start < end <= len(line)


def test_the_vocabulary_tagger_outlives_its_dictionary_file() -> None:
    """Its main dictionary is written to a temporary folder: read before that goes."""
    tagger = nlp_eval.vocabulary_tagger(["新", "世纪", "江", "泽民", "中国"])
    words = zhnews_segmenter(tagger)("新世纪的中国")
    assert words[:3] == ["新", "世纪", "的"]
    assert "中国" in words


def _corpus_present() -> bool:
    root = corpus_root()
    folders = (
        nlp_eval.SIGHAN_DIR,
        nlp_eval.MSRA_DIR,
        nlp_eval.PEOPLES_DAILY_DIR,
        nlp_eval.BDCI_DIR,
    )
    return all((root / folder).is_dir() for folder in folders)


def _f1_values(result: dict[str, Any]) -> list[float]:
    seg, ner, bdci = result["seg"], result["ner"], result["bdci"]
    values = [seg[c]["systems"][s]["f1"] for c in ("pku", "msr") for s in nlp_eval.SEG_SYSTEMS]
    values += [
        ner[c]["systems"][s]["f1"]
        for c in ("msra", "peoples_daily", "overall")
        for s in nlp_eval.NER_SYSTEMS
    ]
    values += [
        bdci["systems"][s][key]
        for s in nlp_eval.NER_SYSTEMS
        for key in ("strict_recall", "lenient_recall")
    ]
    return values


def test_whole_evaluation_on_the_corpus(tmp_path: Path) -> None:
    if not _corpus_present():
        pytest.skip("shared corpus not found (set ZHNEWS_CORPUS)")
    out = tmp_path / "nlp.json"
    assert nlp_eval.main(["--limit", "50", "--json", str(out)]) == 0
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["params"]["limit"] == 50
    assert result["seg"]["pku"]["lines"] == 50
    assert result["ner"]["msra"]["sentences"] == 50
    assert result["bdci"]["rows"] == 50
    values = _f1_values(result)
    assert len(values) == 16
    assert all(isinstance(v, float) and 0.0 <= v <= 1.0 for v in values)
    # No system raised on any text (a raising system scores its fallback instead).
    for corpus in ("pku", "msr"):
        for system, scores in result["seg"][corpus]["systems"].items():
            assert scores["errors"] == 0, (corpus, system)
            assert scores["f1"] > 0.7, (corpus, system)
    assert "| PKU" in out.with_suffix(".md").read_text(encoding="utf-8")
