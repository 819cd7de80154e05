"""Throughput, start-up, memory and per-stage time of `zhnews run`, beside plain jieba.

One run, one set of texts:

(a) baseline: `jieba.posseg.cut` (HMM on; a fresh POSTokenizer over a fresh
    jieba.Tokenizer, dictionary loaded before the clock starts) over every article body,
    in this process;
(b) the installed `zhnews` console script in a subprocess, on the whole input, into an
    empty curated root, with a fresh PREFECT_HOME (cold), wall time end to end;
(c) the same on the first 10 articles: the fixed cost. (b) − (c) is the marginal time of
    the rest of the input, and its throughput is what the pipeline itself achieves.
    Start-up is measured cold (fresh PREFECT_HOME) and warm (later 10-article runs in the
    same PREFECT_HOME, median of three), once with Prefect's temporary server and once
    with the documented way around it: a running `zhnews server` on that PREFECT_HOME
    and `PREFECT_API_URL` pointing at it;
(d) the seconds of each stage of (b), from timers `flows/stage_times.py` puts around the
    real functions the flow calls (`ZHNEWS_STAGE_TIMES`);
(e) peak RSS of (b) and of a run on the input repeated to about ten times its size, with
    distinct ids and later dates (`--no-memory-check` skips it: it is slow).

The input is real finance news from the shared corpus (`<repo>/../shared/corpus`, or
`$ZHNEWS_CORPUS`): THUCNews 财经 and the 2018 stock-market articles, about 4.5 MB of
article text, written as JSONL under `<raw>/<source>/<YYYY-MM-DD>/` in a temporary
directory, about 200 articles per partition. Without the corpus, generated finance text of
the same size stands in, and the report says so.

The subprocesses get no PREFECT_API_URL (each starts Prefect's temporary server, as a
plain `zhnews run` does) unless `--use-api-url` passes on the one set in the environment:
a running server (`make server`) avoids the temporary server and its start-up.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import platform
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import Any, TypeVar

from benchmarks.synthetic_pages import corpus_root
from flows.stage_times import STAGE_TIMES_ENV, worker_times, worker_times_files
from flows.temporary_server import free_port, wait_for_api

MB = 1_000_000
GIB = 1024**3
SMALL_ARTICLES = 10
PARTITION_ARTICLES = 200
FILE_ARTICLES = 100
MEMORY_COPIES = 10
FIRST_DATE = date(2018, 2, 1)
GENERATED_BYTES = 4_500_000
RUN_TIMEOUT = 6 * 3600
PREFECT_DB = "prefect.db"

TARGETS = {
    "marginal_speedup": 5.0,  # pipeline marginal throughput ÷ baseline throughput, at least
    "warm_startup_seconds": 5.0,  # at most, with Prefect's temporary server
    "warm_startup_seconds_running_server": 5.0,  # at most, PREFECT_API_URL set
    "peak_rss_bytes": GIB,  # below
    "rss_growth": 1.2,  # 50 MB peak ÷ 5 MB peak, at most
    "orchestration_share": 0.05,  # orchestration beyond start-up ÷ marginal time, below
}
# The stage rows of the breakdown, in pipeline order; `flows/stage_times.py` names them.
STAGES = (
    "start-up",
    "load dictionaries",
    "read",
    "rebuild",
    "segment+tag",
    "entities",
    "keywords",
    "validate",
    "write",
    "other partition work",
    "waiting for workers",
    "orchestration",
    "shutdown",
)
PACKAGES = ("zhnews", "prefect", "polars", "pyarrow", "pandera", "jieba", "charset-normalizer")


# --- input -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Article:
    source: str
    id: str
    title: str | None
    text: str


def corpus_articles(root: Path) -> list[Article]:
    """THUCNews 财经 and the stock-market articles (not the reader-comment pages)."""
    articles: list[Article] = []
    stock = root / "stock_news_2018"
    with (stock / "manifest.tsv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            if row["original_filename"].endswith("_comment"):
                continue
            raw = (stock / "articles" / row["id"]).read_bytes().decode("utf-8", "replace")
            title, _, body = raw.replace("\r\n", "\n").partition("\n")
            if body.strip():
                articles.append(Article("stocknews", row["id"], title.strip() or None, body))
    thucnews = root / "thucnews_cnews_finance" / "cnews-b.val.txt"
    if thucnews.is_file():
        for number, line in enumerate(thucnews.read_text(encoding="utf-8").splitlines(), 1):
            _, _, text = line.partition("\t")
            if text.strip():
                # The title is glued to the body in this corpus: the text holds both.
                articles.append(Article("thucnews", f"cnews-val-{number:04d}", None, text))
    return articles


_COMPANIES = (
    ("贵阳银行", "601997"),
    ("中国平安", "601318"),
    ("招商银行", "600036"),
    ("贵州茅台", "600519"),
    ("宁德时代", "300750"),
    ("比亚迪", "002594"),
    ("万科A", "000002"),
    ("中国石油", "601857"),
    ("格力电器", "000651"),
    ("海康威视", "002415"),
)
_PEOPLE = ("王建国", "李娜", "张伟", "刘洋", "陈静", "杨帆", "赵磊", "周敏")
_PLACES = ("上海", "深圳", "北京", "杭州", "广州", "成都", "武汉", "南京")
_SENTENCES = (
    "{company}（{code}）{month}月{day}日晚间发布公告称，公司{year}年实现营业收入{amount}亿元，"
    "同比增长{pct}%。",
    "截至收盘，上证综指报{index}点，上涨{pct}%，两市成交{amount}亿元，北向资金净流入{small}亿元。",
    "{person}在{place}接受记者采访时表示，今年以来{sector}板块估值持续修复，机构资金明显回流。",
    "数据显示，{company}前三季度净利润为{small}亿元，较上年同期下降{pct}个百分点，毛利率为{pct2}%。",
    "{place}证监局相关负责人指出，将进一步加强对上市公司信息披露的监管，严厉打击财务造假。",
    "分析人士认为，在流动性合理充裕的背景下，{sector}行业有望迎来新一轮增长周期。",
    "公告显示，{company}拟以{small}亿元收购{place}一家{sector}企业{pct}%的股权，交易完成后成为控股股东。",
    "{person}表示，央行下调存款准备金率{pct2}个百分点，预计释放长期资金约{amount}亿元。",
    "受此消息影响，{company}股价{month}月{day}日盘中一度涨停，报收{price}元，换手率{pct2}%。",
    "记者从{place}市金融工作局获悉，{year}年全市新增上市公司{count}家，首发募资{amount}亿元。",
)
_SECTORS = ("新能源", "半导体", "银行", "券商", "白酒", "地产", "医药", "消费电子")


def generated_articles(
    count: int | None = None, *, target_bytes: int = GENERATED_BYTES, seed: int = 20180201
) -> list[Article]:
    """Finance news made from templates: tickers, amounts, percentages, names, places.

    Stands in for the corpus when it is absent; `count` articles, or as many as make
    `target_bytes` of text.
    """
    rng = random.Random(seed)
    articles: list[Article] = []
    size = 0
    while (count is None and size < target_bytes) or (count is not None and len(articles) < count):
        paragraphs = []
        for _ in range(rng.randint(3, 8)):
            sentences = []
            for _ in range(rng.randint(2, 5)):
                company, code = rng.choice(_COMPANIES)
                sentences.append(
                    rng.choice(_SENTENCES).format(
                        company=company,
                        code=code,
                        person=rng.choice(_PEOPLE),
                        place=rng.choice(_PLACES),
                        sector=rng.choice(_SECTORS),
                        year=rng.randint(2015, 2018),
                        month=rng.randint(1, 12),
                        day=rng.randint(1, 28),
                        amount=rng.randint(12, 9800),
                        small=round(rng.uniform(0.5, 99.0), 2),
                        pct=round(rng.uniform(0.1, 35.0), 2),
                        pct2=round(rng.uniform(0.1, 9.9), 1),
                        index=round(rng.uniform(2800, 3600), 2),
                        price=round(rng.uniform(3, 300), 2),
                        count=rng.randint(3, 40),
                    )
                )
            paragraphs.append("\u3000\u3000" + "".join(sentences))
        company, _ = rng.choice(_COMPANIES)
        title = f"{company}{rng.choice(('业绩预告', '发布公告', '股价异动', '获机构调研'))}"
        text = "\n".join(paragraphs)
        articles.append(Article("generated", f"gen-{len(articles) + 1:05d}", title, text))
        size += len(text.encode("utf-8"))
    return articles


@dataclass
class RawTree:
    root: Path
    articles: int
    text_bytes: int
    partitions: int
    files: int


def _chunks(items: Sequence[Article], size: int) -> Iterator[Sequence[Article]]:
    """Consecutive pieces of about `size` (as even as the count allows)."""
    pieces = max(1, round(len(items) / size))
    step = len(items) / pieces
    for i in range(pieces):
        yield items[round(i * step) : round((i + 1) * step)]


def write_raw_tree(
    articles: Sequence[Article],
    root: Path,
    *,
    partition_articles: int = PARTITION_ARTICLES,
    file_articles: int = FILE_ARTICLES,
    copies: int = 1,
    first_date: date = FIRST_DATE,
) -> RawTree:
    """`<root>/<source>/<YYYY-MM-DD>/partNN.jsonl`, one article per line, one date per
    partition; `copies` > 1 repeats everything on later dates, with distinct ids."""
    by_source: dict[str, list[Article]] = {}
    for art in articles:
        by_source.setdefault(art.source, []).append(art)
    days = max(len(list(_chunks(arts, partition_articles))) for arts in by_source.values())
    tree = RawTree(root, 0, 0, 0, 0)
    for copy in range(copies):
        for source, arts in by_source.items():
            for day_no, chunk in enumerate(_chunks(arts, partition_articles)):
                day = first_date + timedelta(days=copy * days + day_no)
                folder = root / source / day.isoformat()
                folder.mkdir(parents=True, exist_ok=True)
                tree.partitions += 1
                for file_no, start in enumerate(range(0, len(chunk), file_articles)):
                    lines = []
                    for art in chunk[start : start + file_articles]:
                        record = {
                            "id": art.id if copy == 0 else f"{art.id}-copy{copy}",
                            "title": art.title,
                            "text": art.text,
                        }
                        lines.append(json.dumps(record, ensure_ascii=False))
                        tree.articles += 1
                        tree.text_bytes += len(art.text.encode("utf-8"))
                    path = folder / f"part{file_no:02d}.jsonl"
                    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
                    tree.files += 1
    return tree


# --- measurements ------------------------------------------------------------------------


def loadavg() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def baseline(texts: Sequence[str]) -> dict[str, Any]:
    """Plain jieba.posseg.cut, HMM on, over every text; the dictionary loads first."""
    import jieba
    import jieba.posseg

    started = time.perf_counter()
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    tagger = jieba.posseg.POSTokenizer(tokenizer)
    list(tagger.cut("预热：加载词典。", HMM=True))
    load_seconds = time.perf_counter() - started
    tokens = 0
    started = time.perf_counter()
    for text in texts:
        tokens += sum(1 for _ in tagger.cut(text, HMM=True))
    seconds = time.perf_counter() - started
    size = sum(len(t.encode("utf-8")) for t in texts)
    return {
        "seconds": seconds,
        "dictionary_load_seconds": load_seconds,
        "articles": len(texts),
        "text_bytes": size,
        "tokens": tokens,
        "mb_per_s": size / MB / seconds,
        "articles_per_s": len(texts) / seconds,
    }


def zhnews_command() -> list[str]:
    """The installed console script beside this interpreter, else the one on PATH."""
    beside = Path(sys.executable).with_name("zhnews")
    found = str(beside) if beside.is_file() else shutil.which("zhnews")
    if found is None:
        raise FileNotFoundError("the zhnews console script is not installed (make install)")
    return [found]


def prefect_home_of(env: Mapping[str, str]) -> Path:
    """The PREFECT_HOME a run with this environment uses (Prefect's default otherwise)."""
    return Path(env.get("PREFECT_HOME") or Path.home() / ".prefect").expanduser()


def child_env(
    prefect_home: Path | None, *, use_api_url: bool, api_url: str | None = None
) -> dict[str, str]:
    """The environment of a pipeline run: its own PREFECT_HOME, no ZHNEWS_ settings (the
    run uses the defaults), and no PREFECT_API_URL unless asked for (`api_url` sets it)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("ZHNEWS_") and not (k == "PREFECT_API_URL" and not use_api_url)
    }
    env.setdefault("DO_NOT_TRACK", "1")
    env.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    if prefect_home is not None:
        env["PREFECT_HOME"] = str(prefect_home)
    if api_url is not None:
        env["PREFECT_API_URL"] = api_url
    return env


@dataclass
class PipelineRun:
    """One `zhnews run` in a subprocess."""

    label: str
    articles: int
    text_bytes: int
    wall_seconds: float
    exit_code: int
    peak_rss_bytes: int  # largest process of the run (ru_maxrss of wait4, descendants too)
    pipeline_rss_bytes: int | None  # the zhnews process itself
    stages: dict[str, float] | None
    stage_calls: dict[str, int] = field(default_factory=dict)
    curated_articles: int | None = None
    load_before: list[float] | None = None
    load_after: list[float] | None = None
    # CPU seconds of the zhnews process, and of its local workers together (not Prefect's
    # temporary server's, nor those of the server the workers are forked from).
    cpu_seconds: float | None = None
    worker_cpu_seconds: float | None = None
    # The stages the workers timed, summed over them (seconds each spent in them).
    worker_stages: dict[str, float] | None = None
    workers_timed: int = 0

    @property
    def stage_sum(self) -> float:
        return sum((self.stages or {}).values())


def _stages(times: dict[str, Any], began: float, ended: float) -> dict[str, float] | None:
    """The stage rows of one run: start-up and shutdown from the flow body's clock."""
    if times.get("body_started") is None or times.get("body_ended") is None:
        return None
    seconds = {stage: float(s) for stage, s in times["seconds"].items()}
    rows = {
        "start-up": max(0.0, times["body_started"] - began),
        **{stage: seconds.get(stage, 0.0) for stage in STAGES[1:-1]},
        "shutdown": max(0.0, ended - times["body_ended"]),
    }
    return rows


def _run_cpu(run: PipelineRun) -> float | None:
    """CPU seconds of a run's zhnews process and its workers (None when not reported)."""
    if run.cpu_seconds is None:
        return None
    return run.cpu_seconds + (run.worker_cpu_seconds or 0.0)


def cpu_accounting(
    run: PipelineRun, fixed: PipelineRun, marginal_seconds: float | None
) -> dict[str, Any]:
    """What the marginal time was spent on: the CPU seconds of (b) beyond (c), and how many
    cores they kept busy over it. Near the machine's core count, the run is bound by the
    work it does, not by waiting or by how it is spread over the workers."""
    spent, base = _run_cpu(run), _run_cpu(fixed)
    marginal_cpu = spent - base if spent is not None and base is not None else None
    return {
        "run": {"flow": run.cpu_seconds, "workers": run.worker_cpu_seconds},
        "fixed_run": {"flow": fixed.cpu_seconds, "workers": fixed.worker_cpu_seconds},
        "workers_timed": run.workers_timed,
        "marginal_cpu_seconds": marginal_cpu,
        "cores_busy": marginal_cpu / marginal_seconds
        if marginal_cpu is not None and marginal_seconds
        else None,
    }


def _curated_articles(curated: Path) -> int | None:
    try:
        import polars as pl

        files = sorted((curated / "articles").glob("*/*.parquet"))
        return sum(pl.read_parquet(path, columns=["article_id"]).height for path in files)
    except Exception:
        return None


def run_pipeline(
    label: str,
    tree: RawTree,
    work: Path,
    prefect_home: Path | None,
    *,
    use_api_url: bool,
    api_url: str | None = None,
    workers: int = 1,
    timeout: float = RUN_TIMEOUT,
) -> PipelineRun:
    """`zhnews run --raw … --curated <empty>` in a subprocess; wall time, peak RSS (from
    wait4, so it covers only this run) and the stage timers' file."""
    curated = work / f"curated-{label}"
    shutil.rmtree(curated, ignore_errors=True)
    times_file = work / f"stages-{label}.json"
    times_file.unlink(missing_ok=True)
    for stale in worker_times_files(times_file):
        stale.unlink()
    log = work / f"{label}.log"
    env = child_env(prefect_home, use_api_url=use_api_url, api_url=api_url)
    env[STAGE_TIMES_ENV] = str(times_file)
    command = [*zhnews_command(), "run", "--raw", str(tree.root), "--curated", str(curated)]
    if workers > 1:
        command += ["--workers", str(workers)]
    load_before = loadavg()
    with log.open("wb") as out:
        began = time.monotonic()
        proc = subprocess.Popen(command, env=env, cwd=work, stdout=out, stderr=subprocess.STDOUT)
        deadline = began + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.05)
        ended = time.monotonic()
    proc.returncode = os.waitstatus_to_exitcode(status)
    rss = usage.ru_maxrss if sys.platform == "darwin" else usage.ru_maxrss * 1024
    times = json.loads(times_file.read_text()) if times_file.is_file() else {}
    timed = worker_times(times_file)
    worker_stages: dict[str, float] = {}
    for worker in timed:
        for stage, seconds in worker["seconds"].items():
            worker_stages[stage] = worker_stages.get(stage, 0.0) + float(seconds)
    if proc.returncode not in (0, 1):
        tail = log.read_text(encoding="utf-8", errors="replace")[-3000:]
        raise RuntimeError(f"{label}: zhnews run exited with {proc.returncode}:\n{tail}")
    return PipelineRun(
        label=label,
        articles=tree.articles,
        text_bytes=tree.text_bytes,
        wall_seconds=ended - began,
        exit_code=proc.returncode,
        peak_rss_bytes=int(rss),
        pipeline_rss_bytes=times.get("peak_rss_bytes"),
        stages=_stages(times, began, ended) if times else None,
        stage_calls=times.get("calls", {}),
        curated_articles=_curated_articles(curated),
        load_before=load_before,
        load_after=loadavg(),
        cpu_seconds=times.get("cpu_seconds"),
        worker_cpu_seconds=sum(float(w["cpu_seconds"]) for w in timed) if timed else None,
        # In the order of the flow's own table.
        worker_stages={s: worker_stages[s] for s in STAGES if s in worker_stages} or None,
        workers_timed=len(timed),
    )


