"""The throughput benchmark on a tiny generated input: the report's shape, not its speed.

Runs the real `zhnews` console script against the test harness's Prefect API (no temporary
server per run), without the memory check and the cold start-up run. No timing target is
asserted.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from benchmarks import throughput
from benchmarks.throughput import Options, generated_articles, run_benchmark, write_raw_tree


def test_raw_tree_layout_and_copies(tmp_path: Path) -> None:
    articles = generated_articles(7)
    tree = write_raw_tree(articles, tmp_path / "raw", partition_articles=3, file_articles=2)
    assert (tree.articles, tree.partitions) == (7, 2)
    files = sorted(tmp_path.glob("raw/generated/*/*.jsonl"))
    assert len(files) == tree.files == 4
    records = [json.loads(line) for f in files for line in f.read_text().splitlines()]
    assert [r["id"] for r in records] == [a.id for a in articles]
    assert tree.text_bytes == sum(len(a.text.encode()) for a in articles)

    copies = write_raw_tree(articles, tmp_path / "copies", partition_articles=3, copies=3)
    assert (copies.articles, copies.partitions) == (21, 6)
    ids = [
        json.loads(line)["id"]
        for f in tmp_path.glob("copies/*/*/*.jsonl")
        for line in f.read_text().splitlines()
    ]
    assert len(set(ids)) == 21


def test_child_env_drops_the_api_url_unless_asked(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:4200/api")
    monkeypatch.setenv("ZHNEWS_MAX_FILE_MB", "1")
    env = throughput.child_env(tmp_path, use_api_url=False)
    assert "PREFECT_API_URL" not in env and "ZHNEWS_MAX_FILE_MB" not in env
    assert env["PREFECT_HOME"] == str(tmp_path)
    assert throughput.child_env(None, use_api_url=True)["PREFECT_API_URL"].endswith("/api")


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory, prefect_harness: None) -> dict[str, Any]:
    from prefect.settings import PREFECT_API_URL

    home = tmp_path_factory.mktemp("prefect-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PREFECT_HOME", str(home))
        patch.setenv("PREFECT_API_URL", str(PREFECT_API_URL.value()))
        return run_benchmark(
            Options(
                memory_check=False,
                cold_start=False,
                generated=True,
                articles=20,
                small_articles=2,
                use_api_url=True,
                work_dir=tmp_path_factory.mktemp("bench"),
                workers=1,
                bound_repeats=1,
                warm_repeats=2,
                throughput_repeats=2,
            )
        )


def test_report_keys_and_sane_values(report: dict[str, Any], tmp_path: Path) -> None:
    assert report["input"]["generated"] and report["input"]["articles"] == 20
    assert report["machine"]["cores"] >= 1 and report["machine"]["packages"]["jieba"]
    base = report["baseline"]
    assert base["articles"] == 20 and base["mb_per_s"] > 0 and base["articles_per_s"] > 0
    pipeline = report["pipeline"]
    assert pipeline["end_to_end"]["mb_per_s"] > 0
    marginal = pipeline["marginal"]
    # Two articles against twenty: the difference can drown in start-up noise, and the
    # report then says so instead of giving a throughput.
    if marginal["mb_per_s"] is None:
        assert marginal["note"]
    else:
        assert marginal["mb_per_s"] > 0 and pipeline["speedup_vs_baseline"] > 0
    startup = report["startup"]
    assert startup["cold_seconds"] is None and startup["warm_with"].startswith("running")
    assert len(startup["warm_runs_seconds"]) == 2
    assert startup["warm_seconds"] == pytest.approx(max(startup["warm_runs_seconds"]))
    # With --use-api-url every run went through a running server: the temporary server's
    # warm start-up is not measured, and the server's is that of the warm runs.
    assert report["targets"]["warm_startup_seconds"]["value"] is None
    served = startup["running_server"]
    assert served["seconds"] == startup["warm_seconds"]
    assert served["server_ready_seconds"] is None
    # Two repeats of each throughput measurement; the report stands on the median ones.
    assert len(base["runs_seconds"]) == 2 and base["seconds"] == max(base["runs_seconds"])
    assert len(pipeline["marginal_runs_seconds"]) == 2
    assert {"big", "big_2"} <= set(report["runs"])
    chosen = report["runs"][pipeline["run"].replace("-", "_")]
    fixed = report["runs"][pipeline["fixed_run"].replace("-", "_")]
    assert chosen["wall_seconds"] - fixed["wall_seconds"] == max(pipeline["marginal_runs_seconds"])
    big = report["runs"]["big"]
    assert big["exit_code"] == 0 and big["curated_articles"] == 20
    assert big["peak_rss_bytes"] > 0 and big["pipeline_rss_bytes"] > 0
    assert report["memory"]["peak_rss_bytes_50mb"] is None

    stages = report["stages"]
    assert list(stages) == list(throughput.STAGES)
    assert all(row["seconds"] >= 0 for row in stages.values())
    assert stages["segment+tag"]["seconds"] > 0 and stages["write"]["seconds"] > 0
    wall = pipeline["end_to_end"]["seconds"]
    assert report["stage_sum_seconds"] <= wall + 0.01
    assert big["stage_calls"]["segment+tag"] >= 20
    # One process: no workers to time; the flow's own CPU, and how busy it kept a core.
    cpu = report["cpu"]
    assert cpu["run"]["flow"] > 0 and cpu["fixed_run"]["flow"] > 0
    assert cpu["run"]["workers"] is None and cpu["workers_timed"] == 0
    assert report["worker_stages"] is None
    assert cpu["marginal_cpu_seconds"] == pytest.approx(
        cpu["run"]["flow"] - cpu["fixed_run"]["flow"]
    )
    if marginal["mb_per_s"] is not None:
        assert cpu["cores_busy"] == pytest.approx(
            cpu["marginal_cpu_seconds"] / (chosen["wall_seconds"] - fixed["wall_seconds"])
        )

    tagging = report["bounds"]["tagging"]
    assert tagging["mb_per_s"] > 0 and tagging["cores"] == report["machine"]["cores"]
    assert tagging["ceiling_vs_baseline"] == pytest.approx(
        tagging["cores"] * tagging["mb_per_s"] / base["mb_per_s"]
    )
    stack = report["bounds"]["stack_start_up"]
    assert stack["imports_seconds"] > 0 and stack["temporary_server_seconds"] > 0
    assert "pandera.polars" in stack["imports"] and stack["repeats"] == 1

    assert set(report["targets"]) == set(throughput.TARGETS)
    assert report["targets"]["rss_growth"]["met"] is None

    md = throughput.write_results(report, tmp_path / "bench.json")
    assert "median of 2 runs" in md.read_text()
    assert json.loads((tmp_path / "bench.json").read_text())["input"]["articles"] == 20
    text = md.read_text()
    assert "segment+tag" in text and "not measured" in text and "Load average" in text
    assert "Tagging alone" in text and "temporary server answers" in text
    assert "CPU: (b) took" in text and "In the workers of (b)" not in text


def test_warm_runs_through_a_running_server(tmp_path: Path) -> None:
    """`zhnews server` on the run's PREFECT_HOME, the runs pointed at it, then stopped."""
    import re
    import socket

    tree = write_raw_tree(generated_articles(2), tmp_path / "raw")
    home = tmp_path / "prefect-home"
    home.mkdir()
    runs, ready = throughput.running_server_runs(tree, tmp_path, home, 1)
    assert ready > 0 and [run.label for run in runs] == ["small-server-1"]
    assert runs[0].exit_code == 0 and runs[0].curated_articles == 2
    port = re.search(r"127\.0\.0\.1:(\d+)", (tmp_path / "server.log").read_text())
    assert port is not None
    # The flow run was created on that server, not on a temporary one of its own.
    run_log = (tmp_path / "small-server-1.log").read_text()
    assert f"View at http://127.0.0.1:{port[1]}/runs/" in run_log
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", int(port[1]))) != 0, "the server still runs"
