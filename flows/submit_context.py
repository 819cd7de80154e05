"""One serialized Prefect context for a loop of task submissions.

Prefect's process pool serializes the flow's whole context (the flow, its run, its
parameters, the settings) for every task it submits, so that the worker can rebuild
it: some 15 ms of the flow's thread per task here, taken from the cores the workers
need. A run submits every task of every partition in one loop, during which none of
those contexts changes; the serialization is the same dictionary each time.

Inside `one_serialized_context()`, a submission whose contexts are the very objects of
the previous one gets the previous serialization; any other (another flow run, other
tags or settings, a task's own context) is serialized afresh. Outside it, Prefect's
own function is back in place.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import prefect.context as prefect_context


def _current() -> tuple[object, ...]:
    """The contexts `serialize_context` reads: entered as new objects, never changed in
    place for another run or tag set, so compared by identity. (No tags entered is
    None here: `TagsContext.get()` makes a new empty one each time.)"""
    return (
        prefect_context.EngineContext.get(),
        prefect_context.TaskRunContext.get(),
        prefect_context.TagsContext.__var__.get(None),
        prefect_context.SettingsContext.get(),
        prefect_context._deployment_id.get(),
        prefect_context._deployment_parameters.get(),
    )


def _same(these: tuple[object, ...], those: tuple[object, ...]) -> bool:
    return all(this is that for this, that in zip(these, those, strict=True))


def reusing(serialize: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """`serialize`, giving its last result again while the same contexts are current
    (asset contexts, built from each task's own inputs, always afresh)."""
    last: list[tuple[tuple[object, ...], dict[str, Any]]] = []

    def serialize_context(asset_ctx_kwargs: dict[str, Any] | None = None) -> dict[str, Any]:
        if asset_ctx_kwargs:
            return serialize(asset_ctx_kwargs)
        key = _current()
        if last and _same(last[0][0], key):
            return last[0][1]
        serialized = serialize()
        last[:] = [(key, serialized)]
        return serialized

    return serialize_context


@contextmanager
def one_serialized_context() -> Iterator[None]:
    """Prefect's `serialize_context` reused while the same contexts are current."""
    original = prefect_context.serialize_context
    prefect_context.serialize_context = reusing(original)
    try:
        yield
    finally:
        prefect_context.serialize_context = original
