"""The model cache: built once per set of source files, rebuilt when they change or the
cache is damaged, never in the way of a run."""

from __future__ import annotations

import logging
from pathlib import Path

import jieba
import pytest

from flows.io import model_cache
from flows.io.model_cache import cached
from flows.io.nlp import JIEBA_IDF, common_chars, initialize, read_idf
from flows.io.posseg import word_tags


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "models"
    monkeypatch.setenv("ZHNEWS_MODEL_CACHE", str(folder))
    return folder


class Builder:
    def __init__(self, source: Path) -> None:
        self.source = source
        self.calls = 0

    def __call__(self) -> dict[str, int]:
        self.calls += 1
        words = self.source.read_text(encoding="utf-8").split()
        return {word: len(word) for word in words}


def test_a_table_is_built_once_and_read_back(cache: Path, tmp_path: Path) -> None:
    source = tmp_path / "words.txt"
    source.write_text("银行 证券 基金\n", encoding="utf-8")
    build = Builder(source)
    first = cached("words", [source], build)
    second = cached("words", [source], build)
    assert build.calls == 1
    assert second == first == {"银行": 2, "证券": 2, "基金": 2}
    # A copy each time: what one caller adds is not in the next one's table.
    second["股票"] = 2
    assert "股票" not in cached("words", [source], build)
    assert len(list(cache.glob("words-*.marshal"))) == 1


def test_a_changed_source_builds_afresh(cache: Path, tmp_path: Path) -> None:
    source = tmp_path / "words.txt"
    source.write_text("银行\n", encoding="utf-8")
    build = Builder(source)
    assert cached("words", [source], build) == {"银行": 2}
    source.write_text("银行 商业银行\n", encoding="utf-8")
    assert cached("words", [source], build) == {"银行": 2, "商业银行": 4}
    assert build.calls == 2
    # The new table replaces the old one.
    assert len(list(cache.glob("words-*.marshal"))) == 1


def test_a_damaged_cache_is_built_again(
    cache: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    source = tmp_path / "words.txt"
    source.write_text("银行\n", encoding="utf-8")
    build = Builder(source)
    cached("words", [source], build)
    (path,) = cache.glob("words-*.marshal")
    path.write_bytes(path.read_bytes()[:5])
    with caplog.at_level(logging.WARNING, logger=model_cache.__name__):
        assert cached("words", [source], build) == {"银行": 2}
    assert build.calls == 2
    assert "unreadable" in caplog.text
    assert cached("words", [source], build) == {"银行": 2}
    assert build.calls == 2


def test_a_cache_that_cannot_be_written_is_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")
    monkeypatch.setenv("ZHNEWS_MODEL_CACHE", str(blocker / "models"))
    source = tmp_path / "words.txt"
    source.write_text("银行\n", encoding="utf-8")
    build = Builder(source)
    with caplog.at_level(logging.WARNING, logger=model_cache.__name__):
        assert cached("words", [source], build) == {"银行": 2}
        assert cached("words", [source], build) == {"银行": 2}
    assert build.calls == 2
    assert "not written" in caplog.text


def test_the_cache_folder_follows_xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ZHNEWS_MODEL_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert model_cache.cache_dir() == tmp_path / "zhnews" / "models"


@pytest.mark.parametrize("warm", [False, True], ids=["built", "from-cache"])
def test_jiebas_tables_are_the_same_from_the_cache(cache: Path, warm: bool) -> None:
    if warm:
        initialize(jieba.Tokenizer())
        common_chars.cache_clear()
        common_chars()
    reference = jieba.Tokenizer()
    reference.initialize()
    tokenizer = jieba.Tokenizer()
    initialize(tokenizer)
    assert tokenizer.initialized
    assert tokenizer.total == reference.total
    assert tokenizer.FREQ == reference.FREQ
    assert tokenizer.lcut("中经记者杨井鑫北京报道") == reference.lcut("中经记者杨井鑫北京报道")
    common_chars.cache_clear()
    assert "银" in common_chars() and len(common_chars()) == 3000
    idf = cached("jieba-idf", [JIEBA_IDF], lambda: read_idf(JIEBA_IDF))
    assert idf == read_idf(JIEBA_IDF)
    assert sorted(p.name.split("-")[0] for p in cache.glob("*.marshal")) == [
        "common",
        "jieba",
        "jieba",
    ]


def test_other_dictionaries_are_read_as_jieba_reads_them(cache: Path, tmp_path: Path) -> None:
    """Only jieba's own files are cached: evaluation vocabularies come and go."""
    path = tmp_path / "dict.txt"
    path.write_text("新世纪 10 t\n江泽民 5 nr\n", encoding="utf-8")
    tokenizer = jieba.Tokenizer(str(path))
    initialize(tokenizer)
    assert tokenizer.FREQ == {"新": 0, "新世": 0, "新世纪": 10, "江": 0, "江泽": 0, "江泽民": 5}
    assert word_tags(tokenizer) == {"新世纪": "t", "江泽民": "nr"}
    assert not cache.exists()