SERVER_READY_TIMEOUT = 180.0


def _stop(proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    """SIGTERM to the server's process group, then wait until every process in it has
    gone (SIGKILL after `timeout`), so that nothing of it runs beside the next measure."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while True:
        proc.poll()
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            break
        if time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            deadline = float("inf")
        time.sleep(0.05)
    proc.wait()


def running_server_runs(
    tree: RawTree, work: Path, prefect_home: Path, repeats: int
) -> tuple[list[PipelineRun], float]:
    """The documented way around the temporary server: `zhnews server` on `prefect_home`,
    then `repeats` runs with PREFECT_API_URL pointing at it. Returns the runs and the
    seconds the server took to answer (not part of any run)."""
    port = free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    command = [*zhnews_command(), "server", "--port", str(port)]
    command += ["--prefect-home", str(prefect_home)]
    with (work / "server.log").open("wb") as out:
        proc = subprocess.Popen(
            command,
            env=child_env(prefect_home, use_api_url=False),
            cwd=work,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        began = time.monotonic()
        wait_for_api(api_url, proc, SERVER_READY_TIMEOUT, "zhnews server")
        ready = time.monotonic() - began
        runs = [
            run_pipeline(
                f"small-server-{i + 1}",
                tree,
                work,
                prefect_home,
                use_api_url=True,
                api_url=api_url,
            )
            for i in range(repeats)
        ]
    finally:
        _stop(proc)
    return runs, ready


# --- what bounds the targets -------------------------------------------------------------

# What every run imports before it can do anything: Prefect's flow and task engines, the
# table libraries, pandera, datasketch (MinHash), jieba, and the libraries that read
# Chinese numerals and tell simplified from traditional characters.
STACK_IMPORTS = (
    "prefect.flows",
    "prefect.flow_engine",
    "prefect.task_engine",
    "polars",
    "pyarrow.parquet",
    "pandera.polars",
    "datasketch",
    "jieba",
    "cn2an",
    "hanzidentifier",
)
# With cyclic garbage collection off, as `zhnews run` starts (flows/runners.py: long_lived).
STACK_CODE = f"import gc\ngc.disable()\nimport {', '.join(STACK_IMPORTS)}\n"
SERVER_CODE = (
    "import time\n"
    "from flows.temporary_server import TemporaryServer\n"
    "began = time.perf_counter()\n"
    "with TemporaryServer() as server:\n"
    "    server.wait_ready()\n"
    "    print(time.perf_counter() - began)\n"
)
T = TypeVar("T")
BOUND_REPEATS = 3
WARM_REPEATS = 3
# The marginal time is a difference of two runs, each of which drifts by 10-15% on a
# shared machine: the baseline, (b) with its (c), and (b′) run this many times each.
THROUGHPUT_REPEATS = 3


def _middle(items: Sequence[T], key: Callable[[T], float]) -> T:
    """The item of median `key` (the upper one of an even count)."""
    return sorted(items, key=key)[len(items) // 2]


def _median(values: Sequence[float]) -> float:
    return _middle(values, key=float)


def stack_start_up(prefect_home: Path, repeats: int = BOUND_REPEATS) -> dict[str, Any]:
    """The start-up no run of this stack can beat, without any of the project's code: a
    fresh interpreter importing the libraries a run needs (wall, median of `repeats`; no
    dictionary loaded), and Prefect's temporary server from start to its first answer (in
    a warm PREFECT_HOME), which boots on another core meanwhile."""
    env = child_env(prefect_home, use_api_url=False)
    env.pop("PREFECT_API_URL", None)
    imports = []
    for _ in range(repeats):
        began = time.perf_counter()
        subprocess.run([sys.executable, "-c", STACK_CODE], env=env, check=True)
        imports.append(time.perf_counter() - began)
    root = str(Path(__file__).resolve().parents[1])
    server = []
    for _ in range(repeats):
        out = subprocess.run(
            [sys.executable, "-c", SERVER_CODE],
            env={**env, "PYTHONPATH": root},
            capture_output=True,
            text=True,
        )
        if out.returncode != 0:
            raise RuntimeError(
                f"timing Prefect's temporary server failed (exit {out.returncode}):\n"
                f"{out.stdout[-2000:]}{out.stderr[-4000:]}"
            )
        server.append(float(out.stdout.split()[-1]))
    return {
        "imports": list(STACK_IMPORTS),
        "imports_seconds": _median(imports),
        "temporary_server_seconds": _median(server),
        "repeats": repeats,
    }


def tagging_only(texts: Sequence[str], baseline_mb_per_s: float, cores: int) -> dict[str, Any]:
    """The project's tagger alone (`JiebaTagger.tag`: jieba.posseg's tags, exactly) over
    every text in this process, and the ratio to the baseline that `cores` workers could
    reach if every other stage cost nothing and they scaled perfectly."""
    from flows.io.nlp import load_models

    tagger = load_models().tagger
    tagger.tag("预热：加载词典。")
    began = time.perf_counter()
    for text in texts:
        tagger.tag(text)
    seconds = time.perf_counter() - began
    size = sum(len(t.encode("utf-8")) for t in texts)
    rate = size / MB / seconds
    return {
        "seconds": seconds,
        "mb_per_s": rate,
        "vs_baseline": rate / baseline_mb_per_s,
        "cores": cores,
        "ceiling_vs_baseline": cores * rate / baseline_mb_per_s,
    }


# --- the benchmark -----------------------------------------------------------------------


@dataclass
class Options:
    memory_check: bool = True
    cold_start: bool = True
    generated: bool = False  # generated text even when the corpus is present
    articles: int | None = None  # only the first N articles of the input
    small_articles: int = SMALL_ARTICLES
    partition_articles: int = PARTITION_ARTICLES
    memory_copies: int = MEMORY_COPIES
    use_api_url: bool = False
    work_dir: Path | None = None  # keep the temporary trees and logs there
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    bound_repeats: int = BOUND_REPEATS  # fresh processes per start-up bound (median)
    warm_repeats: int = WARM_REPEATS  # warm start-up runs per configuration (median)
    # baselines, (b)/(c) pairs and one-process runs (b′), alternated (median)
    throughput_repeats: int = THROUGHPUT_REPEATS


def machine() -> dict[str, Any]:
    versions: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    memory = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = int(line.split()[1]) * 1024
    except OSError:
        pass
    affinity = getattr(os, "sched_getaffinity", None)
    return {
        "cores": os.cpu_count(),
        "usable_cores": len(affinity(0)) if affinity else None,
        "memory_bytes": memory,
        "platform": platform.platform(),
        "processor": platform.machine(),
        "python": platform.python_version(),
        "packages": versions,
    }


def _rate(size: int, count: int, seconds: float | None) -> dict[str, float | None]:
    if seconds is None or seconds <= 0:
        return {"seconds": seconds, "mb_per_s": None, "articles_per_s": None}
    return {"seconds": seconds, "mb_per_s": size / MB / seconds, "articles_per_s": count / seconds}


def marginal_note(ok: bool, cold_start: bool, home_was_warm: bool) -> str | None:
    if not ok:
        return "the big run was not slower than the small one: the input is too small"
    if not cold_start and not home_was_warm:
        return (
            "PREFECT_HOME had no database before the big run, so (b) includes creating it and "
            "(c) does not: the marginal time is too long"
        )
    return None


def _target(value: float | None, limit: float, *, at_most: bool) -> dict[str, Any]:
    if value is None:
        return {"value": None, "target": limit, "met": None}
    met = value <= limit if at_most else value >= limit
    return {"value": value, "target": limit, "met": met}


def run_benchmark(options: Options) -> dict[str, Any]:
    """Every measurement, as one JSON-able report."""
    started = datetime.now(UTC)
    root = corpus_root()
    if not options.generated and (root / "stock_news_2018" / "manifest.tsv").is_file():
        articles = corpus_articles(root)
        origin = f"corpus: stock_news_2018 (articles) + thucnews_cnews_finance, from {root}"
    else:
        count = options.articles
        articles = generated_articles(count)
        origin = "generated finance text (templates)" + (
            "" if options.generated else f": no corpus at {root}"
        )
    if options.articles is not None:
        articles = articles[: options.articles]
    small = articles[: options.small_articles]
    loads: dict[str, list[float] | None] = {"start": loadavg()}

    with tempfile.TemporaryDirectory(prefix="zhnews-bench-") as tmp:
        work = options.work_dir or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        big_tree = write_raw_tree(
            articles, work / "raw-big", partition_articles=options.partition_articles
        )
        small_tree = write_raw_tree(
            small, work / "raw-small", partition_articles=options.partition_articles
        )
        n = options.workers
        # The fixed cost of a parallel run includes starting every worker: the pool starts
        # one per file it is given at once, so the small input comes in one file per worker.
        small_parallel_tree = write_raw_tree(
            small,
            work / "raw-small-parallel",
            partition_articles=options.partition_articles,
            file_articles=max(1, -(-len(small) // n)),
        )

        bases = [baseline([a.text for a in articles]) for _ in range(options.throughput_repeats)]
        base = {
            **_middle(bases, key=lambda b: b["seconds"]),
            "runs_seconds": [b["seconds"] for b in bases],
        }
        loads["after_baseline"] = loadavg()
        cores = os.cpu_count() or 1
        tagging = tagging_only([a.text for a in articles], base["mb_per_s"], cores)

        runs: dict[str, PipelineRun] = {}
        api = options.use_api_url
        home_was_warm = False
        repeats = options.throughput_repeats

        def label(name: str, i: int) -> str:
            return name if i == 0 else f"{name}-{i + 1}"

        def throughput_runs(
            home_for: Callable[[str], Path],
            one_process_fixed: PipelineRun,
            first_big: PipelineRun | None = None,
        ) -> tuple[list[tuple[PipelineRun, PipelineRun]], list[PipelineRun]]:
            """`repeats` alternating pairs of (b) and its fixed cost (c), with `n` workers
            (`one_process_fixed` stands for (c) without them; `first_big`, already run, for
            the first (b)), then the one-process runs (b′). `home_for` gives each run's
            PREFECT_HOME by kind."""
            pairs = []
            for i in range(repeats):
                small_run = (
                    run_pipeline(
                        label("small-parallel", i),
                        small_parallel_tree,
                        work,
                        home_for("sp"),
                        use_api_url=api,
                        workers=n,
                    )
                    if n > 1
                    else one_process_fixed
                )
                big_run = (
                    first_big
                    if i == 0 and first_big is not None
                    else run_pipeline(
                        label("big", i), big_tree, work, home_for("big"), use_api_url=api, workers=n
                    )
                )
                pairs.append((big_run, small_run))
            serials = [
                run_pipeline(
                    label("big-serial", i), big_tree, work, home_for("bs"), use_api_url=api
                )
                for i in range(repeats if n > 1 else 0)
            ]
            return pairs, serials

        def fresh_home(name: str) -> Path:
            home = work / f"prefect-{name}"
            shutil.rmtree(home, ignore_errors=True)
            home.mkdir()
            return home

        def warm_start_ups(home: Path) -> tuple[list[PipelineRun], list[PipelineRun], float]:
            """The 10-article run, repeated in a warm home: as configured (the temporary
            server unless --use-api-url), then through a running `zhnews server`."""
            warm = [
                run_pipeline(
                    "small-warm" if i == 0 else f"small-warm-{i + 1}",
                    small_tree,
                    work,
                    home,
                    use_api_url=api,
                )
                for i in range(options.warm_repeats)
            ]
            if api:  # those runs went through the running server already
                return warm, [], 0.0
            served, ready = running_server_runs(small_tree, work, home, options.warm_repeats)
            return warm, served, ready

        if options.cold_start:
            # Start-up in the default configuration (one process): cold, then warm.
            home = fresh_home("small")
            runs["small_cold"] = run_pipeline("small-cold", small_tree, work, home, use_api_url=api)
            warm, served, server_ready = warm_start_ups(home)
            # Throughput with every core: (b) and its fixed cost (c), each from a fresh home.
            pairs, serials = throughput_runs(fresh_home, runs["small_cold"])
            serial_fixed = runs["small_cold"]
        else:
            # The environment's PREFECT_HOME, assumed warm.
            home = prefect_home_of(os.environ)
            home_was_warm = (home / PREFECT_DB).is_file()
            first_big = run_pipeline("big", big_tree, work, home, use_api_url=api, workers=n)
            warm, served, server_ready = warm_start_ups(home)
            pairs, serials = throughput_runs(lambda _: home, warm[0], first_big)
            serial_fixed = warm[0]
        for run in (*warm, *served, *(r for pair in pairs for r in pair), *serials):
            runs[_run_key(run.label)] = run
        # The pair whose difference is the median stands for the throughput runs; the
        # one-process run of median length for (b′).
        big, fixed = _middle(pairs, key=lambda pair: pair[0].wall_seconds - pair[1].wall_seconds)
        serial = _middle(serials, key=lambda run: run.wall_seconds) if serials else big
        loads["after_pipeline"] = loadavg()
        # After the start-up runs, so that the home has its database (warm).
        stack = stack_start_up(home, options.bound_repeats)

        if options.memory_check:
            memory_tree = write_raw_tree(
                articles,
                work / "raw-memory",
                partition_articles=options.partition_articles,
                copies=options.memory_copies,
            )
            runs["memory"] = run_pipeline(
                "memory", memory_tree, work, fresh_home("memory"), use_api_url=api, workers=n
            )
            shutil.rmtree(memory_tree.root, ignore_errors=True)
            loads["after_memory_check"] = loadavg()

    marginal_seconds = big.wall_seconds - fixed.wall_seconds
    marginal_bytes = big.text_bytes - fixed.text_bytes
    marginal_articles = big.articles - fixed.articles
    marginal_ok = marginal_seconds > 0 and marginal_bytes > 0
    marginal = _rate(marginal_bytes, marginal_articles, marginal_seconds if marginal_ok else None)
    speedup = marginal["mb_per_s"] / base["mb_per_s"] if marginal["mb_per_s"] is not None else None
    serial_seconds = serial.wall_seconds - serial_fixed.wall_seconds
    serial_marginal = _rate(
        marginal_bytes, marginal_articles, serial_seconds if serial_seconds > 0 else None
    )
    serial_speedup = (
        serial_marginal["mb_per_s"] / base["mb_per_s"]
        if serial_marginal["mb_per_s"] is not None
        else None
    )

    def breakdown_of(run: PipelineRun) -> dict[str, dict[str, float]] | None:
        if run.stages is None:
            return None
        return {s: {"seconds": v, "share": v / run.wall_seconds} for s, v in run.stages.items()}

    stages = big.stages
    orchestration_share = None
    if stages is not None and marginal_ok:
        # Beyond start-up: what the fixed-cost run spent orchestrating (starting the worker
        # pool, the flow's own tasks) is start-up, as in the marginal time itself.
        fixed_orchestration = (fixed.stages or {}).get("orchestration", 0.0)
        orchestration_share = (stages["orchestration"] - fixed_orchestration) / marginal_seconds

    memory = runs.get("memory")
    cpu = cpu_accounting(big, fixed, marginal_seconds if marginal_ok else None)

    def pipeline_rss(run: PipelineRun) -> int:
        return run.pipeline_rss_bytes or run.peak_rss_bytes

    rss_growth = pipeline_rss(memory) / pipeline_rss(big) if memory else None
    warm_median = _median([run.wall_seconds for run in warm])
    served_median = _median([run.wall_seconds for run in served]) if served else None
    temporary_warm, served_warm = (None, warm_median) if api else (warm_median, served_median)
    peak = max(big.peak_rss_bytes, memory.peak_rss_bytes) if memory else big.peak_rss_bytes

    report: dict[str, Any] = {
        "started_at": started.isoformat(timespec="seconds"),
        "machine": machine(),
        "load_average": loads,
        "input": {
            "origin": origin,
            "generated": origin.startswith("generated"),
            "articles": big_tree.articles,
            "text_bytes": big_tree.text_bytes,
            "partitions": big_tree.partitions,
            "files": big_tree.files,
            "small_articles": small_tree.articles,
            "small_text_bytes": small_tree.text_bytes,
            "memory_copies": options.memory_copies if memory else None,
            "memory_text_bytes": memory.text_bytes if memory else None,
        },
        "options": {
            "memory_check": options.memory_check,
            "cold_start": options.cold_start,
            "use_api_url": options.use_api_url,
            # Whether the big run found a Prefect database to start from.
            "big_run_prefect_home": "warm" if home_was_warm else "cold (fresh PREFECT_HOME)",
            "prefect_api_url": os.environ.get("PREFECT_API_URL") if options.use_api_url else None,
        },
        "baseline": base,
        "pipeline": {
            "end_to_end": _rate(big.text_bytes, big.articles, big.wall_seconds),
            "run": big.label,
            "fixed_run": fixed.label,
            # (b) − (c) of every pair, in the order they ran.
            "marginal_runs_seconds": [b.wall_seconds - c.wall_seconds for b, c in pairs],
            "marginal": {
                **marginal,
                "text_bytes": marginal_bytes,
                "articles": marginal_articles,
                "note": marginal_note(marginal_ok, options.cold_start, home_was_warm),
            },
            "speedup_vs_baseline": speedup,
            "workers": options.workers,
            "serial": {
                "run": serial.label,
                "fixed_run": serial_fixed.label,
                "runs_seconds": [run.wall_seconds for run in serials],
                "end_to_end": _rate(serial.text_bytes, serial.articles, serial.wall_seconds),
                "marginal": serial_marginal,
                "speedup_vs_baseline": serial_speedup,
            },
        },
        "startup": {
            "cold_seconds": runs["small_cold"].wall_seconds if "small_cold" in runs else None,
            # Medians of the warm runs, as configured (`warm_with`) and through a server.
            "warm_seconds": warm_median,
            "warm_runs_seconds": [run.wall_seconds for run in warm],
            "warm_with": "running server (PREFECT_API_URL)" if api else "temporary server",
            "running_server": {
                "seconds": served_warm,
                "runs_seconds": [run.wall_seconds for run in served or warm],
                # From `zhnews server`'s start to its first answer (before the runs).
                "server_ready_seconds": server_ready if served else None,
            },
        },
        "bounds": {"tagging": tagging, "stack_start_up": stack},
        "memory": {
            "peak_rss_bytes_5mb": big.peak_rss_bytes,
            "pipeline_rss_bytes_5mb": big.pipeline_rss_bytes,
            "peak_rss_bytes_50mb": memory.peak_rss_bytes if memory else None,
            "pipeline_rss_bytes_50mb": memory.pipeline_rss_bytes if memory else None,
            "growth": rss_growth,
        },
        "stages": breakdown_of(big),
        "worker_stages": big.worker_stages,
        "cpu": cpu,
        "stage_sum_seconds": big.stage_sum if stages is not None else None,
        "serial_stages": breakdown_of(serial) if serial is not big else None,
        "serial_stage_sum_seconds": serial.stage_sum if serial is not big else None,
        "runs": {name: asdict(run) for name, run in runs.items()},
        "targets": {
            "marginal_speedup": _target(speedup, TARGETS["marginal_speedup"], at_most=False),
            "warm_startup_seconds": _target(
                temporary_warm, TARGETS["warm_startup_seconds"], at_most=True
            ),
            "warm_startup_seconds_running_server": _target(
                served_warm, TARGETS["warm_startup_seconds_running_server"], at_most=True
            ),
            "peak_rss_bytes": {
                "value": peak,
                "target": TARGETS["peak_rss_bytes"],
                "met": peak < TARGETS["peak_rss_bytes"],
            },
            "rss_growth": _target(rss_growth, TARGETS["rss_growth"], at_most=True),
            "orchestration_share": {
                "value": orchestration_share,
                "target": TARGETS["orchestration_share"],
                "met": None
                if orchestration_share is None
                else orchestration_share < TARGETS["orchestration_share"],
            },
        },
    }
    return report


# --- output ------------------------------------------------------------------------------


def _num(value: float | None, digits: int = 2, unit: str = "") -> str:
    return "n/a" if value is None else f"{value:.{digits}f}{unit}"


def _mib(value: int | None) -> str:
    return "n/a" if value is None else f"{value / 1024**2:.0f} MiB"


def _met(target: dict[str, Any]) -> str:
    return {True: "met", False: "**not met**", None: "not measured"}[target["met"]]


def markdown(report: dict[str, Any]) -> str:
    inp, base, pipe = report["input"], report["baseline"], report["pipeline"]
    marginal, start, mem = pipe["marginal"], report["startup"], report["memory"]
    served = start["running_server"]
    targets, m = report["targets"], report["machine"]
    loads = report["load_average"]
    load_text = ", ".join(
        f"{phase} {'/'.join(str(x) for x in value)}" for phase, value in loads.items() if value
    )
    workers = pipe.get("workers", 1)
    workers_flag = f" --workers {workers}" if workers > 1 else ""
    serial = pipe.get("serial")
    serial_rows = []
    if serial and serial["run"] != pipe.get("run", "big"):
        serial_rows = [
            f"| (b′) `zhnews run`, one process, end to end | "
            f"{_num(serial['end_to_end']['seconds'], 1)} | "
            f"{_num(serial['end_to_end']['mb_per_s'], 3)} | "
            f"{_num(serial['end_to_end']['articles_per_s'], 1)} |",
            f"| (b′) − (c′ = {serial['fixed_run']}): one-process marginal | "
            f"{_num(serial['marginal']['seconds'], 1)} | "
            f"{_num(serial['marginal']['mb_per_s'], 3)} | "
            f"{_num(serial['marginal']['articles_per_s'], 1)} |",
            f"| one-process marginal ÷ baseline | {_num(serial['speedup_vs_baseline'], 2, '×')} "
            "| | |",
        ]
    out = [
        f"`make bench`, {report['started_at']}: {m['cores']} cores, Python {m['python']}, "
        f"jieba {m['packages'].get('jieba')}, prefect {m['packages'].get('prefect')}, "
        f"polars {m['packages'].get('polars')}.",
        f"Load average (1/5/15 min): {load_text}. Another process may have been using the "
        "cores: absolute times drift with the load, ratios less.",
        "",
        f"Input: {inp['origin']}; {inp['articles']} articles, "
        f"{inp['text_bytes'] / MB:.2f} MB of article text, {inp['partitions']} partitions "
        f"(source × date), {inp['files']} JSONL files. Fixed-cost run: "
        f"{inp['small_articles']} articles (with workers, in one file per worker, so that "
        "every worker starts as in the big run).",
        "",
        "| measurement | seconds | MB/s | articles/s |",
        "|---|---:|---:|---:|",
        f"| (a) baseline: jieba.posseg.cut, HMM on, one process | {_num(base['seconds'], 1)} | "
        f"{_num(base['mb_per_s'], 3)} | {_num(base['articles_per_s'], 1)} |",
        f"| (b) `zhnews run{workers_flag}`, "
        f"{report['options']['big_run_prefect_home'].split(' ')[0]}, "
        f"end to end | {_num(pipe['end_to_end']['seconds'], 1)} | "
        f"{_num(pipe['end_to_end']['mb_per_s'], 3)} | "
        f"{_num(pipe['end_to_end']['articles_per_s'], 1)} |",
        f"| (c) `zhnews run{workers_flag}` on {inp['small_articles']} articles "
        f"({pipe['fixed_run']}) | "
        f"{_num(report['runs'][_run_key(pipe['fixed_run'])]['wall_seconds'], 1)} | | |",
        f"| (b) − (c): pipeline marginal | {_num(marginal['seconds'], 1)} | "
        f"{_num(marginal['mb_per_s'], 3)} | {_num(marginal['articles_per_s'], 1)} |",
        *serial_rows,
        "",
        *_repeats_note(base, pipe),
        "| target | measured | target | |",
        "|---|---:|---:|---|",
        f"| marginal throughput ÷ baseline | {_num(pipe['speedup_vs_baseline'], 2, '×')} | "
        f"≥ {TARGETS['marginal_speedup']:g}× | {_met(targets['marginal_speedup'])} |",
        f"| start-up, warm, Prefect's temporary server (10-article run) | "
        f"{_num(targets['warm_startup_seconds']['value'], 1, ' s')} | "
        f"≤ {TARGETS['warm_startup_seconds']:g} s | {_met(targets['warm_startup_seconds'])} |",
        f"| start-up, warm, a running `zhnews server` (`PREFECT_API_URL`) | "
        f"{_num(served['seconds'], 1, ' s')} | "
        f"≤ {TARGETS['warm_startup_seconds_running_server']:g} s | "
        f"{_met(targets['warm_startup_seconds_running_server'])} |",
        f"| peak RSS, largest process | {_mib(targets['peak_rss_bytes']['value'])} | < 1 GiB | "
        f"{_met(targets['peak_rss_bytes'])} |",
        f"| peak RSS of the pipeline process, ×10 input ÷ ×1 | {_num(mem['growth'], 2, '×')} | "
        f"≤ {TARGETS['rss_growth']:g}× | {_met(targets['rss_growth'])} |",
        f"| orchestration beyond start-up ÷ marginal time | "
        f"{_num(_pct(targets['orchestration_share']['value']), 1, '%')} | "
        f"< {TARGETS['orchestration_share'] * 100:g}% | {_met(targets['orchestration_share'])} |",
        "",
        "Start-up (a whole 10-article run): "
        + (
            f"cold {_num(start['cold_seconds'], 1, ' s')} (fresh PREFECT_HOME), "
            if start["cold_seconds"] is not None
            else "cold not measured (--no-cold-start), "
        )
        + f"warm with the {start['warm_with']} {_seconds_list(start['warm_runs_seconds'])}"
        + (
            f"; with a running `zhnews server` {_seconds_list(served['runs_seconds'])} (the "
            f"server answered {_num(served['server_ready_seconds'], 1, ' s')} after it "
            "started, before those runs)"
            if served["server_ready_seconds"] is not None
            else ""
        )
        + ". The targets table gives the medians of the warm runs.",
        f"Peak RSS, ×1 input ({inp['text_bytes'] / MB:.1f} MB): pipeline process "
        f"{_mib(mem['pipeline_rss_bytes_5mb'])}, largest process of the run "
        f"{_mib(mem['peak_rss_bytes_5mb'])}; "
        + (
            f"×{inp['memory_copies']} input ({inp['memory_text_bytes'] / MB:.1f} MB): "
            f"pipeline process {_mib(mem['pipeline_rss_bytes_50mb'])}, largest process "
            f"{_mib(mem['peak_rss_bytes_50mb'])}."
            if inp["memory_text_bytes"]
            else "×10 input not run (--no-memory-check)."
        ),
    ]
    if marginal.get("note"):
        out.append(f"Marginal: {marginal['note']}.")
    bounds = report.get("bounds")
    if bounds:
        tag, stack = bounds["tagging"], bounds["stack_start_up"]
        out += [
            "",
            "What bounds throughput and start-up, measured in the same run:",
            "",
            f"- Tagging alone: the project's tagger (`JiebaTagger.tag`, jieba.posseg's tags "
            f"exactly) over every text takes {_num(tag['seconds'], 1)} s in one process, "
            f"{_num(tag['mb_per_s'], 3)} MB/s, {_num(tag['vs_baseline'], 2, '×')} the "
            f"baseline. With every other stage free and {tag['cores']} workers scaling "
            f"perfectly, the pipeline would reach {_num(tag['ceiling_vs_baseline'], 2, '×')}.",
            f"- Start-up of the stack alone, with none of the project's code: a new Python "
            f"importing {', '.join(stack['imports'])} (cyclic garbage collection off, as "
            f"`zhnews run` starts; no dictionary loaded) takes "
            f"{_num(stack['imports_seconds'], 1, ' s')}; Prefect's temporary "
            f"server answers {_num(stack['temporary_server_seconds'], 1, ' s')} after it "
            f"starts (warm PREFECT_HOME; it boots on another core meanwhile). Medians of "
            f"{stack['repeats']}.",
        ]
    stages = report["stages"]
    if stages:
        out += [
            "",
            f"Stages of (b) ({_num(pipe['end_to_end']['seconds'], 1)} s wall):",
            "",
            "| stage | seconds | share of wall |",
            "|---|---:|---:|",
        ]
        out += [
            f"| {stage} | {row['seconds']:.2f} | {row['share'] * 100:.1f}% |"
            for stage, row in stages.items()
        ]
        out.append(
            f"| sum | {report['stage_sum_seconds']:.2f} | "
            f"{report['stage_sum_seconds'] / pipe['end_to_end']['seconds'] * 100:.1f}% |"
        )
    out += _worker_lines(report)
    serial_stages = report.get("serial_stages")
    if serial_stages and serial:
        wall = serial["end_to_end"]["seconds"]
        out += [
            "",
            f"Stages of (b′), one process ({_num(wall, 1)} s wall; in (b) the workers do "
            "read, rebuild, segment+tag, entities and TextRank, and time them themselves, "
            "above):",
            "",
            "| stage | seconds | share of wall |",
            "|---|---:|---:|",
        ]
        out += [
            f"| {stage} | {row['seconds']:.2f} | {row['share'] * 100:.1f}% |"
            for stage, row in serial_stages.items()
        ]
    out += [
        "",
        "Definitions: throughput counts the UTF-8 bytes of the articles' `text` fields "
        "(MB = 10⁶ bytes), the same texts for (a) and (b); (b) − (c) leaves out the fixed "
        "cost (Python imports, Prefect's temporary server, the flow run, dictionary load). "
        "Stage seconds come from timers around the functions the flow calls "
        "(`flows/stage_times.py`), exclusive of nested timed calls; start-up is process start "
        "to the flow body, shutdown the flow body's end to process exit; orchestration is "
        "the rest of the flow body (listing, hashing, planning, Prefect task runs, the run "
        "report and runs table, starting and stopping the worker pool); the orchestration "
        "target compares (b)'s minus (c)'s with the marginal time. The workers' stages come "
        "from the same timers, in each worker, written as it exits; CPU is each process's "
        "user plus system time. Peak RSS: `ru_maxrss` "
        "of the run's own `wait4` (the largest single process, "
        "which may be Prefect's temporary server) and of the zhnews process itself.",
    ]
    return "\n".join(out)


def _worker_lines(report: dict[str, Any]) -> list[str]:
    """The workers' own stages in (b), and the CPU seconds of (b) beyond (c)."""
    cpu, stages = report.get("cpu") or {}, report.get("worker_stages")
    out: list[str] = []
    if stages:
        out += [
            "",
            f"In the workers of (b) ({cpu.get('workers_timed')} processes; seconds each spent "
            "in a stage, added up over the workers):",
            "",
            "| stage | seconds |",
            "|---|---:|",
        ]
        out += [f"| {stage} | {seconds:.2f} |" for stage, seconds in stages.items()]
    if cpu.get("marginal_cpu_seconds") is not None:
        run, fixed = cpu["run"], cpu["fixed_run"]

        def spent(row: dict[str, Any]) -> str:
            if row["workers"] is None:
                return _num(row["flow"], 1, " s")
            return (
                f"{_num(row['flow'], 1, ' s')} in the flow's process and "
                f"{_num(row['workers'], 1, ' s')} in its workers"
            )

        out += [
            "",
            f"CPU: (b) took {spent(run)}, (c) {spent(fixed)}: "
            f"{_num(cpu['marginal_cpu_seconds'], 1, ' s')} of CPU beyond (c), "
            f"{_num(cpu['cores_busy'], 2)} cores busy on average over the marginal time "
            "(Prefect's temporary server and the process the workers are forked from not "
            "counted).",
        ]
    return out


