"""No code from data: nothing the pipeline reads is evaluated or unpickled, and nothing it
keeps (tables, partition records, run records, task results) is stored as a pickle."""

from __future__ import annotations

import ast
import json
from datetime import date
from pathlib import Path

import pytest
from prefect import Flow, Task

from flows import pipeline
from flows.partition import analyse_file
from tests.conftest import REPO
from tests.flows.hostile import PICKLE_TEXT, PWNED, PYTHON, TEXTS

PACKAGES = ("flows", "transforms", "schemas")
# Modules whose loaders run code found in their input.
UNSAFE_MODULES = frozenset(
    {"pickle", "_pickle", "cPickle", "marshal", "shelve", "dill", "cloudpickle", "joblib"}
)
UNSAFE_BUILTINS = frozenset({"eval", "exec", "compile", "__import__"})
# Attribute calls that load code or objects from data.
UNSAFE_CALLS = frozenset(
    {"load", "loads", "unsafe_load", "full_load", "read_pickle", "import_module"}
)
SAFE_LOADERS = frozenset({"json", "tomllib", "tomli"})
# Uses that load nothing from data, each with the reason it is safe.
REVIEWED = {
    # The stage timer wraps the functions of its own constant table, TIMED.
    ("flows/stage_times.py", "importlib.import_module()"),
    # The compiled kernels are the modules of its own constant table, KERNELS.
    ("flows/kernels.py", "importlib.import_module()"),
    # The model cache reads back tables the project built from jieba's own files and wrote
    # to the user's cache folder; marshal builds values and runs nothing.
    ("flows/io/model_cache.py", "import marshal"),
    ("flows/io/model_cache.py", "marshal.loads()"),
}


def unsafe_uses(source: str) -> list[str]:
    """Where `source` imports an unpickler, calls eval/exec, or loads objects from data
    (`json.load(s)` and TOML are the loaders that build plain values only)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names]
            if isinstance(node, ast.ImportFrom) and node.module:
                names.append(node.module)
            found += [
                f"line {node.lineno}: import {n}"
                for n in names
                if n.split(".")[0] in UNSAFE_MODULES
            ]
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in UNSAFE_BUILTINS:
                found.append(f"line {node.lineno}: {func.id}()")
            elif isinstance(func, ast.Attribute) and func.attr in UNSAFE_CALLS:
                owner = func.value.id if isinstance(func.value, ast.Name) else ""
                if owner not in SAFE_LOADERS:
                    found.append(f"line {node.lineno}: {ast.unparse(func)}()")
            if any(k.arg == "allow_pickle" for k in node.keywords):
                found.append(f"line {node.lineno}: allow_pickle")
    return found


@pytest.mark.parametrize(
    "snippet",
    [
        "import pickle",
        "from marshal import loads",
        "import cloudpickle as cp",
        "eval(text)",
        "exec(compile(text, 'x', 'exec'))",
        "yaml.load(stream)",
        "yaml.unsafe_load(stream)",
        "pd.read_pickle(path)",
        "np.load(path, allow_pickle=True)",
        "importlib.import_module(name)",
        "__import__(name)",
    ],
)
def test_the_scan_finds_code_loaded_from_data(snippet: str) -> None:
    assert unsafe_uses(snippet)


def test_the_scan_lets_plain_value_loaders_through() -> None:
    assert unsafe_uses("json.loads(line)\ntomllib.load(fh)\npl.read_parquet(path)") == []


def test_no_project_module_loads_code_or_objects_from_data() -> None:
    files = sorted(p for package in PACKAGES for p in (REPO / package).rglob("*.py"))
    assert len(files) > 30
    found = [
        (str(path.relative_to(REPO)), use)
        for path in files
        for use in unsafe_uses(path.read_text(encoding="utf-8"))
    ]
    assert [(path, use) for path, use in found if (path, use.split(": ")[1]) not in REVIEWED] == []


def test_payloads_in_a_record_are_stored_as_text(tmp_path: Path, nlp) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "raw" / "wire" / "2026-06-15"
    folder.mkdir(parents=True)
    records = [
        {"id": "p-1", "text": f"{TEXTS['utf-8']}\n{PYTHON}"},
        {"id": "p-2", "text": f"{TEXTS['gbk']}\n{PICKLE_TEXT}"},
        {"id": "p-3", "title": "{{7*7}} ${7*7} `id`", "text": TEXTS["gb2312"]},
    ]
    (folder / "feed.jsonl").write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in records), encoding="utf-8"
    )

    result = analyse_file(
        tmp_path / "raw",
        "wire",
        date(2026, 6, 15),
        "wire/2026-06-15/feed.jsonl",
        run_id="r",
        nlp=nlp,
        max_file_bytes=1 << 20,
    )

    assert result.rejections == []
    assert result.frames is not None
    paragraphs = "\n".join(result.frames["paragraphs"]["text"])
    for line in [PYTHON, *PICKLE_TEXT.split("\n")]:
        assert line in paragraphs
    assert result.frames["articles"]["headline"].to_list() == [None, None, "{{7*7}} ${7*7} `id`"]
    assert not list(tmp_path.rglob(PWNED))
    assert not Path(PWNED).exists()


def _tasks_and_flows() -> list[Task | Flow]:  # type: ignore[type-arg]
    return [v for v in vars(pipeline).values() if isinstance(v, Task | Flow)]


def test_no_task_or_flow_persists_its_result() -> None:
    """Prefect pickles persisted results by default: every task and flow keeps them in
    memory only (and so caches nothing), whatever the Prefect settings."""
    found = _tasks_and_flows()
    assert {f.name for f in found} >= {
        "zhnews-run",
        "nightly",
        "backfill",
        "list-raw",
        "plan",
        "curate-partition",
        "analyse-files",
        "finish-partition",
    }
    assert [f.name for f in found if f.persist_result is not False] == []


@pytest.mark.usefixtures("prefect_harness")
def test_a_run_writes_no_result_even_when_prefect_is_told_to_persist(tmp_path: Path) -> None:
    from prefect.settings import (
        PREFECT_LOCAL_STORAGE_PATH,
        PREFECT_RESULTS_PERSIST_BY_DEFAULT,
        PREFECT_TASKS_DEFAULT_PERSIST_RESULT,
        temporary_settings,
    )

    raw = tmp_path / "raw" / "cbn" / "2026-06-15"
    raw.mkdir(parents=True)
    (raw / "page.txt").write_text(TEXTS["utf-8"], encoding="utf-8")
    storage = tmp_path / "prefect-results"
    storage.mkdir()
    with temporary_settings(
        {
            PREFECT_RESULTS_PERSIST_BY_DEFAULT: True,
            PREFECT_TASKS_DEFAULT_PERSIST_RESULT: True,
            PREFECT_LOCAL_STORAGE_PATH: storage,
        }
    ):
        result = pipeline.call(
            pipeline.run_pipeline,
            raw_root=str(tmp_path / "raw"),
            curated_root=str(tmp_path / "curated"),
        )
    assert result["status"] == "completed"
    assert list(storage.rglob("*")) == []
    stored = {p.suffix for p in (tmp_path / "curated").rglob("*") if p.is_file()}
    assert stored == {".parquet", ".json", ".lock"}
