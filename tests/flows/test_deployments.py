"""`zhnews serve` against a real Prefect API, and runs that overlap on one curated root."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from filelock import FileLock
from prefect.client.orchestration import get_client
from prefect.deployments import run_deployment
from prefect.exceptions import ObjectNotFound

from flows import pipeline
from tests.conftest import SAMPLE_PAGE, harness_child_env

pytestmark = pytest.mark.usefixtures("prefect_harness")

ZHNEWS = Path(sys.executable).with_name("zhnews")
DAYS = ("2026-06-15", "2026-06-16")


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    root = tmp_path / "raw"
    for day in DAYS:
        folder = root / "cbn" / day
        folder.mkdir(parents=True)
        shutil.copy(SAMPLE_PAGE, folder / "page-1.txt")
    return root


@pytest.fixture
def served(raw: Path, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], Path]]:
    curated = tmp_path / "curated"
    process = subprocess.Popen(
        [
            *(str(ZHNEWS), "serve", "--raw", str(raw), "--curated", str(curated)),
            *("--schedule", "15 3 * * *"),
        ],
        env=harness_child_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield process, curated
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()


def _wait_for(name: str, process: subprocess.Popen[str], timeout: float = 240):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                output = process.stdout.read() if process.stdout else ""
                pytest.fail(f"zhnews serve exited with {process.returncode}:\n{output[-3000:]}")
            try:
                return client.read_deployment_by_name(name)
            except ObjectNotFound:
                time.sleep(1)
    pytest.fail(f"deployment {name} was not registered within {timeout:g}s")


def test_serve_registers_both_deployments_and_runs_a_backfill(
    served: tuple[subprocess.Popen[str], Path],
):
    process, curated = served
    nightly = _wait_for("nightly/zhnews", process)
    backfill = _wait_for("backfill/zhnews", process)

    (schedule,) = nightly.schedules
    assert schedule.schedule.cron == "15 3 * * *"  # type: ignore[union-attr]
    assert schedule.schedule.timezone == "Asia/Shanghai"  # type: ignore[union-attr]
    assert schedule.active
    assert not backfill.schedules
    for deployment in (nightly, backfill):
        assert deployment.parameters["curated_root"] == str(curated.resolve())
        assert deployment.global_concurrency_limit is not None
        assert deployment.global_concurrency_limit.limit == 1
        assert deployment.concurrency_options is not None
        assert deployment.concurrency_options.collision_strategy == "ENQUEUE"

    flow_run = run_deployment(
        "backfill/zhnews",
        parameters={"start": DAYS[0], "end": DAYS[1]},
        timeout=600,
        poll_interval=2,
    )

    assert flow_run.state is not None
    assert flow_run.state.is_completed(), flow_run.state
    articles = pl.read_parquet(curated / "articles", hive_partitioning=True)
    assert sorted(str(d) for d in articles["pub_date"].unique()) == list(DAYS)
    runs = pl.read_parquet(curated / "runs", hive_partitioning=True)
    assert runs["flow_name"].to_list() == ["backfill"]
    assert runs["run_id"].to_list() == [str(flow_run.id)]


def test_two_runs_on_one_curated_root_take_turns(raw: Path, tmp_path: Path):
    curated = tmp_path / "curated"
    curated.mkdir()
    command = [str(ZHNEWS), "run", "--raw", str(raw), "--curated", str(curated), "--force"]
    env = harness_child_env(tmp_path)
    logs = [tmp_path / f"run-{i}.log" for i in range(2)]
    # Hold the curated root's lock until both runs wait for it, whatever their speed.
    held = FileLock(str(curated / pipeline.LOCK_FILE))
    held.acquire()
    try:
        runs = []
        for log in logs:
            with log.open("w") as out:
                runs.append(
                    subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
                )
        deadline = time.monotonic() + 600
        while not all("another run holds" in log.read_text() for log in logs):
            assert time.monotonic() < deadline, [log.read_text() for log in logs]
            assert all(process.poll() is None for process in runs), [
                log.read_text() for log in logs
            ]
            time.sleep(0.5)
    finally:
        held.release()
    for process in runs:
        process.wait(timeout=600)
    outputs = [log.read_text() for log in logs]

    assert [process.returncode for process in runs] == [0, 0], outputs
    articles = pl.read_parquet(curated / "articles", hive_partitioning=True)
    assert articles.height == 4
    assert articles["article_id"].is_unique().all()
    tokens = pl.read_parquet(curated / "tokens", hive_partitioning=True)
    assert tokens.select("article_id", "token_idx").is_unique().all()
    assert set(tokens["article_id"]) == set(articles["article_id"])
    recorded = pl.read_parquet(curated / "runs", hive_partitioning=True)
    assert recorded["status"].to_list() == ["completed", "completed"]
    assert not list(curated.glob("_journal/*.json"))
