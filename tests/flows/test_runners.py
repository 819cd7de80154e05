"""Worker processes and Dask give the same tables as one process."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from prefect import flow, task
from typer.testing import CliRunner

from flows import pipeline, plan
from flows.cli import app
from flows.partition import CURATED_TABLES
from flows.runners import PRELOAD, Scale, task_runner
from flows.stage_times import STAGE_TIMES_ENV, worker_times
from flows.temporary_server import free_port
from tests.conftest import SAMPLE_PAGE, harness_child_env
from transforms.documents import Share

BULLETIN = (
    "中国人民银行今日开展1000亿元7天期逆回购操作，中标利率为1.4%，与此前持平。\n"
    "市场人士表示，央行此举意在维护月末流动性合理充裕。"
)
EARNINGS = (
    "招商银行(600036.SH)昨日发布公告称，2025年实现净利润1483.91亿元，同比增长1.22%。\n"
    "该行行长王良在业绩会上表示，将继续加大对实体经济的支持力度。"
)
PROPERTY = (
    "国家统计局数据显示，5月份全国新建商品住宅销售价格环比下降0.2%。\n"
    "分析人士认为，随着各地政策落地，房地产市场有望逐步企稳。"
)


def _jsonl(*records: tuple[str, str]) -> str:
    return "".join(
        json.dumps({"id": rid, "title": text[:8], "text": text}, ensure_ascii=False) + "\n"
        for rid, text in records
    )


def _raw(root: Path) -> Path:
    """Three days, two sources, a partition of two files, and articles that repeat others
    on the same day and on later days: what ties partitions to each other."""
    for day in ("2026-06-15", "2026-06-17"):
        (root / "cbn" / day).mkdir(parents=True)
        shutil.copy(SAMPLE_PAGE, root / "cbn" / day / "page-1.txt")
    (root / "cbn" / "2026-06-15" / "photo.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    for day, files in {
        "2026-06-15": {"a.jsonl": [("w-1", BULLETIN), ("w-2", EARNINGS)]},
        "2026-06-16": {
            "a.jsonl": [("w-3", BULLETIN), ("w-4", PROPERTY)],
            "b.jsonl": [("w-5", EARNINGS + "\n记者 李明")],
        },
    }.items():
        (root / "wire" / day).mkdir(parents=True)
        for name, records in files.items():
            (root / "wire" / day / name).write_text(_jsonl(*records), encoding="utf-8")
    return root


def _tables(curated: Path) -> dict[str, pl.DataFrame]:
    out = {}
    for table in CURATED_TABLES:
        frame = pl.read_parquet(curated / table, hive_partitioning=True)
        sort = [c for c in ("pub_date", "raw_path", "article_id", "source", "word") if c in frame]
        out[table] = frame.drop("run_id", strict=False).sort(sort, maintain_order=True)
    return out


def _assert_same(left: Path, right: Path) -> None:
    a, b = _tables(left), _tables(right)
    for table in CURATED_TABLES:
        assert a[table].equals(b[table]), table


def _backfill(raw: Path, curated: Path, **runner: object) -> dict[str, object]:
    """The fixture's three days backfilled from `raw` into `curated`, on `runner`."""
    return pipeline.call(
        pipeline.backfill,
        start=date(2026, 6, 15),
        end=date(2026, 6, 17),
        raw_root=str(raw),
        curated_root=str(curated),
        **runner,
    )


@pytest.fixture(scope="module")
def raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _raw(tmp_path_factory.mktemp("runners") / "raw")


@pytest.fixture(scope="module")
def single(raw: Path, prefect_harness: None) -> Path:
    """The reference: every partition curated in the flow's own process."""
    curated = raw.parent / "single"
    result = _backfill(raw, curated)
    assert result["status"] == "completed"
    articles = _tables(curated)["articles"]
    # The fixture exercises what links partitions: repeats within a day and across days.
    assert articles["duplicate_of"].drop_nulls().len() >= 3
    return curated


