"""Seconds per pipeline stage, for the throughput benchmark (`make bench`).

Inert unless `ZHNEWS_STAGE_TIMES` names a file. Then `zhnews run` (and `backfill`) wraps
the functions the flow calls with timers before it starts, and when the process exits it
writes to that file, as JSON, the seconds spent in each stage, the monotonic clock when
the flow body began and ended (the benchmark turns those into start-up and shutdown) and
the process's peak resident set size. Nothing of the pipeline is copied: the real
functions run, wrapped.

A stage's seconds are exclusive: time spent in a nested timed call counts for the inner
stage only, so the stages never add up to more than the flow body. The flow curates one
partition after another in one thread; the timers assume that.

Local worker processes time the same functions for themselves (`time_this_worker`) and
each writes its own file beside that one (`worker_times_file`) as it exits: with workers,
the flow's own timers see only that it waited for them. Every file also gives its
process's CPU seconds.
"""

from __future__ import annotations

import atexit
import functools
import importlib
import json
import multiprocessing.util
import os
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

STAGE_TIMES_ENV = "ZHNEWS_STAGE_TIMES"
FLOW_BODY = "orchestration"

# (module, function, stage). The module is the one whose global name the caller looks up.
TIMED: tuple[tuple[str, str, str], ...] = (
    # The flow body: what is left of it once the stages below are taken out is listing,
    # hashing, planning, Prefect's task runs, the run report and the runs table.
    ("flows.pipeline", "_execute", FLOW_BODY),
    ("flows.pipeline", "load_models", "load dictionaries"),
    # What is left of a partition: sentences, rows and frames, duplicates, lineage.
    ("flows.pipeline", "curate_partition", "other partition work"),
    ("flows.pipeline", "analyse_files", "other partition work"),
    ("flows.pipeline", "_await_analyses", "waiting for workers"),
    ("flows.pipeline", "finish_partition", "other partition work"),
    # A worker's share of it (the flow's own wrappers do not reach a worker's task).
    ("flows.partition", "analyse_file", "other partition work"),
    ("flows.partition", "read_raw_file", "read"),
    ("flows.io.parquet", "read_window", "read"),
    ("flows.io.doc_freq_window", "_read", "read"),
    ("flows.partition", "document_articles", "rebuild"),
    ("transforms.tables", "tokenize", "segment+tag"),
    ("transforms.tables", "extract_entities", "entities"),
    ("transforms.tables", "candidate_tokens", "keywords"),
    ("transforms.tables", "term_counts", "keywords"),
    ("transforms.tables", "corpus_idf", "keywords"),
    ("transforms.tables", "_keyword_rows", "keywords"),
    ("transforms.tables", "cooccurrence", "keywords"),
    ("transforms.tables", "textrank_many", "keywords"),
    ("flows.partition", "_earlier_doc_freq", "keywords"),
    ("flows.partition", "document_frequencies", "keywords"),
    ("flows.partition", "analysed_failures", "validate"),
    ("flows.partition", "validate_tables", "validate"),
    ("flows.partition", "quarantine_frame", "validate"),
    ("flows.io.parquet", "commit", "write"),
    ("flows.io.parquet", "write_run", "write"),
    ("flows.io.parquet", "write_scratch", "write"),
)


class StageClock:
    """Exclusive seconds and call counts per stage, and when the flow body ran."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self.installed_at = time.monotonic()
        self.body_started: float | None = None
        self.body_ended: float | None = None
        # Seconds spent in timed calls nested in each open timed call.
        self._nested: list[float] = []

    def wrap(self, stage: str, func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def timed(*args: Any, **kwargs: Any) -> Any:
            if stage == FLOW_BODY and self.body_started is None:
                self.body_started = time.monotonic()
            self._nested.append(0.0)
            started = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - started
                nested = self._nested.pop()
                self.seconds[stage] = self.seconds.get(stage, 0.0) + elapsed - nested
                self.calls[stage] = self.calls.get(stage, 0) + 1
                if self._nested:
                    self._nested[-1] += elapsed
                if stage == FLOW_BODY:
                    self.body_ended = time.monotonic()

        return timed

    def to_json(self) -> dict[str, Any]:
        return {
            "seconds": dict(self.seconds),
            "calls": dict(self.calls),
            "installed_at": self.installed_at,
            "body_started": self.body_started,
            "body_ended": self.body_ended,
            "exited_at": time.monotonic(),
            "peak_rss_bytes": peak_rss_bytes(resource.RUSAGE_SELF),
            "cpu_seconds": cpu_seconds(),
        }


def peak_rss_bytes(who: int) -> int:
    """`ru_maxrss` in bytes (Linux reports KiB, macOS bytes)."""
    value = resource.getrusage(who).ru_maxrss
    return int(value) if sys.platform == "darwin" else int(value) * 1024


def cpu_seconds() -> float:
    """User and system CPU of this process so far (a forked child starts from zero)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return float(usage.ru_utime + usage.ru_stime)


def install(
    clock: StageClock, timed: tuple[tuple[str, str, str], ...] = TIMED
) -> Callable[[], None]:
    """Wrap every function of `timed` in place; returns what undoes it."""
    originals: list[tuple[Any, str, Any]] = []
    for module_name, name, stage in timed:
        module = importlib.import_module(module_name)
        original = getattr(module, name)
        originals.append((module, name, original))
        setattr(module, name, clock.wrap(stage, original))

    def undo() -> None:
        for module, name, original in reversed(originals):
            setattr(module, name, original)

    return undo


def install_from_env() -> StageClock | None:
    """When `ZHNEWS_STAGE_TIMES` is set: time the stages, write them there at exit."""
    target = os.environ.get(STAGE_TIMES_ENV)
    if not target:
        return None
    clock = StageClock()
    install(clock)

    def dump() -> None:
        path = Path(target)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(clock.to_json(), indent=1) + "\n", encoding="utf-8")

    atexit.register(dump)
    return clock


WORKER_FILE = "{name}.worker-{pid}.json"


def worker_times_file(target: Path, pid: int) -> Path:
    return target.with_name(WORKER_FILE.format(name=target.name, pid=pid))


def worker_times_files(target: Path) -> list[Path]:
    pattern = WORKER_FILE.format(name=target.name, pid="*")
    return sorted(target.parent.glob(pattern))


def worker_times(target: Path) -> list[dict[str, Any]]:
    """What each worker of the run that wrote `target` wrote as it exited."""
    return [json.loads(path.read_text("utf-8")) for path in worker_times_files(target)]


_worker_clock: StageClock | None = None


def time_this_worker() -> None:
    """In a local worker process, when `ZHNEWS_STAGE_TIMES` is set: time its stages and
    write them to `worker_times_file` as it exits (a pool's workers leave through
    multiprocessing's exit, which runs its finalizers and not `atexit`)."""
    global _worker_clock
    target = os.environ.get(STAGE_TIMES_ENV)
    if not target or _worker_clock is not None:
        return
    clock = _worker_clock = StageClock()
    install(clock)
    path = worker_times_file(Path(target), os.getpid())

    def dump() -> None:
        path.write_text(json.dumps(clock.to_json(), indent=1) + "\n", encoding="utf-8")

    multiprocessing.util.Finalize(None, dump, exitpriority=10)
