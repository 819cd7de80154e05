"""notebooks/explore.ipynb: committed without outputs, and runs top to bottom on curated
data (the readers' dataset, the bundled sample alone, an empty root)."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbformat import NotebookNode

from tests.conftest import REPO, SAMPLE_PAGE

NOTEBOOK = REPO / "notebooks" / "explore.ipynb"


def test_the_committed_notebook_has_no_outputs() -> None:
    """`make notebook-clean` drops them (and the run times) before a commit."""
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code
    for cell in code:
        assert cell.outputs == [], cell.source[:60]
        assert cell.execution_count is None, cell.source[:60]
        assert "execution" not in cell.metadata, cell.source[:60]
    assert "widgets" not in notebook.metadata


def _execute(root: Path, monkeypatch: pytest.MonkeyPatch) -> NotebookNode:
    monkeypatch.setenv("ZHNEWS_CURATED", str(root))
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    client.execute()  # raises on the first cell that fails
    return notebook


def _outputs(notebook: NotebookNode) -> list[NotebookNode]:
    return [out for cell in notebook.cells if cell.cell_type == "code" for out in cell.outputs]


def _text(notebook: NotebookNode) -> str:
    parts = []
    for out in _outputs(notebook):
        if out.output_type == "stream":
            parts.append(out.text)
        elif "data" in out and "vega" not in out.data.get("text/html", ""):
            parts.append(out.data.get("text/plain", ""))
    return "\n".join(parts)


def _charts(notebook: NotebookNode) -> int:
    return sum(
        1 for out in _outputs(notebook) if "vega" in out.get("data", {}).get("text/html", "")
    )


def test_it_runs_on_two_sources_over_two_days(
    curated_dataset: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    notebook = _execute(curated_dataset, monkeypatch)
    text = _text(notebook)

    assert f"curated root: {curated_dataset}" in text
    assert _charts(notebook) == 6  # days, keywords, organisations, tickers, people, quarantine
    for org in ("招商银行", "交通银行", "中国人民银行"):
        assert org in text
    assert "601328.SH" in text and "600519.SH" in text  # tickers, with their companies
    assert "贵州茅台" in text
    assert "bad_json" in text and "bad_date" in text  # both quarantined files shown
    assert "Nothing was quarantined" not in text


@pytest.fixture(scope="module")
def sample_dataset(prefect_harness: None, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What `make run` curates: the bundled sample page alone."""
    from flows import pipeline

    base = tmp_path_factory.mktemp("sample")
    page = base / "raw" / "cbn" / "2026-06-15"
    page.mkdir(parents=True)
    shutil.copy(SAMPLE_PAGE, page / SAMPLE_PAGE.name)
    result = pipeline.call(
        pipeline.run_pipeline, raw_root=str(base / "raw"), curated_root=str(base / "curated")
    )
    assert result["status"] == "completed"
    return base / "curated"


def test_it_runs_on_the_bundled_sample_alone(
    sample_dataset: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    notebook = _execute(sample_dataset, monkeypatch)
    text = _text(notebook)
    assert _charts(notebook) == 5  # nothing quarantined: no chart for it
    assert "Nothing was quarantined" in text
    assert "601328.SH" in text and "交通银行" in text


def test_it_runs_on_an_empty_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    notebook = _execute(tmp_path, monkeypatch)
    text = _text(notebook)
    assert _charts(notebook) == 0
    assert "No articles yet" in text and "Nothing was quarantined" in text