@pytest.fixture
def small_parts(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Parts of 200 bytes, so the fixture's JSONL files are analysed in 2-3 parts (one of
    them empty); how many parts each file was given, as the flow planned them."""
    monkeypatch.setattr(plan, "PART_BYTES", 200)
    monkeypatch.setattr(plan, "TASKS_PER_WORKER", 1000)
    counts: list[int] = []
    original = plan.file_shares

    def shares(*args: object) -> list[Share]:
        planned = original(*args)  # type: ignore[arg-type]
        counts.append(len(planned))
        return planned

    monkeypatch.setattr(plan, "file_shares", shares)
    return counts


@pytest.mark.usefixtures("prefect_harness")
def test_a_backfill_on_a_local_dask_cluster_matches_one_process(
    raw: Path, single: Path, small_parts: list[int]
) -> None:
    curated = raw.parent / "dask"
    result = _backfill(raw, curated, workers=2, task_runner="dask")
    assert result["status"] == "completed"
    assert result["partitions"] == 4
    assert result["files_quarantined"] == 1
    _assert_same(single, curated)
    assert not list((curated / "_staging").glob("analysis-*"))
    assert sorted(small_parts) == [1, 1, 1, 2, 3, 3]


@pytest.fixture
def dask_cluster(tmp_path: Path, prefect_harness: None) -> Iterator[str]:
    """An existing cluster, started as the README says: `dask scheduler`, and two
    `dask worker`s with the preload that report to the run's Prefect API."""
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    dask = str(Path(sys.executable).with_name("dask"))
    env = harness_child_env(tmp_path)
    scheduler = [dask, "scheduler", "--host", "127.0.0.1", "--port", str(port)]
    worker = [dask, "worker", address, "--host", "127.0.0.1", "--nthreads", "1"]
    worker += ["--preload", PRELOAD]
    commands = [scheduler, worker, worker]
    procs = []
    try:
        for number, command in enumerate(commands):
            log = (tmp_path / f"dask-{number}.log").open("wb")
            procs.append(
                subprocess.Popen(
                    [*command, "--no-dashboard"],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
        from distributed import Client

        with Client(address, timeout=120) as client:
            client.wait_for_workers(2, timeout=300)
        yield address
    finally:
        for proc in procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def test_a_backfill_on_an_existing_dask_cluster_matches_one_process(
    raw: Path, single: Path, dask_cluster: str
) -> None:
    curated = raw.parent / "dask-existing"
    result = _backfill(raw, curated, dask_address=dask_cluster)
    assert result["status"] == "completed"
    _assert_same(single, curated)

    def facts(dask_worker: Any) -> tuple[bool, int, int]:
        from flows.io.nlp import load_models

        preloaded = PRELOAD in sys.modules
        return preloaded, load_models.cache_info().currsize, dask_worker.state.executed_count

    from distributed import Client

    with Client(dask_cluster) as client:
        workers = list(client.run(facts).values())
    # Both workers prepared themselves with the preload and loaded the models once, and
    # the cluster analysed the files: two pages and three JSONL files, in four tasks (the
    # two small files of one day in one).
    assert [(preloaded, models) for preloaded, models, _ in workers] == [(True, 1)] * 2
    assert sum(executed for _, _, executed in workers) >= 4


@pytest.mark.usefixtures("prefect_harness")
def test_a_run_on_local_worker_processes_matches_one_process(
    raw: Path, single: Path, small_parts: list[int]
) -> None:
    curated = raw.parent / "process"
    result = pipeline.call(
        pipeline.run_pipeline, raw_root=str(raw), curated_root=str(curated), workers=2
    )
    assert result["status"] == "completed"
    _assert_same(single, curated)
    assert max(small_parts) > 1
    again = pipeline.call(
        pipeline.run_pipeline, raw_root=str(raw), curated_root=str(curated), workers=2
    )
    assert again["partitions"] == 0
    assert again["partitions_skipped"] == 4


@pytest.mark.usefixtures("prefect_harness")
def test_the_command_on_local_workers_matches_one_process(
    raw: Path, single: Path, tmp_path: Path
) -> None:
    """`zhnews run --workers 2` as a user types it: the worker server starts with the run.
    With the benchmark's stage timers on, each worker that analysed files reports its own
    stages and CPU as it exits, and the tables are the same."""
    curated = tmp_path / "curated"
    zhnews = str(Path(sys.executable).with_name("zhnews"))
    times = tmp_path / "stages.json"
    done = subprocess.run(
        [zhnews, "run", "--workers", "2", "--raw", str(raw), "--curated", str(curated)],
        capture_output=True,
        text=True,
        env={**harness_child_env(tmp_path), STAGE_TIMES_ENV: str(times)},
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "on 2 local worker processes" in done.stderr + done.stdout
    _assert_same(single, curated)
    flow = json.loads(times.read_text())
    assert flow["cpu_seconds"] > 0 and flow["seconds"]["waiting for workers"] > 0
    assert "segment+tag" not in flow["seconds"]  # the workers tag, not the flow
    workers = worker_times(times)
    assert 1 <= len(workers) <= 2
    assert all(w["cpu_seconds"] > 0 for w in workers)
    analysed = sum(w["calls"].get("segment+tag", 0) for w in workers)
    assert analysed == _tables(curated)["articles"].height > 0


@task
def _worker_facts() -> tuple[int, bool, bool, int]:
    """The worker's parent, whether it imported PRELOAD, whether its dictionaries are
    frozen for the collector, and how many times it loaded the models."""
    import gc

    from flows.io.nlp import load_models

    frozen = gc.get_freeze_count() > 100_000
    return os.getppid(), PRELOAD in sys.modules, frozen, load_models.cache_info().currsize


@flow
def _probe_workers(runner: str) -> list[tuple[int, bool, bool, int]]:
    with task_runner(Scale(2, runner)) as pool:
        futures = [pool.submit(_worker_facts, parameters={}) for _ in range(4)]
        return [future.result() for future in futures]


@pytest.mark.usefixtures("prefect_harness")
def test_local_workers_are_forked_from_the_preloaded_server() -> None:
    facts = _probe_workers("process")
    # Not spawned by this process: forked by the server that imported PRELOAD, which
    # loaded the models once for all of them.
    assert os.getpid() not in {ppid for ppid, _, _, _ in facts}
    assert all(preloaded and models == 1 for _, preloaded, _, models in facts)


@task
def _polars_threads() -> int:
    return pl.thread_pool_size()


@flow
def _probe_polars_threads() -> list[int]:
    with task_runner(Scale(2, "process")) as pool:
        futures = [pool.submit(_polars_threads, parameters={}) for _ in range(4)]
        return [future.result() for future in futures]


@pytest.mark.usefixtures("prefect_harness")
def test_local_workers_run_polars_on_one_thread_and_leave_the_flow_its_own() -> None:
    """As many workers as cores: polars' threads in a worker would only contend with the
    other workers. The flow's process keeps its own setting."""
    before = os.environ.get("POLARS_MAX_THREADS")
    assert _probe_polars_threads() == [1] * 4
    assert os.environ.get("POLARS_MAX_THREADS") == before


@pytest.mark.usefixtures("prefect_harness")
def test_local_dask_workers_prepare_themselves_as_they_start() -> None:
    """The LocalCluster's workers import PRELOAD on start: dictionaries loaded once and
    frozen before the first file, as the local pool's workers are."""
    facts = _probe_workers("dask")
    assert [(preloaded, frozen, models) for _, preloaded, frozen, models in facts] == [
        (True, True, 1)
    ] * 4


@task
def _number(i: int) -> int:
    return i


@flow
def _hand_over(count: int) -> tuple[list[int], list[int]]:
    with task_runner(Scale(2, "process")) as pool:
        handed: list[int] = []
        original = pool._resolve_futures_and_submit  # type: ignore[attr-defined]

        def recording(*args: Any, **kwargs: Any) -> Any:
            future = original(*args, **kwargs)
            parameters = kwargs["parameters"] if "parameters" in kwargs else args[2]
            handed.append(parameters["i"])
            return future

        pool._resolve_futures_and_submit = recording  # type: ignore[attr-defined]
        futures = [pool.submit(_number, parameters={"i": i}) for i in range(count)]
        return handed, [future.result() for future in futures]


@pytest.mark.usefixtures("prefect_harness")
def test_local_workers_get_the_files_in_the_order_they_were_submitted() -> None:
    """Prefect's pool hands tasks to its executor from a thread pool; with more than one
    thread, a first partition's file could start last and hold up every finish."""
    handed, results = _hand_over(24)
    assert results == list(range(24))
    assert handed == list(range(24))


def test_scale_resolves_what_the_flags_leave_open() -> None:
    assert Scale.resolve(None, None) == Scale(1, "local")
    assert Scale.resolve(3, None) == Scale(3, "process")
    assert Scale.resolve(1, None) == Scale(1, "local")
    assert Scale.resolve(None, "process").workers >= 1
    assert Scale.resolve(None, None, "tcp://10.0.0.5:8786").runner == "dask"
    assert Scale.resolve(2, "dask").describe() == "dask, a local cluster of 2 worker processes"
    with pytest.raises(ValueError, match="not one of"):
        Scale.resolve(2, "threads")
    with pytest.raises(ValueError, match="needs --task-runner dask"):
        Scale.resolve(2, "process", "tcp://10.0.0.5:8786")


def test_the_cli_rejects_a_runner_it_does_not_know(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    result = CliRunner().invoke(
        app,
        ["run", "--raw", str(raw), "--curated", str(tmp_path / "c"), "--task-runner", "spark"],
    )
    assert result.exit_code == 2
    assert "task_runner" in result.output or "spark" in result.output


def test_a_worker_loads_the_models_once_and_freezes_them() -> None:
    """What the process pool runs in each worker before its first file."""
    code = (
        "import gc\n"
        "from flows.runners import prepare_worker\n"
        "from flows.io.nlp import load_models\n"
        "prepare_worker()\n"
        "frozen = gc.get_freeze_count() > 100_000\n"
        "print(load_models.cache_info().currsize, frozen, gc.isenabled())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300
    )
    assert out.stdout.split() == ["1", "True", "True"]


def test_collection_pauses_nest_across_threads_and_restore_what_was_there() -> None:
    """Off from the first pause to the end of the last, whichever thread ends last; back
    on only if it was on before."""
    import gc
    import threading

    from flows.runners import collection_paused

    assert gc.isenabled()
    inside, release = threading.Event(), threading.Event()
    seen: list[bool] = []

    def other() -> None:
        with collection_paused():
            inside.set()
            release.wait(10)
            seen.append(gc.isenabled())

    thread = threading.Thread(target=other)
    with collection_paused():
        thread.start()
        inside.wait(10)
        with collection_paused():
            seen.append(gc.isenabled())
        seen.append(gc.isenabled())
    seen.append(gc.isenabled())  # the other thread's pause is still open
    release.set()
    thread.join(10)
    assert seen == [False, False, False, False]
    assert gc.isenabled()

    gc.disable()
    try:
        with collection_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
