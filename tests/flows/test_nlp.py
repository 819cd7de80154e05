"""Loading the models: jieba's tables read once, as jieba reads them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from flows.io.nlp import JIEBA_IDF, read_idf


def test_read_idf_gives_jiebas_table_and_median() -> None:
    from jieba.analyse.tfidf import DEFAULT_IDF, IDFLoader

    expected, expected_median = IDFLoader(DEFAULT_IDF).get_idf()
    idf, median = read_idf(JIEBA_IDF)
    assert idf == expected
    assert median == expected_median
    assert idf["银行"] == expected["银行"]


def test_read_idf_refuses_an_unpaired_field(tmp_path: Path) -> None:
    path = tmp_path / "idf.txt"
    path.write_text("银行 5.5\n贷款\n", encoding="utf-8")
    with pytest.raises(ValueError, match="word idf"):
        read_idf(path)


def test_models_load_without_jiebas_keyword_extractors() -> None:
    """`jieba.analyse` builds its own TF-IDF table when imported: a second copy to load."""
    code = (
        "import sys; from flows.io.nlp import load_models; load_models(); "
        "print('jieba.analyse' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300
    )
    assert out.stdout.strip() == "False"
