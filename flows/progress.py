"""Progress of a run: a bar in an interactive terminal, a progress artifact in Prefect's UI."""

from __future__ import annotations

import sys
from types import TracebackType
from uuid import UUID

from prefect.artifacts import create_progress_artifact, update_progress_artifact
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


class RunProgress:
    """Counts curated partitions; the terminal bar only when stderr is a terminal."""

    def __init__(self, total: int, key: str, description: str) -> None:
        self.total = total
        self.done = 0
        self._artifact: UUID | None = None
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

    def advance(self, label: str) -> None:
        self.done += 1
        if self._bar is not None and self._task_id is not None:
            self._bar.update(self._task_id, advance=1, description=label)
        if self._artifact is not None:
            update_progress_artifact(self._artifact, 100.0 * self.done / self.total)
