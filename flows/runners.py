"""Where the raw files of a run are analysed: in the flow's own process, in local worker
processes, or on a Dask cluster. Partitions are finished in the flow, in one order,
whichever runner analysed their files, so the tables are the same for all of them."""

from __future__ import annotations

import gc
import multiprocessing
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, get_args

from flows.stage_times import time_this_worker

if TYPE_CHECKING:
    from multiprocessing.context import BaseContext

    from prefect.task_runners import TaskRunner

RunnerName = Literal["local", "process", "dask"]
RUNNERS: tuple[str, ...] = get_args(RunnerName)


@dataclass(frozen=True)
class Scale:
    """How wide a run goes: `workers` processes of `runner` (a Dask scheduler's own
    workers when `dask_address` is given)."""

    workers: int = 1
    runner: str = "local"
    dask_address: str | None = None

    @classmethod
    def resolve(
        cls, workers: int | None, runner: str | None, dask_address: str | None = None
    ) -> Scale:
        """`--workers N` alone means local processes; a pool or a local Dask cluster
        without `--workers` uses every core."""
        if dask_address and runner in (None, "local"):
            runner = "dask"
        if runner is None or runner == "local":
            runner = "process" if workers and workers > 1 else "local"
        if runner not in RUNNERS:
            raise ValueError(f"task runner {runner!r} is not one of {', '.join(RUNNERS)}")
        if runner != "dask" and dask_address:
            raise ValueError("--dask-address needs --task-runner dask")
        if workers is None:
            workers = 1 if runner == "local" else os.cpu_count() or 1
        if workers < 1:
            raise ValueError(f"workers must be at least 1, not {workers}")
        return cls(workers, runner, dask_address)

    @property
    def parallel(self) -> bool:
        return self.runner != "local"

    def describe(self) -> str:
        if self.runner == "dask" and self.dask_address:
            return f"dask at {self.dask_address}"
        if self.runner == "dask":
            return f"dask, a local cluster of {self.workers} worker processes"
        if self.runner == "process":
            return f"{self.workers} local worker processes"
        return "one process"


def task_runner(scale: Scale) -> TaskRunner:  # type: ignore[type-arg]
    """The Prefect task runner for `scale` (not started: use it as a context manager)."""
    if scale.runner == "dask":
        from prefect_dask import DaskTaskRunner

        if scale.dask_address:
            return DaskTaskRunner(address=scale.dask_address)
        return DaskTaskRunner(
            cluster_kwargs={
                "n_workers": scale.workers,
                "threads_per_worker": 1,
                "processes": True,
                "dashboard_address": None,
                # Each worker prepares itself as it starts, all of them at once, instead of
                # on its first file; and freezes what it loaded, as local workers do.
                "preload": [PRELOAD],
            }
        )
    from flows.process_pool import PreloadedProcessPool

    return PreloadedProcessPool(max_workers=scale.workers, initializer=start_worker)


# What the server process that local workers are forked from imports first.
PRELOAD = "flows.worker_preload"


def forkserver() -> BaseContext | None:
    """The start method of local workers: forked from one server process that imported
    the pipeline and loaded the dictionaries once (`PRELOAD`); None where the platform
    cannot fork, and workers are spawned each on its own, as Prefect does."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return None
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([PRELOAD])
    return context


def start_worker_server() -> None:
    """Start the server local workers are forked from now, so that it imports and loads
    while this process does the same, instead of when the first file is submitted."""
    context = forkserver()
    if context is not None:
        from multiprocessing import forkserver as server

        server.ensure_running()


@contextmanager
def long_lived() -> Iterator[None]:
    """No cyclic collection while libraries are imported and the dictionaries loaded:
    those objects live as long as the process, so full collections over them free
    nothing. Frozen afterwards, so the process's own collections skip them too."""
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()


_pause_lock = threading.Lock()
_pauses = 0
_was_enabled = False


@contextmanager
def collection_paused() -> Iterator[None]:
    """No cyclic collection while files are analysed: the analysis makes millions of small
    objects (a token is a tuple) and frees them together, so the collector walked a
    growing heap again and again and found almost no cycles (6% of an analysis's time).
    What cycles it leaves are collected once it is on again. Nested and thread-safe: the
    collector stays off until the last pause ends, and comes back only if it was on."""
    global _pauses, _was_enabled
    with _pause_lock:
        if _pauses == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _pause_lock:
            _pauses -= 1
            if _pauses == 0 and _was_enabled:
                gc.enable()


def prepare_worker() -> None:
    """In each local worker process, once, before its first file: import the pipeline,
    load the dictionaries and the compiled kernels and compile the tagger's copy of the
    dictionary, then freeze them all from the collector as `zhnews run` does in its own
    process. A worker whose collector kept walking them analysed about 5% slower. Prefect's
    collections too (prefect-dask, which imports Dask): each worker's first task run
    loaded them, some 0.5 s, where the server it is forked from can do it once. And
    Prefect's API clients, two new ones per task, share their TLS contexts
    (`flows.shared_tls`)."""
    with long_lived():
        from prefect.plugins import load_prefect_collections

        import flows.pipeline  # noqa: F401  (what the first task would import)
        from flows.io.nlp import load_tagging_models
        from flows.shared_tls import share_tls_contexts

        load_tagging_models()
        load_prefect_collections()
        share_tls_contexts()


def start_worker() -> None:
    """Each local worker's first step: `prepare_worker` (done already where it was forked
    from a prepared server), and its stage timers when the benchmark asks for them."""
    prepare_worker()
    time_this_worker()


@contextmanager
def shared_api() -> Iterator[None]:
    """Let worker processes report to this run's Prefect API.

    Without `PREFECT_API_URL` every Prefect process starts a temporary server of its own;
    a worker that inherits the address of the flow's server starts none.
    """
    from prefect.context import FlowRunContext

    if os.environ.get("PREFECT_API_URL"):
        yield
        return
    context = FlowRunContext.get()
    url = str(context.client.api_url).rstrip("/") if context else ""
    if not url.startswith("http"):
        yield
        return
    os.environ["PREFECT_API_URL"] = url
    try:
        yield
    finally:
        os.environ.pop("PREFECT_API_URL", None)
