"""GB18030 text that lost a byte is realigned; lost characters are marked, never guessed."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.io.nlp import common_chars
from flows.io.raw import RawText, read_raw_file
from transforms.repair import LOST, realign_gb18030, text_quality

TEXT = (
    "公安部副部长黄明一声令下，大量仿制式枪以及猎枪、火药枪、气枪被投入炼钢炉。"
    "与此同时，在全国各省区市150个城市，破案追缴和群众主动上缴的非法枪支被集中销毁。"
)
SOGOU_GB = Path(__file__).resolve().parents[3] / "shared/corpus/sogou_ca_smarty"


def _damage(text: str, char_index: int) -> bytes:
    """Replace the first byte of one character with `?`, as the damaged archives do."""
    before = text[:char_index].encode("gb18030")
    char = text[char_index].encode("gb18030")
    return before + b"?" + char[1:] + text[char_index + 1 :].encode("gb18030")


@pytest.fixture(scope="module")
def common() -> frozenset[str]:
    return common_chars()


def test_damaged_stream_decodes_to_nonsense_without_repair():
    damaged = _damage(TEXT, 1).decode("gb18030", errors="replace")
    assert "部副部长" not in damaged


def test_realignment_restores_the_text_and_marks_the_lost_character(common):
    repaired, repairs = realign_gb18030(_damage(TEXT, 1), common)
    assert repairs == 1
    assert repaired == TEXT[:1] + LOST + TEXT[2:]
    assert text_quality(repaired, common) == "repaired"


def test_real_question_marks_are_left_alone(common):
    text = "为何这些地方政府如此看重微短剧产业发展?浙江一家文化公司负责人表示,市场增长很快。"
    assert realign_gb18030(text.encode("gb18030"), common) == (text, 0)
    assert text_quality(text, common) == "clean"


def test_mojibake_that_cannot_be_repaired_is_suspect(common):
    garbled = TEXT.encode("gb18030")[1:].decode("gb18030", errors="replace") * 2
    assert text_quality(garbled, common) == "suspect"


def test_reader_realigns_damaged_gb18030_files(tmp_path: Path):
    path = tmp_path / "raw" / "sogou" / "2012-06-12" / "a.txt"
    path.parent.mkdir(parents=True)
    path.write_bytes(_damage(TEXT * 3, 30))
    result = read_raw_file(tmp_path / "raw", "sogou/2012-06-12/a.txt")
    assert isinstance(result, RawText)
    assert result.encoding == "gb18030+realigned"
    assert LOST in result.text
    assert "与此同时，在全国各省区市150个城市" in result.text


@pytest.mark.skipif(not SOGOU_GB.exists(), reason="shared corpus not present")
def test_sogou_sample_is_repaired(common):
    data = (SOGOU_GB / "news_tensite_xml.smarty.dev.gb18030.dat").read_bytes()
    repaired, repairs = realign_gb18030(data, common)
    assert repairs > 100
    assert "黄明：现在我" + LOST + "布" in repaired
    assert "随着" + LOST + "安部副部长黄明" in repaired


@pytest.mark.parametrize("uncommon", [0, 2, 3, 40])
def test_the_verdict_is_the_same_for_any_collection_of_common_characters(
    common: frozenset[str], uncommon: int
) -> None:
    """Around the threshold (3 of 50 Han characters is 6%): the frozenset's count by
    deletion agrees with a character-by-character count over a plain set."""
    han = [ch for ch in TEXT if "\u4e00" <= ch <= "\u9fff" and ch in common][:47]
    rare = "龘靐齉"[: min(uncommon, 3)] + "䶵" * max(uncommon - 3, 0)
    text = "ABC，" + "".join(han) + rare + "123"
    verdicts = {text_quality(text, common), text_quality(text, set(common))}
    assert len(verdicts) == 1
    assert verdicts == ({"suspect"} if uncommon >= 3 else {"clean"})