def _repeats_note(base: dict[str, Any], pipe: dict[str, Any]) -> list[str]:
    """Every repeat of the throughput measurements, when there was more than one."""
    marginals = pipe.get("marginal_runs_seconds") or []
    if len(marginals) < 2:
        return []
    parts = [
        f"baseline {_seconds_list(base.get('runs_seconds') or [])}",
        f"(b) − (c) {_seconds_list(marginals)}",
    ]
    serial = pipe.get("serial") or {}
    if serial.get("runs_seconds"):
        parts.append(f"(b′) {_seconds_list(serial['runs_seconds'])}")
    return [
        f"Each measurement above is the median of {len(marginals)} runs, in alternation "
        f"({'; '.join(parts)}); (b) and (c) come from the pair of median difference.",
        "",
    ]


def _seconds_list(values: Sequence[float]) -> str:
    return ", ".join(f"{v:.1f}" for v in values) + " s"


def _pct(value: float | None) -> float | None:
    return None if value is None else value * 100


def _run_key(label: str) -> str:
    return label.replace("-", "_")


def save_report(report: dict[str, Any], path: Path, text: str) -> Path:
    """A benchmark's report as JSON at `path` (atomically) and `text` as Markdown beside
    it (`.md`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    md = path.with_suffix(".md")
    md.write_text(text + "\n", encoding="utf-8")
    return md


def write_results(report: dict[str, Any], path: Path) -> Path:
    return save_report(report, path, markdown(report))


def publish(report: dict[str, Any], text: str, path: Path | None) -> None:
    """Print a benchmark's report (`text`, its Markdown) and, with `path`, save it there."""
    print(text)
    if path is not None:
        md = save_report(report, path, text)
        print(f"\nwrote {path} and {md}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.throughput",
        description="Throughput, start-up, memory and stages of `zhnews run` beside jieba.",
    )
    parser.add_argument(
        "--no-memory-check",
        dest="memory_check",
        action="store_false",
        help="skip the run on the ×10 input (the slowest part)",
    )
    parser.add_argument(
        "--no-cold-start",
        dest="cold_start",
        action="store_false",
        help="no cold start-up run: every run uses the environment's PREFECT_HOME (warm)",
    )
    parser.add_argument(
        "--generated", action="store_true", help="generated text even when the corpus exists"
    )
    parser.add_argument("--articles", type=int, help="only the first N articles")
    parser.add_argument(
        "--use-api-url",
        action="store_true",
        help="pass PREFECT_API_URL on to the runs (a running server: no temporary server)",
    )
    parser.add_argument("--work-dir", type=Path, help="keep inputs, outputs and logs here")
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="--workers of the throughput runs (default: every core); start-up runs use 1",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=THROUGHPUT_REPEATS,
        help="runs of the baseline, of each throughput run and of its fixed-cost run, "
        "alternated; the report gives medians",
    )
    parser.add_argument("--json", type=Path, help="also write the report there, and as .md")
    args = parser.parse_args(argv)
    options = Options(
        memory_check=args.memory_check,
        cold_start=args.cold_start,
        generated=args.generated,
        articles=args.articles,
        use_api_url=args.use_api_url,
        work_dir=args.work_dir,
        workers=args.workers,
        throughput_repeats=max(1, args.repeats),
    )
    if os.environ.get("PREFECT_API_URL") and not args.use_api_url:
        print("PREFECT_API_URL is set but not passed on (use --use-api-url to use that server)")
    report = run_benchmark(options)
    publish(report, markdown(report), args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
