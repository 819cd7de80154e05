"""Prefect's process pool, with workers forked from a preloaded server instead of spawned."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from typing import Self

from prefect.task_runners import ProcessPoolTaskRunner, _initialize_process_pool_worker

from flows.runners import forkserver


class PreloadedProcessPool(ProcessPoolTaskRunner):
    """A spawned worker imports the pipeline and loads the dictionaries on its own before
    its first file: seconds of CPU per worker, and the run waits for it. Forked from the
    server that did both once (`flows.runners.forkserver`), a worker starts with them.

    Prefect's runner always spawns; this one swaps in an executor of the same workers,
    initializer and message queue on the forkserver, before any task has started a
    process. Where the platform cannot fork, its workers are Prefect's, spawned.

    Prefect hands each task to the executor from a pool of as many threads as workers,
    so tasks submitted in order may reach it out of order: a file of the first
    partition was seen analysed last, and the run then finished every partition after
    all the analyses, with the workers idle. One thread keeps the order of submission.
    """

    def __enter__(self) -> Self:
        super().__enter__()
        if self._resolver_executor is not None:
            self._resolver_executor.shutdown(wait=True)
            self._resolver_executor = ThreadPoolExecutor(max_workers=1)
        context = forkserver()
        if context is None:
            return self
        spawning, self._executor = (
            self._executor,
            ProcessPoolExecutor(
                max_workers=self._max_workers,
                mp_context=context,
                initializer=_initialize_process_pool_worker,
                initargs=(self._subprocess_message_queue, self._initializer, self._initargs),
            ),
        )
        if spawning is not None:
            spawning.shutdown(wait=True)
        return self
