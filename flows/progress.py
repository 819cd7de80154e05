"""Progress of a run: a bar in an interactive terminal, a progress artifact in Prefect's UI.

The artifact is updated at most once every `ARTIFACT_EVERY` seconds, and always when the
run reaches its end: each update is a call to the API, some 12 ms of the flow's thread,
and a run of many small partitions finishes several a second."""

from __future__ import annotations

import sys
import time
from types import TracebackType
from uuid import UUID

from prefect.artifacts import create_progress_artifact, update_progress_artifact
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

ARTIFACT_EVERY = 1.0


class RunProgress:
    """Counts curated partitions; the terminal bar only when stderr is a terminal."""

    def __init__(self, total: int, key: str, description: str) -> None:
        self.total = total
        self.done = 0
        self._artifact: UUID | None = None
        self._reported = 0
        self._reported_at = time.monotonic()
        self._bar: Progress | None = None
        self._task_id = None
        if total:
            created = create_progress_artifact(0.0, key=key, description=description)
            self._artifact = created if isinstance(created, UUID) else None
        if total and sys.stderr.isatty():
            self._bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                transient=True,
            )
            self._task_id = self._bar.add_task("partitions", total=total)

    def __enter__(self) -> RunProgress:
        if self._bar is not None:
            self._bar.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._bar is not None:
            self._bar.stop()
        self._report()

    def advance(self, label: str) -> None:
        self.done += 1
        if self._bar is not None and self._task_id is not None:
            self._bar.update(self._task_id, advance=1, description=label)
        if self.done == self.total or time.monotonic() - self._reported_at >= ARTIFACT_EVERY:
            self._report()

    def _report(self) -> None:
        if self._artifact is None or self._reported == self.done:
            return
        update_progress_artifact(self._artifact, 100.0 * self.done / self.total)
        self._reported = self.done
        self._reported_at = time.monotonic()
